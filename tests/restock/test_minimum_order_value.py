"""A purchase order below its supplier's minimum order value is held, not sent, unless the
planner sends it anyway (recorded in the audit); a restock run for some suppliers only, and a
dry run that writes nothing. The minimum is checked on what goes out: the approved lines.

Default lines (restock_builder): SUP-A 24 + 12 + 36 units at 4.00 EUR = 288.00 EUR,
SUP-B 18 × 3.50 + 6 × 3.00 = 81.00 GBP, SUP-C 10 × 12.00 = 120.00 EUR.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assets.decisions.store import DecisionStore
from assets.outbox import read_manifest
from assets.restock.deliver import OutboxFolderSink, send_pending, supplier_dir
from assets.warehouse import connect
from pipelines.cli import main
from restock_builder import build_approved_home, default_suggestions

MINIMUMS = {"SUP-A": 500.0, "SUP-B": 50.0}


@pytest.fixture
def home(tmp_path):
    return build_approved_home(tmp_path / "home", minimums=MINIMUMS)


def sup_a_ids() -> set[str]:
    return {r["suggestion_id"] for r in default_suggestions() if r["supplier_id"] == "SUP-A"}


def test_an_order_below_the_minimum_is_held_and_its_lines_stay_pending(home):
    with connect(home.warehouse_path) as con:
        run = send_pending(con, home, sink=OutboxFolderSink(home))
    assert [o.supplier_id for o in run.orders] == ["SUP-B", "SUP-C"]
    assert [(o.supplier_id, o.total_value, o.min_order_value, o.short_of_minimum)
            for o in run.held] == [("SUP-A", 288.0, 500.0, 212.0)]
    assert {r["suggestion_id"] for r in DecisionStore(home.home).pending()} == sup_a_ids()
    assert not supplier_dir(home.outbox, "SUP-A").exists()
    assert {e["supplier_id"] for e in read_manifest(home.outbox)} == {"SUP-B", "SUP-C"}


def test_sent_anyway_below_the_minimum_says_so_in_the_audit(home):
    with connect(home.warehouse_path) as con:
        run = send_pending(con, home, sink=OutboxFolderSink(home), suppliers=["SUP-A"],
                           force_below_minimum=True, user="anna")
    assert [o.supplier_id for o in run.orders] == ["SUP-A"] and run.held == []
    store = DecisionStore(home.home)
    assert {r["supplier_id"] for r in store.pending()} == {"SUP-B", "SUP-C"}  # not in this run
    sent = [h for sid in sup_a_ids() for h in store.history(sid) if h["action"] == "send"]
    assert sent and all(h["user"] == "anna" for h in sent)
    assert all("below the minimum order value: 288.00 of 500.00 EUR" in h["note"] for h in sent)


def test_a_dry_run_writes_nothing(home):
    with connect(home.warehouse_path, read_only=True) as con:
        run = send_pending(con, home, sink=OutboxFolderSink(home), dry_run=True)
    assert [o.supplier_id for o in run.orders] == ["SUP-B", "SUP-C"]
    assert [o.supplier_id for o in run.held] == ["SUP-A"]
    assert not home.outbox.exists()
    assert DecisionStore(home.home).pending_count() == len(default_suggestions())


def cli(home, *args):
    return CliRunner().invoke(main, ["--home", str(home.home), "restock", *args])


def test_restock_command_dry_run_supplier_and_force(home):
    preview = cli(home, "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "SUP-A" in preview.output and "held: 212.00 EUR short of the minimum 500.00" in (
        preview.output)
    assert "dry run: nothing written" in preview.output and not home.outbox.exists()

    only_b = cli(home, "--supplier", "SUP-B")
    assert only_b.exit_code == 0, only_b.output
    assert {r["supplier_id"] for r in DecisionStore(home.home).pending()} == {"SUP-A", "SUP-C"}

    held = cli(home)
    assert held.exit_code == 1
    assert ("SUP-A: 288.00 of 500.00 EUR (212.00 short)" in held.output
            and "--supplier SUP-A --force" in held.output), held.output
    assert {r["supplier_id"] for r in DecisionStore(home.home).pending()} == {"SUP-A"}

    forced = cli(home, "--supplier", "SUP-A", "--force", "--user", "anna")
    assert forced.exit_code == 0, forced.output
    assert DecisionStore(home.home).pending_count() == 0

    unknown = cli(home, "--supplier", "SUP-NOPE", "--dry-run")
    assert unknown.exit_code == 1 and "SUP-NOPE" in unknown.output
