"""The warehouse's schema setup runs its statements only when the schema is not current: a run
opens the warehouse about 200 times."""

from __future__ import annotations

import json

import duckdb

from assets.warehouse import SQL_TRACE_ENV, connect


def _raw_order_line_columns(warehouse) -> set[str]:
    with connect(warehouse, read_only=True) as con:
        return {c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'order_lines'").fetchall()}


def test_setup_once_then_a_check_only(tmp_path, monkeypatch):
    warehouse, trace = tmp_path / "w.duckdb", tmp_path / "trace.jsonl"
    with connect(warehouse) as con:
        assert con.execute("SELECT count(*) FROM ops.schema_version").fetchone() == (1,)
        # a change setup would repair: a current schema is not set up again, so it stays
        con.execute("ALTER TABLE raw.order_lines DROP COLUMN promised_ship_by")
    monkeypatch.setenv(SQL_TRACE_ENV, str(trace))
    with connect(warehouse) as con:
        con.execute("SELECT 1").fetchall()
    # the trace holds what the caller ran, not the check every open does
    assert [json.loads(line)["sql"] for line in trace.read_text().splitlines()] == ["SELECT 1"]
    assert "promised_ship_by" not in _raw_order_line_columns(warehouse)


def test_the_connection_is_left_ready_for_any_work(tmp_path):
    import polars as pl

    warehouse = tmp_path / "w.duckdb"
    for _ in range(2):  # set up, then only checked
        with connect(warehouse) as con:
            con.register("frame", pl.DataFrame({"x": [1]}).to_arrow())
            assert con.execute("SELECT x FROM frame").fetchall() == [(1,)]


def test_a_dropped_table_or_an_older_model_is_set_up_again(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with connect(warehouse) as con:
        con.execute("DROP TABLE core.order_lines")
    with connect(warehouse) as con:
        assert con.execute("SELECT count(*) FROM core.order_lines").fetchone() == (0,)
        # a warehouse set up by an older model: its fingerprint differs
        con.execute("UPDATE ops.schema_version SET fingerprint = 'older'")
        con.execute("ALTER TABLE raw.order_lines DROP COLUMN promised_ship_by")
    with connect(warehouse):
        pass
    assert "promised_ship_by" in _raw_order_line_columns(warehouse)


def test_read_only_opens_never_write(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    duckdb.connect(str(warehouse)).close()
    with connect(warehouse, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone() == (0,)
