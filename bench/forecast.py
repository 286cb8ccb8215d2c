"""Forecast benchmark: shelfwise's per-SKU selection against single-model baselines.

    .venv/bin/python bench/forecast.py                      # Online Retail backtest (real data)
    .venv/bin/python bench/forecast.py --synthetic 10000    # wall time on 10k synthetic SKUs

Real-data mode reads ../shared/data/online_retail/by-day/*.csv (never copied into the repo),
builds daily demand per StockCode (cancellations, duplicates, non-products and non-positive
quantities removed; Saturdays, when the shop is closed, are days of 0 demand), keeps SKUs first
sold at least 140 days before the first cut-off (enough history for 3 CV windows of 28 days),
and backtests h=28 from 4 cut-offs 28 days apart. AutoETS(season 7) is too slow for every
series on 2 cores, so it runs on a seeded random sample of --ets-sample SKUs; its wall time for
all series is extrapolated linearly from a plain ``forecast`` (no CV) on that sample, which is
the cheapest way anyone would run it. Prints a table and writes bench/results/forecast.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forecasting import (
    BASE_MODELS,
    ForecastConfig,
    backtest,
    daily_grid,
    forecast_demand,
    lead_time_demand_quantiles,
    single_model_candidates,
    summarize_backtest,
)
from forecasting.synthetic import synthetic_demand

DATA = REPO.parent / "shared" / "data" / "online_retail" / "by-day"
RESULTS = REPO / "bench" / "results" / "forecast.json"
HORIZON, N_CUTOFFS, MIN_HISTORY = 28, 4, 140
BASELINES = [
    "SeasonalNaive7",
    "SeasonalES7",
    "SeasonalWA7x8",
    "SES",
    "ADIDA",
    "IMAPA",
    "TSB",
    "CrostonSBA",
    "WindowAverage28",
    "WindowAverage56",
    "HistoricAverage",
]


def load_online_retail(folder: Path = DATA) -> pl.DataFrame:
    """Daily demand ``sku, date, units`` from the Online Retail day files."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise SystemExit(f"no CSV files in {folder}: see ../shared/data/README.md")
    raw = pl.concat(
        [
            pl.read_csv(
                f,
                schema_overrides={
                    "InvoiceNo": pl.String,
                    "StockCode": pl.String,
                    "CustomerID": pl.String,
                },
            )
            for f in files
        ],
        how="vertical_relaxed",
    )
    clean = (
        raw.unique()  # exact duplicate rows
        .filter(
            ~pl.col("InvoiceNo").str.starts_with("C"),  # cancellations
            pl.col("Quantity") > 0,  # write-offs ("damaged") are not demand
            pl.col("UnitPrice") > 0,  # zero-price lines are adjustments, not sales
            # products have a 5-digit code (+ optional letter); POST, M, D, DOT, BANK CHARGES,
            # AMAZONFEE, C2, CRUK, gift_ ... are not products
            pl.col("StockCode").str.contains(r"^\d{5}[A-Za-z]*$"),
        )
        .select(
            pl.col("StockCode").str.to_uppercase().alias("sku"),
            pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date().alias("date"),
            pl.col("Quantity").cast(pl.Float64).alias("units"),
        )
    )
    return clean.group_by("sku", "date").agg(pl.col("units").sum()).sort("sku", "date")


def _row(summary: pl.DataFrame, name: str) -> dict:
    r = summary.filter(pl.col("model") == name).row(0, named=True)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}


