"""The demo generator: determinism, layout, contracts, referential sanity, realism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.model import ENTITIES
from pipelines.generate import generate_demo, run_simulation
from pipelines.generate.catalog import DEMAND_CLASSES

TINY = dict(skus=40, warehouses=2, channels=3, days=60)
# with every channel (the store and B2B included) and enough days for all demand classes
SMALL = dict(skus=120, warehouses=3, channels=6, days=150)

CANONICAL_FOLDERS = {
    "products": "products", "bundle_components": "bundle_components",
    "suppliers": "suppliers", "locations": "locations", "channels": "channels",
    "channel_locations": "channel_locations", "fx_rates": "fx_rates",
    "channel_listings": "channel_listings", "fulfillment_events": "fulfillment_events",
    "returns": "returns", "stock_snapshots": "stock_snapshots",
    "stock_adjustments": "stock_adjustments", "purchase_orders": "purchase_orders",
    "receipts": "receipts",
}
PII_COLUMNS = ("customer_name", "customer_email", "ship_address1", "ship_city",
               "ship_postal_code", "customer_id")


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("tiny") / "inbox"
    return out, generate_demo(out, seed=7, **TINY)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("small") / "inbox"
    return out, generate_demo(out, seed=11, **SMALL)


@pytest.fixture(scope="module")
def small_sim():
    sim, _ = run_simulation(seed=11, **SMALL)
    return sim


def _read(folder: Path) -> pl.DataFrame:
    files = sorted(folder.rglob("*.csv"))
    return pl.concat([pl.read_csv(f, infer_schema=False) for f in files], how="diagonal")


def test_same_seed_same_bytes_other_seed_other_bytes(tiny, tmp_path):
    out, _ = tiny
    again = tmp_path / "again" / "inbox"
    generate_demo(again, seed=7, **TINY)
    first, second = _digests(out), _digests(again)
    assert first == second
    other = tmp_path / "other" / "inbox"
    generate_demo(other, seed=8, **TINY)
    third = _digests(other)
    changed = [k for k in first if third.get(k) != first[k]]
    assert len(changed) > 0.9 * len(first)


def test_every_entity_and_channel_has_files(tiny):
    out, summary = tiny
    for folder in CANONICAL_FOLDERS.values():
        assert list((out / folder).rglob("*.csv")), folder
    for channel in ("webshop", "amazon_de", "ebay_uk"):
        assert len(list((out / "orders" / channel).iterdir())) >= TINY["days"] - 5, channel
        assert list((out / "channel_listings" / channel).glob("listings_*.csv"))
    assert not (out / "orders" / "etsy").exists()  # three channels: a prefix of the list
    for loc in ("wh_berlin", "wh_rotterdam"):
        assert len(list((out / "stock_snapshots" / loc).glob("stock_*.csv"))) == TINY["days"]
    assert summary.files == sum(1 for p in out.rglob("*") if p.is_file())
    assert "order_lines" in summary.format()
    # no half-written temporary files are left behind, and the truth stays outside
    assert not list(out.rglob(".*.part"))
    assert (out.parent / "generator_truth" / "demand.parquet").exists()
    assert not list(out.rglob("*.parquet"))


def test_canonical_files_have_required_columns_in_model_order(tiny):
    out, _ = tiny
    for entity, folder in CANONICAL_FOLDERS.items():
        spec = ENTITIES[entity]
        required = [c.name for c in spec.columns if c.required]
        for f in sorted((out / folder).rglob("*.csv"))[:20]:
            header = f.read_text().splitlines()[0].split(",")
            assert set(required) <= set(header), (f, set(required) - set(header))
            assert header == [c for c in spec.column_names if c in header], f


def test_canonical_values_follow_the_format(tiny):
    out, _ = tiny
    snap = _read(out / "stock_snapshots")
    assert snap["counted"].is_in(["true", "false"]).all()
    assert snap["counted_at"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    assert snap["snapshot_date"].str.contains(r"^\d{4}-\d\d-\d\d$").all()
    assert (snap["on_hand"].cast(pl.Int64) >= 0).all()
    fx = _read(out / "fx_rates")
    assert set(fx["currency"]) == {"EUR", "GBP", "USD", "CNY"}
    assert fx.height == 4 * TINY["days"]


def test_no_pii_outside_channel_native_files(tiny):
    out, _ = tiny
    emails = pl.concat([pl.read_csv(f, infer_schema=False).select(pl.all().cast(pl.String))
                        .unpivot().get_column("value")
                        for f in sorted(out.rglob("*.csv"))
                        if "orders" not in f.relative_to(out).parts])
    assert not emails.drop_nulls().str.contains("@").any()
    for f in out.rglob("*.csv"):
        if "orders" in f.relative_to(out).parts:
            continue
        header = f.read_text().splitlines()[0].split(",")
        assert not set(PII_COLUMNS) & set(header), f
    # fallback canonical order files (channels without an adapter) carry no identity either
    for f in out.glob("orders/*/*.canonical.csv"):
        header = f.read_text().splitlines()[0].split(",")
        assert not set(PII_COLUMNS) & set(header), f


def test_references_resolve(small):
    out, _ = small
    skus = set(pl.read_csv(out / "products" / "products.csv")["sku"])
    for folder in ("stock_snapshots", "fulfillment_events", "returns", "stock_adjustments",
                   "purchase_orders", "receipts", "channel_listings"):
        assert set(_read(out / folder)["sku"]) <= skus, folder
    comps = pl.read_csv(out / "bundle_components" / "bundle_components.csv")
    assert set(comps["bundle_sku"]) | set(comps["component_sku"]) <= skus
    pos = _read(out / "purchase_orders")
    rec = _read(out / "receipts")
    assert set(rec["po_number"]) <= set(pos["po_number"])
    assert set(zip(rec["po_number"], rec["sku"])) <= set(zip(pos["po_number"], pos["sku"]))
    locs = set(pl.read_csv(out / "locations" / "locations.csv")["location_id"])
    assert set(_read(out / "fulfillment_events")["location_id"]) <= locs
    # a transfer leaves one location and enters another under the same reference
    adj = _read(out / "stock_adjustments").filter(pl.col("reference").is_not_null())
    pairs = adj.group_by("reference").agg(pl.col("reason").sort(), pl.col("quantity")
                                          .cast(pl.Int64).sum())
    assert pairs["reason"].to_list() == [["transfer_in", "transfer_out"]] * pairs.height
    assert (pairs["quantity"] == 0).all()


def test_orders_evolve_across_exports(small):
    """One order line appears in several daily exports with a later status each time."""
    out, _ = small
    folder = out / "orders" / "webshop"
    files = sorted(folder.iterdir())
    assert files
    if files[0].name.endswith(".canonical.csv"):
        lines = _read(folder)
        per_line = lines.group_by("order_id", "line_id").agg(pl.col("status").n_unique())
        assert (per_line["status"] > 1).mean() > 0.5
        assert set(lines["sku"]) <= set(pl.read_csv(out / "products" / "products.csv")["sku"])
    else:  # native Shopify export: an order number shows up in more than one file
        seen = pl.concat([pl.read_csv(f, infer_schema=False).select("Name").unique()
                          for f in files])
        assert (seen.group_by("Name").len()["len"] > 1).mean() > 0.5


def test_stock_is_conserved_and_never_negative(small_sim):
    sim = small_sim
    L = sim.ledger
    expected = (L["initial"] + L["received"] + L["returned"] - L["shipped"] + L["adjusted"]
                - L["hidden_loss"])
    assert np.array_equal(expected, L["final"])
    assert sim.stock.min() >= 0
    assert L["hidden_loss"].sum() > 0 and L["received"].sum() > 0 and L["returned"].sum() > 0


def test_snapshots_reconcile_with_the_day_movements(small):
    """On days without a count, yesterday's system stock + receipts − shipments + resellable
    returns ± adjustments == today's system stock, from the inbox files alone."""
    out, _ = small
    snap = _read(out / "stock_snapshots").with_columns(
        pl.col("snapshot_date").str.to_date(), pl.col("on_hand").cast(pl.Int64))
    comps = pl.read_csv(out / "bundle_components" / "bundle_components.csv")

    def daily(frame, ts, qty, sign=1):
        return frame.select(
            pl.col(ts).str.slice(0, 10).str.to_date().alias("snapshot_date"), "location_id",
            "sku", (pl.col(qty).cast(pl.Int64) * sign).alias("move"))

    ship = _read(out / "fulfillment_events").filter(pl.col("event_type") == "shipped")
    ship = daily(ship, "event_at", "quantity", -1)
    # kits leave stock as their components
    ship = ship.join(comps, left_on="sku", right_on="bundle_sku", how="left").select(
        "snapshot_date", "location_id",
        pl.coalesce("component_sku", "sku").alias("sku"),
        pl.col("move") * pl.col("units_per_bundle").fill_null(1))
    ret = _read(out / "returns").filter(pl.col("resellable") == "true")
    ret = daily(ret, "received_at", "quantity").join(
        comps, left_on="sku", right_on="bundle_sku", how="left").select(
        "snapshot_date", "location_id", pl.coalesce("component_sku", "sku").alias("sku"),
        pl.col("move") * pl.col("units_per_bundle").fill_null(1))
    moves = pl.concat([
        daily(_read(out / "receipts"), "received_at", "quantity_received"),
        ship, ret, daily(_read(out / "stock_adjustments"), "adjusted_at", "quantity"),
    ]).group_by("snapshot_date", "location_id", "sku").agg(pl.col("move").sum())
    prev = snap.with_columns(pl.col("snapshot_date") + pl.duration(days=1)).select(
        "snapshot_date", "location_id", "sku", prev=pl.col("on_hand"),
        prev_counted=pl.col("counted"))
    check = (snap.join(prev, on=["snapshot_date", "location_id", "sku"])
             .join(moves, on=["snapshot_date", "location_id", "sku"], how="left")
             .filter((pl.col("counted") == "false") & (pl.col("prev_counted") == "false"))
             .with_columns(pl.col("move").fill_null(0)))
    assert check.height > 1000
    bad = check.filter(pl.col("prev") + pl.col("move") != pl.col("on_hand"))
    assert bad.height == 0, bad.head()


