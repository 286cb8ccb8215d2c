"""Why a suggestion: the reason codes and the one sentence a planner reads.

Part of :mod:`forecasting.policy`.
"""

from __future__ import annotations

import polars as pl

REASON_CODES = ("below_reorder_point", "stockout_before_arrival", "moq", "case_pack",
                "min_order_value_topup", "coverage_cap")


def reason_codes(frame: pl.DataFrame) -> pl.Expr:
    """The comma-separated ``reason_codes`` expression from boolean flag columns named as in
    :data:`REASON_CODES` (``moq`` and ``case_pack`` as ``moq_flag``, ``case_pack_flag``)."""
    flags = {code: ({"moq": "moq_flag", "case_pack": "case_pack_flag"}.get(code, code))
             for code in REASON_CODES}
    parts = [pl.when(pl.col(col)).then(pl.lit(code)) for code, col in flags.items()
             if col in frame.columns]
    return pl.concat_str(parts, separator=",", ignore_nulls=True).alias("reason_codes")


def _fmt_units(expr: pl.Expr) -> pl.Expr:
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def _fmt_pct(expr: pl.Expr) -> pl.Expr:
    """0.955 → "95.5", 0.95 → "95" (one decimal, none when it is 0)."""
    return (expr * 100).round(1).cast(pl.String).str.replace(r"\.0$", "")


# the reason mentions the season when it moves demand over the order's window by this much
SEASON_NOTE = 0.1


def reason_text(frame: pl.DataFrame, *, as_of_label: str = "today") -> pl.Expr:
    """One sentence per suggestion a planner reads at a glance, numbers included.

    Needs ``projected_stockout_date, expected_arrival_date, order_date, as_of,
    inventory_position_units, reorder_point_units, suggested_units, cases, case_pack,
    service_level, min_order_value, currency, coverage_cap_units, max_coverage_days`` and the
    flags of :func:`size_orders` plus ``stockout_before_arrival``; with
    ``service_level_source`` and ``fill_rate_target`` columns, a level the fill-rate target
    chose says so ("… to reach 62% service through the next delivery, the level that meets a
    95% fill rate over all SKUs at the least stock value"); with ``season_ratio``
    (:func:`season_ratio`, ``season_days``) at least 10 % away from 1, the sentence ends with
    the lift ("…; last year's season puts demand over the next 35 days at 1.8× the recent
    rate"). For example: "projected to run out on 14 Mar, 9 days before an order placed today
    can arrive (23 Mar); order 120 = 2 cases of 60 to reach 95% service through the next
    delivery". With ``on_hand_units`` (and optionally ``allocated_units``,
    ``backorder_units``), a line with nothing on hand free to sell (on hand − allocated −
    backorders ≤ 0) says "out of stock now (0 on hand free to sell); an order placed today
    arrives 23 Mar" instead of a projected date that has already passed.
    """
    return pl.concat_str([_situation(frame, as_of_label), _quantity(frame), _extras(),
                          _season(frame)]).alias("reason")


def _situation(frame: pl.DataFrame, as_of_label: str) -> pl.Expr:
    """The sentence's start: out of stock now, projected to run out (before or after the
    order can arrive), or the position at or below the reorder point."""
    day = "%-d %b"
    stockout = pl.col("projected_stockout_date")
    arrival = pl.col("expected_arrival_date")
    placed = (pl.when(pl.col("order_date") == pl.col("as_of")).then(pl.lit(as_of_label))
              .otherwise(pl.lit("on ") + pl.col("order_date").dt.strftime("%a %-d %b")))
    gap = (arrival - stockout).dt.total_days()
    if "on_hand_units" in frame.columns:
        free = pl.col("on_hand_units").fill_null(0) - sum(
            pl.col(c).fill_null(0) for c in ("allocated_units", "backorder_units")
            if c in frame.columns)
        out_now = free <= 0
    else:
        free, out_now = pl.lit(None), pl.lit(False)
    situation = (
        pl.when(out_now)
        .then(pl.concat_str([
            pl.lit("out of stock now ("), _fmt_units(pl.max_horizontal(free, pl.lit(0))),
            pl.lit(" on hand free to sell); an order placed "), placed, pl.lit(" arrives "),
            arrival.dt.strftime(day),
        ]))
        .when(stockout.is_not_null() & pl.col("stockout_before_arrival"))
        .then(pl.concat_str([
            pl.lit("projected to run out on "), stockout.dt.strftime(day), pl.lit(", "),
            gap.cast(pl.String),
            pl.when(gap == 1).then(pl.lit(" day")).otherwise(pl.lit(" days")),
            pl.lit(" before an order placed "), placed, pl.lit(" can arrive ("),
            arrival.dt.strftime(day), pl.lit(")"),
        ]))
        .when(stockout.is_not_null())
        .then(pl.concat_str([
            pl.lit("projected to run out on "), stockout.dt.strftime(day),
            pl.lit("; an order placed "), placed, pl.lit(" arrives "), arrival.dt.strftime(day),
            pl.lit(" and inventory position "), _fmt_units(pl.col("inventory_position_units")),
            pl.lit(" is at or below the reorder point "), _fmt_units(pl.col("reorder_point_units")),
        ]))
        .otherwise(pl.concat_str([
            pl.lit("inventory position "), _fmt_units(pl.col("inventory_position_units")),
            pl.lit(" is at or below the reorder point "), _fmt_units(pl.col("reorder_point_units")),
        ]))
    )
    return situation


