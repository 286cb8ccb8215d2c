"""Demand grid, censoring, bundles and segmentation on hand-made frames."""

import datetime as dt

import polars as pl
import pytest

from forecasting import (
    abc_classes,
    daily_grid,
    demand_classes,
    explode_bundles,
    lifecycle,
    segment,
    xyz_classes,
)

D = dt.date(2026, 1, 1)


def day(i: int) -> dt.date:
    return D + dt.timedelta(days=i)


def series(sku: str, values: list[float | None]) -> pl.DataFrame:
    """A grid-shaped frame for one SKU; None = censored day."""
    return pl.DataFrame(
        {
            "sku": [sku] * len(values),
            "date": [day(i) for i in range(len(values))],
            "units": values,
            "censored": [v is None for v in values],
        },
        schema={"sku": pl.String, "date": pl.Date, "units": pl.Float64, "censored": pl.Boolean},
    )


def test_grid_fills_missing_days_with_zero_and_censors_stockouts():
    demand = pl.DataFrame(
        {
            "sku": ["a", "a", "a", "b"],
            "date": [day(0), day(0), day(3), day(2)],
            "units": [1, 2, 5, 4],
        }
    )
    stockouts = pl.DataFrame(
        {"sku": ["a", "a"], "date": [day(1), day(3)], "stockout": [True, True]}
    )
    grid = daily_grid(demand, stockouts)
    a = grid.filter(pl.col("sku") == "a")
    assert a["date"].to_list() == [day(i) for i in range(4)]
    # day 0 summed, day 1 censored (unknown, not 0), day 2 a real zero, day 3 censored despite a sale
    assert a["units"].to_list() == [3.0, None, 0.0, None]
    assert a["censored"].to_list() == [False, True, False, True]
    b = grid.filter(pl.col("sku") == "b")
    assert b["date"].to_list() == [day(2), day(3)] and b["units"].to_list() == [4.0, 0.0]


def test_grid_rejects_negative_units():
    with pytest.raises(ValueError, match="negative"):
        daily_grid(pl.DataFrame({"sku": ["a"], "date": [day(0)], "units": [-1]}))


def test_explode_bundles_adds_component_units():
    demand = pl.DataFrame({"sku": ["box", "cup", "tea"], "date": [day(0)] * 3, "units": [2, 1, 5]})
    comps = pl.DataFrame(
        {"bundle": ["box", "box"], "component": ["cup", "saucer"], "quantity": [2, 1]}
    )
    out = explode_bundles(demand, comps)
    assert dict(zip(out["sku"], out["units"])) == {"cup": 5.0, "saucer": 2.0, "tea": 5.0}


@pytest.mark.parametrize(
    "values, expected",
    [
        ([3, 3, 4, 3, 3, 3], "smooth"),  # adi 1, cv2 ~0.01
        ([1, 9, 1, 12, 1, 10], "erratic"),  # adi 1, cv2 > 0.49
        ([0, 0, 3, 0, 0, 3], "intermittent"),  # adi 3, cv2 0
        ([0, 0, 1, 0, 0, 20], "lumpy"),  # adi 3, cv2 > 0.49
    ],
)
def test_syntetos_boylan_classes(values, expected):
    out = demand_classes(series("s", values))
    assert out["demand_class"][0] == expected


def test_adi_ignores_censored_days():
    # 4 uncensored days, 2 with demand: adi 2 (the censored days are unknown, not zeros)
    out = demand_classes(series("s", [3, None, 0, None, 3, 0]))
    assert out["adi"][0] == 2.0 and out["n_days"][0] == 4


def test_lifecycle_new_dead_and_censored_is_not_dead():
    grid = pl.concat(
        [
            series("new", [1, 0, 2]),
            series("dead", [5] + [0] * 9),
            series("out", [5] + [None] * 9),  # out of stock since day 1: unknown, not dead
            series("live", [1] * 10),
        ]
    )
    # shift the new SKU so it starts late and ends with the others
    grid = grid.with_columns(
        pl.when(pl.col("sku") == "new")
        .then(pl.col("date") + pl.duration(days=7))
        .otherwise("date")
        .alias("date")
    )
    out = dict(zip(*lifecycle(grid, new_days=5, dead_days=6).select("sku", "lifecycle")))
    assert out == {"new": "new", "dead": "dead", "out": "active", "live": "active"}


def test_abc_by_value_and_xyz_by_weekly_cv():
    grid = pl.concat([series("a", [10] * 14), series("b", [1] * 14), series("c", [0] * 13 + [1])])
    values = pl.DataFrame({"sku": ["a", "b", "c"], "unit_value": [10.0, 10.0, 1.0]})
    abc = dict(zip(*abc_classes(grid, values).select("sku", "abc")))
    assert abc == {"a": "A", "b": "B", "c": "C"}
    xyz = dict(zip(*xyz_classes(grid).select("sku", "xyz")))
    assert xyz["a"] == "X" and xyz["c"] == "Z"


def test_segment_prefers_lifecycle_over_demand_class():
    grid = pl.concat([series("dead", [5] + [0] * 9), series("live", [2, 3] * 5)])
    seg = dict(zip(*segment(grid, new_days=3, dead_days=6).select("sku", "segment")))
    assert seg == {"dead": "dead", "live": "smooth"}
