"""Local stand-ins for the outside world: an SMTP server (aiosmtpd) and an HTTP SMS / Zalo
gateway, both on 127.0.0.1, recording every payload they receive."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """What the test SMTP server received: raw messages, parsed."""

    def __init__(self) -> None:
        self.messages = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd hook)
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("refused"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@contextmanager
def smtp_server():
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


class Gateway:
    """An SMS / Zalo gateway: records each request; `mode` decides the answer."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.mode = "ok"  # ok | fail500 | bad400 | slow | hang_once | zalo_bad_number
        self.hung = threading.Event()
        self.lock = threading.Lock()

    def keys(self) -> list[str]:
        return [
            r["headers"].get("idempotency-key") or r["body"].get("tracking_id")
            for r in self.requests
        ]


@contextmanager
def gateway_server():
    gateway = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            with gateway.lock:
                gateway.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(raw),
                        "raw": raw,
                    }
                )
            mode = gateway.mode
            if mode == "slow":
                time.sleep(2)
            if mode == "hang_once" and not gateway.hung.is_set():
                gateway.hung.set()
                time.sleep(30)  # the worker is killed meanwhile
                return
            status, body = 200, {"error": 0, "message": "Success"}
            if mode == "fail500":
                status = 500
            elif mode == "bad400":
                status, body = 400, {"error": "invalid number"}
            elif mode == "zalo_bad_number":
                body = {"error": -108, "message": "Phone number is invalid"}
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    gateway.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
