"""Base amounts follow the base currency, and an older warehouse gains the new columns."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from assets.ingest.merge import sync_base_currency
from assets.warehouse import ensure_schema
from tests.kpis.conftest import insert, line


def test_a_changed_base_currency_recomputes_every_base_amount():
    con = duckdb.connect()
    ensure_schema(con)
    assert sync_base_currency(con, "EUR") == 0  # a new warehouse: recorded, nothing to redo
    brl = dict(line("B1", "1", "A", 2, 50.0), currency="BRL", line_amount_base=None,
               unit_price_base=None, order_shipping_amount=10.0)
    eur = dict(line("E1", "1", "A", 1, 20.0), ordered_at=datetime(2026, 1, 10))
    insert(con, "order_lines", [brl, eur])
    insert(con, "fx_rates", [dict(rate_date=date(2026, 1, 1), currency="EUR", rate_to_base=6.0)])

    assert sync_base_currency(con, "EUR") is None  # unchanged: nothing to do
    assert sync_base_currency(con, "BRL") == 2
    got = {o: rest for o, *rest in con.execute(
        "SELECT order_id, line_amount_base, unit_price_base, order_shipping_amount_base "
        "FROM core.order_lines").fetchall()}
    assert got["B1"] == [50.0, 25.0, 10.0]
    assert got["E1"] == [120.0, 120.0, None]  # 20 EUR at 6 BRL per EUR
    history = con.execute("SELECT base_currency FROM ops.base_currency ORDER BY set_at"
                          ).fetchall()
    assert [b for (b,) in history] == ["EUR", "BRL"]


def test_an_older_warehouse_gains_the_new_order_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA core")
        con.execute("CREATE TABLE core.order_lines (channel_id VARCHAR, order_id VARCHAR, "
                    "line_id VARCHAR, line_amount DOUBLE, line_amount_base DOUBLE)")
        con.execute("INSERT INTO core.order_lines VALUES ('web', 'O1', '1', 9.9, 9.9)")
        ensure_schema(con)
        columns = {c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'core' AND table_name = 'order_lines'").fetchall()}
        assert {"fulfilled_by", "order_shipping_amount", "order_shipping_amount_base",
                "promised_delivery_date"} <= columns
        assert con.execute("SELECT order_id, fulfilled_by FROM core.order_lines"
                           ).fetchall() == [("O1", None)]


@pytest.mark.parametrize("zone", ["UTC", "America/Sao_Paulo", "Asia/Kolkata"])
def test_icu_time_zones_are_in_the_bundled_duckdb(zone):
    # the reporting time zone needs DuckDB's ICU extension, which cannot be downloaded here
    con = duckdb.connect()
    local = con.execute("SELECT ((TIMESTAMP '2026-02-01 02:00' AT TIME ZONE 'UTC') "
                        "AT TIME ZONE $tz)::DATE", {"tz": zone}).fetchall()[0][0]
    assert local == (date(2026, 1, 31) if zone == "America/Sao_Paulo" else date(2026, 2, 1))
