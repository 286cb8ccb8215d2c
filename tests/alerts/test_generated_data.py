"""Alerts on a generated, ingested demo warehouse: the real marts, the real executor, a real
webhook; a second run sends nothing again."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from assets.alerts import defs as alert_defs
from assets.ingest import defs as ingest_defs
from assets.inventory import defs as inventory_defs
from assets.kpis import defs as kpi_defs
from assets.settings import load_settings
from pipelines.resources import build_resources


@pytest.mark.integration
def test_alerts_on_generated_data_are_delivered_once(tmp_path, webhook):
    from pipelines.generate import generate_demo

    # 45 days of history: dead stock after 30 days without a sale
    (tmp_path / "shelfwise.toml").write_text(
        f"[kpis]\ndead_stock_days = 30\n[alerts.webhook]\nurl = '{webhook.url}'\n")
    settings = load_settings(tmp_path)
    generate_demo(settings.inbox, seed=11, skus=30, warehouses=2, channels=3, days=45)
    everything = [*ingest_defs.assets, *inventory_defs.assets, *kpi_defs.assets,
                  *alert_defs.assets, *alert_defs.asset_checks]
    resources = build_resources(str(tmp_path))
    assert dg.materialize(everything, resources=resources).success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        raised = con.execute("SELECT alert_type, count(*) FROM marts.alerts_current "
                             "GROUP BY ALL").fetchall()
        events = con.execute("SELECT event_id FROM ops.alert_events").fetchall()
    assert raised and len(events) == sum(n for _, n in raised)
    assert sorted(a["event_id"] for a in webhook.alerts) == sorted(e for (e,) in events)

    # a re-run of the alert assets on the same warehouse: no new event, nothing sent again
    assert dg.materialize([*alert_defs.assets, *alert_defs.asset_checks],
                          resources=resources).success
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ops.alert_events").fetchall()[0][0] == len(events)
    assert len(webhook.alerts) == len(events)
