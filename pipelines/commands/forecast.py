"""Planning commands: forecast, backtest (plain files, no warehouse) and override (planner
adjustments stored in the warehouse, applied at the next forecast run)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import click

from pipelines.commands.files import load_grid, read_table, write_frame

DEFAULT_QUANTILES = "0.5,0.8,0.9,0.95,0.99"


def _parse_quantiles(text: str) -> list[float]:
    try:
        qs = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: give numbers like 0.5,0.9") from exc
    if not qs or any(not 0 < q < 1 for q in qs):
        raise click.BadParameter(f"{text!r}: quantiles lie strictly between 0 and 1")
    return qs


def _show_progress(flag: bool) -> bool:
    return flag or sys.stderr.isatty()


@click.command()
@click.option(
    "--demand",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="long daily demand: sku, date (YYYY-MM-DD), units; .csv or .parquet",
)
@click.option(
    "--horizon", default=56, show_default=True, type=click.IntRange(1, 730), help="days to forecast"
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="forecast file (.csv or .parquet)"
)
@click.option(
    "--quantiles", default=DEFAULT_QUANTILES, show_default=True, help="comma-separated levels"
)
@click.option(
    "--stockouts",
    type=click.Path(exists=True, dir_okay=False),
    help="optional: sku, date, stockout (true/false); stockout days are censored",
)
@click.option(
    "--categories",
    type=click.Path(exists=True, dir_okay=False),
    help="optional: sku, category; new SKUs borrow their category's rate",
)
@click.option("--n-jobs", default=1, show_default=True, help="processes for statsforecast")
@click.option(
    "--progress", is_flag=True, help="progress bar on stderr even when it is not a terminal"
)
def forecast(demand, horizon, out, quantiles, stockouts, categories, n_jobs, progress):
    """Forecast daily demand per SKU with quantiles and the chosen model.

    Writes one row per SKU and day: sku, date, forecast (the median), one column per other
    quantile (q0.8, q0.9, ...), mean (expected units/day), model, segment, yearly_ratio (last
    year's season of the SKU's category, with --categories and a year of history; else 1).

    \b
    Example:
      shelfwise forecast --demand demand.csv --horizon 56 --out forecast.csv
      shelfwise forecast --demand demand.parquet --stockouts stockouts.csv \\
          --quantiles 0.5,0.9,0.99 --out forecast.parquet
    """
    import polars as pl

    from forecasting import ForecastConfig, forecast_demand, quantile_name

    qs = _parse_quantiles(quantiles)
    started = time.perf_counter()
    grid = load_grid(demand, stockouts)
    cats = read_table(categories, {"sku": "str", "category": "str"}) if categories else None
    config = ForecastConfig(n_jobs=n_jobs, progress=_show_progress(progress))
    result = forecast_demand(grid, horizon=horizon, quantiles=qs, config=config, categories=cats)
    others = [quantile_name(q) for q in qs if q != 0.5]
    table = result.forecast.select(
        "sku", "date", pl.col("q0.5").alias("forecast"), *others, "mean", "model", "segment",
        "yearly_ratio",
    )
    write_frame(table, out)
    seg = result.selection.group_by("segment").agg(pl.len().alias("skus")).sort("segment")
    click.echo(f"{'segment':<14}{'skus':>8}")
    for row in seg.iter_rows(named=True):
        click.echo(f"{row['segment']:<14}{row['skus']:>8,}")
    click.echo(
        f"\nwrote {len(table):,} rows ({result.selection.height:,} SKUs × {horizon} days) "
        f"to {out} in {time.perf_counter() - started:.1f} s"
    )


@click.command()
@click.option(
    "--demand",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="long daily demand: sku, date (YYYY-MM-DD), units; .csv or .parquet",
)
@click.option(
    "--horizon", default=28, show_default=True, type=click.IntRange(1, 365), help="days per cut-off"
)
@click.option(
    "--cutoffs",
    default=4,
    show_default=True,
    type=click.IntRange(1, 52),
    help="number of cut-offs, `horizon` days apart, the newest `horizon` days before the end",
)
@click.option(
    "--stockouts",
    type=click.Path(exists=True, dir_okay=False),
    help="optional: sku, date, stockout; censored days are not scored",
)
@click.option(
    "--baselines",
    default="SeasonalNaive7,ADIDA,TSB,SES",
    show_default=True,
    help="single statsforecast models to compare against (names in forecasting.BASE_MODELS)",
)
@click.option("--out", type=click.Path(dir_okay=False), help="optional JSON report")
@click.option("--n-jobs", default=1, show_default=True, help="processes for statsforecast")
@click.option(
    "--progress", is_flag=True, help="progress bar on stderr even when it is not a terminal"
)
def backtest(demand, horizon, cutoffs, stockouts, baselines, out, n_jobs, progress):
    """Rolling-origin evaluation: shelfwise's selection against single-model baselines.

    Prints WAPE, 28-day-total WAPE, bias, mean RMSSE and q0.9 coverage by model, then by
    model and segment.

    \b
    Example:
      shelfwise backtest --demand demand.csv --horizon 28 --cutoffs 4 --out report.json
    """
    import polars as pl

    from forecasting import BASE_MODELS, ForecastConfig, single_model_candidates, summarize_backtest
    from forecasting import backtest as run_backtest

    names = [b.strip() for b in baselines.split(",") if b.strip()]
    unknown = [b for b in names if b not in BASE_MODELS]
    if unknown:
        raise click.BadParameter(
            f"unknown model(s) {unknown}; choose from {', '.join(BASE_MODELS)}",
            param_hint="--baselines",
        )
    started = time.perf_counter()
    grid = load_grid(demand, stockouts)
    days = (grid["date"].max() - grid["date"].min()).days + 1
    if days <= horizon * cutoffs:
        raise click.ClickException(
            f"{demand}: {days} days of history cannot hold {cutoffs} cut-offs × {horizon} days"
        )
    result = run_backtest(
        grid,
        horizon=horizon,
        cutoffs=cutoffs,
        config=ForecastConfig(n_jobs=n_jobs),
        baselines={b: single_model_candidates(b) for b in names},
        progress=_show_progress(progress),
    )
    metrics = ["skus", "wape", "total_wape", "bias", "rmsse", "coverage_q0.9"]
    by_model = summarize_backtest(result.scores, by=("model",))
    by_class = summarize_backtest(result.scores, by=("model", "segment"))
    with pl.Config(
        tbl_rows=200,
        tbl_hide_dataframe_shape=True,
        float_precision=3,
        tbl_hide_column_data_types=True,
    ):
        click.echo(
            f"{cutoffs} cut-off(s) × {horizon} days; total_wape = error of the {horizon}-day total\n"
        )
        click.echo(by_model.select("model", *metrics))
        click.echo("\nby segment:")
        click.echo(by_class.select("model", "segment", *metrics))
    if out:
        report = {
            "demand": str(demand),
            "horizon": horizon,
            "cutoffs": sorted({str(c) for c in result.scores["cutoff"]}),
            "by_model": by_model.to_dicts(),
            "by_model_and_segment": by_class.to_dicts(),
            "selection": result.selection.with_columns(pl.col("cutoff").cast(pl.String)).to_dicts(),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        p = Path(out)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp")
        tmp.write_text(json.dumps(report, indent=1, default=str))
        tmp.replace(p)
        click.echo(f"\nwrote {out}")
    click.echo(f"done in {time.perf_counter() - started:.1f} s")


def _print_overrides(frame) -> None:
    from pipelines.summary import format_table

    rows = [
        (r["sku"], str(r["start_date"]), str(r["end_date"]),
         "" if r["multiplier"] is None else f"× {r['multiplier']:g}",
         "" if r["quantity"] is None else f"{r['quantity']:g}/day",
         r["note"] or "", str(r["created_at"])[:19], r["created_by"] or "")
        for r in frame.iter_rows(named=True)
    ]
    click.echo(format_table(
        ["sku", "from", "to", "multiplier", "quantity", "note", "created at (UTC)", "by"], rows))


@click.command()
@click.option("--sku", help="the SKU whose forecast to adjust (a component, not a bundle)")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="first day (YYYY-MM-DD)")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="last day, inclusive")
@click.option("--multiplier", type=click.FloatRange(min=0), help="× the statistical forecast")
@click.option("--quantity", type=click.FloatRange(min=0), help="units per day instead")
@click.option("--note", help="why (shown in the forecast as override_source)")
@click.option("--by", "created_by", help="who decided  [default: your login name]")
@click.option("--list", "list_only", is_flag=True, help="print every override and exit")
@click.pass_context
def override(ctx, sku, start, end, multiplier, quantity, note, created_by, list_only):
    """Adjust the demand forecast of one SKU for some days, or list the adjustments.

    A multiplier scales the statistical forecast (mean and every quantile); a quantity sets
    the expected units per day. Overrides are kept in the warehouse (ops.forecast_overrides)
    and applied at the next forecast run; marts.demand_forecast then shows is_override and
    override_source, and keeps the statistical numbers beside them. Where overrides overlap,
    the latest wins.

    \b
    Examples:
      shelfwise override --sku SHIRT-M --from 2026-12-01 --to 2026-12-24 --multiplier 1.5 \\
          --note "Christmas campaign"
      shelfwise override --sku MUG-01 --from 2026-12-01 --to 2026-12-07 --quantity 0 \\
          --note "delisted for a week"
      shelfwise override --list
    """
    from assets.forecast import sql
    from assets.settings import load_settings
    from assets.warehouse import connect
    from pipelines import queries

    settings = load_settings(ctx.obj["home"])
    if not Path(settings.warehouse_path).exists():
        raise click.ClickException(
            f"no warehouse at {settings.warehouse_path}: run `shelfwise ingest` or `shelfwise demo` first")
    if list_only:
        with connect(settings.warehouse_path, read_only=True, wait_seconds=30) as con:
            frame = queries.forecast_overrides(con)
        if frame.is_empty():
            click.echo("no overrides yet")
        else:
            _print_overrides(frame)
        return
    missing = [name for name, v in (("--sku", sku), ("--from", start), ("--to", end)) if v is None]
    if missing:
        raise click.UsageError(f"missing {', '.join(missing)} (or use --list)")
    if (multiplier is None) == (quantity is None):
        raise click.UsageError("give exactly one of --multiplier or --quantity")
    start, end = start.date(), end.date()
    if start > end:
        raise click.UsageError(f"--from {start} is after --to {end}")
    with connect(settings.warehouse_path) as con:
        is_bundle = queries.sku_bundle_flag(con, sku)
        if is_bundle is None:
            raise click.ClickException(f"unknown SKU {sku!r}: not in core.products")
        if is_bundle:
            raise click.ClickException(
                f"{sku} is a bundle: its sales are forecast as demand for its components "
                "(core.bundle_components); override those SKUs instead")
        sql.add_override(con, sku, start, end, multiplier=multiplier, quantity=quantity,
                         note=note, created_by=created_by)
        frame = queries.forecast_overrides(con).tail(1)
    _print_overrides(frame)
    click.echo("\nsaved; applied at the next forecast run (asset marts/demand_forecast)")
