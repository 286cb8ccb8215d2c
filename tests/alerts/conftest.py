"""Fixtures: a webhook receiver and an SMTP server on 127.0.0.1 (see local_servers.py)."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller

from local_servers import Mailbox, WebhookReceiver, free_port


@pytest.fixture
def webhook():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def smtp():
    mailbox = Mailbox()
    # aiosmtpd's readiness probe needs a real port number (0 is not resolved before it)
    mailbox.port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()
