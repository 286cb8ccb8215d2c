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
    # not a record, but named: a line the pattern took by mistake must not vanish unseen
    assert [(m.line, m.severity, m.rule) for m in r.messages] == [(4, "info", "report_trailer")]


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


# --------------------------------------------------------------------------------------------
# encodings (#15.5), bytes that are not text, and no exception escaping a file (#20.2)

_TEXT = "a,b,c\r\n1,Zoë,3\r\n4,5,6\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"\xff\xfe" + _TEXT.encode("utf-16-le"), "utf-16-le"),
        (b"\xfe\xff" + _TEXT.encode("utf-16-be"), "utf-16-be"),
        (_TEXT.encode("utf-16-le"), "utf-16-le"),  # no BOM: the NUL bytes say so
        (_TEXT.encode("utf-16-be"), "utf-16-be"),
        (b"\xef\xbb\xbf" + _TEXT.encode("utf-8"), "utf-8-sig"),
        (_TEXT.encode("cp1252"), "cp1252"),
    ],
    ids=["utf16le_bom", "utf16be_bom", "utf16le", "utf16be", "utf8_bom", "cp1252"],
)
def test_encodings_are_detected(tmp_path, data, encoding):
    r = read(tmp_path, data)
    assert r.encoding == encoding
    assert records(r) == [("1", "Zoë", "3", 2), ("4", "5", "6", 3)]
    assert not r.failed


def test_utf16_tab_separated_square_style(tmp_path):
    # (required columns in another order: the comma-separated neighbours of batch mode do not
    # fit a tab-separated format)
    tabbed = Adapter(**{**ADAPTER.__dict__, "separator": "\t", "required_columns": ("c", "b", "a")})
    data = b"\xff\xfe" + "a\tb\tc\r\n1\t2\t3\r\n".encode("utf-16-le")
    r = read(tmp_path, data, tabbed)
    assert records(r) == [("1", "2", "3", 2)]


def test_utf16_with_odd_byte_count_keeps_the_rows_and_says_so(tmp_path):
    r = read(tmp_path, b"\xff\xfe" + _TEXT.encode("utf-16-le") + b"7")
    assert records(r)[:2] == [("1", "Zoë", "3", 2), ("4", "5", "6", 3)]
    assert "encoding_errors" in rules(r)
    assert r.rows_read == r.frame.height + r.rejects.height


def test_utf16_lone_surrogate_is_one_bad_character(tmp_path):
    body = "a,b,c\n1,X,3\n4,5,6\n".encode("utf-16-le").replace("X".encode("utf-16-le"), b"\x00\xd8")
    r = read(tmp_path, b"\xff\xfe" + body)
    assert r.frame.height == 2 and r.frame["b"][0] == "\ufffd"
    assert [(m.rule, m.line) for m in r.messages if m.rule == "encoding_errors"] == [("encoding_errors", 2)]


def test_cp1252_file_starting_with_y_thorn_is_not_utf16(tmp_path):
    r = read(tmp_path, "ÿþa,b,c\n1,2,3\n".encode("cp1252"))
    assert records(r) == [("1", "2", "3", 2)]
    assert "mangled_bom" in rules(r)


@pytest.mark.parametrize(
    ("data", "what"),
    [(b"\x1f\x8b\x08\x00\x00\x00", "gzip"), (b"PK\x03\x04rest", "ZIP"), (b"PAR1xyz", "Parquet")],
)
def test_compressed_and_binary_files_get_a_message_that_says_what_they_are(tmp_path, data, what):
    r = read(tmp_path, data)
    assert r.failed and r.rows_read == 0
    assert what in r.messages[0].message


def test_cr_only_line_endings_are_read_as_lines(tmp_path):
    r = read(tmp_path, "a,b,c\r1,2,3\r4,5,6\r")
    assert records(r) == [("1", "2", "3", 2), ("4", "5", "6", 3)]
    assert "cr_line_endings" in rules(r)


