"""Run a server (Streamlit, `dagster dev`) as a child that never outlives the command.

``subprocess.call`` leaves its child running when the parent gets SIGTERM (Python's default
action ends the parent only) or SIGHUP (a closed terminal): an orphaned server keeps the port
and the serving snapshot open. :func:`serve` starts the child in a process group of its own,
forwards SIGINT, SIGTERM and SIGHUP to that whole group, and kills what is still there after
:data:`STOP_SECONDS`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence

STOP_SECONDS = 10.0
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def serve(cmd: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run ``cmd`` until it exits or this process is told to stop; returns the exit code
    (128 + the signal number when stopped by one)."""
    child = subprocess.Popen(list(cmd), env=env, start_new_session=True)
    received: list[int] = []

    def forward(signum, frame):
        received.append(signum)
        with contextlib.suppress(ProcessLookupError):
            # the server's own children (Streamlit's, Dagster's webserver and daemon) too
            os.killpg(child.pid, signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {signum: signal.signal(signum, forward) for signum in FORWARDED}
    try:
        while True:
            try:
                code = child.wait(timeout=STOP_SECONDS if received else None)
                break
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        # whatever the server started and left in its group goes with it
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
    return 128 + received[0] if received else code
