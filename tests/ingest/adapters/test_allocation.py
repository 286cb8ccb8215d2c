"""The shared order-level allocation (``_orders.allocate_cents``): cents conserved, no line
below zero, pro rata, deterministic. Checked against plain integer arithmetic here."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.ingest.adapters._orders import allocate_cents
from assets.ingest.adapters.base import LINE

# an order: line values in cents (0 allowed: a free sample) and a discount in cents
orders = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=8).flatmap(
    lambda values: st.tuples(st.just(values), st.integers(min_value=0, max_value=sum(values)))
)


def _frame(batch: list[tuple[list[int], int]]) -> pl.DataFrame:
    rows = []
    line = 1
    for o, (values, discount) in enumerate(batch):
        for i, v in enumerate(values):
            # the discount sits on the first line only, as Shopify and Etsy print it
            rows.append((f"#{o}", line, v / 100, discount / 100 if i == 0 else None))
            line += 1
    return pl.DataFrame(rows, schema=["order", LINE, "value", "discount"], orient="row")


@settings(max_examples=300, deadline=None)
@given(st.lists(orders, min_size=1, max_size=6))
def test_shares_sum_to_the_discount_and_no_line_goes_negative(batch):
    frame = _frame(batch)
    got = allocate_cents(frame, total="discount", weight="value", by=["order"], out="share")
    for o, (values, discount) in enumerate(batch):
        shares = got.filter(pl.col("order") == f"#{o}").sort(LINE).get_column("share").to_list()
        cents = [round(s * 100) for s in shares]
        assert sum(cents) == discount  # conserved to the cent
        assert all(c >= 0 for c in cents)
        # no line goes negative after its share: share <= line value
        assert all(c <= v for c, v in zip(cents, values)), (values, discount, cents)
        # pro rata: within one cent of the exact share
        total = sum(values)
        if total:
            assert all(abs(c - discount * v / total) < 1 for c, v in zip(cents, values))


def test_hand_example_largest_remainder_and_ties_to_the_earlier_line():
    frame = pl.DataFrame(
        {"order": ["#1"] * 3 + ["#2"] * 2, LINE: [2, 3, 4, 5, 6],
         "value": [10.0, 10.0, 10.0, 30.0, 10.0], "discount": [10.0, None, None, 0.01, None]}
    )
    got = allocate_cents(frame, total="discount", weight="value", by=["order"], out="share")
    # 10.00 over three equal lines: 3.34 + 3.33 + 3.33; 0.01 goes to the larger line
    assert got.get_column("share").to_list() == [3.34, 3.33, 3.33, 0.01, 0.0]


def test_rows_without_weight_take_no_part():
    frame = pl.DataFrame(
        {"order": ["#1", "#1", "#1"], LINE: [2, 3, 4], "value": [20.0, None, 20.0],
         "discount": [5.0, None, None]}
    )
    got = allocate_cents(frame, total="discount", weight="value", by=["order"], out="share")
    assert got.get_column("share").to_list() == [2.5, None, 2.5]


def test_the_same_order_id_in_two_files_is_two_orders():
    frame = pl.DataFrame(
        {"source_file": ["a.csv", "a.csv", "b.csv"], "order": ["#1"] * 3, LINE: [2, 3, 2],
         "value": [10.0, 30.0, 10.0], "discount": [4.0, None, 1.0]}
    )
    got = allocate_cents(
        frame, total="discount", weight="value", by=["source_file", "order"], out="share"
    )
    assert got.get_column("share").to_list() == [1.0, 3.0, 1.0]
