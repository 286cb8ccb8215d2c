"""Line keys and fallback SKU keys of the Square, eBay and Amazon exports, through the engine.

Expected rows are written by hand from the fixtures (data/samples/channels/*/README.md),
and read back with plain SQL over core and quarantine.
"""

from __future__ import annotations

import pytest
from ingest_testkit import CHANNEL_SAMPLES, ingest, make_home, rows, write

CHANNELS = CHANNEL_SAMPLES
SQUARE = CHANNELS / "pos" / "items-2024-06-01-2024-06-02.csv"
EBAY = CHANNELS / "ebay" / "eBay-OrdersReport-2024-05-06.csv"
AMAZON = CHANNELS / "amazon" / "All-Orders-Report_2024-06-01.txt"
LISTINGS_HEADER = "channel_id,channel_sku,sku,listed_quantity,listing_status,as_of\n"


def _counts(settings, name: str) -> tuple:
    return rows(settings, "SELECT rows_read, rows_loaded, rows_quarantined, rows_skipped "
                          "FROM ops.ingested_files WHERE source_file = ? AND status <> 'replaced'",
                [name])[0]


def test_square_items_without_sku_map_through_a_listing(tmp_path):
    settings = make_home(tmp_path)
    write(settings.inbox / "channel_listings" / "stores.csv", LISTINGS_HEADER
          + "stores,item:Latte|Large,MUG-BLUE,20,active,2024-06-01\n"
          + "stores,SCARF-W,TEE-M,5,active,2024-06-01\n")
    name = f"orders/stores/{SQUARE.name}"
    write(settings.inbox / name, SQUARE.read_bytes())
    ingest(settings)
    assert rows(settings, "SELECT order_id, line_id, channel_sku, sku, quantity, line_amount "
                          "FROM core.order_lines WHERE channel_id = 'stores' ORDER BY line_id") == [
        ("Tx7Qm2Lw9Zr4Ab1Cd", "MUG-RED#1", "MUG-RED", "MUG-RED", 2, 22.5),
        ("Tx8Rn3Mx0As5Bc2De", "SCARF-W#1", "SCARF-W", "TEE-M", 1, 19.99),
        ("Tx7Qm2Lw9Zr4Ab1Cd", "item:Latte|Large#1", "item:Latte|Large", "MUG-BLUE", 1, 5.25),
        ("Tx7Qm2Lw9Zr4Ab1Cd", "item:Latte|Large#2", "item:Latte|Large", "MUG-BLUE", 1, 5.25),
    ]
    # 8 records: 4 loaded, the unknown zone and the refund quarantined, void and custom
    # amount skipped
    assert _counts(settings, name) == (8, 4, 2, 2)
    assert rows(settings, "SELECT source_line, rule FROM quarantine.rows WHERE source_file = ? "
                          "ORDER BY 1", [name]) == [(8, "unknown_time_zone"),
                                                     (9, "refund_not_demand")]


def test_an_unmapped_fallback_key_names_the_listing_row_to_add(tmp_path):
    settings = make_home(tmp_path)
    name = f"orders/stores/{SQUARE.name}"
    write(settings.inbox / name, SQUARE.read_bytes())
    ingest(settings)
    found = rows(settings, "SELECT source_line, rule, message FROM quarantine.rows "
                           "WHERE source_file = ? AND rule = 'unknown_sku' ORDER BY 1", [name])
    assert [(line, rule) for line, rule, _ in found] == [
        (3, "unknown_sku"), (4, "unknown_sku"), (7, "unknown_sku")]
    latte = found[0][2]
    assert "'item:Latte|Large'" in latte
    assert "'stores,item:Latte|Large,<your SKU>,<YYYY-MM-DD>'" in latte and "inbox/channel_listings/" in latte


def test_an_ebay_key_with_a_comma_is_quoted_in_the_listing_row(tmp_path):
    settings = make_home(tmp_path)
    name = f"orders/ebay/{EBAY.name}"
    write(settings.inbox / name, EBAY.read_bytes())
    ingest(settings)
    (message,) = rows(settings, "SELECT message FROM quarantine.rows WHERE source_file = ? "
                                "AND source_line = 7", [name])[0]
    assert ("'ebay,\"item:256000000003|[Colour: Red, Size: M]\",<your SKU>,<YYYY-MM-DD>'") in message


# a corrected export (same file name) without one of its lines: the line leaves core, the
# others keep their keys and SKUs
CASES = {
    "square": (SQUARE, "stores", 3, [  # the first of two lattes removed
        ("Tx7Qm2Lw9Zr4Ab1Cd", "MUG-RED#1", "MUG-RED"),
        ("Tx7Qm2Lw9Zr4Ab1Cd", "item:Latte|Large#1", "item:Latte|Large"),
        ("Tx8Rn3Mx0As5Bc2De", "SCARF-W#1", "SCARF-W"),
    ]),
    "ebay": (EBAY, "ebay", 6, [  # the oak table removed from the three-item order
        ("05-11111-00001", "256000000001-2300000000011", "TOWEL-LIN"),
        ("05-11111-00002", "2300000000023", "LAMP-1"),
        ("05-11111-00002", "256000000003-2300000000022",
         "item:256000000003|[Colour: Red, Size: M]"),
        ("05-11111-00003", "256000000004-0", "item:256000000004"),
    ]),
    "amazon": (AMAZON, "amz", 2, [  # the tea towel removed
        ("202-1234567-7654321", "asin:B0TESTTIN2", "asin:B0TESTTIN2"),
        ("202-2222222-3333333", "MUG-RED", "MUG-RED"),
        ("202-2222222-3333333", "MUG-RED#2", "MUG-RED"),
    ]),
}


@pytest.mark.parametrize("case", CASES)
def test_a_line_removed_from_a_corrected_export_leaves_no_phantom(case, tmp_path):
    src, channel, drop_line, expected = CASES[case]
    settings = make_home(tmp_path, inbox_from=None)  # no master data: SKUs not checked
    path = settings.inbox / "orders" / channel / src.name
    write(path, src.read_bytes())
    ingest(settings)
    before = rows(settings, "SELECT count(*) FROM core.order_lines")[0][0]
    newline = b"\r\n" if b"\r\n" in src.read_bytes() else b"\n"
    physical = src.read_bytes().split(newline)
    del physical[drop_line - 1]
    write(path, newline.join(physical))
    ingest(settings)
    got = rows(settings, "SELECT order_id, line_id, sku FROM core.order_lines ORDER BY ALL")
    assert got == sorted(expected)
    assert len(got) == before - 1


def test_every_square_ebay_amazon_fixture_balances_in_the_manifest(tmp_path):
    """read = loaded + quarantined + skipped for every committed fixture of these channels."""
    settings = make_home(tmp_path)
    folders = {"pos": "stores", "ebay": "ebay", "amazon": "amz"}
    names = []
    for sub, channel in folders.items():
        for src in sorted((CHANNELS / sub).iterdir()):
            if src.suffix in (".csv", ".txt"):
                name = f"orders/{channel}/{src.name}"
                write(settings.inbox / name, src.read_bytes())
                names.append(name)
    ingest(settings)
    got = rows(settings, "SELECT source_file, rows_read, rows_loaded + rows_quarantined + "
                         "rows_skipped FROM ops.ingested_files WHERE source_file LIKE 'orders/%' "
                         "AND source_file NOT LIKE '%canonical%' ORDER BY 1")
    assert [g[0] for g in got] == sorted(names)
    assert all(read == accounted and read > 0 for _, read, accounted in got), got
