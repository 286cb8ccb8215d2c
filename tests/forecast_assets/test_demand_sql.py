"""The demand model in SQL on a core worked out on paper: cancellations, bundles, stockouts."""

from __future__ import annotations

import duckdb
import pytest

from assets.forecast import sql
from assets.forecast.config import ForecastSettingsError, forecast_settings
from assets.settings import load_settings
from assets.warehouse import ensure_schema
from forecast_builder import day, insert, order_line, product, snapshot


@pytest.fixture
def con():
    con = duckdb.connect()
    ensure_schema(con)
    insert(con, "products", [product("A"), product("B", cost=20.0, currency="USD"),
                             product("C", cost=None, price=8.0), product("KIT", bundle=True)])
    insert(con, "bundle_components", [
        {"bundle_sku": "KIT", "component_sku": "A", "units_per_bundle": 2},
        {"bundle_sku": "KIT", "component_sku": "B", "units_per_bundle": 1},
    ])
    insert(con, "order_lines", [
        order_line("A", 3, 0),
        order_line("A", 5, 0, status="cancelled"),   # no demand
        order_line("A", 0, 0, status="cancelled"),   # Amazon's cancelled line, quantity 0
        order_line("A", 2, 1, status="shipped"),
        order_line("KIT", 2, 1),                      # 4 × A, 2 × B
        order_line("A", 1, 2, status="delivered"),    # sold before the shelf emptied
        order_line("B", 1, 4),
    ])
    insert(con, "returns", [{  # returns are not negative demand
        "rma_id": "R1", "channel_id": "shop", "order_id": "O1", "line_id": "1", "sku": "A",
        "quantity": 3, "reason": "size", "requested_at": order_line("A", 1, 3)["ordered_at"],
        "updated_at": order_line("A", 1, 3)["ordered_at"]}])
    insert(con, "stock_snapshots", [
        snapshot(0, "A", "WH1", 4), snapshot(0, "A", "ST1", 2),
        snapshot(1, "A", "WH1", 5), snapshot(1, "A", "ST1", 0),           # the store ran out
        snapshot(2, "A", "WH1", 0), snapshot(2, "A", "ST1", 3, reserved=3),  # held back: 0 free
        snapshot(3, "A", "WH1", 10), snapshot(3, "A", "ST1", 4),
        snapshot(3, "B", "WH1", 0), snapshot(4, "B", "WH1", 0),           # B not stocked yet
    ])
    insert(con, "fx_rates", [{"rate_date": day(0), "currency": "USD", "rate_to_base": 0.9},
                             {"rate_date": day(3), "currency": "USD", "rate_to_base": 0.8},
                             {"rate_date": day(0), "currency": "EUR", "rate_to_base": 1.0}])
    yield con
    con.close()


def rows(con, query: str) -> list[tuple]:
    return con.execute(query).fetchall()


def test_cancellations_removed_bundles_attributed_returns_ignored(con):
    sql.build_daily_demand(con)
    got = rows(con, """SELECT sku, date, units, units_direct, units_from_bundles, order_lines
                       FROM marts.daily_demand_by_sku WHERE units > 0 ORDER BY sku, date""")
    assert got == [
        ("A", day(0), 3, 3, 0, 1),
        ("A", day(1), 6, 2, 4, 2),
        ("A", day(2), 1, 1, 0, 1),
        ("B", day(1), 2, 0, 2, 1),
        ("B", day(4), 1, 1, 0, 1),
    ]
    assert rows(con, "SELECT count(*) FROM marts.daily_demand_by_sku WHERE sku = 'KIT'") == [(0,)]


def test_stockout_is_a_stocking_location_without_free_stock(con):
    sql.build_daily_demand(con)
    got = rows(con, """SELECT sku, date, free_stock_units, stocked_locations, out_locations, stockout
                       FROM marts.daily_demand_by_sku ORDER BY sku, date""")
    assert got == [
        ("A", day(0), 6, 2, 0, False),
        ("A", day(1), 5, 2, 1, True),     # the store's channels could not sell
        ("A", day(2), 0, 2, 2, True),     # 0 at WH1; 3 on hand but 3 reserved at ST1
        ("A", day(3), 14, 2, 0, False),
        ("B", day(1), None, None, None, None),  # no snapshot: unknown, not a stockout
        ("B", day(3), 0, 0, 0, False),    # zero rows before B was ever in stock: not stocked
        ("B", day(4), 0, 0, 0, False),
    ]


