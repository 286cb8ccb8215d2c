"""Helpers shared by the ingestion engine tests (not a conftest: tests/ingest/adapters has its
own ``conftest`` module that its tests import by name)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import duckdb

from assets.ingest.engine import IngestReport, ingest_inbox
from assets.model import ENTITIES
from assets.settings import Settings, load_settings
from assets.warehouse import connect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# the example exports and the small canonical inbox live in the repository's data/samples/
# (real layouts, invented people: what a user can drop into an inbox)
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
CHANNEL_SAMPLES = SAMPLES / "channels"
GOOD_INBOX = SAMPLES / "inbox"
BAD_INPUTS = FIXTURES / "bad_inputs"

# tests/ingest/adapters/conftest.py as a module (its make_export_rows, ...) for the engine
# tests; loaded under another name so it does not shadow that directory's own ``conftest``
_spec = importlib.util.spec_from_file_location(
    "adapter_test_helpers", Path(__file__).parent / "adapters" / "conftest.py"
)
adapter_helpers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(adapter_helpers)


def make_home(tmp_path: Path, inbox_from: Path | None = GOOD_INBOX) -> Settings:
    """A fresh shelfwise home under ``tmp_path`` with a copy of ``inbox_from`` as its inbox."""
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    if inbox_from is not None:
        shutil.copytree(inbox_from, home / "inbox")
    else:
        (home / "inbox").mkdir()
    return load_settings(home)


def fixture_home(root: Path) -> Path:
    """A home under ``root`` whose warehouse already holds the good fixture inbox (the
    master data every bad-input case needs)."""
    home = root / "home"
    shutil.copytree(GOOD_INBOX, home / "inbox")
    ingest(load_settings(home))
    return home


def ingest(settings: Settings, **kwargs) -> IngestReport:
    with connect(settings.warehouse_path) as con:
        return ingest_inbox(con, settings, settings.inbox, **kwargs)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def checksums(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    """(rows, sum of row hashes) of every raw, core and quarantine table."""
    out = {}
    tables = [f"{layer}.{name}" for name in ENTITIES for layer in ("raw", "core")]
    for table in tables + ["quarantine.rows"]:
        cols = "*" if table != "quarantine.rows" else "* EXCLUDE (quarantined_at)"
        out[table] = con.execute(
            f"SELECT count(*), sum(hash(t)) FROM (SELECT {cols} FROM {table}) t"
        ).fetchall()[0]
    return out


def rows(settings: Settings, sql: str, params: list | None = None) -> list[tuple]:
    with connect(settings.warehouse_path, read_only=True) as con:
        return con.execute(sql, params or []).fetchall()