def test_stockouts_and_all_demand_classes_occur(small, small_sim):
    out, summary = small
    snap = _read(out / "stock_snapshots")
    assert (snap["on_hand"].cast(pl.Int64) == 0).sum() > 0
    assert 0 < summary.lost_share < 0.2
    truth = pl.read_parquet(out.parent / "generator_truth" / "demand.parquet")
    assert truth["lost_units"].sum() > 0
    # Syntetos–Boylan classes measured on true daily demand over each SKU's active days
    sim = small_sim
    cat = sim.cat
    found = set()
    for p in range(cat.n_prod):
        lo, hi = max(0, cat.launch_day[p]), min(cat.days, cat.discontinue_day[p])
        x = sim.truth_demand[lo:hi, p]
        nz = x[x > 0]
        if len(nz) < 3:
            continue
        adi, cv2 = len(x) / len(nz), (nz.std() / nz.mean()) ** 2
        found.add(("smooth" if cv2 < 0.49 else "erratic") if adi < 1.32
                  else ("intermittent" if cv2 < 0.49 else "lumpy"))
    assert found == set(DEMAND_CLASSES)


def test_returns_lifecycle_and_late_suppliers(small, small_sim):
    out, _ = small
    ret = _read(out / "returns")
    assert set(ret["condition"].drop_nulls()) <= {"resellable", "damaged", "defective",
                                                   "missing"}
    assert ret["reason"].n_unique() >= 4
    assert ret.group_by("rma_id").len()["len"].max() == 2  # requested, then received
    # never two versions of one RMA in one file (the engine would call that a conflict)
    for f in sorted((out / "returns").glob("*.csv")):
        day = pl.read_csv(f, infer_schema=False)
        assert day["rma_id"].n_unique() == day.height, f
    pos = _read(out / "purchase_orders").filter(pl.col("status") == "closed")
    late = pos.filter(pl.col("updated_at").str.slice(0, 10) > pl.col("expected_at"))
    assert 0 < late.height < pos.height
    po, rc = small_sim.po_lines, small_sim.receipts
    assert (rc["qty"] > 0).all()
    received = np.bincount(rc["po_line"], weights=rc["qty"], minlength=len(po["qty"]))
    assert (received < po["qty"]).any()  # some POs arrive short


