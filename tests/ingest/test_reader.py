"""reader.read_records: bytes and CSV syntax edge cases, with the physical source_line."""

from __future__ import annotations

import json

import polars as pl
import pytest

from assets.ingest import reader
from assets.ingest.adapters.base import Adapter, Mapped
from assets.ingest.reader import read_records

ADAPTER = Adapter(
    name="test_csv",
    entity="products",
    folder="products",
    file_globs=("*.csv",),
    required_columns=("a", "b", "c"),
    map=lambda frame, ctx: Mapped(frame),
    pii_columns=("b",),
    trailer_pattern=r"^\d+ record",
)


_MODE = {"batch": False}


@pytest.fixture(autouse=True, params=["vectorised", "record_by_record", "batch"])
def parse_path(request, monkeypatch):
    """Every test runs through every parser: the vectorised scan + Polars (large files), the
    csv module (small files) and ``read_many`` (many files in one scan, as the engine reads
    them: here the file under test between two ordinary files); they must agree."""
    monkeypatch.setattr(reader, "SMALL_FILE_BYTES", 0 if request.param == "vectorised" else 1 << 30)
    monkeypatch.setitem(_MODE, "batch", request.param == "batch")
    return request.param


def read(tmp_path, data: bytes | str, adapter: Adapter = ADAPTER, name: str = "f.csv"):
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    if not _MODE["batch"]:
        return read_records(path, adapter)
    # neighbours with a quote-free and a quoted body, so quote parity must not leak
    before = tmp_path / "_before.csv"
    before.write_text("a,b,c\nx,y,z\n", encoding="utf-8")
    after = tmp_path / "_after.csv"
    after.write_text('a,b,c\n"p,q",r,s\n', encoding="utf-8")
    results = reader.read_many([before, path, after], adapter)
    if adapter.skip_rows == 0 and tuple(adapter.required_columns) == ("a", "b", "c"):
        assert [r.rows_read for r in (results[0], results[2])] == [1, 1]
        assert results[2].frame.select("a", "source_line").rows() == [("p,q", 2)]
    result = results[1]
    if isinstance(result, OSError):
        raise result
    return result


def records(result) -> list[tuple]:
    return result.frame.select("a", "b", "c", "source_line").rows()


def rules(result) -> list[str]:
    return [m.rule for m in result.messages]


def test_plain_file_all_text_with_lines(tmp_path):
    r = read(tmp_path, "a,b,c\n1,2,3\n4,,6\n")
    assert records(r) == [("1", "2", "3", 2), ("4", None, "6", 3)]
    assert r.frame.schema["a"] == pl.String and r.frame.schema["source_line"] == pl.Int64
    assert r.rows_read == 2 and r.messages == [] and r.encoding == "utf-8"


def test_quoted_empty_field_is_null_like_an_empty_one(tmp_path):
    r = read(tmp_path, 'a,b,c\n"","x",\n1,"",""\n')
    assert records(r) == [(None, "x", None, 2), ("1", None, None, 3)]


def test_utf8_bom_and_crlf(tmp_path):
    r = read(tmp_path, b"\xef\xbb\xbfa,b,c\r\n1,caf\xc3\xa9,3\r\n")
    assert records(r) == [("1", "café", "3", 2)]
    assert r.encoding == "utf-8-sig"


def test_latin1_file_keeps_every_row_and_warns_with_first_bad_line(tmp_path):
    data = "a,b,c\n1,plain,3\n2,Müller,4\n3,Café,5\n".encode("cp1252")
    r = read(tmp_path, data)
    assert [row[1] for row in records(r)] == ["plain", "Müller", "Café"]
    assert r.encoding == "cp1252"
    (msg,) = r.messages
    assert msg.rule == "encoding_fallback" and msg.line == 3 and msg.severity == "warning"


def test_quoted_newlines_keep_the_first_physical_line(tmp_path):
    text = 'a,b,c\n1,"two\nlines",3\n4,"x, ""quoted""",6\n7,"three\nphysical\nlines",9\n10,11,12\n'
    r = read(tmp_path, text)
    assert records(r) == [
        ("1", "two\nlines", "3", 2),
        ("4", 'x, "quoted"', "6", 4),
        ("7", "three\nphysical\nlines", "9", 5),
        ("10", "11", "12", 8),
    ]


