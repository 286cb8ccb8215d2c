"""A small generated home for the planner's walk (tests/dashboards/test_planner_walk.py): the
demo generator's inbox, every asset the suggestions need run by Dagster in process, and the
serving snapshot published from it, so the page, `shelfwise restock` and the outbox are the
real ones.

Why these flags: 40 SKUs over 2 warehouses and 120 days is the least that still gives a
dozen suggestions from several suppliers in well under a minute of pipeline; transfers are
switched off (``[replenishment.transfers] enabled = false``) so stock one warehouse holds for
the other does not absorb most needs on a home this small; and the supplier minimum order
values of the generator (hundreds of EUR/GBP, tens of thousands of CNY) are far above what a
few lines of a 40-SKU range are worth, so approving one supplier's lines leaves it short
(the walk checks that this holds before it starts)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb

from assets.serving.snapshot import publish_snapshot
from assets.settings import load_settings

SCALE = dict(seed=11, skus=40, warehouses=2, channels=2, days=120)
TOML = """
[forecast]
backtest_cutoffs = 0
horizon = 35
history_days = 120

[replenishment]
n_sims = 300

[replenishment.transfers]
enabled = false
"""
SUGGESTIONS = dg.AssetKey(["marts", "replenishment_suggestions"])
# what the page reads beside the suggestions (its detail's chart and open orders)
BESIDE = [dg.AssetKey(["marts", "projected_stock"]),
          dg.AssetKey(["marts", "inbound_purchase_orders"])]


def build_walk_home(home: Path):
    """Generate, run what the suggestions need, publish the snapshot; returns the settings."""
    from pipelines.definitions import build_definitions
    from pipelines.generate import generate_demo

    home.mkdir(parents=True, exist_ok=True)
    (home / "shelfwise.toml").write_text(TOML, encoding="utf-8")
    settings = load_settings(home)
    generate_demo(settings.inbox, **SCALE)
    selection = (dg.AssetSelection.assets(SUGGESTIONS, *BESIDE).upstream()
                 .required_multi_asset_neighbors().without_checks())
    defs = dg.Definitions.merge(build_definitions(str(home)), dg.Definitions(
        jobs=[dg.define_asset_job("walk_suggestions", selection=selection)]))
    result = defs.resolve_job_def("walk_suggestions").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        publish_snapshot(con, settings.serving_path)
    return settings


if __name__ == "__main__":  # python tests/dashboards/planner_walk_home.py DIR: build and look
    import sys
    import time

    started = time.perf_counter()
    built = build_walk_home(Path(sys.argv[1]))
    print(f"built in {time.perf_counter() - started:.0f} s")
    with duckdb.connect(str(built.serving_path), read_only=True) as con:
        print(con.sql("""
            SELECT s.supplier_id, count(*) AS lines, min(urgency_rank) AS first,
                   round(sum(line_value), 2) AS value, any_value(s.currency) AS cur,
                   any_value(su.min_order_value) AS minimum, bool_or(moq_overbuy) AS overbuy
            FROM marts.replenishment_suggestions s JOIN core.suppliers su USING (supplier_id)
            GROUP BY ALL ORDER BY first"""))