def test_a_vanished_file_is_a_failed_result_not_an_exception(tmp_path):
    if _MODE["batch"]:
        (tmp_path / "_x.csv").write_text("a,b,c\n1,2,3\n")
        results = reader.read_many([tmp_path / "_x.csv", tmp_path / "gone.csv"], ADAPTER)
        r = results[1]
        assert results[0].rows_read == 1
    else:
        r = read_records(tmp_path / "gone.csv", ADAPTER)
    assert r.failed and rules(r) == ["file_vanished"]


def test_parquet_list_and_binary_columns_are_file_messages(tmp_path):
    path = tmp_path / "f.parquet"
    pl.DataFrame({"a": [[1, 2]], "b": ["x"], "c": ["y"]}).write_parquet(path)
    r = read_records(path, ADAPTER)
    assert r.failed and rules(r) == ["unsupported_column_type"]
    pl.DataFrame({"a": [b"\xff\xfe\x00"], "b": ["x"], "c": ["y"]}).write_parquet(path)
    r = read_records(path, ADAPTER)
    assert r.failed and rules(r) == ["not_text"]


# --------------------------------------------------------------------------------------------
# quoting is the format's declaration (#20.3)


def test_never_quoted_format_reads_a_quote_as_text(tmp_path):
    unquoted = Adapter(**{**ADAPTER.__dict__, "separator": "\t", "quote_char": None,
                          "required_columns": ("c", "b", "a")})
    lines = ["a\tb\tc"] + [f"{i}\tMug {i}\t{i}" for i in range(2, 60)]
    lines[3] = '4\tMug 6" tall\t4'  # Amazon: a product name with inches
    lines[10] = '11\t"quoted\t11'
    r = read(tmp_path, "\n".join(lines) + "\n", unquoted)
    assert r.frame.height == 58 and r.rejects.height == 0
    assert r.frame.filter(pl.col("a") == "4")["b"][0] == 'Mug 6" tall'
    assert r.frame.filter(pl.col("a") == "11")["b"][0] == '"quoted'
    assert r.frame["source_line"].to_list() == list(range(2, 60))


def test_unclosed_quote_mid_file_costs_one_record_with_a_message(tmp_path):
    r = read(tmp_path, 'a,b,c\n1,2,3\n4,"five,6\n7,8,9\n10,11,12\n')
    assert records(r) == [("1", "2", "3", 2), ("7", "8", "9", 4), ("10", "11", "12", 5)]
    assert r.rejects.select("source_line", "rule").rows() == [(3, "unterminated_quote")]
    assert r.rows_read == 4


def test_quote_closing_lines_later_is_rejected_naming_the_lines(tmp_path):
    r = read(tmp_path, 'a,b,c\n1,2,3\n4,"five,6\n7,8,9\n10,"11",12\n13,14,15\n')
    assert records(r) == [("1", "2", "3", 2), ("13", "14", "15", 6)]
    assert r.rejects.select("source_line", "rule").rows() == [(3, "unbalanced_quote")]
    assert "lines 3-5" in r.rejects["message"][0]


# --------------------------------------------------------------------------------------------
# identity by allow-list (#20.7)


def test_header_messages_never_print_a_data_row(tmp_path):
    # a file without its header row: the "header" is a customer's record
    r = read(tmp_path, "1001,Jane Roe,jane.roe@example.org,12 Elm Street\n1002,x,y,z\n")
    assert r.failed
    text = " ".join(m.message for m in r.messages)
    for secret in ("Jane Roe", "jane.roe@example.org", "12 Elm Street"):
        assert secret not in text


def test_rejected_records_keep_only_safe_columns(tmp_path):
    # 'Delivery Name' is unknown to the adapter: an allow-list drops it, a deny-list did not
    wide = Adapter(**{**ADAPTER.__dict__, "required_columns": ("a", "c")})
    r = read(tmp_path, "a,Delivery Name,c\n1,Jane Roe,3\n4,Jane Roe,5,6\n", wide)
    payload = json.loads(r.rejects["row_json"][0])
    assert "Jane Roe" not in json.dumps(payload)
