"""``fill_rate_target`` in shelfwise.toml: the policy chooses the service levels, overrides win.
With ``cycle_stock_reviews = 0.5`` set too, one order adds half a review period of demand.

Re-runs the policy and the suggestions on a copy of the replenished demo home (conftest) with
the target set, so the rest of the graph is not built twice.
"""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pytest

from assets.settings import load_settings


@pytest.fixture(scope="module")
def targeted(replenished, tmp_path_factory):
    from pipelines.definitions import build_definitions

    settings, _ = replenished
    home = tmp_path_factory.mktemp("fill_rate_target") / "home"
    shutil.copytree(settings.home, home, ignore=shutil.ignore_patterns("inbox", "*.lock"))
    toml = (home / "shelfwise.toml").read_text(encoding="utf-8")
    (home / "shelfwise.toml").write_text(
        toml.replace("[replenishment]\n",
                     "[replenishment]\nfill_rate_target = 0.95\ncycle_stock_reviews = 0.5\n"),
        encoding="utf-8")
    defs = build_definitions(str(home))
    keys = [dg.AssetKey(["marts", "replenishment_policy"]),
            dg.AssetKey(["marts", "replenishment_suggestions"])]
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and set(a.keys) & set(keys)]
    result = dg.materialize(assets, selection=keys, resources=defs.resources,
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    targeted = load_settings(home)
    with duckdb.connect(str(targeted.warehouse_path), read_only=True) as con:
        yield con, result


def test_levels_come_from_the_target_and_overrides_keep_theirs(targeted):
    con, result = targeted
    rows = con.sql("SELECT sku, service_level, service_level_source "
                   "FROM marts.replenishment_policy").pl()
    override = rows.filter(rows["sku"] == "SKU-00002")
    assert set(override["service_level_source"]) == {"override"}
    assert set(override["service_level"]) == {0.995}
    rest = rows.filter(rows["sku"] != "SKU-00002")
    assert set(rest["service_level_source"]) == {"fill_rate_target"}
    assert rest["service_level"].is_between(0.5, 0.9999).all()
    assert rest["service_level"].n_unique() > 1  # chosen per SKU, not one for all
    meta = [m for m in result.get_asset_materialization_events()
            if m.asset_key == dg.AssetKey(["marts", "replenishment_policy"])][0]
    assert "fill-rate target 0.95" in meta.materialization.metadata["service_levels_from"].value


def test_one_order_adds_half_a_review_period_of_demand(targeted):
    con, _ = targeted
    gap = con.sql(
        """SELECT order_up_to_units - reorder_point_units AS cycle,
                  ceil(mean_daily_demand_units * review_period_days * 0.5 - 1e-9) AS expected
           FROM marts.replenishment_policy""").pl()
    assert gap.height > 0 and (gap["cycle"] > 0).any()
    assert gap["cycle"].to_list() == pytest.approx(gap["expected"].to_list())


def test_suggestions_say_the_level_is_the_targets(targeted):
    con, _ = targeted
    s = con.sql("SELECT s.reason, p.service_level_source FROM marts.replenishment_suggestions s "
                "JOIN marts.replenishment_policy p USING (sku, location_id)").pl()
    assert s.height > 0
    for reason, source in s.iter_rows():
        said = "95% fill rate over all SKUs" in reason
        assert said == (source == "fill_rate_target"), reason


def test_a_bad_target_is_named(tmp_path):
    from assets.replenishment.config import ReplenishmentSettingsError, replenishment_settings

    (tmp_path / "shelfwise.toml").write_text("[replenishment]\nfill_rate_target = 1.5\n")
    with pytest.raises(ReplenishmentSettingsError, match="fill_rate_target = 1.5"):
        replenishment_settings(load_settings(tmp_path))
    (tmp_path / "shelfwise.toml").write_text("[replenishment]\nfill_rate_target = 0.9\n")
    assert replenishment_settings(load_settings(tmp_path)).fill_rate_target == 0.9
