"""Fixtures of the quality tests: a healthy warehouse per test and the settings that judge it."""

from __future__ import annotations

from pathlib import Path

import pytest
from quality_builder import JUDGED_DAY, healthy_frames, load

from assets.quality.specs import QualitySettings


@pytest.fixture
def qs() -> QualitySettings:
    """Judge the builder's last day (not "yesterday" by the clock)."""
    return QualitySettings(as_of=JUDGED_DAY)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A healthy warehouse file under a temporary shelfwise home (``tmp_path``)."""
    path = tmp_path / "warehouse" / "shelfwise.duckdb"
    load(path, healthy_frames())
    return path
