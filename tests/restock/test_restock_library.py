"""`shelfwise restock` and the Replenishment page send through one function,
:func:`pipelines.commands.restock.restock_orders`: the same preview, the same hold below the
supplier's minimum order value, the same --force, and the audit names who sent.

Default lines (restock_builder): SUP-A 288.00 EUR (minimum 500 here), SUP-B 81.00 GBP
(minimum 50), SUP-C 120.00 EUR (no minimum)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from assets.decisions.store import DecisionStore
from assets.outbox import read_manifest
from pipelines.cli import main
from pipelines.commands.restock import RestockError, restock_orders
from restock_builder import build_approved_home, default_suggestions

MINIMUMS = {"SUP-A": 500.0, "SUP-B": 50.0}


@pytest.fixture
def home(tmp_path):
    return build_approved_home(tmp_path / "home", minimums=MINIMUMS)


def test_preview_is_what_the_command_prints_and_writes_nothing(home):
    preview = restock_orders(home, dry_run=True)
    assert [(o["supplier_id"], o["lines"], o["units"], o["value"], o["outcome"])
            for o in preview.orders] == [
        ("SUP-A", 3, 72, 288.0, "held: 212.00 EUR short of the minimum 500.00"),
        ("SUP-B", 2, 24, 81.0, "send"),
        ("SUP-C", 1, 10, 120.0, "send"),
    ]
    assert [o["supplier_id"] for o in preview.held] == ["SUP-A"]
    assert preview.sent == [] and not home.outbox.exists()
    printed = CliRunner().invoke(main, ["--home", str(home.home), "restock", "--dry-run"])
    assert printed.exit_code == 0, printed.output
    for order in preview.orders:  # the command prints the function's rows
        assert order["po_number"] in printed.output and order["outcome"] in printed.output
    forced = restock_orders(home, dry_run=True, force=True)
    assert forced.held == [] and forced.orders[0]["outcome"] == "send (below the minimum: --force)"


def test_send_holds_below_the_minimum_and_force_records_the_planner(home):
    sent = restock_orders(home, user="ana")
    assert [o["supplier_id"] for o in sent.sent] == ["SUP-B", "SUP-C"]
    assert sent.lines_sent == 3
    assert "SUP-A: 288.00 of 500.00 EUR (212.00 short)" in sent.problems[0]
    store = DecisionStore(home.home)
    assert {r["supplier_id"] for r in store.pending()} == {"SUP-A"}
    files = {e["path"] for e in read_manifest(home.outbox)}
    assert {p for o in sent.sent for p in o["files"].values()} == files

    forced = restock_orders(home, suppliers=["SUP-A"], force=True, user="ana")
    assert [o["supplier_id"] for o in forced.sent] == ["SUP-A"] and forced.problems == []
    sup_a = [r["suggestion_id"] for r in default_suggestions() if r["supplier_id"] == "SUP-A"]
    sends = [h for sid in sup_a for h in store.history(sid) if h["action"] == "send"]
    assert {h["suggestion_id"] for h in sends} == set(sup_a)
    assert {h["user"] for h in sends} == {"ana"}
    assert all("288.00 of 500.00 EUR (212.00 short)" in h["note"] for h in sends)

    with pytest.raises(RestockError, match="SUP-NOPE"):
        restock_orders(home, suppliers=["SUP-NOPE"])
    assert restock_orders(home).waiting_lines == 0  # nothing left: nothing sent twice