def test_bad_knobs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="channels"):
        generate_demo(tmp_path / "x", channels=7, skus=40, days=30)
    with pytest.raises(ValueError, match="days"):
        generate_demo(tmp_path / "x", skus=40, days=3)


def test_every_order_line_uses_a_listing_of_its_own_product(small_sim):
    """Each simulated line's listing row (its channel SKU) belongs to the line's channel and
    product, on every channel: the order exports, listing files and returns then agree."""
    cs = small_sim.cat.channel_skus
    ln = small_sim.lines
    listed = cs.select(pl.col("channel").gather(ln["listing"]), pl.col("product").gather(
        ln["listing"]))
    wrong = (listed["channel"].to_numpy() != ln["chan"]) | (
        listed["product"].to_numpy() != ln["prod"])
    assert wrong.sum() == 0, f"{wrong.sum()} of {len(wrong)} lines name another product's listing"


# per channel folder: how its order export is read, its order id and channel SKU columns
ORDER_EXPORTS = {
    "webshop": ("*.csv", "", "Name", "Lineitem sku"),
    "amazon_de": ("*.txt", ", delim='\t'", "amazon-order-id", "sku"),
    "ebay_uk": ("*.csv", ", skip=1", "Order Number", "Custom Label"),
    "etsy": ("*.csv", "", "Order ID", "SKU"),
    "stores": ("*.csv", "", "Transaction ID", "SKU"),
    "b2b": ("*.csv", "", "PO Number", "Vendor Item Number"),
}


