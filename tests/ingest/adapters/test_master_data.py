"""Master data from the channels' catalogue exports: Shopify products export and Etsy
listings download → core.products. Expected rows written by hand from the fixtures."""

import polars as pl
from conftest import FIXTURES, assert_accounted, read_and_map

from assets.ingest.adapters import ADAPTERS, etsy_listings, shopify_products
from assets.model import ENTITIES

COLUMNS = ["sku", "name", "category", "unit_cost", "list_price", "price_currency",
           "case_pack", "moq", "is_bundle"]


def test_shopify_variants_become_products():
    mapped, read = read_and_map(FIXTURES / "shopify" / "products_export_1.csv",
                                shopify_products.ADAPTER)
    assert_accounted(mapped, read)
    assert mapped.rows.columns == [*ENTITIES["products"].column_names, "source_line"]
    assert mapped.rows.select(COLUMNS).rows() == [
        ("TEE-BLK-S", "Crew Tee - Black / S", "Shirts", 6.0, 15.0, None, 1, 1, False),
        ("TEE-BLK-M", "Crew Tee - Black / M", "Shirts", 6.0, 15.0, None, 1, 1, False),
        # no SKU: the key the shop's order lines get (Lineitem name "Crew Tee - White / S")
        ("name:crew tee - white / s", "Crew Tee - White / S", "Shirts", None, 16.5, None, 1, 1,
         False),
        ("MUG-RED", "Red mug", "Mugs", 3.2, 10.0, None, 1, 1, False),  # "Default Title"
    ]
    assert dict(mapped.rejects.select("source_line", "rule").iter_rows()) == {
        5: "image_row", 7: "image_row", 8: "gift_card_product"}
    assert set(mapped.rejects["rule"]) <= set(shopify_products.ADAPTER.skip_rules)


def test_etsy_listings_become_products_one_per_variation_sku():
    mapped, read = read_and_map(FIXTURES / "etsy" / "EtsyListingsDownload.csv",
                                etsy_listings.ADAPTER)
    assert read == 3
    assert mapped.rows.select(COLUMNS).rows() == [
        ("MUG-SPK", "Hand-thrown mug, speckled", None, None, 20.0, "USD", 1, 1, False),
        ("COAST-OAK", "Oak coaster set - Oak", None, None, 12.0, "USD", 1, 1, False),
        ("COAST-WAL", "Oak coaster set - Walnut", None, None, 12.0, "USD", 1, 1, False),
    ]
    # one record, two products: both come from line 4
    assert mapped.rows["source_line"].to_list() == [2, 4, 4]
    rejects = mapped.rejects.to_dicts()
    assert [(r["source_line"], r["rule"]) for r in rejects] == [(5, "listing_without_sku")]
    assert "'Seasonal sticker'" in rejects[0]["message"]


def test_the_engine_picks_the_catalogue_adapters_in_the_products_folder(tmp_path):
    from pathlib import Path, PurePosixPath

    from assets.ingest.engine import pick_adapter

    for src, name in ((FIXTURES / "shopify" / "products_export_1.csv", "shopify_products"),
                      (FIXTURES / "etsy" / "EtsyListingsDownload.csv", "etsy_listings")):
        rel = PurePosixPath("products") / src.name
        assert pick_adapter(Path(src), rel, ADAPTERS).name == name
    assert pl.Series([a.name for a in ADAPTERS]).is_unique().all()
