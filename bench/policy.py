"""Policy benchmark: shelfwise's reorder policy against a static min/max rule, replayed on demand.

    .venv/bin/python bench/policy.py                  # Online Retail (real data) and generated data
    .venv/bin/python bench/policy.py --data online_retail --skus 500

Both policies replay the last 26 weeks (after a 4-week warm-up) of each history with lost
sales, review every R days, gamma lead times and common random numbers
(forecasting/simulation.py, docs/simulation.md). shelfwise is replayed three times on the same
forecasts and draws: swept over one cycle service level for every SKU (``shelfwise``), over a
fill-rate β per SKU (``shelfwise_fill_rate``) and over a fill rate pooled over all SKUs, each
SKU's level chosen for it at the least stock value (``shelfwise_pooled``: the production
policy with ``fill_rate_target`` set, the headline); the min/max rule over its safety days (up
to 365); the stock each needs for a 95 % fill rate is interpolated on its curve. Target: at 95 %
fill rate, at
least 20 % less average stock (value) than the best static min/max setting.

**Online Retail** (../shared/data/online_retail/by-day, read in place, never copied): demand per
StockCode as bench/forecast.py builds it. Nobody knows its suppliers, so every SKU gets the same
lead time (14 ± 4 days, gamma), a weekly review, case pack 1 and no MOQ; stock is valued at the
SKU's median selling price (GBP) before the replay (a unit-price proxy: no cost in the data).
**Generated**: the demo generator's true (uncensored) demand, bundles exploded into components,
with its master data: supplier lead time mean/sd (a SKU's made-to-order lead time where set, sd
0), the supplier's review period, case pack, MOQ and unit cost in EUR.

**Transfers** (generated data only: Online Retail is one shop): the ``shelfwise`` levels are
also replayed per location, each SKU's demand split over the generator's locations by its
channel shares, once with every location buying for itself (``shelfwise_network``) and once
with transfers before purchases (``shelfwise_transfers``, forecasting.transfers on every
review day); the table's ``units bought`` / ``units transferred`` columns and ``transfers`` in
the JSON compare them at 95 % fill rate (stock value, units bought).

SKUs replayed: first sale ≥ 56 days before the replay and a sale in the 91 days before it (known
before the replay, so nothing is chosen by looking at the evaluation window); ``--skus N`` takes
a seeded random sample. ``--generator-seed N`` generates the data with another seed (default
42, the demo's) to show how much the result depends on one draw of the catalogue. Prints the
curves and writes bench/results/policy.json and bench/results/policy_<data>.png
(``generated_seedN`` for another seed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import machine, table, write_json  # noqa: E402
from forecast import DATA as ONLINE_RETAIL  # noqa: E402
from forecast import load_online_retail  # noqa: E402

from forecasting import ForecastConfig, daily_grid, explode_bundles  # noqa: E402
from forecasting.simulation import (  # noqa: E402
    NETWORK_POLICIES,
    SimulationConfig,
    plot_curves,
    simulate_policies,
    stock_at_fill_rate,
    stock_reduction,
)

RESULTS = REPO / "bench" / "results"
TARGET_FILL, TARGET_REDUCTION = 0.95, 0.20
# shelfwise is replayed three times on the same forecasts and draws: "shelfwise" targets one
# cycle service level for every SKU (the quantile rule of the production policy, swept),
# "shelfwise_fill_rate" a fill rate β per SKU, "shelfwise_pooled" a fill rate pooled over all
# SKUs with per-SKU levels chosen for it (the production policy with fill_rate_target set)
TARGET_KINDS = {"shelfwise": "cycle", "shelfwise_fill_rate": "fill_rate",
                "shelfwise_pooled": "pooled"}
HEADLINE = "shelfwise_pooled"
SHELFWISE = tuple(TARGET_KINDS)
MIN_AGE_DAYS, RECENT_DAYS = 56, 91


def eligible(grid: pl.DataFrame, replay_start: dt.date, n: int | None, seed: int) -> pl.DataFrame:
    """SKUs first sold ≥ MIN_AGE_DAYS before the replay with a sale in the RECENT_DAYS before
    it; a seeded sample of ``n`` of them when ``n`` is given."""
    before = grid.filter(pl.col("date") < replay_start)
    keep = (
        before.group_by("sku")
        .agg(
            pl.col("date").min().alias("first"),
            (pl.col("units").filter(pl.col("date") >= replay_start - dt.timedelta(days=RECENT_DAYS))
             .sum() > 0).alias("recent"),
        )
        .filter(pl.col("first") <= replay_start - dt.timedelta(days=MIN_AGE_DAYS), pl.col("recent"))
        ["sku"].sort()
    )
    if n and n < len(keep):
        rng = np.random.default_rng(seed)
        keep = pl.Series("sku", rng.choice(keep.to_numpy(), n, replace=False)).sort()
    return grid.filter(pl.col("sku").is_in(keep.implode()))


def replay_start(grid: pl.DataFrame, config: SimulationConfig) -> dt.date:
    return grid["date"].max() - dt.timedelta(days=config.warmup_days + config.eval_days - 1)


def online_retail(config: SimulationConfig, n: int | None, seed: int):
    grid = daily_grid(load_online_retail())
    start = replay_start(grid, config)
    grid = eligible(grid, start, n, seed)
    prices = (
        pl.scan_csv(sorted(ONLINE_RETAIL.glob("*.csv")),
                    schema_overrides={"InvoiceNo": pl.String, "StockCode": pl.String})
        .filter(~pl.col("InvoiceNo").str.starts_with("C"), pl.col("Quantity") > 0,
                pl.col("UnitPrice") > 0)
        .select(pl.col("StockCode").str.to_uppercase().alias("sku"),
                pl.col("InvoiceDate").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date().alias("date"),
                "UnitPrice")
        .filter(pl.col("date") < start)
        .group_by("sku")
        .agg(pl.col("UnitPrice").median().alias("unit_cost"))
        .collect()
    )
    items = grid.select("sku").unique().join(prices, on="sku", how="left").with_columns(
        lead_time_mean_days=pl.lit(14.0), lead_time_sd_days=pl.lit(4.0), review_days=pl.lit(7.0),
        case_pack=pl.lit(1.0), moq=pl.lit(0.0))
    about = ("UCI Online Retail (../shared/data), L 14 ± 4 d, R 7 d, case pack 1, no MOQ; "
             "value = median selling price in GBP (proxy)")
    return grid, items, about, "GBP", None  # one shop: no locations, no transfers


GENERATOR_SEED = 42  # the demo's


def generated(config: SimulationConfig, n: int | None, seed: int,
              generator_seed: int = GENERATOR_SEED):
    from pipelines.generate import run_simulation

    sim, _ = run_simulation(seed=generator_seed, skus=500, days=730)
    cat = sim.cat
    d, p = np.nonzero(sim.truth_demand)
    demand = pl.DataFrame({
        "sku": cat.sku[p], "date": [cat.start + dt.timedelta(days=int(x)) for x in d],
        "units": sim.truth_demand[d, p].astype(float)})
    demand = explode_bundles(demand, cat.frames["bundle_components"].rename(
        {"bundle_sku": "bundle", "component_sku": "component", "units_per_bundle": "quantity"}))
    grid = daily_grid(demand)
    start = replay_start(grid, config)
    grid = eligible(grid, start, n, seed)
    day_before = (start - cat.start).days - 1
    rates = pl.DataFrame({"cost_currency": list(sim.rates),
                          "rate": [float(r[day_before]) for r in sim.rates.values()]})
    items = (
        cat.frames["products"].filter(~pl.col("is_bundle"))
        .join(cat.frames["suppliers"], on="supplier_id", how="left")
        .join(rates, on="cost_currency", how="left")
        .select(
            "sku",
            pl.coalesce("lead_time_days", "lead_time_days_mean").alias("lead_time_mean_days"),
            pl.when(pl.col("lead_time_days").is_null()).then("lead_time_days_sd").otherwise(0.0)
            .alias("lead_time_sd_days"),
            pl.col("review_period_days").alias("review_days"),
            "case_pack", "moq", (pl.col("unit_cost") * pl.col("rate")).alias("unit_cost"),
            "category")
    )
    about = (f"demo generator (seed {generator_seed}, 500 SKUs, 730 days) true demand; its "
             "suppliers' lead times and review periods, case packs, MOQs, unit cost in EUR; "
             "categories (the yearly ratio); demand split over its locations by the share "
             "of each SKU's lines on the channels each location serves first")
    return grid, items, about, "EUR", location_shares(cat)


def location_shares(cat) -> pl.DataFrame:
    """``sku, location_id, share``: a SKU's share of demand at each location, as the
    generator draws it (the share of its lines on each channel, credited to the channel's
    first location). Bundles' components keep their own shares (an approximation)."""
    first = np.array([locs[0] for locs in cat.chan_locs])
    n_loc = len(cat.locations)
    per_loc = np.stack([cat.share[first == k].sum(axis=0) for k in range(n_loc)], axis=1)
    return pl.DataFrame({
        "sku": np.repeat(cat.sku, n_loc),
        "location_id": np.tile([loc.location_id for loc in cat.locations], len(cat.sku)),
        "share": per_loc.ravel()})


