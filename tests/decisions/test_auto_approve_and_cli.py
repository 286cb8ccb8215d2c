"""Auto-approve rules (shelfwise.toml [approvals]) through Dagster, and the approval commands."""

from __future__ import annotations

import multiprocessing
import shutil
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from click.testing import CliRunner

from assets.decisions.assets import ASSETS, AUTO_APPROVE_USER, SUGGESTION_DECISIONS
from assets.decisions.config import ApprovalSettingsError, approval_rules
from assets.decisions.store import DecisionStore
from assets.resources import SettingsResource
from assets.settings import load_settings
from assets.warehouse import WarehouseResource, connect
from pipelines.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "restock"))
from restock_builder import build_home, default_suggestions  # noqa: E402

RULES = """
[approvals]
auto_approve = [
  { abc_class = "A", max_line_value_base = 100.0 },
  { supplier_id = "SUP-C", max_units = 10 },
]
"""
IDS = {(r["sku"], r["location_id"]): r["suggestion_id"] for r in default_suggestions()}


def materialize(settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        resources={"warehouse": WarehouseResource(path=str(settings.warehouse_path)),
                   "shelfwise": SettingsResource(home=str(settings.home))},
        instance=dg.DagsterInstance.ephemeral(),
    )


def test_auto_approve_rules_never_override_a_planner(tmp_path):
    settings = build_home(tmp_path, toml=RULES)
    with connect(settings.warehouse_path) as con:
        con.execute("""CREATE TABLE marts.replenishment_policy AS
                       SELECT as_of, sku, location_id,
                              CASE WHEN sku LIKE 'SHIRT%' THEN 'A' ELSE 'C' END AS abc_class,
                              'X' AS xyz_class
                       FROM marts.replenishment_suggestions""")
    store = DecisionStore(settings.home)
    # a planner already rejected one line a rule would approve
    store.decide(IDS[("SHIRT-L", "WH1")], "reject", user="anna", note="delisted")
    result = materialize(settings)
    assert result.success
    latest = {r["suggestion_id"]: r for r in store.latest()}
    # A-class lines up to 100 EUR: SHIRT-M WH1 (96), SHIRT-L WH1 (48: rejected stays rejected);
    # SHIRT-M WH2 is 144 EUR; SUP-C's 10 units match rule 2
    auto = {sid for sid, r in latest.items() if r["user"] == AUTO_APPROVE_USER}
    assert auto == {IDS[("SHIRT-M", "WH1")], IDS[("BOWL-1", "WH1")]}
    assert latest[IDS[("SHIRT-L", "WH1")]]["status"] == "rejected"
    notes = {latest[sid]["note"] for sid in auto}
    assert notes == {"auto-approve rule 1: abc_class=A, line_value_base<=100",
                     "auto-approve rule 2: supplier_id=SUP-C, suggested_units<=10"}
    assert latest[IDS[("BOWL-1", "WH1")]]["suggestion"]["supplier_sku"] == "SUP-C-BOWL-1"
    with connect(settings.warehouse_path, read_only=True) as con:
        imported = con.sql("FROM ops.suggestion_decisions ORDER BY suggestion_id").pl()
    assert imported.height == 3 and {"decided_by", "quantity_units", "imported_at"} <= set(imported.columns)
    meta = {m.asset_key: m.metadata for m in (e.event_specific_data.materialization
                                              for e in result.get_asset_materialization_events())}
    assert meta[SUGGESTION_DECISIONS]["auto_approved_now"].value == 2
    assert materialize(settings).success  # a re-run approves nothing twice
    assert len(store.history()) == 2 + 2 * 3  # reject: status, note; approvals: + quantity


@pytest.mark.parametrize(("toml", "message"), [
    ("[approvals]\nauto = 1\n", "unknown key"),
    ("[approvals]\nauto_approve = [{}]\n", "rule 1: must be a table with at least one key"),
    ("[approvals]\nauto_approve = [{ abc = 'A' }]\n", "rule 1: unknown key"),
    ("[approvals]\nauto_approve = [{ max_units = -1 }]\n", "max_units must be a number >= 0"),
])
def test_bad_rules_are_named(tmp_path, toml, message):
    (tmp_path / "shelfwise.toml").write_text(toml)
    with pytest.raises(ApprovalSettingsError, match=message):
        approval_rules(load_settings(tmp_path))


def run(home, *args) -> object:
    return CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)


def test_approve_reject_decisions_and_restock_commands(tmp_path):
    settings = build_home(tmp_path)
    shirt_m, shirt_l = IDS[("SHIRT-M", "WH1")], IDS[("SHIRT-L", "WH1")]
    out = run(tmp_path, "approve", shirt_m, "--user", "anna", "--note", "promo")
    assert out.exit_code == 0, out.output
    assert "approved" in out.output and "1 approved line(s) wait to be sent" in out.output
    out = run(tmp_path, "approve", shirt_l, "--quantity", "30")
    assert out.exit_code == 1 and "not a whole number of cases of 12" in out.output
    assert run(tmp_path, "approve", shirt_l, "--quantity", "36").exit_code == 0
    out = run(tmp_path, "approve", shirt_m, shirt_l, "--quantity", "24")
    assert out.exit_code == 2 and "exactly one SUGGESTION_ID" in out.output
    out = run(tmp_path, "approve", "no-such-id")
    assert out.exit_code == 1 and "unknown suggestion id(s) no-such-id" in out.output
    out = run(tmp_path, "reject", IDS[("MUG-01", "WH1")], "--note", "=cmd|' /C calc'!A0")
    assert out.exit_code == 0 and "rejected" in out.output
    out = run(tmp_path, "approve", "--all-for-supplier", "SUP-B")
    assert out.exit_code == 0 and "1 suggestion(s) of SUP-B already decided" in out.output
    out = run(tmp_path, "decisions", "--status", "approved")
    assert out.exit_code == 0 and shirt_m in out.output and "anna" in out.output
    out = run(tmp_path, "decisions", "--history", "--suggestion", shirt_l)
    assert out.exit_code == 0 and "edited" in out.output and "36" in out.output

    out = run(tmp_path, "restock")
    assert out.exit_code == 0, out.output
    assert "3 line(s) sent on 2 purchase order(s)" in out.output
    assert "PO-SUP-A-" in out.output and "PO-SUP-B-" in out.output
    assert len(list((settings.outbox / "suppliers").glob("*/*.csv"))) == 2
    assert run(tmp_path, "restock").output.strip() == "no approved lines waiting to be sent"
    out = run(tmp_path, "reject", shirt_m)
    assert out.exit_code == 1 and "already sent to supplier SUP-A" in out.output


def test_approve_works_while_the_pipeline_holds_the_warehouse(tmp_path):
    from decision_workers import hold_warehouse

    settings = build_home(tmp_path)
    settings.serving_path.parent.mkdir(parents=True)
    shutil.copy(settings.warehouse_path, settings.serving_path)  # a published snapshot
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Event(), spawn.Event()
    holder = spawn.Process(target=hold_warehouse, args=(str(settings.warehouse_path), ready, stop))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(settings.warehouse_path), read_only=True)
        out = run(tmp_path, "approve", IDS[("BOWL-1", "WH1")], "--user", "anna")
    finally:
        stop.set()
        holder.join(30)
    assert out.exit_code == 0, out.output
    saved = DecisionStore(tmp_path).get(IDS[("BOWL-1", "WH1")])
    assert saved["status"] == "approved" and saved["suggestion"]["product_name"] == "Product BOWL-1"