def _table(rows: list[dict], cols: list[str]) -> str:
    widths = {c: max(len(c), *(len(f"{r.get(c, '')}") for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    for r in rows:
        lines.append("  ".join(f"{r.get(c, '')}".ljust(widths[c]) for c in cols))
    return "\n".join(lines)


def real(args) -> dict:
    t0 = time.perf_counter()
    demand = load_online_retail()
    grid = daily_grid(demand)
    load_s = time.perf_counter() - t0
    from forecasting import cutoffs_for

    cutoffs = cutoffs_for(grid, HORIZON, N_CUTOFFS)
    first = grid.group_by("sku").agg(pl.col("date").min().alias("first"))
    keep = first.filter(
        pl.col("first") <= cutoffs[0] - __import__("datetime").timedelta(days=MIN_HISTORY)
    )
    grid = grid.filter(pl.col("sku").is_in(keep["sku"].implode()))
    n_skus = grid["sku"].n_unique()
    print(
        f"Online Retail: {demand['sku'].n_unique():,} stock codes, {n_skus:,} with ≥ {MIN_HISTORY} days "
        f"of history before the first cut-off; cut-offs {[str(c) for c in cutoffs]}; load {load_s:.1f} s",
        file=sys.stderr,
    )

    config = ForecastConfig(n_jobs=args.n_jobs)
    # baselines: one model for every SKU, no dead-SKU rule (a plain statsforecast run)
    base_cfg = replace(config, dead_days=10**6)
    timings: dict[str, float] = {}
    scores = []
    t = time.perf_counter()
    bt = backtest(grid, horizon=HORIZON, cutoffs=cutoffs, config=config, progress=args.progress)
    timings["shelfwise"] = time.perf_counter() - t
    scores.append(bt.scores)
    for name in BASELINES:
        t = time.perf_counter()
        b = backtest(
            grid,
            horizon=HORIZON,
            cutoffs=cutoffs,
            config=replace(base_cfg, candidates=single_model_candidates(name)),
        )
        timings[name] = time.perf_counter() - t
        scores.append(b.scores.with_columns(pl.lit(name).alias("model")))
        print(f"  baseline {name}: {timings[name]:.1f} s", file=sys.stderr)
    scores = pl.concat(scores, how="diagonal_relaxed")
    summary = summarize_backtest(scores)

    # AutoETS(7) on a seeded sample
    rng = np.random.default_rng(7)
    skus = np.sort(grid["sku"].unique().to_numpy())
    sample = rng.choice(skus, size=min(args.ets_sample, len(skus)), replace=False)
    sgrid = grid.filter(pl.col("sku").is_in(list(sample)))
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    ets_models = dict(BASE_MODELS, AutoETS7=lambda: AutoETS(season_length=7, alias="AutoETS7"))
    ets_cfg = replace(
        base_cfg, base_models=ets_models, candidates=single_model_candidates("AutoETS7")
    )
    t = time.perf_counter()
    for c in cutoffs:  # plain AutoETS forecast with its own intervals: the time anyone would pay
        train = sgrid.filter(pl.col("date") <= c).select(
            pl.col("sku").alias("unique_id"), pl.col("date").alias("ds"), pl.col("units").alias("y")
        )
        StatsForecast(models=[AutoETS(season_length=7)], freq="1d", n_jobs=args.n_jobs).forecast(
            df=train, h=HORIZON, level=[80, 90, 98]
        )
    ets_plain_s = time.perf_counter() - t
    ets_all_s = ets_plain_s * n_skus / len(sample)
    t = time.perf_counter()
    ets_bt = backtest(sgrid, horizon=HORIZON, cutoffs=cutoffs, config=ets_cfg)
    timings["AutoETS7 (sample, with CV calibration)"] = time.perf_counter() - t
    sample_scores = pl.concat(
        [
            ets_bt.scores.with_columns(pl.lit("AutoETS7").alias("model")),
            scores.filter(pl.col("sku").is_in(list(sample))),
        ],
        how="diagonal_relaxed",
    )
    sample_summary = summarize_backtest(sample_scores)

    cols = [
        "model",
        "skus",
        "rmsse",
        "total_wape",
        "wape",
        "bias",
        "coverage_q0.9",
        "coverage_q0.5",
        "coverage_q0.99",
        "wall_s",
    ]
    rows = []
    for name in ["shelfwise", *BASELINES]:
        r = _row(summary, name)
        r["wall_s"] = round(timings[name], 1)
        rows.append(r)
    rows.sort(key=lambda r: r["rmsse"])
    srows = []
    for name in [
        "shelfwise",
        "AutoETS7",
        "SeasonalNaive7",
        *[b for b in BASELINES if b != "SeasonalNaive7"],
    ]:
        r = _row(sample_summary, name)
        r["wall_s"] = round(ets_all_s, 1) if name == "AutoETS7" else ""
        srows.append(r)
    srows.sort(key=lambda r: r["rmsse"])
    by_segment = summarize_backtest(
        scores.filter(pl.col("model").is_in(["shelfwise", "SeasonalNaive7"])),
        by=("model", "segment"),
    )
    chosen = (
        bt.selection.group_by("segment", "model")
        .len()
        .sort("segment", "len", descending=[False, True])
    )

    singles = [r for r in rows if r["model"] != "shelfwise"]
    best_rmsse = min(singles, key=lambda r: r["rmsse"])
    best_wape = min(singles, key=lambda r: r["total_wape"])
    sw = next(r for r in rows if r["model"] == "shelfwise")
    sw_sample = next(r for r in srows if r["model"] == "shelfwise")
    ets_sample = next(r for r in srows if r["model"] == "AutoETS7")
    targets = {
        "rmsse_better_than_every_single": sw["rmsse"] < best_rmsse["rmsse"]
        and sw_sample["rmsse"] < ets_sample["rmsse"],
        "total_wape_better_than_every_single": sw["total_wape"] < best_wape["total_wape"]
        and sw_sample["total_wape"] < ets_sample["total_wape"],
        "wall_time_at_most_one_fifth_of_all_autoets": timings["shelfwise"] <= ets_all_s / 5,
        "q0.9_coverage_85_to_95": 0.85 <= sw["coverage_q0.9"] <= 0.95,
    }
    print(
        "\nAll SKUs ("
        + f"{n_skus:,}"
        + f"), h={HORIZON}, {N_CUTOFFS} cut-offs; wall_s = whole backtest"
    )
    print(_table(rows, cols))
    print(
        f"\nAutoETS(7) sample of {len(sample)} SKUs (same SKUs for every row); AutoETS wall_s = "
        f"extrapolated plain forecast for all {n_skus:,} SKUs × {N_CUTOFFS} cut-offs "
        f"(sample: {ets_plain_s:.1f} s)"
    )
    print(_table(srows, cols))
    print("\nBy segment (shelfwise vs SeasonalNaive7):")
    print(
        by_segment.select(
            "model", "segment", "skus", "rmsse", "total_wape", "bias", "coverage_q0.9"
        )
    )
    print("\nChosen models:")
    print(chosen)
    print("\nTargets:", json.dumps(targets, indent=1))
    print(
        f"best single on RMSSE: {best_rmsse['model']} {best_rmsse['rmsse']}; on total WAPE: "
        f"{best_wape['model']} {best_wape['total_wape']}; shelfwise {sw['rmsse']} / {sw['total_wape']}; "
        f"shelfwise wall {timings['shelfwise']:.1f} s vs all-AutoETS {ets_all_s:.1f} s"
    )
    return {
        "mode": "online_retail",
        "skus": n_skus,
        "cutoffs": [str(c) for c in cutoffs],
        "horizon": HORIZON,
        "min_history_days": MIN_HISTORY,
        "all_skus": rows,
        "autoets_sample": {
            "n": len(sample),
            "rows": srows,
            "plain_forecast_sample_s": round(ets_plain_s, 1),
            "extrapolated_all_s": round(ets_all_s, 1),
        },
        "by_segment": by_segment.to_dicts(),
        "chosen_models": chosen.to_dicts(),
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "targets": targets,
    }


def synthetic(args) -> dict:
    demand = synthetic_demand(args.synthetic, args.days, seed=1)
    grid = daily_grid(demand)
    config = ForecastConfig(n_jobs=args.n_jobs, progress=args.progress)
    walls, ltd_walls = [], []
    for i in range(args.repeats):
        t = time.perf_counter()
        result = forecast_demand(grid, horizon=56, config=config)
        walls.append(time.perf_counter() - t)
        t = time.perf_counter()
        lead_time_demand_quantiles(result.forecast, 14, 4, review_days=7, n_sims=1000, seed=i)
        ltd_walls.append(time.perf_counter() - t)
        print(
            f"  run {i + 1}: forecast {walls[-1]:.1f} s, lead-time quantiles {ltd_walls[-1]:.1f} s",
            file=sys.stderr,
        )
    segments = result.selection.group_by("segment").len().sort("segment")
    med = statistics.median(walls)
    print(f"\nSynthetic: {args.synthetic:,} SKUs × {args.days} days, h=56, n_jobs={args.n_jobs}")
    print(
        f"forecast wall time: median {med:.1f} s of {args.repeats} runs {[round(w, 1) for w in walls]}"
        f" (target ≤ 180 s: {'met' if med <= 180 else 'missed'})"
    )
    print(
        f"lead-time demand quantiles (L 14±4 d, R 7 d, 1,000 sims): median "
        f"{statistics.median(ltd_walls):.1f} s"
    )
    print(segments)
    return {
        "mode": "synthetic",
        "skus": args.synthetic,
        "days": args.days,
        "horizon": 56,
        "forecast_wall_s": [round(w, 1) for w in walls],
        "forecast_wall_median_s": round(med, 1),
        "lead_time_quantiles_wall_median_s": round(statistics.median(ltd_walls), 1),
        "segments": segments.to_dicts(),
        "target_le_180s": med <= 180,
    }


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--synthetic", type=int, default=0, help="number of synthetic SKUs (0: real data)"
    )
    p.add_argument("--days", type=int, default=365, help="synthetic history length (days)")
    p.add_argument("--repeats", type=int, default=3, help="synthetic runs; the median is reported")
    p.add_argument("--ets-sample", type=int, default=300, help="SKUs in the AutoETS sample")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--progress", action="store_true")
    args = p.parse_args()
    result = synthetic(args) if args.synthetic else real(args)
    result["machine"] = {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[result["mode"]] = result
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(existing, indent=1, default=str))
    tmp.replace(RESULTS)
    print(f"\nwrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