def run(name: str, args) -> dict:
    config = SimulationConfig(
        eval_days=args.eval_days, warmup_days=args.warmup_days, refit_days=args.refit_days,
        baselines=("minmax", "minmax_refreshed"), n_sims=args.n_sims, seed=args.seed,
        cycle_stock_reviews=args.cycle_stock_reviews,
        target_kinds=tuple(TARGET_KINDS.values()),
        forecast=ForecastConfig(n_jobs=args.n_jobs, level_shock=args.level_shock))
    t0 = time.perf_counter()
    grid, items, about, currency, shares = (
        online_retail(config, args.skus, args.seed) if name == "online_retail"
        else generated(config, args.skus, args.seed, args.generator_seed))
    load_s = time.perf_counter() - t0
    n_skus = grid["sku"].n_unique()
    print(f"{name}: {n_skus:,} SKUs; {about}; load {load_s:.1f} s", file=sys.stderr)
    t = time.perf_counter()
    result = simulate_policies(grid, items, config, location_shares=shares,
                               progress=lambda m: print(f"  {m}", file=sys.stderr))
    sim_s = time.perf_counter() - t
    curves = result.curves
    at_value = stock_at_fill_rate(curves, TARGET_FILL, "avg_on_hand_value")
    at_units = stock_at_fill_rate(curves, TARGET_FILL, "avg_on_hand_units")

    rows = [[r["policy"], f"{r['parameter']:g}", f"{r['fill_rate']:.4f}",
             f"{r['cycle_service_level']:.3f}" if r["cycle_service_level"] is not None else "-",
             round(r["avg_on_hand_units"]), round(r["avg_on_hand_value"]), r["stockout_days"],
             r["orders"], round(r["units_bought"]), round(r["units_transferred"])]
            for r in curves.iter_rows(named=True)]
    print(f"\n{name}: {n_skus:,} SKUs, scored {result.window['scored_start']} … "
          f"{result.window['end']} (warm-up from {result.window['replay_start']}); "
          f"simulation {sim_s:.1f} s")
    print(table(["policy", "parameter", "fill rate", "CSL", "avg on hand units",
                 f"avg on hand {currency}", "stockout days", "orders", "units bought",
                 "units transferred"], rows))
    transfers = transfer_comparison(curves) if shares is not None else None
    if transfers:
        print(f"\ntransfers before purchases (per location, {TARGET_KINDS['shelfwise']} "
              f"levels), at {TARGET_FILL:.0%} fill rate (interpolated):")
        print(table(["policy", f"stock {currency}", "units bought", "units transferred"],
                    [[p, _round(v["stock_value"]), _round(v["units_bought"]),
                      _round(v["units_transferred"])] for p, v in transfers["at_target"].items()]))
        print(f"units bought with transfers vs without: {_pct(transfers['units_bought_change'])}; "
              f"stock value: {_pct(transfers['stock_value_change'])}")
    print(f"\nat {TARGET_FILL:.0%} fill rate (interpolated):")
    print(table(["policy", f"stock {currency}", "stock units", "parameter"],
                [[a["policy"], "-" if a["stock"] is None else round(a["stock"]),
                  "-" if b["stock"] is None else round(b["stock"]),
                  "-" if a["parameter"] is None else f"{a['parameter']:.4g}"]
                 for a, b in zip(at_value.iter_rows(named=True), at_units.iter_rows(named=True))]))
    # one comparison per shelfwise variant; where a curve never reaches the target, the same
    # comparison at lower fill rates and at the highest fill rate both curves reach
    variants = {v: compare(curves, at_value, at_units, v) for v in SHELFWISE}
    for v, c in variants.items():
        print(f"{v}: reduction vs static min/max at {TARGET_FILL:.0%}: value "
              f"{_pct(c['reduction_value_vs_minmax'])}, "
              f"units {_pct(c['reduction_units_vs_minmax'])}"
              f" (target ≥ {TARGET_REDUCTION:.0%}: {'met' if c['target_met'] else 'NOT met'}); "
              f"vs refreshed min/max: {_pct(c['reduction_value_vs_minmax_refreshed'])}; at other "
              "fill rates (value): " + ", ".join(
                  f"{k}: {_pct(x)}" for k, x in c["reduction_value_vs_minmax_at"].items())
              + f"; highest fill rate both reach: {c['highest_fill_rate_both_reach']:.4f}")
    headline = variants[HEADLINE]
    calibration = calibration_table(curves)
    print("\ncalibration (one cycle service level for every SKU): promised vs realised")
    print(table(["promised CSL", "realised CSL", "gap", "fill rate"],
                [[f"{r['promised']:g}", f"{r['realised']:.4f}", f"{r['gap']:+.4f}",
                  f"{r['fill_rate']:.4f}"] for r in calibration]))

    png = RESULTS / f"policy_{result_key(name, args)}.png"
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig = plot_curves(curves, stock="avg_on_hand_value", target=TARGET_FILL,
                      title=f"{name.replace('_', ' ')}: {n_skus:,} SKUs, 26 weeks replayed",
                      stock_label=f"average stock on hand ({currency}, summed over SKUs)",
                      shelfwise_target=TARGET_KINDS["shelfwise"])
    tmp = png.with_name(f".{png.name}.tmp.png")
    fig.savefig(tmp)
    tmp.replace(png)
    return {
        "data": about,
        "skus": n_skus,
        "window": {k: str(v) for k, v in result.window.items()},
        "config": {"eval_days": config.eval_days, "warmup_days": config.warmup_days,
                   "refit_days": config.refit_days, "n_sims": config.n_sims, "seed": config.seed,
                   "minmax_window_days": config.minmax_window_days,
                   "cycle_stock_reviews": config.cycle_stock_reviews,
                   "fill_rates": config.fill_rates, "service_levels": config.service_levels,
                   "pooled_fill_rates": config.pooled_fill_rates,
                   "safety_days": config.safety_days, "sampled_skus": args.skus or None},
        "currency": currency,
        "curves": curves.to_dicts(),
        "at_target_value": at_value.to_dicts(),
        "at_target_units": at_units.to_dicts(),
        **headline,
        "variants": variants,
        "calibration": calibration,
        "transfers": transfers,
        "level_shock": args.level_shock,
        "wall_s": {"load": round(load_s, 1), "simulate": round(sim_s, 1)},
        "plot": str(png.relative_to(REPO)),
    }


