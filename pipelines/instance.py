"""The Dagster instance under the shelfwise home."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from assets.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def prepare_dagster_home(settings: Settings) -> Path:
    """Make ``<home>/dagster`` the DAGSTER_HOME, with the project's dagster.yaml in it."""
    dagster_home = settings.dagster_home
    dagster_home.mkdir(parents=True, exist_ok=True)
    target = dagster_home / "dagster.yaml"
    source = REPO_ROOT / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ["SHELFWISE_HOME"] = str(settings.home)
    return dagster_home


def get_instance(settings: Settings) -> dg.DagsterInstance:
    prepare_dagster_home(settings)
    return dg.DagsterInstance.get()
