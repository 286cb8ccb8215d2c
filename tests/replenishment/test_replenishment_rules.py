"""The replenishment business rules as library functions (issue #18, item 4): the urgency rank
and label (forecasting/urgency.py) and where a service level comes from
(forecasting/service_level_source.py), on six-row frames with expectations worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl

from forecasting.service_level_source import levels_to_choose, service_level_sources
from forecasting.urgency import URGENCY_LABELS, rank_by_urgency, urgency_label

D = date(2026, 12, 1)


def lines() -> pl.DataFrame:
    # sku, location, projected stockout, position, reorder point, expected arrival
    rows = [
        ("S1", "WH", date(2026, 12, 9), 10.0, 20.0, date(2026, 12, 5)),   # out after arrival
        ("S2", "WH", date(2026, 12, 3), 15.0, 20.0, date(2026, 12, 5)),   # out before arrival
        ("S3", "WH", date(2026, 12, 3), 5.0, 20.0, date(2026, 12, 5)),    # same day, lower cover
        ("S4", "WH", None, 1.0, 20.0, date(2026, 12, 5)),                 # no stockout projected
        ("S5", "WH", None, 0.5, 0.0, None),                               # rop 0 counts as 1
        ("S0", "ST", date(2026, 12, 3), 5.0, 20.0, None),                 # ties S3: sku decides
    ]
    return pl.DataFrame(rows, orient="row", schema={
        "sku": pl.String, "location_id": pl.String, "projected_stockout_date": pl.Date,
        "inventory_position_units": pl.Float64, "reorder_point_units": pl.Float64,
        "expected_arrival_date": pl.Date})


def test_urgency_rank_earliest_stockout_then_lowest_cover_then_sku():
    ranked = rank_by_urgency(lines())
    # 3 Dec: S0 and S3 at 5/20 = 0.25 (S0 first by sku), then S2 at 15/20 = 0.75; 9 Dec: S1;
    # no stockout, last: S4 at 1/20 = 0.05 before S5 at 0.5/max(0, 1) = 0.5
    assert ranked["sku"].to_list() == ["S0", "S3", "S2", "S1", "S4", "S5"]
    assert ranked["urgency_rank"].to_list() == [1, 2, 3, 4, 5, 6]
    assert ranked.columns[0] == "urgency_rank"
    assert ranked.filter(pl.col("sku") == "S5")["_cover_ratio"].item() == 0.5


def test_urgency_label_critical_high_normal():
    labelled = lines().with_columns(urgency_label())
    by_sku = dict(zip(labelled["sku"], labelled["urgency"]))
    # S2, S3: out on 3 Dec, an order arrives on 5 Dec; S1 out on 9 Dec, after the arrival;
    # S0 has a stockout but no arrival date: high, not critical; S4, S5: none projected
    assert by_sku == {"S1": "high", "S2": "critical", "S3": "critical", "S4": "normal",
                      "S5": "normal", "S0": "high"}
    assert set(by_sku.values()) <= set(URGENCY_LABELS)


def params() -> pl.DataFrame:
    return pl.DataFrame({
        "sku": ["A", "B", "C"], "location_id": ["WH"] * 3,
        "service_level": [0.95, 0.90, 0.99],
        "service_level_source": ["matrix", "matrix", "override"]})


def test_without_a_fill_rate_target_the_matrix_and_overrides_stand():
    for target in (None, 0, 0.0):
        assert levels_to_choose(params(), target).equals(params())
        assert service_level_sources(params(), target).equals(params())


def test_a_fill_rate_target_chooses_every_level_but_the_overrides():
    chosen = levels_to_choose(params(), 0.97)
    assert chosen["service_level"].to_list() == [None, None, 0.99]
    assert chosen["service_level_source"].to_list() == ["matrix", "matrix", "override"]
    labelled = service_level_sources(params(), 0.97)
    assert labelled["service_level_source"].to_list() == [
        "fill_rate_target", "fill_rate_target", "override"]
    assert labelled["service_level"].to_list() == [0.95, 0.90, 0.99]
