"""`shelfwise ats`, `feeds` on a hand-built home; `reconcile` on generated, ingested data."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from assets.inventory import models
from assets.inventory.feeds import write_channel_feeds
from assets.settings import load_settings
from inventory_builder import new_warehouse, shirt_story
from pipelines.cli import main


@pytest.fixture
def home(tmp_path):
    settings = load_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    con = new_warehouse(settings.warehouse_path)
    shirt_story(con)
    models.build_all(con)
    write_channel_feeds(con, settings.outbox)
    con.close()
    return settings


def run(home, *args):
    result = CliRunner().invoke(main, ["--home", str(home.home), *args])
    return result


def test_ats_per_channel_and_per_location(home):
    out = run(home, "ats", "--sku", "SHIRT")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:3] == ["as", "of", "channel"]
    assert [l.split()[-1] for l in lines[2:]] == ["484", "484", "484"]
    out = run(home, "ats", "--location", "WH1")
    assert out.exit_code == 0 and "500" in out.output and "16" in out.output
    out = run(home, "ats", "--channel", "nowhere")
    assert out.exit_code != 0 and "no ATS rows match" in out.output


def test_feeds_lists_files_with_sha_and_flags_a_changed_file(home):
    out = run(home, "feeds")
    assert out.exit_code == 0, out.output
    assert out.output.count(" ok") == 3
    (home.outbox / "channel_feeds" / "etsy" / "availability_2026-03-01.csv").write_text("tampered")
    out = run(home, "feeds", "--channel", "etsy")
    assert "CHANGED" in out.output and "ebay" not in out.output


def test_commands_explain_a_missing_warehouse(tmp_path):
    out = CliRunner().invoke(main, ["--home", str(tmp_path), "ats"])
    assert out.exit_code != 0 and "shelfwise ingest" in out.output


@pytest.mark.integration
def test_reconcile_finds_count_errors_injected_into_generated_ingested_data(tmp_path, monkeypatch):
    from pipelines.commands.core import run_job
    from pipelines.generate import generate_demo

    monkeypatch.setenv("SHELFWISE_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    settings = load_settings(tmp_path)
    generate_demo(settings.inbox, seed=11, skus=30, warehouses=2, channels=3, days=45)
    assert run_job(settings, "ingest", raise_on_error=False).success
    # the schedule's job first, as the generator left the data
    assert run_job(settings, "inventory_reconciliation", raise_on_error=False).success
    with duckdb.connect(str(settings.warehouse_path)) as con:
        # three SKU-locations whose count on a mid-history day and the next day were exact:
        # make the first of the two counts wrong by +25 units (a miscount)
        victims = con.execute("""
            SELECT r.snapshot_date, r.location_id, r.sku
            FROM marts.reconciliation AS r
            JOIN marts.reconciliation AS n
              ON n.sku = r.sku AND n.location_id = r.location_id AND n.previous_snapshot_date = r.snapshot_date
            WHERE r.difference_units = 0 AND n.difference_units = 0
              AND r.snapshot_date = (SELECT max(snapshot_date) - 10 FROM marts.reconciliation)
            ORDER BY r.location_id, r.sku LIMIT 3""").fetchall()
        assert len(victims) == 3
        for snapshot_date, location_id, sku in victims:
            con.execute("""UPDATE core.stock_snapshots SET on_hand = on_hand + 25
                           WHERE snapshot_date = ? AND location_id = ? AND sku = ?""",
                        [snapshot_date, location_id, sku])
    out = CliRunner().invoke(main, ["--home", str(tmp_path), "reconcile", "--all-days", "--limit", "50"])
    assert out.exit_code == 0, out.output
    assert "Inventory record accuracy" in out.output
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for snapshot_date, location_id, sku in victims:
            found = con.execute("""SELECT difference_units, within_tolerance, likely_cause
                                   FROM marts.reconciliation
                                   WHERE snapshot_date = ? AND location_id = ? AND sku = ?""",
                                [snapshot_date, location_id, sku]).fetchall()
            assert found == [(25, False, "count error")]
            assert sku in out.output
            after = con.execute("""SELECT difference_units, likely_cause FROM marts.reconciliation
                                   WHERE previous_snapshot_date = ? AND location_id = ? AND sku = ?""",
                                [snapshot_date, location_id, sku]).fetchall()
            assert after == [(-25, "count error corrected")]
