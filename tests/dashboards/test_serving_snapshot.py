"""The serving snapshot: what it holds, that a failed publish changes nothing, and that a
reader polling it while it is republished over and over never fails."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from assets.serving.snapshot import publish_snapshot
from assets.warehouse import connect

READER = """
import json, sys, time, duckdb
path, seconds = sys.argv[1], float(sys.argv[2])
ok, failures, errors = 0, 0, []
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            n = con.execute("SELECT count(*) FROM marts.kpi_order_line_facts").fetchall()[0][0]
            assert n > 0
        finally:
            con.close()
        ok += 1
    except Exception as exc:
        failures += 1
        errors.append(repr(exc)[:200])
print(json.dumps({"ok": ok, "failures": failures, "errors": errors[:5]}))
"""


def warehouse_of(home: Path) -> Path:
    return home / "warehouse" / "shelfwise.duckdb"


def test_snapshot_holds_marts_dimensions_and_summaries(served_home):
    with connect(warehouse_of(served_home), read_only=True) as con:
        marts = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'marts'").fetchall()}
        facts = con.execute("SELECT count(*) FROM marts.kpi_order_line_facts").fetchall()[0][0]
    serving = duckdb.connect(str(served_home / "serving" / "serving.duckdb"), read_only=True)
    try:
        published = dict(serving.execute("FROM ops.snapshot_tables").fetchall())
        assert {f"marts.{t}" for t in marts} <= set(published)
        assert {"core.products", "core.channels", "core.locations", "core.suppliers",
                "ops.quarantine_summary", "ops.channel_freshness"} <= set(published)
        assert published["marts.kpi_order_line_facts"] == facts
        assert serving.execute("SELECT sum(rows_quarantined) FROM ops.quarantine_summary"
                               ).fetchall()[0][0] == 7
    finally:
        serving.close()
    # the swap leaves no temporary file and no WAL behind
    assert sorted(p.name for p in (served_home / "serving").iterdir()) == ["serving.duckdb"]


def test_failed_publish_leaves_the_served_file_untouched(served_home, tmp_path):
    target = tmp_path / "serving.duckdb"
    with connect(warehouse_of(served_home)) as con:
        publish_snapshot(con, target)
        before = target.read_bytes()
        # a mart view whose source is gone fails when the snapshot copies it
        con.execute("CREATE TABLE marts.tmp_source AS SELECT 1 AS x")
        con.execute("CREATE VIEW marts.zz_broken AS SELECT x FROM marts.tmp_source")
        con.execute("DROP TABLE marts.tmp_source")
        try:
            with pytest.raises(duckdb.Error):
                publish_snapshot(con, target)
        finally:
            con.execute("DROP VIEW marts.zz_broken")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["serving.duckdb"]


def test_reader_never_fails_while_the_snapshot_is_republished(served_home, tmp_path):
    target = tmp_path / "serving" / "serving.duckdb"
    with connect(warehouse_of(served_home)) as con:
        publish_snapshot(con, target)
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(target), "8"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        publishes = 0
        started = time.monotonic()
        while reader.poll() is None and time.monotonic() - started < 60:
            publish_snapshot(con, target)
            publishes += 1
    out, err = reader.communicate(timeout=60)
    result = json.loads(out.strip().splitlines()[-1])
    print(f"publishes={publishes} reader_polls={result['ok']} failures={result['failures']}")
    assert publishes >= 5, publishes
    assert result["ok"] >= 20, (result, err)
    assert result["failures"] == 0, result