def test_ragged_rows_are_rejected_alone(tmp_path):
    r = read(tmp_path, "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    assert records(r) == [("1", "2", "3", 2), ("10", "11", "12", 5)]
    assert r.rows_read == 4
    assert r.rejects.select("source_line", "rule").rows() == [
        (3, "wrong_field_count"),
        (4, "wrong_field_count"),
    ]
    assert "expected 3 fields" in r.rejects["message"][0]


def test_ragged_rows_with_quotes_use_the_tolerant_parser(tmp_path):
    r = read(tmp_path, 'a,b,c\n"1","2","3"\n"4","5"\n"6","7,8","9"\n')
    assert records(r) == [("1", "2", "3", 2), ("6", "7,8", "9", 4)]
    assert r.rejects.select("source_line", "rule").rows() == [(3, "wrong_field_count")]


def test_ragged_reject_never_carries_identity_columns(tmp_path):
    # column b is a customer-identity column: a shifted record must not leak it either
    r = read(tmp_path, "a,b,c\n1,ann@example.com,3\nann@example.com,9\n")
    payload = r.rejects["row_json"][0]
    assert "ann@example.com" not in payload
    assert json.loads(payload) == {}


def test_empty_file(tmp_path):
    r = read(tmp_path, b"")
    assert r.rows_read == 0 and r.frame.height == 0
    assert rules(r) == ["empty_file"]


def test_header_only(tmp_path):
    r = read(tmp_path, "a,b,c\n")
    assert r.rows_read == 0 and r.frame.columns == ["a", "b", "c", "source_line"]
    assert rules(r) == ["no_records"]


def test_wrong_delimiter_names_expected_and_found(tmp_path):
    r = read(tmp_path, "a;b;c\n1;2;3\n")
    assert r.failed and r.rows_read == 0
    (msg,) = r.messages
    assert msg.rule == "missing_columns" and msg.severity == "error"
    assert "expected a, b, c" in msg.message and "'a;b;c'" in msg.message and "';'" in msg.message


def test_trailer_rows_are_dropped_not_counted(tmp_path):
    r = read(tmp_path, "a,b,c\n1,2,3\n4,5,6\n2 records downloaded\n")
    assert records(r) == [("1", "2", "3", 2), ("4", "5", "6", 3)]
    assert r.rows_read == 2 and r.rejects.height == 0


def test_skip_rows_before_header(tmp_path):
    adapter = Adapter(**{**ADAPTER.__dict__, "skip_rows": 1})
    r = read(tmp_path, "\na,b,c\n1,2,3\n", adapter=adapter)
    assert records(r) == [("1", "2", "3", 3)]


def test_blank_lines_between_records_are_ignored(tmp_path):
    r = read(tmp_path, "a,b,c\n1,2,3\n\n4,5,6\n")
    assert records(r) == [("1", "2", "3", 2), ("4", "5", "6", 4)]
    assert r.rows_read == 2


def test_truncated_last_line(tmp_path):
    r = read(tmp_path, "a,b,c\n1,2,3\n4,5")
    assert records(r) == [("1", "2", "3", 2)]
    assert r.rejects.select("source_line", "rule").rows() == [(3, "wrong_field_count")]
    assert "truncated_file" in rules(r)


def test_unterminated_quote_at_end(tmp_path):
    r = read(tmp_path, 'a,b,c\n1,2,3\n4,5,"six')
    assert records(r) == [("1", "2", "3", 2)]
    assert r.rejects.select("source_line", "rule").rows() == [(3, "unterminated_quote")]


def test_stray_quote_inside_a_field_is_literal(tmp_path):
    r = read(tmp_path, 'a,b,c\n1,5" screen,3\n4,5,6\n')
    assert records(r) == [("1", '5" screen', "3", 2), ("4", "5", "6", 3)]
    assert "nonstandard_quoting" in rules(r)


def test_ten_megabyte_single_line(tmp_path):
    big = "x" * (10 * 1024 * 1024)
    r = read(tmp_path, f"a,b,c\n1,2,3\n4,{big},6\n7,8,9\n")
    assert r.rows_read == 3
    assert r.frame["b"].str.len_chars().to_list() == [1, len(big), 1]
    assert r.frame["source_line"].to_list() == [2, 3, 4]


def test_parquet_reads_as_text_with_row_numbers(tmp_path):
    path = tmp_path / "f.parquet"
    pl.DataFrame({"a": [1, 2], "b": [1.5, None], "c": ["x", "y"]}).write_parquet(path)
    r = read_records(path, ADAPTER)
    assert records(r) == [("1", "1.5", "x", 1), ("2", None, "y", 2)]
    assert r.encoding == "parquet"


def test_parquet_missing_columns(tmp_path):
    path = tmp_path / "f.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    r = read_records(path, ADAPTER)
    assert r.failed and rules(r) == ["missing_columns"]


def test_fast_and_tolerant_paths_agree(tmp_path):
    # the same records, once clean (fast path) and once with a stray quote (csv module)
    base = "".join(f'{i},"n{i}, with comma",{i * 2}\n' for i in range(200))
    fast = read(tmp_path, "a,b,c\n" + base, name="fast.csv")
    slow = read(tmp_path, "a,b,c\n" + base + '999,9"9,1\n', name="slow.csv")
    assert "nonstandard_quoting" in rules(slow)
    assert records(fast) == records(slow)[:-1]
