"""Shopify and Etsy exports through the whole ingestion (engine, contract, merge): stable
line keys across an order edit, skipped non-product lines in the accounting, a line without
SKU mapped by a channel listing, identity under the UK wording. Checked with plain SQL."""

from __future__ import annotations

from ingest_testkit import CHANNEL_SAMPLES, ingest, make_home, rows, write

SHOPIFY = CHANNEL_SAMPLES / "shopify"
ETSY = CHANNEL_SAMPLES / "etsy"
PRODUCTS_HEADER = "sku,name,case_pack,moq,is_bundle\n"
SKUS = ("MUG-RED", "MUG-BLUE", "MUG-GREEN", "SCARF-W", "LAMP-1", "NAP-LIN", "TEE-BLK-S")


def _lines(settings, order_id):
    return rows(
        settings,
        "SELECT line_id, sku, quantity, status FROM core.order_lines WHERE order_id = ? "
        "ORDER BY line_id",
        [order_id],
    )


def test_an_order_edit_removes_its_line_and_the_others_keep_their_keys(tmp_path):
    settings = make_home(tmp_path, None)
    target = settings.inbox / "orders" / "web" / "orders_export_1.csv"
    write(target, (SHOPIFY / "edit" / "v1" / "orders_export_1.csv").read_bytes())
    ingest(settings)
    assert _lines(settings, "#3001") == [
        ("MUG-BLUE", "MUG-BLUE", 2, "paid"),
        ("MUG-GREEN", "MUG-GREEN", 3, "paid"),
        ("MUG-RED", "MUG-RED", 1, "paid"),
    ]
    # Shopify names every export orders_export_1.csv: the edited order's export replaces it
    write(target, (SHOPIFY / "edit" / "v2" / "orders_export_1.csv").read_bytes())
    ingest(settings)
    assert _lines(settings, "#3001") == [
        ("MUG-GREEN", "MUG-GREEN", 3, "paid"),
        ("MUG-RED", "MUG-RED", 1, "paid"),
    ]


def test_every_file_accounts_for_its_records_and_tips_are_skipped(tmp_path):
    settings = make_home(tmp_path, None)
    for path in (SHOPIFY / "orders_export_2024-03-04.csv",):
        write(settings.inbox / "orders" / "web" / path.name, path.read_bytes())
    for path in (ETSY / "EtsySoldOrderItems2024-4.csv", ETSY / "EtsySoldOrderItems2024-5.csv"):
        write(settings.inbox / "orders" / "etsy" / path.name, path.read_bytes())
    ingest(settings)
    files = rows(
        settings,
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined, rows_skipped "
        "FROM ops.ingested_files ORDER BY source_file",
    )
    assert files == [
        ("orders/etsy/EtsySoldOrderItems2024-4.csv", 5, 5, 0, 0),
        ("orders/etsy/EtsySoldOrderItems2024-5.csv", 3, 3, 0, 0),
        ("orders/web/orders_export_2024-03-04.csv", 15, 12, 0, 3),
    ]
    # revenue per order: the lines sum to what the customer paid for the goods
    totals = dict(rows(
        settings,
        "SELECT order_id, round(sum(line_amount), 2) FROM core.order_lines "
        "WHERE status <> 'cancelled' GROUP BY order_id",
    ))
    assert totals["#2001"] == 20.0 and totals["#2002"] == 0.0 and totals["#2007"] == 24.9
    assert totals["3300000002"] == 40.0 and totals["3400000001"] == 27.0


def test_a_line_without_sku_maps_through_a_listing_or_says_which_row_to_add(tmp_path):
    settings = make_home(tmp_path, None)
    write(settings.inbox / "products" / "products.csv",
          PRODUCTS_HEADER + "".join(f"{s},{s.title()},1,1,false\n" for s in SKUS))
    write(settings.inbox / "orders" / "web" / "orders_export_2024-03-04.csv",
          (SHOPIFY / "orders_export_2024-03-04.csv").read_bytes())
    ingest(settings)
    quarantined = rows(settings, "SELECT source_line, rule, message FROM quarantine.rows")
    assert [(line, rule) for line, rule, _ in quarantined] == [(8, "unknown_sku")]
    message = quarantined[0][2]
    assert "'name:crew tee - black / s'" in message
    assert "'web,name:crew tee - black / s,<your SKU>,<YYYY-MM-DD>'" in message

    write(settings.inbox / "channel_listings" / "listings.csv",
          "channel_id,channel_sku,sku,as_of\nweb,name:crew tee - black / s,TEE-BLK-S,2024-03-01\n")
    # the export of the next day lists the order again: now the listing maps it
    write(settings.inbox / "orders" / "web" / "orders_export_2024-03-05.csv",
          (SHOPIFY / "orders_export_2024-03-04.csv").read_bytes())
    ingest(settings)
    assert rows(
        settings,
        "SELECT line_id, channel_sku, sku, line_amount FROM core.order_lines "
        "WHERE order_id = '#2005'",
    ) == [("name:crew tee - black / s", "name:crew tee - black / s", "TEE-BLK-S", 30.0)]


def test_uk_etsy_identity_never_lands(tmp_path):
    settings = make_home(tmp_path, None)
    text = (ETSY / "EtsySoldOrderItems2024-5.csv").read_text(encoding="utf-8")
    # a bad quantity sends the UK row (with its Delivery Name and street) to quarantine
    text = text.replace("Gus Example (gusexample),3,", "Gus Example (gusexample),three,", 1)
    write(settings.inbox / "orders" / "etsy" / "EtsySoldOrderItems2024-5.csv", text)
    ingest(settings)
    assert rows(settings, "SELECT count(*) FROM quarantine.rows") == [(1,)]
    dumped = " ".join(
        str(v) for r in rows(settings, "SELECT * FROM quarantine.rows") for v in r
    ) + " ".join(str(v) for r in rows(settings, "SELECT * FROM raw.order_lines") for v in r)
    for secret in ("Gus Example", "7 Test Mews", "SW1A 1AA", "Hana Invented", "1 Demo Parade"):
        assert secret not in dumped


def test_catalogue_exports_land_as_products_with_skips_counted(tmp_path):
    settings = make_home(tmp_path, None)
    write(settings.inbox / "products" / "products_export_1.csv",
          (SHOPIFY / "products_export_1.csv").read_bytes())
    write(settings.inbox / "products" / "EtsyListingsDownload.csv",
          (ETSY / "EtsyListingsDownload.csv").read_bytes())
    ingest(settings)
    assert rows(
        settings,
        "SELECT source_file, rows_read, rows_loaded, rows_quarantined, rows_skipped "
        "FROM ops.ingested_files ORDER BY source_file",
    ) == [("products/EtsyListingsDownload.csv", 3, 2, 0, 1),
          ("products/products_export_1.csv", 7, 4, 0, 3)]
    assert rows(settings, "SELECT sku, case_pack, moq FROM core.products ORDER BY sku") == [
        ("COAST-OAK", 1, 1), ("COAST-WAL", 1, 1), ("MUG-RED", 1, 1), ("MUG-SPK", 1, 1),
        ("TEE-BLK-M", 1, 1), ("TEE-BLK-S", 1, 1), ("name:crew tee - white / s", 1, 1),
    ]
