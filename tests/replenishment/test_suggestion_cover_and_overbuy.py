"""Days of cover after the order and MOQ-driven overbuys in ``marts.replenishment_suggestions``:
hand-sized lines through :func:`assets.replenishment.tables.build_suggestions`, checked against
values worked out by hand below (docs/replenishment.md, "Cover after the order, MOQ overbuys")."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from assets.replenishment.config import ReplenishmentSettingsError, replenishment_settings
from assets.replenishment.tables import build_suggestions
from assets.settings import load_settings

AS_OF = date(2026, 11, 22)
# sku: need, case pack, MOQ, suggested (after sizing), mean daily demand, inventory position
LINES = {
    "A-PACK-ONLY": (10, 12, 0, 12, 1.0, 5.0),      # the case pack rounds up, the MOQ does not bind
    "B-BIG-MOQ": (10, 12, 240, 240, 2.0, 3.0),     # MOQ 240 vs 12 needed: 228 more = 114 days
    "C-SMALL-MOQ": (10, 6, 24, 24, 1.0, 0.0),      # MOQ adds 12 = 12 days: not an overbuy
    "D-NO-DEMAND": (5, 1, 10, 10, 0.0, -4.0),      # MOQ adds 5 and nothing sells: an overbuy
    "E-TOPPED-UP": (10, 6, 0, 30, 1.0, 2.0),       # the minimum order value, not the MOQ, added
}
# sku: days of cover after the order, MOQ excess units, excess days, overbuy at 30 days
EXPECTED = {
    "A-PACK-ONLY": (17.0, 0, 0.0, False),
    "B-BIG-MOQ": (121.5, 228, 114.0, True),
    "C-SMALL-MOQ": (24.0, 12, 12.0, False),
    "D-NO-DEMAND": (None, 5, None, True),
    "E-TOPPED-UP": (32.0, 0, 0.0, False),
}


def sized_lines() -> pl.DataFrame:
    rows = []
    for rank, (sku, (need, pack, moq, units, daily, position)) in enumerate(LINES.items(), 1):
        rows.append(dict(
            as_of=AS_OF, sku=sku, product_name=sku, location_id="WH-1", supplier_id="SUP-1",
            supplier_name="One", supplier_sku=None, order_date=AS_OF, expected_arrival_date=AS_OF,
            suggested_units=units, case_pack=pack, cases=units // pack, moq=moq, unit_cost=1.0,
            currency="EUR", unit_cost_base=1.0, line_value=float(units), service_level=0.95,
            reorder_point_units=10.0, order_up_to_units=position + need, safety_stock_units=2.0,
            inventory_position_units=position, projected_stockout_date=None, days_of_cover=None,
            last_order_date=None, urgency_rank=rank, reason="r", reason_codes="below_reorder_point",
            need_units=float(need), topup_units=0, coverage_cap_units=1000, order_value=1.0,
            min_order_value=None, order_below_min_value=False, mean_daily_demand_units=daily,
            season_ratio=None, season_days=None))
    return pl.DataFrame(rows)


def built(**kwargs) -> dict[str, tuple]:
    con = duckdb.connect()
    try:
        con.execute("CREATE SCHEMA marts")
        build_suggestions(con, sized_lines(), **kwargs)
        return {r[0]: r[1:] for r in con.execute(
            "SELECT sku, days_of_cover_after_order, moq_excess_units, moq_excess_days, moq_overbuy"
            " FROM marts.replenishment_suggestions").fetchall()}
    finally:
        con.close()


def test_cover_after_the_order_and_moq_overbuys_as_worked_out_by_hand():
    got = built()
    assert set(got) == set(EXPECTED)
    for sku, (after, excess, days, overbuy) in EXPECTED.items():
        row = got[sku]
        assert row[0] == (None if after is None else pytest.approx(after)), sku
        assert row[1] == excess, sku
        assert row[2] == (None if days is None else pytest.approx(days)), sku
        assert row[3] is overbuy, sku


def test_the_overbuy_threshold_is_a_setting(tmp_path):
    (tmp_path / "shelfwise.toml").write_text("[replenishment]\nmoq_overbuy_days = 10\n")
    days = replenishment_settings(load_settings(tmp_path)).moq_overbuy_days
    assert days == 10
    assert built(moq_overbuy_days=days)["C-SMALL-MOQ"][3] is True  # 12 days > 10
    (tmp_path / "shelfwise.toml").write_text("[replenishment]\nmoq_overbuy_days = 0\n")
    with pytest.raises(ReplenishmentSettingsError, match="moq_overbuy_days"):
        replenishment_settings(load_settings(tmp_path))
