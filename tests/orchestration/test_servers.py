"""Stopping `shelfwise dashboards` stops its Streamlit server (issue #20, item 12).

Before: SIGTERM ended the shelfwise process only; the Streamlit server it started kept running,
orphaned, holding the port and the serving snapshot.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time

import psutil
import pytest
from orchestration_kit import shelfwise, wait_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_dashboards_command_stops_its_streamlit_server(tmp_path, signum):
    port = _free_port()
    proc = subprocess.Popen(shelfwise(tmp_path / "home", "dashboards", "--port", str(port)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers: list[psutil.Process] = []
    try:
        wait_for(lambda: _listening(port), 120, "Streamlit to listen", proc)
        servers += psutil.Process(proc.pid).children(recursive=True)
        assert servers, "the dashboards command starts Streamlit as a child process"
        os.kill(proc.pid, signum)  # the command only, as a service manager or `kill` would
        proc.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(_gone(p.pid) for p in servers):
            time.sleep(0.2)
        assert all(_gone(p.pid) for p in servers), "Streamlit outlived `shelfwise dashboards`"
        assert not _listening(port)
    finally:
        for p in [*servers, *psutil.Process().children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                p.kill()  # nothing of this test may outlive it, even when it fails
