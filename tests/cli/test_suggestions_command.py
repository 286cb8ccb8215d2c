"""`shelfwise suggestions`: ids and status for approve/reject, sent lines hidden unless asked,
an unknown SKU / supplier / location is an error naming it, the export without float noise."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import polars as pl
from click.testing import CliRunner

from assets.decisions.store import DecisionStore
from pipelines.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "restock"))
from restock_builder import build_home, default_suggestions  # noqa: E402

ROWS = {(r["sku"], r["location_id"]): r for r in default_suggestions()}


def run(home, *args):
    return CliRunner().invoke(main, ["--home", str(home), "suggestions", *args])


def test_suggestions_show_ids_and_status_and_hide_sent_lines(tmp_path):
    build_home(tmp_path)
    store = DecisionStore(tmp_path)
    sent, approved = ROWS[("SHIRT-M", "WH1")], ROWS[("SHIRT-L", "WH1")]
    decided = store.decide(sent["suggestion_id"], "approve", user="anna", suggestion=sent)
    store.mark_sent([{"suggestion_id": sent["suggestion_id"], "quantity": 24,
                      "revision": decided["revision"]}], po_number="PO-SUP-A-1")
    store.decide(approved["suggestion_id"], "approve", user="anna", suggestion=approved)

    out = run(tmp_path, "--limit", "0")
    assert out.exit_code == 0, out.output
    table = out.output.split("\nReasons")[0]
    assert sent["suggestion_id"] not in out.output  # sent: nothing left to decide
    assert "1 sent line(s) hidden (--all shows them)" in out.output
    approved_row = next(l for l in table.splitlines() if approved["suggestion_id"] in l)
    assert "approved" in approved_row.split()
    for row in default_suggestions():
        if row["suggestion_id"] != sent["suggestion_id"]:
            line = next(l for l in table.splitlines() if row["suggestion_id"] in l)
            assert row["sku"] in line

    everything = run(tmp_path, "--all", "--limit", "0")
    line = next(l for l in everything.output.splitlines() if sent["suggestion_id"] in l)
    assert "sent" in line.split()


def test_an_unknown_sku_supplier_or_location_is_an_error_naming_it(tmp_path):
    build_home(tmp_path)
    for option, value, what in (("--sku", "NO-SUCH-SKU", "SKU"), ("--supplier", "SUP-X", "supplier"),
                                ("--location", "WH9", "location")):
        out = run(tmp_path, option, value)
        assert out.exit_code == 1, out.output
        assert f"unknown {what} {value!r}" in out.output and "nothing needs ordering" not in out.output


def test_export_has_no_float_noise(tmp_path):
    build_home(tmp_path)
    out_file = tmp_path / "suggestions.csv"
    assert run(tmp_path, "--out", str(out_file)).exit_code == 0
    text = out_file.read_text()
    assert not re.search(r"\d\.\d{5,}", text), re.findall(r"[\d.]*\d\.\d{5,}", text)[:5]
    frame = pl.read_csv(out_file)
    mug = frame.filter(pl.col("sku") == "MUG-02").row(0, named=True)
    # 6 units at 3.00 GBP at 1.2 EUR per GBP: 3.5999999999999996 in floating point
    assert (mug["unit_cost_base"], mug["line_value_base"]) == (3.6, 21.6)
