from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from orchestration_kit import TINY, shelfwise


@pytest.fixture(scope="session")
def tiny_inbox(tmp_path_factory) -> Path:
    """A generated tiny home with its inbox only (copied by each test that needs one)."""
    home = tmp_path_factory.mktemp("tiny") / "home"
    subprocess.run(shelfwise(home, "generate", *TINY), check=True, capture_output=True,
                   timeout=300)
    return home


@pytest.fixture
def home(tiny_inbox, tmp_path) -> Path:
    target = tmp_path / "home"
    shutil.copytree(tiny_inbox, target)
    return target
