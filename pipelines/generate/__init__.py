"""``generate_demo``: a deterministic simulation of a multi-channel retailer that writes an
inbox, each system in its own export format.

    from pipelines.generate import generate_demo
    summary = generate_demo(Path("data/inbox"), seed=42, skus=500, days=730)
    print(summary.format())

Same seed and knobs → byte-identical files. What is simulated and where it shows up:
``docs/demo-data.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .catalog import Catalog, build_catalog
from .simulate import Simulation, _markets, simulate

__all__ = ["GenerateSummary", "generate_demo", "run_simulation"]


@dataclass(frozen=True)
class GenerateSummary:
    """What ``generate_demo`` wrote: files and rows per (entity, channel or location)."""

    out_dir: Path
    files: int
    rows: dict[tuple[str, str], int] = field(default_factory=dict)
    files_by_part: dict[tuple[str, str], int] = field(default_factory=dict)
    order_lines: int = 0  # distinct order lines (an order line appears in several exports)
    lost_share: float = 0.0  # share of wanted units lost to stockouts
    truth_files: tuple[Path, ...] = ()

    def format(self) -> str:
        """A short table: files and rows per entity and channel/location."""
        from pipelines.summary import format_table

        table = [(entity, part or "-", self.files_by_part[(entity, part)], rows)
                 for (entity, part), rows in self.rows.items()]
        text = format_table(["entity", "channel / location", "files", "rows"], table)
        return (f"{text}\n\n{self.order_lines:,} distinct order lines; "
                f"{self.lost_share:.1%} of wanted units lost to stockouts "
                f"(true demand in {self.truth_files[0].parent if self.truth_files else '-'})")


def run_simulation(
    *, seed: int = 42, skus: int = 500, warehouses: int = 3, channels: int = 6,
    days: int = 730, end: str | date = "2026-11-22",
) -> tuple[Simulation, np.random.Generator]:
    """Master data and the day-by-day simulation, without writing files (tests use it)."""
    if days < 14:
        raise ValueError(f"days must be at least 14, got {days}")
    end_day = date.fromisoformat(end) if isinstance(end, str) else end
    start = end_day - timedelta(days=days - 1)
    rng = np.random.default_rng(seed)
    cat: Catalog = build_catalog(rng, skus=skus, warehouses=warehouses, channels=channels,
                                 start=start, days=days)
    sim = simulate(cat, rng)
    return sim, rng


def generate_demo(
    out_dir: Path, *, seed: int = 42, skus: int = 500, warehouses: int = 3, channels: int = 6,
    days: int = 730, end: str | date = "2026-11-22",
) -> GenerateSummary:
    """Simulate ``days`` days ending on ``end`` and write the inbox under ``out_dir``.

    ``skus`` includes ~5% bundles; ``channels`` takes a prefix of webshop, amazon_de,
    ebay_uk, etsy, stores, b2b; ``warehouses`` adds fulfilment centres (a store is added
    when the POS channel is in). True demand and hidden parameters go to
    ``out_dir/../generator_truth/`` (never into the inbox). Existing files of the same name
    are replaced; other files in ``out_dir`` are left alone.
    """
    from . import write as W
    from .people import customer_pool

    out = Path(out_dir)
    sim, rng = run_simulation(seed=seed, skus=skus, warehouses=warehouses, channels=channels,
                              days=days, end=end)
    markets = _markets(sim.cat)
    sizes = dict(markets["sizes"])
    n_business = sizes.pop("B2B")
    pool = customer_pool(sizes, n_business, rng)
    first = W.Tally()
    W.write_master(sim, out, first)
    W.write_fx(sim, out, first)
    W.write_listings(sim, out, first, rng)  # the last step that draws random numbers
    order_ids, line_ids, tracking = W._order_ids(sim), W._line_ids(sim), W._tracking(sim)
    # The remaining writers are independent and draw no random numbers. They run one after
    # the other: on a 2-core machine a thread pool measured no faster (polars already uses
    # both cores), and sequential writing keeps memory bounded to one task's frames.
    tasks = [lambda t, ci=ci: W.write_orders(sim, out, t, pool, order_ids, line_ids,
                                             tracking, channel=ci)
             for ci in range(len(sim.cat.channels))]
    tasks += [
        lambda t: W.write_fulfillment(sim, out, t, order_ids, line_ids, tracking),
        lambda t: W.write_returns(sim, out, t, order_ids, line_ids),
        lambda t: W.write_stock(sim, out, t),
        lambda t: W.write_purchasing(sim, out, t),
    ]
    tallies = [W.Tally() for _ in tasks]
    for task, t in zip(tasks, tallies):
        task(t)
    tally = W.Tally()
    for t in [first] + tallies:
        tally.files.update(t.files)
        tally.rows.update(t.rows)
    truth = W.write_truth(sim, out.resolve().parent / "generator_truth")
    wanted = int(sim.truth_demand.sum())
    return GenerateSummary(
        out_dir=out, files=sum(tally.files.values()), rows=dict(tally.rows),
        files_by_part=dict(tally.files), order_lines=len(sim.lines["prod"]),
        lost_share=float(sim.truth_lost.sum() / wanted) if wanted else 0.0,
        truth_files=tuple(truth),
    )
