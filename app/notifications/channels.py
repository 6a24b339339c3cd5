"""The outside channels behind one small interface: e-mail (SMTP), a generic HTTP SMS gateway,
and Zalo ZNS. Each sender takes an `OutgoingMessage` — the fixed text of `kinds.outside_text`,
a link to the inbox and the idempotency key — and raises `TemporaryFailure` (try again later)
or `PermanentFailure` (give up; `bad_address` when the receiver refused the address). A
timeout counts as temporary: the worker retries with backoff and the user's action never waits.
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from app.notifications.models import Channel


@dataclass(frozen=True)
class OutgoingMessage:
    to: str
    text: str
    link: str
    idempotency_key: str
    count: int


class TemporaryFailure(Exception):
    """Down, slow, throttled or 5xx: try again later."""


class PermanentFailure(Exception):
    """Refused for good; `bad_address` when the address or number itself was refused."""

    def __init__(self, message: str, bad_address: bool = False):
        super().__init__(message)
        self.bad_address = bad_address


Send = Callable[[OutgoingMessage], None]
SUBJECT = "Cầu Nối: bạn có thông báo mới"
FOOTER = "Thư này không chứa thông tin cá nhân. Hãy đăng nhập để xem chi tiết."


@contextmanager
def open_sender(channel: str, config) -> Iterator[Send]:
    """A `send(message)` for `channel`; e-mail keeps one SMTP connection for the whole batch."""
    if channel == Channel.EMAIL:
        with _smtp_sender(config) as send:
            yield send
    elif channel == Channel.SMS:
        yield lambda m: _sms(config, m)
    elif channel == Channel.ZALO:
        yield lambda m: _zalo(config, m)
    else:
        raise ValueError(f"unknown channel {channel!r}")


def email_message(config, m: OutgoingMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = SUBJECT
    msg["From"] = config.get("NOTIFY_MAIL_FROM", "Cầu Nối <no-reply@localhost>")
    msg["To"] = m.to
    msg["Date"] = formatdate(localtime=False)
    # The same Message-ID on a resend lets the receiving server and client drop the copy.
    msg["Message-ID"] = f"<{m.idempotency_key}@caunoi>"
    msg["X-Caunoi-Idempotency-Key"] = m.idempotency_key
    msg.set_content(f"{m.text}\n\n{m.link}\n\n{FOOTER}\n")
    return msg


@contextmanager
def _smtp_sender(config) -> Iterator[Send]:
    state: dict = {"smtp": None}

    def connect() -> smtplib.SMTP:
        try:
            smtp = smtplib.SMTP(
                config["NOTIFY_SMTP_HOST"],
                int(config.get("NOTIFY_SMTP_PORT", 25)),
                timeout=float(config.get("NOTIFY_TIMEOUT", 10)),
            )
            if config.get("NOTIFY_SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("NOTIFY_SMTP_USERNAME"):
                smtp.login(config["NOTIFY_SMTP_USERNAME"], config.get("NOTIFY_SMTP_PASSWORD", ""))
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"smtp connect: {type(exc).__name__}") from None
        return smtp

    def send(m: OutgoingMessage) -> None:
        if state["smtp"] is None:
            state["smtp"] = connect()
        try:
            state["smtp"].send_message(email_message(config, m))
        except smtplib.SMTPRecipientsRefused:
            raise PermanentFailure("smtp: recipient refused", bad_address=True) from None
        except smtplib.SMTPResponseException as exc:
            state["smtp"] = None
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"smtp {exc.smtp_code}") from None
            raise TemporaryFailure(f"smtp {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            state["smtp"] = None
            raise TemporaryFailure(f"smtp: {type(exc).__name__}") from None

    try:
        yield send
    finally:
        if state["smtp"] is not None:
            try:
                state["smtp"].quit()
            except (OSError, smtplib.SMTPException):
                pass


def _post_json(url: str, body: dict, headers: dict, timeout: float) -> tuple[int, dict]:
    if not url.startswith(("http://", "https://")):
        raise PermanentFailure("gateway URL must be http(s)")
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json; charset=utf-8", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read(65536)
            status = response.status
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(65536) if exc.fp else b""
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise TemporaryFailure(f"gateway: {type(exc).__name__}") from None
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        data = {}
    return status, data if isinstance(data, dict) else {}


def _classify_http(status: int, what: str) -> None:
    if 200 <= status < 300:
        return
    if status in (408, 425, 429) or status >= 500:
        raise TemporaryFailure(f"{what} {status}")
    raise PermanentFailure(f"{what} {status}", bad_address=status in (400, 422))


def _sms(config, m: OutgoingMessage) -> None:
    """Generic HTTP SMS gateway: POST JSON {to, text, idempotency_key}, Idempotency-Key header."""
    headers = {"Idempotency-Key": m.idempotency_key}
    if config.get("NOTIFY_SMS_TOKEN"):
        headers["Authorization"] = f"Bearer {config['NOTIFY_SMS_TOKEN']}"
    body = {"to": m.to, "text": f"{m.text} {m.link}", "idempotency_key": m.idempotency_key}
    status, _data = _post_json(
        config["NOTIFY_SMS_URL"], body, headers, float(config.get("NOTIFY_TIMEOUT", 10))
    )
    _classify_http(status, "sms gateway")


# ZNS error codes that mean the number cannot receive (invalid phone, no Zalo account).
ZALO_BAD_NUMBER = frozenset({-108, -118})


def _zalo(config, m: OutgoingMessage) -> None:
    """Zalo ZNS template message; tracking_id carries the idempotency key."""
    body = {
        "phone": m.to,
        "template_id": str(config.get("NOTIFY_ZALO_TEMPLATE_ID", "")),
        "template_data": {"count": str(m.count), "link": m.link},
        "tracking_id": m.idempotency_key,
    }
    headers = {"access_token": config["NOTIFY_ZALO_TOKEN"]}
    status, data = _post_json(
        config["NOTIFY_ZALO_URL"], body, headers, float(config.get("NOTIFY_TIMEOUT", 10))
    )
    _classify_http(status, "zalo")
    error = int(data.get("error", 0) or 0)
    if error in ZALO_BAD_NUMBER:
        raise PermanentFailure(f"zalo error {error}", bad_address=True)
    if error != 0:
        raise TemporaryFailure(f"zalo error {error}")
