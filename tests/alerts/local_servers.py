"""Real servers on 127.0.0.1 for the sink tests: an HTTP webhook receiver (``http.server`` in a
thread) whose answers a test scripts, and an SMTP handler (aiosmtpd) that can refuse for a while."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    """Answers each POST with the next status of ``script`` (the last one repeats); keeps the
    JSON bodies of the requests it answered with 2xx in ``received``."""

    def __init__(self):
        self.script: list[int] = [200]
        self.statuses: list[int] = []   # every answer given, in order
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                receiver.statuses.append(status)
                if 200 <= status < 300:
                    receiver.received.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")

            def log_message(self, *args):  # keep pytest output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/SECRET"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, *statuses: int) -> None:
        self.script = list(statuses)

    @property
    def alerts(self) -> list[dict]:
        return [a for body in self.received for a in body["alerts"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd handler: refuses the next ``refuse`` messages with 451, then accepts."""

    def __init__(self):
        self.refuse = 0
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.refuse:
            self.refuse -= 1
            return "451 Requested action aborted: try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

