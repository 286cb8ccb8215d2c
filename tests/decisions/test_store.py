"""The decision store: lifecycle, audit trail, validation, idempotency, and decisions written
from several processes while another process holds the DuckDB warehouse for writing."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import duckdb
import pytest

from assets.decisions.store import DecisionError, DecisionStore

ROW = {"sku": "SHIRT-M", "location_id": "WH1", "supplier_id": "SUP-A", "suggested_units": 24,
       "as_of": "2026-11-22", "case_pack": 12, "moq": 12}


@pytest.fixture
def store(tmp_path):
    return DecisionStore(tmp_path)


def test_lifecycle_is_audited_field_by_field(store):
    assert store.get("s1") is None and store.latest() == []  # proposed: no row yet
    saved = store.decide("s1", "approve", user="anna", suggestion=ROW)
    assert (saved["status"], saved["quantity"], saved["supplier_id"], saved["revision"]) == (
        "approved", 24, "SUP-A", 1)
    assert saved["suggestion"]["case_pack"] == 12
    store.decide("s1", "edit", quantity=36, user="ben", note="promo")
    store.decide("s1", "reject", user="anna")
    store.decide("s1", "approve", quantity=24, user="anna")  # the suggested number: approved
    assert store.get("s1")["status"] == "approved"
    history = store.history("s1")
    assert [(h["user"], h["action"], h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("anna", "approve", "status", "proposed", "approved"),
        ("anna", "approve", "quantity", None, "24"),
        ("ben", "edit", "status", "approved", "edited"),
        ("ben", "edit", "quantity", "24", "36"),
        ("ben", "edit", "note", None, "promo"),
        ("anna", "reject", "status", "edited", "rejected"),
        ("anna", "reject", "quantity", "36", None),
        ("anna", "reject", "note", "promo", None),  # the note was the edit's, not the reject's
        ("anna", "approve", "status", "rejected", "approved"),
        ("anna", "approve", "quantity", None, "24"),
    ]
    assert all(h["decided_at"].endswith("+00:00") for h in history)  # UTC
    assert [h["decided_at"] for h in history] == sorted(h["decided_at"] for h in history)


def test_repeating_a_decision_changes_nothing(store):
    first = store.decide("s1", "approve", user="anna", suggestion=ROW)
    again = store.decide("s1", "approve", user="anna", suggestion=ROW)
    assert again == first and len(store.history()) == 2


def test_approve_with_another_quantity_is_an_edit(store):
    assert store.decide("s1", "approve", quantity=48, suggestion=ROW)["status"] == "edited"


@pytest.mark.parametrize(("action", "quantity", "message"), [
    ("order", None, "action must be one of"),
    ("edit", None, "needs a quantity"),
    ("reject", 12, "takes no quantity"),
    ("edit", 0, "above 0"),
    ("edit", 12.5, "whole number"),
    ("edit", True, "whole number"),
    ("edit", 30, "not a whole number of cases of 12 (try 24 or 36)"),
    ("edit", 6, "not a whole number of cases of 12 (try 12)"),
])
def test_bad_decisions_are_refused_with_a_clear_message(store, action, quantity, message):
    with pytest.raises(DecisionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.decide("s1", action, quantity=quantity, suggestion=ROW)
    assert store.latest() == [] and store.history() == []


def test_moq_is_checked(store):
    with pytest.raises(DecisionError, match="below the minimum order quantity of 10"):
        store.decide("s1", "edit", quantity=5, suggestion={**ROW, "case_pack": 1, "moq": 10})


def test_decide_many_saves_all_or_nothing(store):
    with pytest.raises(DecisionError):
        store.decide_many([{"suggestion_id": "a", "action": "approve", "suggestion": ROW},
                           {"suggestion_id": "b", "action": "edit"}], user="anna")
    assert store.latest() == []
    saved = store.decide_many([{"suggestion_id": "a", "action": "approve", "suggestion": ROW},
                               {"suggestion_id": "b", "action": "reject"}], user="anna")
    assert [r["status"] for r in saved] == ["approved", "rejected"]


def test_sent_is_final_and_a_late_change_is_recorded(store):
    store.decide("s1", "approve", suggestion=ROW)
    store.decide("s2", "approve", suggestion={**ROW, "sku": "SHIRT-L"})
    built = {r["suggestion_id"]: r for r in store.pending()}
    store.decide("s2", "edit", quantity=36)  # while the file is being written
    result = store.mark_sent(
        [{"suggestion_id": sid, "quantity": r["quantity"], "revision": r["revision"]}
         for sid, r in built.items()], po_number="PO-SUP-A-0123456789")
    assert result == {"sent": ["s1"], "already_sent": [], "late_changes": ["s2"]}
    assert store.get("s2")["quantity"] == 24  # what went out
    assert "arrived after the file was written" in store.history("s2")[-1]["note"]
    assert store.pending() == [] and store.pending_count() == 0
    with pytest.raises(DecisionError, match="already sent to supplier SUP-A on PO-SUP-A-0123456789"):
        store.decide("s1", "reject")
    again = store.mark_sent([{"suggestion_id": "s1", "quantity": 24, "revision": 1}], po_number="PO-X")
    assert again["already_sent"] == ["s1"] and store.get("s1")["po_number"] == "PO-SUP-A-0123456789"


def test_pending_count_does_not_create_the_store(tmp_path):
    store = DecisionStore(tmp_path / "home")
    assert store.pending_count() == 0 and not store.path.exists()


def test_the_store_module_imports_no_pipeline_library():
    code = ("import sys, assets.decisions.store; "
            "print(sorted(m for m in ('dagster', 'duckdb', 'polars') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_decisions_from_several_processes_while_the_warehouse_is_held(tmp_path):
    from decision_workers import decide_many_times, hold_warehouse

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA marts")
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Event(), spawn.Event()
    holder = spawn.Process(target=hold_warehouse, args=(str(warehouse), ready, stop))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(duckdb.IOException, match="lock"):  # the pipeline really holds it
            duckdb.connect(str(warehouse), read_only=True)
        workers, count = 4, 25
        started = time.perf_counter()
        # an executor, not multiprocessing.Pool: leaving a Pool terminates its workers with
        # SIGTERM, and where SIGTERM is ignored (inherited from a background job) the idle
        # workers never exit and the test hangs; the executor ends them with a sentinel, and
        # a worker that dies raises BrokenProcessPool instead of a wait for ever
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            errors = list(pool.map(decide_many_times,
                                   [(str(tmp_path), w, count) for w in range(workers)],
                                   timeout=300))
        seconds = time.perf_counter() - started
        assert holder.is_alive()  # it held the warehouse the whole time
    finally:
        stop.set()
        holder.join(30)
    assert errors == [[]] * workers
    store = DecisionStore(tmp_path)
    latest = {r["suggestion_id"]: r for r in store.latest()}
    assert len(latest) == workers * count + 1  # none lost
    assert all(latest[f"S-{w}-{i}"]["status"] == "approved" and latest[f"S-{w}-{i}"]["user"] == f"planner-{w}"
               for w in range(workers) for i in range(count))
    shared = [h for h in store.history("SHARED") if h["field"] == "quantity"]
    # every edit of the shared line is in the audit trail, each from the value before it
    assert len(shared) == workers * count
    assert all(a["new_value"] == b["old_value"] for a, b in zip(shared, shared[1:]))
    assert latest["SHARED"]["revision"] == workers * count
    print(f"{workers * count * 2} decisions from {workers} processes in {seconds:.2f} s")


def test_a_note_belongs_to_its_decision_only(store):
    store.decide("s1", "reject", user="anna", note="range being delisted", suggestion=ROW)
    approved = store.decide("s1", "approve", user="anna")
    assert (approved["status"], approved["note"]) == ("approved", None)
    assert store.history("s1")[-1][("field")] == "note"  # the reject note is cleared, audited
    store.decide("s1", "approve", user="anna", note="fine after all")
    # repeating the same decision without a note keeps that decision's own note
    assert store.decide("s1", "approve", user="anna")["note"] == "fine after all"


def test_planning_a_quantity_does_not_approve(store):
    planned = store.decide("s1", "plan", quantity=36, user="anna", suggestion=ROW)
    assert (planned["status"], planned["quantity"]) == ("proposed", 36)
    assert store.pending() == [] and store.pending_count() == 0  # restock sends nothing
    # approving later orders the planned quantity
    assert (store.decide("s1", "approve", user="anna")["status"],
            store.get("s1")["quantity"]) == ("edited", 36)
    # a new quantity on an approved line takes the approval back: approve it again
    replanned = store.decide("s1", "plan", quantity=48, user="anna")
    assert (replanned["status"], replanned["quantity"]) == ("proposed", 48)
    store.decide("s1", "reject", user="anna")
    assert store.decide("s1", "plan", quantity=24, user="anna")["status"] == "proposed"
    assert store.pending_count() == 0
    with pytest.raises(DecisionError, match="needs a quantity"):
        store.decide("s2", "plan", user="anna", suggestion=ROW)


def test_a_store_file_from_before_planned_quantities_is_upgraded(tmp_path):
    import sqlite3

    con = sqlite3.connect(tmp_path / "decisions.sqlite")
    con.executescript("""
        CREATE TABLE decisions (
            suggestion_id TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('approved', 'edited', 'rejected', 'sent')),
            quantity INTEGER, decided_at TEXT NOT NULL, user TEXT, note TEXT, sku TEXT,
            location_id TEXT, supplier_id TEXT, as_of TEXT, suggested_units INTEGER,
            suggestion TEXT, po_number TEXT, sent_at TEXT, revision INTEGER NOT NULL);
        CREATE TABLE audit (
            audit_id INTEGER PRIMARY KEY AUTOINCREMENT, suggestion_id TEXT NOT NULL,
            decided_at TEXT NOT NULL, user TEXT, action TEXT NOT NULL, field TEXT NOT NULL,
            old_value TEXT, new_value TEXT, note TEXT);
        INSERT INTO decisions VALUES ('old', 'approved', 24, '2026-11-01T00:00:00+00:00', 'anna',
            NULL, 'SHIRT-M', 'WH1', 'SUP-A', '2026-11-01', 24, NULL, NULL, NULL, 1);
    """)
    con.close()
    store = DecisionStore(tmp_path)
    assert store.decide("s1", "plan", quantity=36, suggestion=ROW)["status"] == "proposed"
    assert store.get("old")["status"] == "approved"  # kept through the upgrade
