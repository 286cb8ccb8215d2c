"""Transfer approvals and transfer files (`shelfwise transfers approve | reject | send`).

Transfer decisions live in their own store (<home>/transfer_decisions.sqlite): a purchase
approval can never send a transfer, nor a transfer approval a purchase. The files are checked
by reading them back (CSV, the manifest, sha256 of the bytes), not through shelfwise's code.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil

import duckdb
import pytest
from click.testing import CliRunner

from assets.decisions.store import DecisionStore
from assets.decisions.transfer_store import TransferDecisionStore
from assets.restock.transfer_files import CSV_COLUMNS, send_transfers
from pipelines.cli import main


def _cli(home, *args):
    return CliRunner().invoke(main, ["--home", str(home), *map(str, args)])


@pytest.fixture()
def home(spare_home, tmp_path):
    """A private copy of the home with one transfer suggestion (tests here write to it)."""
    path = spare_home[0]
    (tmp_path / "warehouse").mkdir()
    shutil.copy(path, tmp_path / "warehouse" / "shelfwise.duckdb")
    shutil.copy(path.parent.parent / "shelfwise.toml", tmp_path / "shelfwise.toml")
    with duckdb.connect(str(tmp_path / "warehouse" / "shelfwise.duckdb"), read_only=True) as w:
        transfer = w.sql("SELECT * FROM marts.transfer_suggestions WHERE sku = $sku",
                         params={"sku": spare_home[1]}).pl().row(0, named=True)
        purchase = w.sql("SELECT suggestion_id FROM marts.replenishment_suggestions LIMIT 1"
                         ).fetchall()[0][0]
    return tmp_path, transfer, purchase


def test_approve_and_reject_are_audited_in_their_own_store(home):
    home, t, purchase_id = home
    tid = t["transfer_id"]
    out = _cli(home, "transfers", "approve", tid, "--user", "anna")
    assert out.exit_code == 0, out.output
    store = TransferDecisionStore(home)
    row = store.get(tid)
    assert (row["status"], row["quantity"], row["user"]) == ("approved", t["transfer_units"], "anna")
    assert (row["sku"], row["supplier_id"], row["location_id"]) == (
        t["sku"], t["from_location_id"], t["to_location_id"])
    # the two kinds never mix: the purchase store is untouched and each command refuses
    # the other's ids
    assert not DecisionStore(home).path.exists() or DecisionStore(home).latest() == []
    out = _cli(home, "approve", tid)
    assert out.exit_code == 1 and "unknown suggestion id" in out.output
    out = _cli(home, "transfers", "approve", purchase_id)
    assert out.exit_code == 1 and f"unknown transfer id(s) {purchase_id}" in out.output
    assert store.get(purchase_id) is None
    # more than the source can spare, or not whole cases: refused, nothing saved
    out = _cli(home, "transfers", "approve", tid, "--quantity", t["transfer_units"] + t["case_pack"])
    assert out.exit_code == 1 and "can spare" in out.output
    out = _cli(home, "transfers", "reject", tid, "--note", "Berlin keeps it for a B2B order",
               "--user", "ben")
    assert out.exit_code == 0, out.output
    row = store.get(tid)
    assert (row["status"], row["note"], row["user"]) == (
        "rejected", "Berlin keeps it for a B2B order", "ben")
    audit = [(a["user"], a["action"], a["field"], a["new_value"]) for a in store.history(tid)]
    assert ("anna", "approve", "status", "approved") in audit
    assert ("ben", "reject", "status", "rejected") in audit
    assert ("ben", "reject", "note", "Berlin keeps it for a B2B order") in audit
    # the listing shows the decision
    out = _cli(home, "transfers")
    assert out.exit_code == 0 and "rejected" in out.output and tid in out.output


def test_send_writes_the_source_file_once_and_the_purchase_restock_never_sees_it(home):
    home, t, _ = home
    tid = t["transfer_id"]
    assert _cli(home, "transfers", "approve", tid).exit_code == 0
    out = _cli(home, "transfers", "send", "--dry-run")
    assert out.exit_code == 0 and "dry run" in out.output and t["from_location_id"] in out.output
    assert not (home / "outbox").exists()
    # the purchase restock has nothing to send: an approved transfer is not a purchase line
    out = _cli(home, "restock", "--dry-run")
    assert out.exit_code == 0 and "no approved lines waiting" in out.output
    out = _cli(home, "transfers", "send", "--from", "WH-NOWHERE")
    assert out.exit_code == 1 and "WH-NOWHERE" in out.output
    out = _cli(home, "transfers", "send", "--user", "anna")
    assert out.exit_code == 0, out.output
    files = list((home / "outbox" / "transfers").rglob("*.csv"))
    assert len(files) == 1 and files[0].parent.name == t["from_location_id"]
    with open(files[0], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CSV_COLUMNS and len(rows) == 1
    line = rows[0]
    assert (line["sku"], line["from_location_id"], line["to_location_id"], int(line["quantity_units"]),
            int(line["cases"]), line["transfer_id"], line["ship_date"],
            line["expected_arrival_date"]) == (
        t["sku"], t["from_location_id"], t["to_location_id"], t["transfer_units"],
        t["transfer_units"] // t["case_pack"], tid, str(t["ship_date"]),
        str(t["expected_arrival_date"]))
    assert line["transfer_number"] == files[0].stem and line["transfer_number"].startswith("TR-")
    manifest = [json.loads(x) for x in (home / "outbox" / "manifest.jsonl").read_text().splitlines()]
    entry = [e for e in manifest if e["kind"] == "transfer_file"]
    assert len(entry) == 1
    assert entry[0]["sha256"] == hashlib.sha256(files[0].read_bytes()).hexdigest()
    assert entry[0]["total_units"] == t["transfer_units"] and entry[0]["rows"] == 1
    row = TransferDecisionStore(home).get(tid)
    assert row["status"] == "sent" and row["po_number"] == files[0].stem
    # re-running sends nothing, writes nothing; a sent transfer cannot change
    before = files[0].read_bytes()
    out = _cli(home, "transfers", "send")
    assert out.exit_code == 0 and "no approved transfers waiting" in out.output
    assert (home / "outbox" / "manifest.jsonl").read_text().count("transfer_file") == 1
    assert files[0].read_bytes() == before
    out = _cli(home, "transfers", "reject", tid)
    assert out.exit_code == 1 and "already sent" in out.output
    out = _cli(home, "transfers")  # sent lines are hidden unless asked
    assert tid not in out.output and "1 sent transfer(s) hidden" in out.output


def _transfer(tid, sku, source, destination, units, pack=6):
    return {"transfer_id": tid, "as_of": "2026-11-22", "sku": sku, "product_name": f"={sku}",
            "from_location_id": source, "to_location_id": destination, "transfer_units": units,
            "case_pack": pack, "ship_date": "2026-11-22", "expected_arrival_date": "2026-11-25"}


def test_one_file_per_source_location_and_a_crash_before_marking_resends_the_same_file(tmp_path):
    from assets.decisions.transfer_store import snapshot

    store = TransferDecisionStore(tmp_path)
    lines = [_transfer("t1", "A", "WH-1", "ST-1", 12), _transfer("t2", "B", "WH-1", "ST-2", 6),
             _transfer("t3", "A", "WH-2", "ST-1", 24), _transfer("t4", "C", "WH-2", "ST-3", 6)]
    store.decide_many([{"suggestion_id": t["transfer_id"], "action": "approve",
                        "suggestion": snapshot(t)} for t in lines[:3]], user="anna")
    store.decide("t4", "reject", suggestion=snapshot(lines[3]), user="anna")
    dry = send_transfers(tmp_path / "outbox", store, dry_run=True)
    assert [(o.from_location_id, o.lines.height, o.total_units) for o in dry.orders] == [
        ("WH-1", 2, 18), ("WH-2", 1, 24)]
    only = send_transfers(tmp_path / "outbox", store, from_locations=["WH-2"])
    assert [o.from_location_id for o in only.orders] == ["WH-2"]
    assert store.get("t1")["status"] == "approved" and store.get("t3")["status"] == "sent"
    assert store.get("t4")["status"] == "rejected"  # a rejected transfer never goes out
    # a crash after writing WH-1's file and before marking its lines: the next run writes
    # the same bytes under the same number (not listed twice) and marks them
    first = send_transfers(tmp_path / "outbox", store, dry_run=True).orders[0]
    from assets.restock.transfer_files import csv_bytes_for, transfer_path

    path = transfer_path(tmp_path / "outbox", first)
    path.parent.mkdir(parents=True)
    path.write_bytes(csv_bytes_for(first))
    run = send_transfers(tmp_path / "outbox", store)
    assert [o.transfer_number for o in run.orders] == [first.transfer_number]
    assert run.files[first.transfer_number][2] is True  # listed now, written once
    text = path.read_text()
    assert "'=A" in text  # a text cell is neutralised against formula injection
    assert {store.get(i)["status"] for i in ("t1", "t2", "t3")} == {"sent"}
    assert send_transfers(tmp_path / "outbox", store).orders == []


def test_a_sent_transfer_is_in_transit_next_run_neither_suggested_again_nor_bought(home):
    import dagster as dg

    from assets.replenishment import defs as replenishment_defs
    from pipelines.resources import build_resources

    home, t, _ = home
    assert _cli(home, "transfers", "approve", t["transfer_id"]).exit_code == 0
    assert _cli(home, "transfers", "send").exit_code == 0
    result = dg.materialize(list(replenishment_defs.assets), resources=build_resources(str(home)),
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    pair = {"sku": t["sku"], "to": t["to_location_id"]}
    source = {"sku": t["sku"], "from": t["from_location_id"]}
    with duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True) as w:
        transit = w.sql("SELECT sku, from_location_id, to_location_id, transfer_units "
                        "FROM ops.transfers_in_transit").fetchall()
        again = w.execute("SELECT count(*) FROM marts.transfer_suggestions "
                          "WHERE sku = $sku AND to_location_id = $to", pair).fetchall()[0][0]
        bought = w.execute("SELECT count(*) FROM marts.replenishment_suggestions "
                           "WHERE sku = $sku AND location_id = $to", pair).fetchall()[0][0]
        # the source's stock count does not show the departure yet: what it sent is not
        # offered again (plain SQL over the policy: its free units before the transfer)
        free, keep = w.execute(
            """SELECT on_hand_units - allocated_units - backorder_units,
                      order_up_to_units + greatest(lead_time_demand_units, 0)
               FROM marts.replenishment_policy WHERE sku = $sku AND location_id = $from""",
            source).fetchall()[0]
        offered = w.execute("SELECT coalesce(max(source_free_units), 0) FROM "
                            "marts.transfer_suggestions WHERE sku = $sku AND "
                            "from_location_id = $from", source).fetchall()[0][0]
    assert transit == [(t["sku"], t["from_location_id"], t["to_location_id"], t["transfer_units"])]
    assert again == 0 and bought == 0
    assert offered == 0 or offered == free - t["transfer_units"]
    assert free - t["transfer_units"] >= keep  # (the spare home's source had plenty)
