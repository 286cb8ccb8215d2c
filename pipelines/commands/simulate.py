"""Planning command: simulate, the reorder-policy simulator (shelfwise against static min/max).

Input is a demand file (the same reader as ``shelfwise forecast``) or the warehouse
(``marts.daily_demand_by_sku`` with learned lead times). The numbers come from
:mod:`forecasting.simulation`; this module only reads, prints and writes files.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import click

from pipelines.commands.files import load_grid, read_table, write_frame

ITEM_COLUMNS = ("lead_time_mean_days", "lead_time_sd_days", "review_days", "case_pack", "moq",
                "unit_cost", "category")

def _floats(text: str, *, name: str, low: float, high: float | None) -> list[float]:
    try:
        values = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: give numbers like 0.9,0.95", param_hint=name) from exc
    if not values or any(v < low or (high is not None and v >= high) for v in values):
        bound = f"in [{low:g}, {high:g})" if high is not None else f"≥ {low:g}"
        raise click.BadParameter(f"{text!r}: every value must be {bound}", param_hint=name)
    return values


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _read_items(path: str):
    """``sku`` + any of :data:`ITEM_COLUMNS` from a CSV/Parquet file (checked like demand)."""
    import polars as pl

    header = (pl.read_parquet_schema(path) if path.lower().endswith(".parquet")
              else pl.read_csv(path, n_rows=0, infer_schema=False).schema)
    present = [c for c in ITEM_COLUMNS if c in header]
    if not present:
        raise click.ClickException(
            f"{path}: no item column; expected sku and any of {', '.join(ITEM_COLUMNS)}")
    # category is text (the forecast's yearly ratio and new SKUs' borrowed rate use it)
    return read_table(path, {"sku": "str",
                              **{c: "str" if c == "category" else "units" for c in present}})


def _warehouse_inputs(home: str, history_days: int):
    """(grid, items, currency) from the warehouse of ``home``, read-only."""
    from assets.settings import load_settings
    from assets.warehouse import connect
    from pipelines import queries

    settings = load_settings(home)
    if not Path(settings.warehouse_path).exists():
        raise click.ClickException(
            f"no warehouse at {settings.warehouse_path}: run `shelfwise demo` first, or pass "
            "--demand FILE")
    with connect(settings.warehouse_path, read_only=True, wait_seconds=30) as con:
        tables = queries.present_tables(con)
        if "marts.daily_demand_by_sku" not in tables:
            raise click.ClickException(
                "marts.daily_demand_by_sku not built yet: materialize the forecast assets "
                "(`shelfwise demo`) or pass --demand FILE")
        demand = queries.simulation_demand(con, base_currency=settings.base_currency,
                                           history_days=history_days)
        if demand is None:
            raise click.ClickException("marts.daily_demand_by_sku has no demand")
        grid, values = demand
        # learned lead times per SKU (the SKU's row, else its supplier's), else master data
        items = queries.simulation_items(con, learned_lead_times="marts.lead_times" in tables)
    # the category feeds the forecast's yearly ratio, as in the forecast asset
    items = items.join(values.select("sku", "unit_value", "category"), on="sku", how="left").rename(
        {"unit_value": "unit_cost"})
    return grid, items, settings.base_currency


@click.command()
@click.option("--demand", type=click.Path(exists=True, dir_okay=False),
              help="daily demand: sku, date, units (.csv/.parquet); default: the warehouse")
@click.option("--stockouts", type=click.Path(exists=True, dir_okay=False),
              help="with --demand: sku, date, stockout; censored days replay their trailing mean")
@click.option("--items", "items_file", type=click.Path(exists=True, dir_okay=False),
              help="with --demand: sku + any of " + ", ".join(ITEM_COLUMNS))
@click.option("--target-kind", type=click.Choice(["cycle", "fill_rate", "pooled"]),
              default="cycle", show_default=True,
              help="shelfwise reorder point: a cycle service level (a quantile of demand over "
                   "L + R), a fill rate β per SKU (expected shortage per cycle ≤ (1 − β) × "
                   "cycle demand) or a fill rate pooled over all SKUs, each SKU's level chosen "
                   "for it at the least stock value (the policy's fill_rate_target)")
@click.option("--fill-rates", default="0.5,0.7,0.8,0.85,0.9,0.93,0.95,0.96,0.97,0.98,0.99,0.995",
              show_default=True,
              help="shelfwise sweep with --target-kind fill_rate (β) or pooled (the target)")
@click.option("--service-levels", default="0.5,0.7,0.8,0.9,0.95,0.97,0.98,0.99,0.995",
              show_default=True, help="shelfwise sweep with --target-kind cycle")
@click.option("--safety-days", default="0,2,4,7,10,14,21,28,42,56,84,120,180,270,365",
              show_default=True, help="min/max sweep: days of average demand added to min")
@click.option("--lead-time-mean", type=click.FloatRange(min=0),
              help="days, every SKU  [default: 14 with --demand, else learned]")
@click.option("--lead-time-sd", type=click.FloatRange(min=0),
              help="days, every SKU  [default: 4 with --demand, else learned]")
@click.option("--review-days", type=click.IntRange(min=1),
              help="days between order opportunities  "
                   "[default: 7 with --demand, else the supplier's]")
@click.option("--eval-days", default=182, show_default=True, type=click.IntRange(min=1),
              help="days scored (the last of the history)")
@click.option("--warmup-days", default=28, show_default=True, type=click.IntRange(min=0),
              help="days replayed before them, not scored")
@click.option("--refit-days", default=28, show_default=True, type=click.IntRange(min=1),
              help="refit the forecast every so many days")
@click.option("--target", default=0.95, show_default=True, type=click.FloatRange(0, 1),
              help="fill rate at which to compare average stock")
@click.option("--n-sims", default=1000, show_default=True, type=click.IntRange(min=100),
              help="Monte Carlo scenarios for lead-time demand")
@click.option("--seed", default=0, show_default=True)
@click.option("--cycle-stock-reviews", default=1.0, show_default=True,
              type=click.FloatRange(min=0.0),
              help="review periods of demand one shelfwise order adds above the reorder point "
                   "([replenishment] cycle_stock_reviews): below 1, more orders, less stock")
@click.option("--n-jobs", default=1, show_default=True, help="processes for statsforecast")
@click.option("--out", "out_dir", default="simulation", show_default=True,
              type=click.Path(file_okay=False),
              help="folder for simulation_curves.csv, simulation.json, simulation.png")
@click.pass_context
def simulate(ctx, demand, stockouts, items_file, target_kind, fill_rates, service_levels,
             safety_days, lead_time_mean,
             lead_time_sd, review_days, eval_days, warmup_days, refit_days, target, n_sims, seed,
             cycle_stock_reviews, n_jobs, out_dir):
    """Replay the demand history under shelfwise's policy and a static min/max rule.

    Both policies see the same demand day by day (unmet demand is lost), the same review days,
    lead times (gamma, seeded), case packs and MOQs. shelfwise is swept over the cycle
    service level (or the fill rate β it targets per SKU, --target-kind fill_rate, or over
    all SKUs, --target-kind pooled), min/max
    (min = average daily demand × lead time + safety days × average, max = min + average ×
    review days) over the safety days. Prints fill rate, cycle service
    level, average on hand (units and value), stockout days and orders per setting, and the
    average stock each policy needs for the --target fill rate. docs/simulation.md has the method.

    \b
    Examples:
      shelfwise simulate --demand demand.csv --lead-time-mean 10 --lead-time-sd 3 --out sim/
      shelfwise simulate --demand demand.csv --items items.csv --eval-days 91
      shelfwise simulate --out sim/          # the warehouse: daily demand, learned lead times
    """
    # long: one run in order (options, inputs, replay, tables, files), each step a few lines
    import polars as pl

    from forecasting import ForecastConfig
    from forecasting.simulation import (
        SimulationConfig,
        plot_curves,
        simulate_policies,
        stock_at_fill_rate,
        stock_reduction,
    )
    from pipelines.summary import format_table

    levels = _floats(service_levels, name="--service-levels", low=1e-9, high=1.0)
    betas = _floats(fill_rates, name="--fill-rates", low=1e-9, high=1.0)
    safety = _floats(safety_days, name="--safety-days", low=0.0, high=None)
    config = SimulationConfig(
        eval_days=eval_days, warmup_days=warmup_days, refit_days=refit_days,
        target_kinds=(target_kind,), fill_rates=tuple(betas), pooled_fill_rates=tuple(betas),
        service_levels=tuple(levels),
        safety_days=tuple(safety), n_sims=n_sims, seed=seed,
        cycle_stock_reviews=cycle_stock_reviews, forecast=ForecastConfig(n_jobs=n_jobs))
    started = time.perf_counter()
    if demand:
        grid = load_grid(demand, stockouts)
        items = (_read_items(items_file) if items_file
                 else pl.DataFrame({"sku": grid["sku"].unique()}))
        currency = "base currency"
        defaults = {"lead_time_mean_days": 14.0, "lead_time_sd_days": 4.0, "review_days": 7.0}
        source = demand
    else:
        if stockouts or items_file:
            raise click.UsageError("--stockouts and --items go with --demand")
        # each refit reads what the forecast asset reads (a year and more for the yearly ratio)
        history = eval_days + warmup_days + config.forecast.grid_days()
        grid, items, currency = _warehouse_inputs(ctx.obj["home"], history)
        defaults = {}
        source = "warehouse (marts.daily_demand_by_sku)"
    given = {"lead_time_mean_days": lead_time_mean, "lead_time_sd_days": lead_time_sd,
             "review_days": review_days}
    for col, value in given.items():
        # an option given wins for every SKU; else the file's value, else the file default
        if value is not None:
            items = items.with_columns(pl.lit(float(value)).alias(col))
        elif col in defaults:
            have = (pl.col(col).cast(pl.Float64) if col in items.columns
                    else pl.lit(None, pl.Float64))
            items = items.with_columns(have.fill_null(defaults[col]).alias(col))
    try:
        result = simulate_policies(grid, items, config,
                                   progress=lambda m: click.echo(f"  {m}", err=True))
    except ValueError as exc:
        raise click.ClickException(f"{source}: {exc}") from exc

    curves = result.curves
    at_value = stock_at_fill_rate(curves, target, "avg_on_hand_value")
    at_units = stock_at_fill_rate(curves, target, "avg_on_hand_units")
    reduction = stock_reduction(at_value)
    rows = [(r["policy"], f"{r['parameter']:g}", _rate(r["fill_rate"]),
             _rate(r["cycle_service_level"]),
             round(r["avg_on_hand_units"]), round(r["avg_on_hand_value"]), r["stockout_days"],
             r["orders"]) for r in curves.iter_rows(named=True)]
    click.echo(f"{result.skus:,} SKUs; scored {result.window['scored_start']} … "
               f"{result.window['end']} after {warmup_days} warm-up days; lost sales\n")
    click.echo(format_table(["policy", "parameter", "fill rate", "cycle SL", "avg on hand units",
                             "avg on hand value", "stockout days", "orders"], rows))
    click.echo(f"\naverage stock at {target:.0%} fill rate (interpolated):")
    click.echo(format_table(
        ["policy", "value", "units", "at parameter"],
        [(a["policy"], "not reached" if a["stock"] is None else round(a["stock"]),
          "not reached" if b["stock"] is None else round(b["stock"]),
          "-" if a["parameter"] is None else f"{a['parameter']:.3g}")
         for a, b in zip(at_value.iter_rows(named=True), at_units.iter_rows(named=True))]))
    click.echo("shelfwise needs " + (
        "(not comparable: a curve does not reach the target)" if reduction is None
        else f"{reduction:.1%} less stock (value) than min/max"))

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_frame(curves, str(out / "simulation_curves.csv"))
    report = {
        "source": str(source), "currency": currency, "skus": result.skus,
        "window": {k: str(v) for k, v in result.window.items()},
        "config": {"eval_days": eval_days, "warmup_days": warmup_days, "refit_days": refit_days,
                   "n_sims": n_sims, "seed": seed, "target_kind": target_kind,
                   "lead_time_mean": lead_time_mean,
                   "lead_time_sd": lead_time_sd, "review_days": review_days,
                   "cycle_stock_reviews": cycle_stock_reviews},
        "curves": curves.to_dicts(),
        "at_target_value": at_value.to_dicts(), "at_target_units": at_units.to_dicts(),
        "reduction_value_vs_minmax": reduction,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    tmp = out / ".simulation.json.tmp"
    tmp.write_text(json.dumps(report, indent=1, default=str))
    tmp.replace(out / "simulation.json")
    fig = plot_curves(curves, target=target,
                      title=f"{result.skus:,} SKUs, {eval_days} days replayed",
                      stock_label=f"average stock on hand ({currency}, summed over SKUs)",
                      shelfwise_target=target_kind)
    tmp = out / ".simulation.tmp.png"
    fig.savefig(tmp)
    tmp.replace(out / "simulation.png")
    click.echo(f"\nwrote simulation_curves.csv, simulation.json, simulation.png to {out} "
               f"in {time.perf_counter() - started:.1f} s")
