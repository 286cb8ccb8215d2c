"""A generated demo home, ingested, with the replenishment group and what it reads built.

The real pipeline end to end: the demo generator writes an inbox, the `ingest` job lands it,
then the inventory, forecast and unit-cost assets the policy reads and the replenishment
group are materialized by Dagster's executor in process. Built once per test session.
"""

from __future__ import annotations

import os
import shutil

import dagster as dg
import duckdb
import pytest

from assets.settings import load_settings

SCALE = dict(seed=42, skus=60, warehouses=3, channels=6, days=120)  # `shelfwise generate --skus 60 --days 120`
TOML = """
[forecast]
horizon = 28
backtest_cutoffs = 0

[replenishment]
n_sims = 300
horizon_days = 28
max_coverage_days = 90

[replenishment.sku_service_levels]
"SKU-00002" = 0.995
"""


def materialize_replenishment(settings) -> dg.ExecuteInProcessResult:
    """The replenishment group and everything it reads except ingest (already run)."""
    from pipelines.definitions import build_definitions

    defs = build_definitions(str(settings.home))
    graph = defs.resolve_asset_graph()
    selection = (dg.AssetSelection.groups("replenishment").upstream()
                 - dg.AssetSelection.groups("ingest", "quality")).required_multi_asset_neighbors()
    keys = selection.resolve(graph)
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and set(a.keys) & keys]
    checks = [c for c in defs.asset_checks or [] if set(c.check_keys) and
              any(k.asset_key in keys for k in c.check_keys)]
    return dg.materialize([*assets, *checks], selection=list(keys),
                          resources=defs.resources, instance=dg.DagsterInstance.ephemeral(),
                          raise_on_error=False)


@pytest.fixture(scope="session")
def replenished(tmp_path_factory):
    """``(settings, check passed)`` for a generated, ingested and replenished home.

    Built once per test run: with pytest-xdist the workers share one home (the first builds
    it under a file lock, the others wait and reuse it; the tests only read it).
    """
    import json

    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    # under xdist every worker's base temp is a sibling: share their parent (read from the
    # environment, not xdist's `worker_id` fixture, so `-p no:xdist` works too)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    home = root / "replenishment_home"
    done = root / "replenishment_home.json"
    with FileLock(str(root / "replenishment_home.lock")):
        if not done.exists():
            done.write_text(json.dumps({"check_passed": _build(home)}), encoding="utf-8")
    return load_settings(home), json.loads(done.read_text(encoding="utf-8"))["check_passed"]


def _build(home) -> bool:
    from pipelines.commands.core import run_job
    from pipelines.generate import generate_demo

    home.mkdir(parents=True)
    (home / "shelfwise.toml").write_text(TOML, encoding="utf-8")
    settings = load_settings(home)
    generate_demo(settings.inbox, **SCALE)
    with pytest.MonkeyPatch.context() as env:  # run_job points DAGSTER_HOME at the home
        env.setenv("SHELFWISE_HOME", str(home))
        env.setenv("DAGSTER_HOME", str(home / "dagster"))
        assert run_job(settings, "ingest", raise_on_error=False).success
    result = materialize_replenishment(settings)
    assert result.success
    # the domain's own check and the quality domain's `orderable` on the suggestions
    mine = {c.check_name: c.passed for c in result.get_asset_check_evaluations()
            if c.asset_key == dg.AssetKey(["marts", "replenishment_suggestions"])}
    return mine == {"every_needed_order_is_suggested": True, "orderable": True}


@pytest.fixture(scope="session")
def con(replenished):
    settings, _ = replenished
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="session")
def spare_home(replenished, con, tmp_path_factory):
    """A copy of the home where, for one SKU that needs an order at one location, another
    location holds 1,000 more units on hand; the replenishment group re-run on it.

    Returns ``(warehouse path, sku, needing location, other location, purchase before)``."""
    from assets.replenishment import defs as replenishment_defs
    from pipelines.resources import build_resources

    settings, _ = replenished
    row = con.sql(
        """SELECT n.sku, n.location_id AS needing, o.location_id AS other
           FROM marts.replenishment_policy AS n
           JOIN marts.replenishment_policy AS o ON o.sku = n.sku AND o.location_id <> n.location_id
           JOIN marts.replenishment_suggestions AS s ON s.sku = n.sku AND s.location_id = n.location_id
           WHERE n.needs_order AND NOT o.needs_order
           ORDER BY n.sku LIMIT 1""").fetchall()
    assert row, "the generated home has no SKU needing an order beside a stocked location"
    sku, needing, other = row[0]
    before = con.execute("SELECT suggested_units FROM marts.replenishment_suggestions "
                         "WHERE sku = ? AND location_id = ?", [sku, needing]).fetchall()[0][0]
    home = tmp_path_factory.mktemp("spare_home")
    (home / "warehouse").mkdir()
    shutil.copy(settings.warehouse_path, home / "warehouse" / "shelfwise.duckdb")
    shutil.copy(settings.home / "shelfwise.toml", home / "shelfwise.toml")
    path = home / "warehouse" / "shelfwise.duckdb"
    with duckdb.connect(str(path)) as w:
        w.execute("""UPDATE marts.inventory_position
                     SET on_hand_units = on_hand_units + 1000,
                         inventory_position_units = inventory_position_units + 1000
                     WHERE sku = ? AND location_id = ?""", [sku, other])
    result = dg.materialize(list(replenishment_defs.assets), resources=build_resources(str(home)),
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    return path, sku, needing, other, before