def test_order_exports_listings_and_returns_name_one_product(small):
    """Read the inbox as a merchant would (plain DuckDB over the files): every channel SKU
    maps to one SKU in the listing files; every order line with a channel SKU maps to a SKU
    that its order's shipments carry; every returned SKU is one its order's lines map to."""
    import duckdb

    out, _ = small
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE listing AS SELECT DISTINCT channel_id, channel_sku, sku
        FROM read_csv('{out}/channel_listings/*/*.csv', all_varchar=true)""")
    ambiguous = con.execute("""SELECT channel_id, channel_sku FROM listing
        GROUP BY ALL HAVING count(*) > 1""").fetchall()
    assert ambiguous == []
    parts = []
    for channel, (pattern, options, order_col, sku_col) in ORDER_EXPORTS.items():
        parts.append(f"""SELECT DISTINCT '{channel}' AS channel_id, "{order_col}" AS order_id,
            "{sku_col}" AS channel_sku FROM read_csv('{out}/orders/{channel}/{pattern}',
            all_varchar=true, union_by_name=true{options})""")
    con.execute("CREATE TABLE line AS " + " UNION ALL ".join(parts))
    assert con.execute("SELECT count(DISTINCT channel_id) FROM line").fetchone()[0] == 6
    con.execute(f"""CREATE TABLE shipped AS SELECT DISTINCT channel_id, order_id, sku
        FROM read_csv('{out}/fulfillment_events/*/*.csv', all_varchar=true)""")
    con.execute(f"""CREATE TABLE returned AS SELECT DISTINCT channel_id, order_id, sku
        FROM read_csv('{out}/returns/*.csv', all_varchar=true)""")
    con.execute("""CREATE TABLE mapped AS SELECT l.channel_id, l.order_id, m.sku
        FROM line l JOIN listing m USING (channel_id, channel_sku)""")
    not_shipped = con.execute("""
        SELECT channel_id, count(*) FROM mapped m
        WHERE (channel_id, order_id) IN (SELECT (channel_id, order_id) FROM shipped)
          AND (channel_id, order_id, sku) NOT IN (SELECT (channel_id, order_id, sku)
                                                  FROM shipped)
        GROUP BY ALL ORDER BY 1""").fetchall()
    # an order with a line the listings cannot key (no channel SKU) is left out here
    not_sold = con.execute("""
        SELECT channel_id, count(*) FROM returned r
        WHERE NOT EXISTS (SELECT 1 FROM line l
                          WHERE l.channel_id = r.channel_id AND l.order_id = r.order_id
                            AND (l.channel_sku IS NULL
                             OR l.channel_sku NOT IN (SELECT channel_sku FROM listing m
                                                      WHERE m.channel_id = l.channel_id)))
          AND (channel_id, order_id, sku) NOT IN (SELECT (channel_id, order_id, sku)
                                                  FROM mapped)
        GROUP BY ALL ORDER BY 1""").fetchall()
    assert not_shipped == [] and not_sold == []
    checked = con.execute("SELECT count(*) FROM mapped").fetchone()[0]
    assert checked > 1000


@pytest.mark.parametrize("warehouses, channels", [(3, 2), (5, 3)])
def test_every_warehouse_stocks_something_whatever_the_channels(tmp_path, warehouses, channels):
    """`demo --channels 2` (3 warehouses: no channel named the third) and 4+ warehouses used to
    crash on an empty, untyped stock frame."""
    out = tmp_path / "inbox"
    generate_demo(out, seed=3, skus=16, warehouses=warehouses, channels=channels, days=20)
    snapshots = pl.read_csv(sorted((out / "stock_snapshots").rglob("*.csv")), infer_schema=False)
    assert snapshots["location_id"].n_unique() == warehouses
