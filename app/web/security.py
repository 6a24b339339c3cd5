"""Request ids and the security headers every response carries."""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (redirect there only then)."""
    # An open redirect would let a phishing link borrow our sign-in page. Browsers read a
    # backslash as a slash, so "/\evil.example" would leave the site too.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return None


def init_app(app: Flask) -> None:
    proxies = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
    if proxies:
        # Behind the HTTPS reverse proxy: trust exactly that many X-Forwarded-* hops.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    @app.before_request
    def assign_request_id():
        g.request_id = secrets.token_hex(8)
        # Who is signed in belongs to this request only, even when an outer app context
        # (a test, a CLI command) outlives it.
        g.pop("actor", None)
        g.pop("_login_user", None)

    @app.after_request
    def set_security_headers(response):
        h = response.headers
        h["Content-Security-Policy"] = CSP
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if "request_id" in g:
            h["X-Request-ID"] = g.request_id
        if request.is_secure:
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.endpoint != "static" or current_user.is_authenticated:
            # Nothing a signed-in user saw may stay in a shared phone's cache.
            h["Cache-Control"] = "no-store"
            h["Pragma"] = "no-cache"
        return response
