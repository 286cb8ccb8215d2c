"""The ingest assets through Dagster's real execution, and the inbox sensor."""

from __future__ import annotations

import os
import time

import dagster as dg
import pytest
from ingest_testkit import make_home, rows, write

from assets.ingest import defs as ingest_defs
from assets.ingest.assets import ASSET_CHECKS, ASSETS, CORE_KEYS, QUARANTINE_KEY
from assets.resources import SettingsResource
from assets.warehouse import WarehouseResource
from pipelines.sensors import SENSORS, inbox_listing, inbox_sensor


def resources(settings):
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "shelfwise": SettingsResource(home=str(settings.home)),
    }


@pytest.mark.integration
def test_materialize_ingest_assets_with_checks(tmp_path):
    settings = make_home(tmp_path)
    write(
        settings.inbox / "orders/web/2024-02-15.canonical.csv",
        "order_id,line_id,channel_sku,quantity,unit_price,currency,line_amount,status,ordered_at,updated_at\n"
        "W9,1,MUG-BLUE,-1,9.90,EUR,9.90,paid,2024-02-15T09:00:00Z,2024-02-15T09:00:00Z\n",
    )
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            ASSETS + ASSET_CHECKS, resources=resources(settings), instance=instance
        )
        assert result.success
        materialized = {
            e.event_specific_data.materialization.asset_key
            for e in result.get_asset_materialization_events()
        }
        assert set(CORE_KEYS.values()) | {QUARANTINE_KEY} <= materialized
        checks = result.get_asset_check_evaluations()
        assert len(checks) == len(ASSET_CHECKS)
        assert all(c.passed for c in checks), [(c.asset_key, c.check_name) for c in checks if not c.passed]
        q_meta = next(
            e.event_specific_data.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.event_specific_data.materialization.asset_key == QUARANTINE_KEY
        )
        assert q_meta["rows_quarantined"].value == 1
        assert "quantity_not_positive" in q_meta["quarantine_by_rule"].value
        assert rows(settings, "SELECT count(*) FROM core.order_lines") == [(5,)]


def test_ingest_defs_expose_core_keys_in_group_ingest():
    specs = {s.key: s for a in ingest_defs.assets for s in a.specs}
    assert dg.AssetKey(["core", "order_lines"]) in specs
    assert all(s.group_name == "ingest" for s in specs.values())
    assert {"duckdb", "polars"} <= set(specs[dg.AssetKey(["core", "products"])].kinds)


def test_job_ingest_inbox_resolves(tmp_path):
    from pipelines.definitions import build_definitions

    job = build_definitions(str(tmp_path)).resolve_job_def("ingest")
    assert job.name == "ingest"


def _evaluate(settings, cursor=None):
    context = dg.build_sensor_context(cursor=cursor, resources={"shelfwise": SettingsResource(home=str(settings.home))})
    return inbox_sensor(context), context


def test_sensor_requests_one_run_per_inbox_state_without_the_warehouse(tmp_path):
    assert inbox_sensor in SENSORS
    settings = make_home(tmp_path)
    old = time.time_ns() - 60 * 10**9
    for path in settings.inbox.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(old, old))
    result, ctx = _evaluate(settings)
    assert isinstance(result, dg.RunRequest) and result.run_key
    assert not settings.warehouse_path.exists()  # the sensor never opened the warehouse
    again, _ = _evaluate(settings, cursor=ctx.cursor)
    assert isinstance(again, dg.SkipReason)
    # a new file: a new run, with a different run key
    new = write(settings.inbox / "products/more.csv", "sku,name,case_pack,moq,is_bundle\nX,Y,1,1,false\n")
    os.utime(new, ns=(old, old))
    third, _ = _evaluate(settings, cursor=ctx.cursor)
    assert isinstance(third, dg.RunRequest) and third.run_key != result.run_key


def test_sensor_waits_for_files_being_written(tmp_path):
    settings = make_home(tmp_path)
    write(settings.inbox / "products/just_now.csv", "sku,name\n")  # still being written
    result, _ = _evaluate(settings)
    assert isinstance(result, dg.SkipReason)


def test_listing_ignores_partial_files(tmp_path):
    settings = make_home(tmp_path)
    write(settings.inbox / "products/x.csv.part", "x")
    assert all(not rel.endswith(".part") for rel, _, _ in inbox_listing(settings.inbox))
