"""Files for others: atomic, idempotent, listed once with their sha256, formula-safe."""

from __future__ import annotations

import hashlib
import os

import polars as pl
import pytest

from assets import outbox
from assets.inventory import models
from assets.inventory.feeds import feed_path, write_channel_feeds
from inventory_builder import insert, new_warehouse, shirt_story, day


@pytest.mark.parametrize("text, expected", [
    ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("SKU-1", "SKU-1"), ("", ""), (None, None),
])
def test_neutralise_formula(text, expected):
    assert outbox.neutralise_formula(text) == expected


def test_neutralise_frame_touches_text_cells_only():
    frame = pl.DataFrame({"sku": ["=cmd", "ok"], "quantity": [-3, 4]})
    out = outbox.neutralise_frame(frame)
    assert out.rows() == [("'=cmd", -3), ("ok", 4)]


def test_write_atomic_returns_sha_and_leaves_identical_files_untouched(tmp_path):
    target = tmp_path / "a" / "b.csv"
    digest = outbox.write_atomic(target, b"x,y\n1,2\n")
    assert digest == hashlib.sha256(b"x,y\n1,2\n").hexdigest()
    os.utime(target, ns=(1, 1))
    assert outbox.write_atomic(target, b"x,y\n1,2\n") == digest
    assert target.stat().st_mtime_ns == 1            # same bytes: not rewritten
    outbox.write_atomic(target, b"x,y\n1,3\n")
    assert target.read_bytes() == b"x,y\n1,3\n"
    assert [p.name for p in target.parent.iterdir()] == ["b.csv"]  # no temporary left behind


def test_write_atomic_failure_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "f.csv"
    outbox.write_atomic(target, b"old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(outbox.os, "replace", boom)
    with pytest.raises(OSError):
        outbox.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]


def test_record_manifest_lists_a_path_and_sha_once(tmp_path):
    f = tmp_path / "x.csv"
    digest = outbox.write_atomic(f, b"1")
    assert outbox.record_manifest(tmp_path, f, digest, kind="test", rows=1, note="a")
    assert not outbox.record_manifest(tmp_path, f, digest, kind="test", rows=1, note="a")
    entries = outbox.read_manifest(tmp_path)
    assert len(entries) == 1 and entries[0]["path"] == "x.csv" and entries[0]["sha256"] == digest


def test_channel_feeds_are_idempotent_and_all_from_one_ats(tmp_path):
    con = new_warehouse()
    shirt_story(con)
    insert(con, "channel_listings", [
        {"channel_id": "etsy", "channel_sku": "=ETSY-SHIRT", "sku": "SHIRT", "listed_quantity": 500, "as_of": day(0)},
        {"channel_id": "ebay", "channel_sku": "EB-1", "sku": "SHIRT", "listed_quantity": 500, "as_of": day(0)},
    ])
    models.build_all(con)
    first = write_channel_feeds(con, tmp_path)
    second = write_channel_feeds(con, tmp_path)
    assert [f.sha256 for f in first] == [f.sha256 for f in second]
    assert all(f.new_in_manifest for f in first) and not any(f.new_in_manifest for f in second)
    assert len(outbox.read_manifest(tmp_path)) == 3  # ebay, etsy, shop (no listings: our SKUs)
    etsy = feed_path(tmp_path, "etsy", "2026-03-01").read_text()
    assert etsy == "channel_sku,sku,quantity\n'=ETSY-SHIRT,SHIRT,484\n"
    quantities = {f.channel_id: f.path.read_text().strip().split(",")[-1] for f in first}
    assert quantities == {"ebay": "484", "etsy": "484", "shop": "484"}
    assert feed_path(tmp_path, "../evil", "d").parent.name == ".._evil"
    assert feed_path(tmp_path, "../evil", "d").resolve().is_relative_to((tmp_path / "channel_feeds").resolve())