def compare(curves: pl.DataFrame, at_value: pl.DataFrame, at_units: pl.DataFrame,
            policy: str) -> dict:
    """``policy`` (a shelfwise variant) against the min/max curves: the stock reduction at the
    target and at lower fill rates, and the highest fill rate it and the static min/max reach."""
    reach = min(curves.filter(pl.col("policy") == p)["fill_rate"].max() for p in (policy, "minmax"))
    common = float(np.floor(reach * 1000) / 1000)
    others = sorted({0.80, 0.85, 0.90, common} - {TARGET_FILL})
    reduction = stock_reduction(at_value, "minmax", policy)
    return {
        "target_kind": TARGET_KINDS[policy],
        "reduction_value_vs_minmax": reduction,
        "reduction_units_vs_minmax": stock_reduction(at_units, "minmax", policy),
        "reduction_value_vs_minmax_refreshed": stock_reduction(at_value, "minmax_refreshed",
                                                               policy),
        "target_met": reduction is not None and reduction >= TARGET_REDUCTION,
        "reduction_value_vs_minmax_at": {
            f"{f:.3f}": stock_reduction(stock_at_fill_rate(curves, f, "avg_on_hand_value"),
                                        "minmax", policy) for f in others},
        "highest_fill_rate_both_reach": reach,
    }


