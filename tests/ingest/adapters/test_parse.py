"""The shared parsing expressions (assets/ingest/parse.py)."""

from datetime import date, datetime

import polars as pl
import pytest

from assets.ingest.parse import (
    blank_to_null,
    country_iso2,
    number_format,
    quoted,
    rejects_where,
    to_date,
    to_id,
    to_int,
    to_number,
    to_utc,
)


def _apply(expr_fn, values):
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr_fn(pl.col("v"))).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("12.5", 12.5), ("1,234.50", 1234.5), ("$12.50", 12.5), ("£1,234.00", 1234.0),
     ("US $9.99", 9.99), ("12.50 EUR", 12.5), ("-$3.00", -3.0), ("$-3.00", -3.0),
     ("(12.50)", -12.5), ("1 234.5", 1234.5), (" 7 ", 7.0), ("", None), ("NaN", None),
     ("N/A", None), ("-", None), ("abc", None), ("1.2.3", None), ("inf", None), (None, None)],
)
def test_to_number(text, expected):
    assert _apply(to_number, [text]) == [expected]


def test_to_number_decimal_comma():
    got = _apply(lambda e: to_number(e, decimal_comma=True), ["1.234,50", "€3,50", "12"])
    assert got == [1234.5, 3.5, 12.0]


def test_to_int():
    assert _apply(to_int, ["6", "+6", "-6", "1,200", "17850.0", "2.5", "x", "", "1e3"]) == [
        6, 6, -6, 1200, 17850, None, None, None, None
    ]


def test_to_int_refuses_exponents_and_huge_counts():
    # quantities are whole numbers written in digits: '1e3' is not 1000 units
    assert _apply(to_int, ["1e3", "1E2", "2e0", "99999999999999999999", "1,2"]) == [None] * 5


@pytest.mark.parametrize(
    ("text", "expected"),
    # a comma is not always a thousands mark: what does not fit the declared format is refused
    [("2,5", None), ("12,50", None), ("1.234,50", None), ("1,23,456", None), ("1,234", 1234.0),
     ("1,234,567.5", 1234567.5), ("1e308", 1e308)],
)
def test_to_number_decimal_point_refuses_other_marks(text, expected):
    assert _apply(to_number, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2,5", 2.5), ("12,50", 12.5), ("1.234,50", 1234.5), ("1.234", 1234.0), ("€3,50", 3.5),
     ("12.50", None), ("1,234.50", None),
     # ambiguous: a thousands comma or three decimals? refused, never guessed
     ("1,234", None), ("-1,234", None), ("12,345", None), ("1,2345", 1.2345)],
)
def test_to_number_declared_decimal_comma(text, expected):
    with number_format(",", "."):
        assert _apply(to_number, [text]) == [expected]
        assert _apply(to_int, ["1.200", "3,0", "1,200"]) == [1200, 3, None]


def test_number_format_rejects_unknown_marks():
    with pytest.raises(ValueError):
        with number_format(";", ","):
            pass
    with pytest.raises(ValueError):
        with number_format(",", ","):
            pass


def test_null_markers_are_values_in_identifier_columns():
    # real SKUs: "NA", "NAN", "None", "-"; real country: NA (Namibia)
    assert _apply(blank_to_null, ["NA", "NAN", "None", "-", " n/a "]) == ["NA", "NAN", "None", "-", "n/a"]
    assert _apply(to_id, ["NA", "None", "-"]) == ["NA", "None", "-"]
    assert _apply(country_iso2, ["NA"]) == ["NA"]
    # where a number is expected they still mean "no value"
    assert _apply(to_number, ["NA", "None", "-"]) == [None, None, None]


def test_to_id_and_blank_to_null():
    assert _apply(to_id, ["17850.0", " 00123 ", "C536379", "", None]) == [
        "17850", "00123", "C536379", None, None
    ]
    assert _apply(blank_to_null, ["  RED  MUG ", "", "\u00a0"]) == ["RED  MUG", None, None]


def test_to_utc_offsets_zones_and_dates():
    formats = ["%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S", "%m/%d/%y"]
    got = _apply(
        lambda e: to_utc(e, formats, "Europe/London"),
        ["2024-03-01 10:15:00 -0500", "2024-03-01T10:15:00Z", "2024-03-01T10:15:00.250+01:00",
         "2024-07-01 10:00:00", "2024-01-15 10:00:00", "03/01/24", "2024-03-31 01:30:00",
         "2024-10-27 01:30:00", "garbage"],
    )
    assert got == [
        datetime(2024, 3, 1, 15, 15),
        datetime(2024, 3, 1, 10, 15),
        datetime(2024, 3, 1, 9, 15, 0, 250000),
        datetime(2024, 7, 1, 9, 0),  # BST
        datetime(2024, 1, 15, 10, 0),  # GMT
        datetime(2024, 3, 1, 12, 0),  # date only: noon local
        None,  # clocks go forward: 01:30 does not exist
        datetime(2024, 10, 27, 0, 30),  # repeated hour: the earlier instant
        None,
    ]


def test_to_utc_date_only_keeps_the_date_east_of_utc():
    # midnight in Tokyo is the previous day in UTC; noon is not
    got = _apply(lambda e: to_utc(e, ["%Y-%m-%d"], "Asia/Tokyo"), ["2024-03-01"])
    assert got == [datetime(2024, 3, 1, 3, 0)]
    midnight = _apply(lambda e: to_utc(e, ["%Y-%m-%d"], "Asia/Tokyo", date_hour=0), ["2024-03-01"])
    assert midnight == [datetime(2024, 2, 29, 15, 0)]


def test_to_date_two_digit_years_first():
    got = _apply(lambda e: to_date(e, ["%m/%d/%y", "%m/%d/%Y"]), ["03/01/24", "3/1/2024", "x"])
    assert got == [date(2024, 3, 1), date(2024, 3, 1), None]


def test_country_iso2():
    got = _apply(country_iso2, ["United Kingdom", "EIRE", "gb", "UK", " USA ", "RSA",
                                "Channel Islands", "European Community", "Unspecified",
                                "Narnia", None])
    assert got == ["GB", "IE", "GB", "GB", "US", "ZA", None, None, None, None, None]


def test_rejects_where_builds_named_messages():
    frame = pl.DataFrame({"source_line": [2, 3, 4], "Qty": ["1", "x", None]})
    out = rejects_where(frame, pl.col("Qty") == "x", "quantity_not_a_number",
                        pl.format("Qty {} is not a number", quoted(pl.col("Qty"))))
    assert out.to_dicts() == [
        {"source_line": 3, "rule": "quantity_not_a_number", "message": "Qty 'x' is not a number"}
    ]
    assert out.schema == {"source_line": pl.Int64, "rule": pl.String, "message": pl.String}