def _order_minimum() -> pl.Expr:
    """The supplier's minimum order value with its currency ("250 EUR")."""
    return pl.concat_str([pl.col("min_order_value").round(0).cast(pl.Int64).cast(pl.String),
                          pl.lit(" "), pl.col("currency")])


def _quantity(frame: pl.DataFrame) -> pl.Expr:
    """"; order 120 = 2 cases of 60 to reach 95% service …", and why a level the fill-rate
    target chose is what it is."""
    quantity = pl.concat_str([
        pl.lit("; order "), pl.col("suggested_units").cast(pl.String),
        pl.when(pl.col("case_pack") > 1).then(pl.concat_str([
            pl.lit(" = "), pl.col("cases").cast(pl.String),
            pl.when(pl.col("cases") == 1).then(pl.lit(" case of ")).otherwise(pl.lit(" cases of ")),
            pl.col("case_pack").cast(pl.String)])).otherwise(pl.lit("")),
        pl.lit(" to reach "), _fmt_pct(pl.col("service_level")),
        pl.lit("% service through the next delivery"),
    ])
    if {"service_level_source", "fill_rate_target"} <= set(frame.columns):
        # a level the fill-rate target chose can be low (an expensive slow mover's): say why
        quantity = pl.concat_str([quantity, pl.when(
            pl.col("service_level_source") == "fill_rate_target").then(pl.concat_str([
                pl.lit(", the level that meets a "), _fmt_pct(pl.col("fill_rate_target")),
                pl.lit("% fill rate over all SKUs at the least stock value")]))
            .otherwise(pl.lit(""))])
    return quantity


def _extras() -> pl.Expr:
    """What changed the quantity: the MOQ, the coverage cap, a top-up to the minimum order."""
    minimum = _order_minimum()
    extras = pl.concat_str([
        pl.when(pl.col("moq_flag")).then(pl.concat_str(
            [pl.lit(" (MOQ "), pl.col("moq").cast(pl.String), pl.lit(")")])).otherwise(pl.lit("")),
        pl.when(pl.col("coverage_cap")).then(pl.concat_str(
            [pl.lit(" (capped at "), pl.col("max_coverage_days").round(0).cast(pl.Int64)
             .cast(pl.String), pl.lit(" days of cover on arrival)")])).otherwise(pl.lit("")),
        pl.when(pl.col("min_order_value_topup") & pl.col("order_below_min_value"))
        .then(pl.concat_str([pl.lit(" (+"), pl.col("topup_units").cast(pl.String),
                             pl.lit(" toward the supplier's minimum order of "), minimum,
                             pl.lit("; still below it with every line at its coverage cap)")]))
        .when(pl.col("min_order_value_topup"))
        .then(pl.concat_str([pl.lit(" (+"), pl.col("topup_units").cast(pl.String),
                             pl.lit(" to reach the supplier's minimum order of "), minimum,
                             pl.lit(")")]))
        .when(pl.col("order_below_min_value"))
        .then(pl.concat_str([pl.lit(" (the order is below the supplier's minimum of "),
                             minimum, pl.lit(" even at the coverage cap)")]))
        .otherwise(pl.lit("")),
    ])
    return extras


def _season(frame: pl.DataFrame) -> pl.Expr:
    """"; last year's season puts demand … at 1.8× the recent rate" when the season moves the
    demand over the order's window by :data:`SEASON_NOTE` or more; empty otherwise."""
    season = pl.lit("")
    if "season_ratio" in frame.columns:
        # a seasonal lift or dip of 10 % or more is worth a planner's attention
        lift = pl.col("season_ratio")
        # the days the ratio was weighed over: the order's window, or the forecast's horizon
        # when that ends first
        window = (pl.col("lead_time_mean_days").round(0).cast(pl.Int64)
                  + pl.col("review_period_days").cast(pl.Int64))
        days = (pl.min_horizontal(window, pl.col("season_days")) if "season_days" in frame.columns
                else window)
        season = pl.when((lift - 1.0).abs() >= SEASON_NOTE).then(pl.concat_str([
            pl.lit("; last year's season puts demand over the next "), days.cast(pl.String),
            pl.lit(" days at "), lift.round(1).cast(pl.String), pl.lit("× the recent rate")])
        ).otherwise(pl.lit(""))
    return season