def test_grid_censors_the_stockout_day_and_fills_real_zeros(con):
    sql.build_daily_demand(con)
    as_of = sql.demand_as_of(con)
    assert as_of == day(4)
    grid = sql.demand_grid(con, as_of, days=364)
    a = {r["date"]: (r["units"], r["censored"]) for r in grid.filter(sku="A").iter_rows(named=True)}
    assert a == {day(0): (3.0, False), day(1): (None, True), day(2): (None, True),
                 day(3): (0.0, False), day(4): (0.0, False)}
    b = grid.filter(sku="B")
    assert b["date"].to_list() == [day(1), day(2), day(3), day(4)]  # from its first sale
    # the window: only the last `days` days are read
    assert sql.demand_grid(con, as_of, days=2)["date"].min() == day(3)


def test_unit_value_is_cost_in_base_currency_else_list_price(con):
    values = {r["sku"]: (r["unit_value"], r["unit_value_source"])
              for r in sql.unit_values(con, "EUR", day(2)).iter_rows(named=True)}
    assert values["A"] == (10.0, "unit_cost")
    assert values["B"] == (pytest.approx(18.0), "unit_cost")   # 20 USD at 0.9 (rate of day 0)
    assert values["C"] == (8.0, "list_price")
    assert sql.unit_values(con, "EUR", day(3)).filter(sku="B")["unit_value"].item() == pytest.approx(16.0)


def test_overrides_are_appended_validated_and_read_oldest_first(con):
    assert sql.read_overrides(con).is_empty()
    sql.add_override(con, "A", day(5), day(9), multiplier=1.5, note="promo", created_by="ann")
    sql.add_override(con, "A", day(7), day(7), quantity=0.0, created_by="bob")
    got = sql.read_overrides(con)
    assert got["created_by"].to_list() == ["ann", "bob"]
    assert got.columns == sql.OVERRIDE_COLUMNS
    for kwargs in ({"multiplier": 1.0, "quantity": 2.0}, {}, {"multiplier": -1.0}):
        with pytest.raises(ValueError):
            sql.add_override(con, "A", day(5), day(6), **kwargs)
    with pytest.raises(ValueError, match="after"):
        sql.add_override(con, "A", day(6), day(5), multiplier=2.0)


def test_forecast_settings_defaults_and_messages(tmp_path):
    fs = forecast_settings(load_settings(tmp_path))
    assert (fs.horizon, fs.backtest_cutoffs, fs.history_days, fs.backend) == (56, 3, 364, "local")
    (tmp_path / "shelfwise.toml").write_text('[forecast]\nhorizon = 14\nbackend = "dask"\n'
                                             'dask_address = "tcp://s:8786"\n')
    cfg = forecast_settings(load_settings(tmp_path)).config()
    assert (cfg.backend, cfg.dask_address, cfg.level_shock) == ("dask", "tcp://s:8786", False)
    (tmp_path / "shelfwise.toml").write_text("[forecast]\nlevel_shock = true\n")
    assert forecast_settings(load_settings(tmp_path)).config().level_shock is True
    # the yearly ratio is on by default and reads a year plus its reference stretch
    assert fs.config().yearly_seasonality is True and fs.grid_days() == 364 + 28
    (tmp_path / "shelfwise.toml").write_text("[forecast]\nyearly_seasonality = false\n")
    off = forecast_settings(load_settings(tmp_path))
    assert off.config().yearly_seasonality is False and off.grid_days() == 364
    for body, message in (("horizn = 3", "unknown key"), ('horizon = "3"', "expected a int"),
                          ('backend = "spark"', "choose local or dask"), ("horizon = 0", "≥ 1")):
        (tmp_path / "shelfwise.toml").write_text(f"[forecast]\n{body}\n")
        with pytest.raises(ForecastSettingsError, match=message):
            forecast_settings(load_settings(tmp_path))
