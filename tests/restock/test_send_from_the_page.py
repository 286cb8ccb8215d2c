"""The Replenishment page previews and sends purchase orders through the restock function
(the code path of `shelfwise restock`): the same hold below the minimum order value, the
same "send anyway", the planner named in the audit, the files in the outbox.

A hand-built warehouse (restock_builder: SUP-A 288.00 EUR against a 500 EUR minimum here,
SUP-B 81.00 GBP, SUP-C 120.00 EUR) and its serving snapshot; the page under AppTest."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from assets.decisions.store import DecisionStore
from assets.outbox import read_manifest
from assets.serving.snapshot import publish_snapshot
from restock_builder import build_approved_home, default_suggestions

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")
MINIMUMS = {"SUP-A": 500.0}


@pytest.fixture
def home(tmp_path, monkeypatch):
    settings = build_approved_home(tmp_path / "home", minimums=MINIMUMS)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        publish_snapshot(con, settings.serving_path)
    monkeypatch.setenv("SHELFWISE_HOME", str(settings.home))
    monkeypatch.setenv("DAGSTER_HOME", str(settings.home / "dagster"))
    return settings


def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("views/replenishment.py")
    at.run()
    assert [t.key for t in at.sidebar.text_input] == ["planner_name"], (
        [e.value for e in [*at.exception, *at.error, *at.info, *at.success, *at.warning]])
    at.sidebar.text_input(key="planner_name").input("ana").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_preview_then_send_holds_the_short_supplier_and_names_the_planner(home):
    at = page()
    at.button(key="repl_preview_pos").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    # the preview table, headers in words (dashboards/ui.py: supplier_id is "Supplier")
    preview = next(d.value for d in at.dataframe if "Outcome" in d.value.columns)
    assert dict(zip(preview["Supplier"], preview["Outcome"])) == {
        "SUP-A": "held: 212.00 EUR short of the minimum 500.00", "SUP-B": "send", "SUP-C": "send"}
    assert not home.outbox.exists()  # a preview writes nothing

    at.button(key="repl_send_pos").click().run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert any(s.value.startswith("Sent by ana: 3 line(s) on 2 purchase order(s)")
               for s in at.success)
    assert any("SUP-A: 288.00 of 500.00 EUR (212.00 short)" in w.value for w in at.warning)
    store = DecisionStore(home.home)
    assert {r["supplier_id"] for r in store.pending()} == {"SUP-A"}
    sent = [r for r in store.latest() if r["status"] == "sent"]
    assert {r["supplier_id"] for r in sent} == {"SUP-B", "SUP-C"}
    sends = [h for r in sent for h in store.history(r["suggestion_id"]) if h["action"] == "send"]
    assert {h["user"] for h in sends} == {"ana"}
    assert {e["supplier_id"] for e in read_manifest(home.outbox)} == {"SUP-B", "SUP-C"}
    # the sent orders are offered for download at once
    assert [b for b in at.get("download_button") if b.key.startswith("dl_sent_file_")]

    # the held one, sent anyway: the audit says by how much it was short
    at.checkbox(key="repl_send_force").check().run()
    at.button(key="repl_send_pos").click().run()
    assert store.pending() == []
    sup_a = [r["suggestion_id"] for r in default_suggestions() if r["supplier_id"] == "SUP-A"]
    forced = [h for sid in sup_a for h in store.history(sid) if h["action"] == "send"]
    assert forced and {h["user"] for h in forced} == {"ana"}
    assert all("288.00 of 500.00 EUR (212.00 short)" in h["note"] for h in forced)
