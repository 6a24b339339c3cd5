"""Parts of every page rendered once and reused: the navigation of a role, the asset links, the
session dialogs.

Every signed-in page draws the same chrome: some twenty `url_for` and thirty-five translations
that give the same HTML for every user of a role in a language. Drawing them every time cost
half a millisecond of CPU, a sixth of a page that does nothing else (/account/api-tokens, 3.4
ms) and about twenty hello-world requests. A template wraps such a part in

    {% call shared_fragment("mainnav", actor.role) %} ... {% endcall %}

and the block is rendered on the first request only. Its HTML is kept under the fragment's
name, the key the template gives (the role), the language and the script root (`url_for`
writes the paths under the prefix the app is mounted at), for this app only.

What may go inside: only what those determine. Never a user's name, a count, a CSRF token,
the request's path or the time; those stay outside the block, drawn on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from markupsafe import Markup

EXTENSION = "caunoi.fragments"
# A handful of fragments, six roles, two languages, one script root: far below this. The bound
# only keeps an unexpected key (another prefix per request) from growing the dict for ever.
MAX_ENTRIES = 512


def shared_fragment(name: str, *key: Hashable, caller: Callable[[], Markup]) -> Markup:
    """The block's HTML for (name, key, language, script root), rendered on first use."""
    app = current_app._get_current_object()
    if app.jinja_env.auto_reload:  # a template edited in development shows at once
        return caller()
    script_root = request.script_root if has_request_context() else None
    full_key = (name, key, get_locale(), script_root)
    cache = app.extensions[EXTENSION]
    found = cache.get(full_key)
    if found is None:
        found = caller()  # already Markup: the block was rendered with autoescaping
        if len(cache) >= MAX_ENTRIES:
            cache.clear()
        cache[full_key] = found
    return found


def init_app(app) -> None:
    app.extensions[EXTENSION] = {}
    app.jinja_env.globals["shared_fragment"] = shared_fragment
