"""The checks inside Dagster: a blocking failure stops the forecast; results land as data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from quality_builder import ALL_CHECKS, JUDGED_DAY, get_check, sql

from assets.model import ENTITIES
from assets.quality.runner import asset_checks, run_check
from assets.resources import SettingsResource
from assets.settings import load_settings
from assets.warehouse import WarehouseResource, connect

ORDER_LINES = dg.AssetKey(["core", "order_lines"])


@dg.asset(key=ORDER_LINES, group_name="ingest")
def order_lines() -> dg.MaterializeResult:
    """Stand-in for the ingest asset: the table is already in the test warehouse."""
    return dg.MaterializeResult()


@dg.asset(key=["marts", "demand_forecast"], deps=[ORDER_LINES])
def demand_forecast() -> dg.MaterializeResult:
    """Stand-in for the forecast: it must not run on a demand history with a hole in it."""
    return dg.MaterializeResult(metadata={"fitted": True})


def build_asset_checks(available: set[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """The Dagster checks of every quality check on the ``available`` assets."""
    return asset_checks(c for c in ALL_CHECKS if dg.AssetKey(list(c.asset)) in available)


def _materialize(home: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    (home / "shelfwise.toml").write_text(f'[quality]\nas_of = "{JUDGED_DAY}"\n')
    checks = build_asset_checks({ORDER_LINES})
    return dg.materialize(
        [order_lines, demand_forecast, *checks],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "shelfwise": SettingsResource(home=str(home)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


# a channel that sent nothing on the judged day: the blocking daily_volume check fails
EMPTY_EBAY_DAY = (f"DELETE FROM core.order_lines WHERE channel_id = 'ebay_uk' "
                  f"AND CAST(ordered_at AS DATE) = DATE '{JUDGED_DAY}'")


def test_blocking_check_stops_the_forecast(tmp_path, warehouse):
    sql(warehouse, EMPTY_EBAY_DAY)
    result = _materialize(tmp_path, warehouse)

    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    volume = evaluations["daily_volume"]
    assert not volume.passed
    assert volume.severity == dg.AssetCheckSeverity.ERROR
    assert "channel ebay_uk sent 0 order lines on" in volume.description
    assert volume.metadata["failing_rows"].value == 1
    assert volume.metadata["expected"].value == ">= 1"
    assert volume.metadata["observed_value"].value == "1 of 3 rows fail (values: 0)"
    assert volume.metadata["sample"].value[0]["channel_id"] == "ebay_uk"

    assert ORDER_LINES in _materialized(result)
    assert dg.AssetKey(["marts", "demand_forecast"]) not in _materialized(result)


def test_healthy_run_reaches_the_forecast_and_keeps_results(tmp_path, warehouse):
    result = _materialize(tmp_path, warehouse)
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations), [
        (e.check_name, e.description) for e in evaluations if not e.passed
    ]
    assert dg.AssetKey(["marts", "demand_forecast"]) in _materialized(result)

    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT DISTINCT check_name, run_id FROM marts.quality_results"
        ).fetchall()
    assert {name for name, _ in rows} == {e.check_name for e in evaluations}
    assert {run_id for _, run_id in rows} == {result.run_id}
    assert (tmp_path / "quality" / "data_docs" / "index.html").exists()


def test_a_warning_does_not_stop_the_forecast(tmp_path, warehouse):
    sql(warehouse, "UPDATE core.order_lines SET sku = 'SKU-404' WHERE line_id = '2'")
    result = _materialize(tmp_path, warehouse)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluations["sku_in_products"].passed
    assert evaluations["sku_in_products"].severity == dg.AssetCheckSeverity.WARN
    assert dg.AssetKey(["marts", "demand_forecast"]) in _materialized(result)
    # ... and it ran only after every check had written its results (the snapshot's turn)
    done = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"]
    forecast_step = next(k for k in done if "demand_forecast" in k)
    check_steps = [k for k in done if "order_lines_" in k]
    assert len(check_steps) >= 7
    assert all(done.index(k) < done.index(forecast_step) for k in check_steps)


def test_checks_attach_only_to_defined_assets():
    """Each domain registers its quality checks on assets it defines itself (a check on a key
    nobody builds would make Dagster invent a stub asset)."""
    from pipelines.domains import DOMAINS

    suites = {c.suite for c in ALL_CHECKS}
    registered = set()
    for domain in DOMAINS:
        own = {k for a in domain.defs.assets or [] for k in getattr(a, "keys", None) or [a.key]}
        quality = {k for c in domain.defs.asset_checks or [] for k in c.check_keys
                   if ".".join([*k.asset_key.path, k.name]) in suites}
        assert {k.asset_key for k in quality} <= own, domain.__name__
        registered |= quality
    assert len(registered) == len(ALL_CHECKS)  # each once, none left out
    core_only = build_asset_checks({ORDER_LINES})
    # every check makes downstream wait (Dagster's `blocking`); severity decides who stops it
    assert all(spec.blocking for c in core_only for spec in c.check_specs)
    stopping = {c.name for c in ALL_CHECKS if c.blocking}
    assert stopping == {"daily_volume", "no_duplicate_lines", "quantity_positive", "orderable"}


def test_key_uniqueness_is_checked_once_per_core_table_by_ingest():
    """Ingest's own ``key_unique`` is the one key check of every core table; the quality
    checks on a core table are the others (order lines' blocking ``no_duplicate_lines`` is its
    GX twin, because a doubled line doubles demand)."""
    from assets.ingest import defs as ingest_defs

    keys = {k for c in ingest_defs.asset_checks for k in c.check_keys}
    assert {k.asset_key for k in keys if k.name == "key_unique"} == {
        dg.AssetKey(["core", name]) for name in ENTITIES
    }
    snapshots = dg.AssetKey(["core", "stock_snapshots"])
    names = {k.name for c in build_asset_checks({snapshots}) for k in c.check_keys}
    assert names == {"values_in_range", "master_data_known"}
    assert "key_unique" not in {c.name for c in ALL_CHECKS}


def test_results_table_keeps_numbers_and_failing_rows(tmp_path, warehouse):
    sql(warehouse, "UPDATE core.products SET case_pack = 0 WHERE sku = 'SKU-3'")
    settings = load_settings(tmp_path)
    report = run_check(get_check("core.products.values_in_range"), warehouse, settings, "r1")
    assert not report.passed
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            """SELECT column_name, success, observed_value, expected, failing_rows, severity,
                      message, sample_json, suite, asset, expectation
               FROM marts.quality_results ORDER BY column_name"""
        ).fetchall()
    by_column = {r[0]: r for r in rows}
    assert set(by_column) == {"case_pack", "moq", "unit_cost", "list_price"}
    case_pack = by_column["case_pack"]
    assert case_pack[1:6] == (False, "1 of 6 rows fail (values: 0)", ">= 1", 1, "warning")
    assert case_pack[6] == "product SKU-3: case_pack is 0, expected >= 1"
    assert json.loads(case_pack[7])[0]["sku"] == "SKU-3"
    assert case_pack[8:] == (
        "core.products.values_in_range",
        "core.products",
        "expect_column_values_to_be_between",
    )
    assert by_column["moq"][1] is True


def test_data_docs_list_every_suite_and_keep_a_bounded_history(tmp_path, warehouse):
    (tmp_path / "shelfwise.toml").write_text("[quality]\nkeep_runs = 2\n")
    settings = load_settings(tmp_path)
    for _ in range(3):
        run_check(get_check("core.products.values_in_range"), warehouse, settings)
    run_check(get_check("core.receipts.po_known"), warehouse, settings)
    docs = tmp_path / "quality" / "data_docs"
    index = (docs / "index.html").read_text()
    assert "core.products.values_in_range" in index and "core.receipts.po_known" in index
    pages = list((docs / "validations" / "core" / "products" / "values_in_range").rglob("*.html"))
    assert len(pages) == 2


def test_unknown_quality_setting_is_refused(tmp_path, warehouse):
    (tmp_path / "shelfwise.toml").write_text("[quality]\nmin_volume_ration = 0.2\n")
    with pytest.raises(ValueError, match="unknown setting"):
        run_check(ALL_CHECKS[0], warehouse, load_settings(tmp_path))


def test_loading_the_definitions_does_not_import_great_expectations():
    code = (
        "import sys; from pipelines.domains import domain_definitions; "
        "n = sum(len(d.asset_checks or []) for d in domain_definitions()); "
        "assert 'great_expectations' not in sys.modules, 'GX imported at load'; "
        "print(n)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_code_location_loads_with_the_quality_domain(tmp_path, monkeypatch):
    """The real definitions (every domain) resolve: no duplicate check keys, no stub assets."""
    monkeypatch.setenv("SHELFWISE_HOME", str(tmp_path))
    from pipelines.definitions import build_definitions

    graph = build_definitions(str(tmp_path)).resolve_asset_graph()
    quality = {k for k in graph.asset_check_keys if k.name in {c.name for c in ALL_CHECKS}}
    assert dg.AssetCheckKey(ORDER_LINES, "daily_volume") in quality
    # a check on a key no domain builds would make Dagster invent a stub (non-materializable)
    assert all(graph.get(k.asset_key).is_materializable for k in quality), [
        k for k in quality if not graph.get(k.asset_key).is_materializable
    ]


def test_a_run_builds_the_data_docs_once_after_its_last_check(tmp_path, warehouse):
    """GX Data Docs are rendered once per run (their index reads every stored result), by the
    run's last quality check: its result links the index, and every validation has its page."""
    result = _materialize(tmp_path, warehouse)
    evaluations = result.get_asset_check_evaluations()
    built = [e.check_name for e in evaluations if "data_docs" in e.metadata]
    assert len(built) == 1, built
    done = [e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"]
    last_check = [k for k in done if "order_lines_" in k][-1]
    assert last_check.endswith(built[0])
    docs = tmp_path / "quality" / "data_docs"
    index = (docs / "index.html").read_text()
    suites = [c.suite for c in ALL_CHECKS if c.asset == ("core", "order_lines")]
    assert all(suite in index for suite in suites)
    assert len(list((docs / "validations").rglob("*.html"))) == len(suites) == len(evaluations)


def test_a_blocking_failure_builds_the_data_docs_at_once(tmp_path, warehouse):
    """A blocking failure skips what follows in the run: its check builds the Data Docs."""
    sql(warehouse, EMPTY_EBAY_DAY)
    result = _materialize(tmp_path, warehouse)
    volume = next(e for e in result.get_asset_check_evaluations() if e.check_name == "daily_volume")
    assert not volume.passed
    index = Path(volume.metadata["data_docs"].value)
    assert index == tmp_path / "quality" / "data_docs" / "index.html"
    assert "core.order_lines.daily_volume" in index.read_text()
