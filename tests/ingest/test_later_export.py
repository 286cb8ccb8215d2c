"""The latest export of an order owns its lines (#20.8): an order exported again in a file of
ANOTHER name (the next day's export) after an edit removed a line or changed a quantity keeps
exactly the lines of that later export in core. Raw keeps both versions; the lines the later
export dropped are named in a message. Expected lines are read from the input files with the
csv module, never through shelfwise."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from ingest_testkit import adapter_helpers as helpers, ingest, make_home, rows, write

from assets.ingest.adapters import CHANNEL_ADAPTERS
from pipelines.cli import main
from pipelines.summary import superseded_summary

SHOPIFY = Path(__file__).parent / "fixtures" / "invented_people" / "shopify"
FIRST, SECOND = "orders_export_2024-03-06.csv", "orders_export_2024-03-07.csv"


def _expected_shopify(paths: list[Path]) -> dict[tuple[str, str], int]:
    """(order, sku) -> units, each order from the LAST of ``paths`` that carries it."""
    owner: dict[str, dict[tuple[str, str], int]] = {}
    for path in paths:
        with path.open(newline="", encoding="utf-8") as f:
            lines: dict[str, dict[tuple[str, str], int]] = {}
            for r in csv.DictReader(f):
                key = (r["Name"], r["Lineitem sku"])
                lines.setdefault(r["Name"], {})[key] = int(r["Lineitem quantity"])
        owner.update(lines)  # a later file takes the whole order
    return {k: q for lines in owner.values() for k, q in lines.items()}


def _core(settings, channel: str, like: str = "%") -> dict[tuple[str, str], int]:
    return {(o, s): q for o, s, q in rows(
        settings, "SELECT order_id, sku, quantity FROM core.order_lines "
                  "WHERE channel_id = ? AND order_id LIKE ?", [channel, like])}


@pytest.mark.parametrize("runs", ["one run per file", "both files in one run"])
def test_a_later_shopify_export_of_an_edited_order_owns_its_lines(tmp_path, runs):
    settings = make_home(tmp_path)
    folder = settings.inbox / "orders" / "web"
    for name in (FIRST, SECOND):
        shutil.copy(SHOPIFY / name, folder / name)
        if runs == "one run per file" or name == SECOND:
            report = ingest(settings)
    expected = _expected_shopify([SHOPIFY / FIRST, SHOPIFY / SECOND])
    # the edit: Blue mug removed from #3101, Tee M 3 -> 1; #3102 only in the first file
    assert expected[("#3101", "TEE-M")] == 1 and ("#3101", "MUG-BLUE") not in expected
    assert _core(settings, "web", "#31%") == expected
    # raw keeps both versions of #3101; the dropped line is named, and the report counts it
    assert rows(settings, "SELECT source_file, count(*) FROM raw.order_lines WHERE order_id = "
                          "'#3101' GROUP BY 1 ORDER BY 1") == [
        (f"orders/web/{FIRST}", 3), (f"orders/web/{SECOND}", 2)]
    (message,) = rows(settings, "SELECT source_file, message FROM ops.ingest_messages "
                                "WHERE rule = 'superseded_by_later_export'")
    assert message[0] == f"orders/web/{SECOND}"
    assert "1 line(s)" in message[1] and FIRST in message[1] and "#3101" in message[1]
    assert report.lines_superseded == 1
    # what `shelfwise ingest` and `shelfwise run` print after the batch
    assert "Order lines superseded: 1 order line(s)" in superseded_summary(settings.warehouse_path)


def test_between_equal_versions_the_export_landed_last_owns_the_order(tmp_path):
    """When the two exports show the order in the same state (the same latest time), the one
    landed last owns it, whatever its name: Shopify names every export orders_export_1.csv,
    so a name cannot order them."""
    settings = make_home(tmp_path)
    folder = settings.inbox / "orders" / "web"
    shutil.copy(SHOPIFY / SECOND, folder / SECOND)
    ingest(settings)
    shutil.copy(SHOPIFY / FIRST, folder / FIRST)
    ingest(settings)
    expected = _expected_shopify([SHOPIFY / SECOND, SHOPIFY / FIRST])
    assert _core(settings, "web", "#3101") == {k: q for k, q in expected.items() if k[0] == "#3101"}
    assert ("#3101", "MUG-BLUE") in expected


# whole-order exports: every file carries every line of each order it lists (docs/formats.md)
WHOLE_ORDERS = {"shopify_orders", "amazon_orders", "ebay_orders", "etsy_orders",
                "woocommerce_orders"}


def _dated(adapter, day: str) -> str:
    glob = adapter.file_globs[0]
    return glob.replace("[0-9]", "").replace("*", day) if adapter.name != "online_retail_invoices" \
        else f"{day}.csv"


@pytest.mark.parametrize(
    "adapter", [a for a in CHANNEL_ADAPTERS if a.write is not None], ids=lambda a: a.name)
def test_each_channel_decides_whether_a_later_export_owns_the_order(tmp_path, adapter):
    """Order 1001 (3 lines) exported again the next day with its 2nd line gone and the 3rd
    line's quantity 3 -> 1. Whole-order formats drop the 2nd line; the others (a Square sale
    is final, a B2B PO line is cancelled by status, an invoice is never edited) keep it. No
    format counts a line twice."""
    settings = make_home(tmp_path)
    write(settings.inbox / "products" / "more.csv", "sku,name,case_pack,moq,is_bundle\n"
          "TBL-OAK,Oak table,1,1,false\nSCARF-W,Wool scarf,1,1,false\nLAMP-1,Lamp,1,1,false\n")
    export = helpers.make_export_rows().filter(pl.col("order_id") == "1001")
    edited = export.filter(pl.col("channel_sku") != "TBL-OAK").with_columns(
        quantity=pl.when(pl.col("channel_sku") == "SCARF-W").then(1).otherwise("quantity"),
    ).with_columns(line_amount=pl.col("quantity") * pl.col("unit_price"))
    folder = settings.inbox / "orders" / "shop"
    folder.mkdir(parents=True)
    adapter.write(export, folder / _dated(adapter, "2024-03-06"))
    ingest(settings)
    adapter.write(edited, folder / _dated(adapter, "2024-03-07"))
    report = ingest(settings)
    assert [f.rows_loaded for f in report.files] == [edited.height]
    got = {s: q for (_, s), q in _core(settings, "shop").items()}
    if adapter.name in WHOLE_ORDERS:
        assert got == {"MUG-RED": 2, "SCARF-W": 1}
        assert report.lines_superseded == 1
    else:
        assert got == {"MUG-RED": 2, "TBL-OAK": 1, "SCARF-W": 1}
        assert report.lines_superseded == 0


def test_shelfwise_ingest_prints_how_many_lines_a_later_export_left_out(tmp_path, monkeypatch):
    settings = make_home(tmp_path, None)  # the two exports alone: reference checks are skipped
    # the command points DAGSTER_HOME at the home: give the variables back afterwards
    monkeypatch.setenv("DAGSTER_HOME", str(settings.dagster_home))
    monkeypatch.setenv("SHELFWISE_HOME", str(settings.home))
    folder = settings.inbox / "orders" / "web"
    outputs = []
    for name in (FIRST, SECOND):
        write(folder / name, (SHOPIFY / name).read_bytes())
        result = CliRunner().invoke(main, ["--home", str(settings.home), "ingest"])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert "superseded" not in outputs[0]
    assert "Order lines superseded: 1 order line(s)" in outputs[1]
    assert f"orders/web/{SECOND}" in outputs[1] and "#3101" in outputs[1]