def transfer_comparison(curves: pl.DataFrame) -> dict:
    """The network replays at the target fill rate: stock value, units bought and units
    transferred per location-level policy (``shelfwise_network``: each location buys for
    itself; ``shelfwise_transfers``: transfers first), interpolated on each curve, and the
    change with transfers (−0.1 = 10 % fewer). Null where a curve misses the target."""
    at = {}
    for policy in NETWORK_POLICIES:
        at[policy] = {
            column: stock_at_fill_rate(curves.filter(pl.col("policy") == policy), TARGET_FILL,
                                       column)["stock"][0]
            for column in ("avg_on_hand_value", "units_bought", "units_transferred")}
        at[policy] = {"stock_value": at[policy]["avg_on_hand_value"],
                      "units_bought": at[policy]["units_bought"],
                      "units_transferred": at[policy]["units_transferred"]}

    def change(key: str) -> float | None:
        before, after = at["shelfwise_network"][key], at["shelfwise_transfers"][key]
        return None if before is None or after is None or before <= 0 else after / before - 1.0

    return {"target_fill_rate": TARGET_FILL, "levels": TARGET_KINDS["shelfwise"],
            "at_target": at, "units_bought_change": change("units_bought"),
            "stock_value_change": change("stock_value")}


def _round(x: float | None) -> str | int:
    return "-" if x is None else round(x)


