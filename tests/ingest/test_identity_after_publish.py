"""No customer identity anywhere after a whole run (#20.7): files holding invented names,
e-mails, streets, phones and postcodes (Shopify exports, one with quarantined rows, and an
eBay report whose broken header fails the file) go through the real Dagster job
(`shelfwise run`: ingest, every asset, publish). Then every table of the warehouse and of the
serving snapshot, every file under the home (outbox, logs, Dagster storage) and every event
of every run in the home's Dagster instance is searched for those values.

Each scanner is first shown to find what it looks for (the values in the input files, an
order id in the warehouse and the snapshot, a file name in the event log), so an empty result
means "not there", not "not looked at"."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner
from dagster._serdes import serialize_value
from ingest_testkit import GOOD_INBOX

from pipelines.cli import main

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parent / "fixtures" / "invented_people"
# every identity value of those files (invented), and the spellings a leak could take
IDENTITY = [
    "Rowan Quillfeather", "Mira Oddlethwaite", "Tobias Glimmerstone", "Petronella Vantablack",
    "rowan.quillfeather@example.net", "mira.oddlethwaite@example.net",
    "t.glimmerstone@example.org", "petronella.v@example.com", "quillfan42",
    "41 Fabricated Row", "7 Inventio Crescent", "1290 Pretend Parkway", "88 Nonesuch Gardens",
    "217-555-0143", "309-555-0178", "217-555-0199", "2175550143", "3095550178",
    "62704-1187", "61602-3318", "61801-7742", "627041187", "HG1 9ZQ", "HG19ZQ",
]
# the spellings as they stand in the files (the normalised ones above are what a careless
# postcode or phone cleaner would keep)
IN_FILES = [v for v in IDENTITY if v not in ("2175550143", "3095550178", "627041187", "HG19ZQ")]


def found_in_text(text: str, values: list[str]) -> set[str]:
    low = text.lower()
    return {v for v in values if v.lower() in low}


def found_in_files(paths: list[Path], values: list[str]) -> dict[str, set[str]]:
    out = {}
    for p in paths:
        if hits := found_in_text(p.read_bytes().decode("utf-8", errors="replace"), values):
            out[str(p)] = hits
    return out


def found_in_duckdb(path: Path, values: list[str]) -> dict[str, set[str]]:
    """Every table, every column (each row cast to text) of a DuckDB file."""
    out = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()
        assert len(tables) > 20, tables
        for schema, table in tables:
            text = con.execute(
                f'SELECT string_agg(CAST(t AS VARCHAR), chr(10)) FROM "{schema}"."{table}" AS t'
            ).fetchall()[0][0] or ""
            if hits := found_in_text(text, values):
                out[f"{schema}.{table}"] = hits
    return out


def found_in_event_logs(dagster_home: Path, values: list[str]) -> dict[str, set[str]]:
    """Every event of every run the home's Dagster instance holds, serialised whole (messages,
    metadata, errors)."""
    out = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs()
        assert runs, "no run recorded in the home's Dagster instance"
        for run in runs:
            events = instance.all_logs(run.run_id)
            assert len(events) > 10
            text = "\n".join(serialize_value(e) for e in events)
            if hits := found_in_text(text, values):
                out[run.run_id] = hits
    return out


def test_no_identity_in_any_table_file_or_run_log_after_publish(tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(GOOD_INBOX, home / "inbox")
    for path in (FIXTURES / "shopify").glob("*.csv"):
        shutil.copy(path, home / "inbox" / "orders" / "web" / path.name)
    ebay = home / "inbox" / "orders" / "ebay_uk"
    ebay.mkdir()
    shutil.copy(next((FIXTURES / "ebay").glob("*.csv")), ebay)
    # the run points DAGSTER_HOME at the home: give the variable back afterwards
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    monkeypatch.setenv("SHELFWISE_HOME", str(home))

    result = CliRunner().invoke(main, ["--home", str(home), "run"])
    # the eBay file fails (its header lacks Item Number): the run says so and exits 1
    assert result.exit_code == 1, result.output
    assert "eBay-OrdersReport-2024-03-09.csv" in result.output, result.output
    serving = home / "serving" / "serving.duckdb"
    warehouse = home / "warehouse" / "shelfwise.duckdb"
    assert serving.exists(), result.output  # the run published the dashboards' snapshot
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantined = con.execute(
            "SELECT count(*) FROM quarantine.rows WHERE source_file LIKE '%2024-03-08.csv'"
        ).fetchall()[0][0]
        header_errors = con.execute(
            "SELECT count(*) FROM ops.ingest_messages WHERE source_file LIKE '%2024-03-09.csv' "
            "AND rule = 'missing_columns'").fetchall()[0][0]
    assert quarantined >= 2 and header_errors == 1

    # the scanners find what is there
    inputs = sorted(p for p in (home / "inbox" / "orders").rglob("*.csv"))
    seen = set().union(*found_in_files(inputs, IN_FILES).values())
    assert seen == set(IN_FILES)
    assert "core.order_lines" in found_in_duckdb(warehouse, ["#3101"])
    assert "ops.quarantine_summary" in found_in_duckdb(serving, ["orders_export_2024-03-08.csv"])
    assert found_in_event_logs(home / "dagster", ["ingest_inbox"])

    # and no identity value is anywhere shelfwise wrote
    written = [p for p in home.rglob("*") if p.is_file() and (home / "inbox") not in p.parents
               and p.suffix != ".duckdb"]
    assert any((home / "dagster") in p.parents for p in written)
    assert found_in_files(written, IDENTITY) == {}
    assert found_in_duckdb(warehouse, IDENTITY) == {}
    assert found_in_duckdb(serving, IDENTITY) == {}
    assert found_in_event_logs(home / "dagster", IDENTITY) == {}