def calibration_table(curves: pl.DataFrame) -> list[dict]:
    """Per promised cycle service level of the ``shelfwise`` curve (one level for every SKU):
    the share of replenishment cycles that closed without lost sales in the replay. A
    calibrated lead-time demand distribution gives about the promised share at high levels
    (low ones are over-served: cycle stock and order rounding protect too)."""
    pts = curves.filter(pl.col("policy") == "shelfwise").sort("parameter")
    return [{"promised": r["parameter"], "realised": r["cycle_service_level"],
             "gap": r["cycle_service_level"] - r["parameter"], "fill_rate": r["fill_rate"]}
            for r in pts.iter_rows(named=True)]


def _pct(x: float | None) -> str:
    return "not reached" if x is None else f"{x:.1%}"


def result_key(name: str, args) -> str:
    """The JSON key (and PNG name) of one data set's results: ``generated_seed7``,
    ``online_retail_level_shock``, ..."""
    seed = (f"_seed{args.generator_seed}"
            if name == "generated" and args.generator_seed != GENERATOR_SEED else "")
    cycle = f"_cycle{args.cycle_stock_reviews:g}" if args.cycle_stock_reviews != 1.0 else ""
    return name + seed + cycle + ("_level_shock" if args.level_shock else "")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", choices=["online_retail", "generated", "both"], default="both")
    p.add_argument("--skus", type=int, default=0, help="seeded sample of SKUs (0: all eligible)")
    p.add_argument("--eval-days", type=int, default=182)
    p.add_argument("--warmup-days", type=int, default=28)
    p.add_argument("--refit-days", type=int, default=28)
    p.add_argument("--n-sims", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--generator-seed", type=int, default=GENERATOR_SEED,
                   help="seed of the generated data (default 42, the demo's); another seed "
                        "writes generated_seed<N>")
    p.add_argument("--cycle-stock-reviews", type=float, default=1.0,
                   help="review periods of demand one shelfwise order adds above the reorder "
                        "point (default 1); another value writes <data>_cycle<k>")
    p.add_argument("--level-shock", action="store_true",
                   help="forecast with the per-SKU level shock (ForecastConfig.level_shock, "
                        "off by default); results go to <data>_level_shock")
    args = p.parse_args()
    names = ["online_retail", "generated"] if args.data == "both" else [args.data]
    path = RESULTS / "policy.json"
    import json

    existing = json.loads(path.read_text()) if path.exists() else {}
    for name in names:
        existing[result_key(name, args)] = run(name, args)
    existing["machine"] = machine()
    out = write_json("policy", existing)
    print(f"\nwrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
