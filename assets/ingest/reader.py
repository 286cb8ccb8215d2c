"""Read one inbox file into all-text columns, with the physical line where each record starts.

``read_records(path, adapter)`` is the only entry point. It owns everything about bytes and
CSV syntax so that adapters see a clean, uniform frame:

- encoding: a UTF-8 BOM is dropped (UTF-16 with BOM is decoded too); a file that is not valid
  UTF-8 is decoded as cp1252 (Latin-1 for the five bytes cp1252 leaves undefined) and every row
  is kept, with a warning ``encoding_fallback`` naming the first undecodable line;
- ``adapter.skip_rows`` physical lines before the header are skipped; the header is the next
  line; its names are trimmed and a known other spelling (``adapter.header_aliases``, compared
  case-insensitively) is renamed to the canonical name before anything else looks at it;
- header check: every ``adapter.required_columns`` must be there (else the file-level error
  ``missing_columns``, naming expected and found columns, the other spellings tried and a
  delimiter hint); adapters that
  carry ``allowed_columns`` (the generic canonical format) also reject unknown columns
  (``unexpected_columns``); a name given twice is ``duplicate_columns``;
- records: quoted fields may hold the separator, ``""`` and newlines; ``source_line`` is the
  1-based *physical* line on which the record starts (header = line ``skip_rows + 1``). Blank
  lines between records are ignored;
- a record with more or fewer fields than the header is rejected whole with the rule
  ``wrong_field_count`` (the other records load); a quote left open at the end of the file
  rejects the last record with ``unterminated_quote``; records whose first field matches
  ``adapter.trailer_pattern`` (a regex, searched; anchor it with ``^``) are report trailers:
  dropped and not counted, but named (an ``info`` message ``report_trailer`` with their
  lines);
- an empty file (``empty_file``) or a header without records (``no_records``) gives 0 rows
  and a warning, never an exception;
- Parquet files (``*.parquet``) are read with Polars, every column cast to text;
  ``source_line`` is then the 1-based row number.

Speed: the file is decoded once, split into physical lines inside Polars, and the quote state
of every line is computed with vectorised expressions (cumulative quote parity). Files whose
records are all single-line and well-formed go straight to Polars' CSV reader. Only files with
non-RFC-4180 quoting (a stray ``"`` inside an unquoted field) take the fallback: Python's
``csv`` module, record by record.

``read_many(paths, adapter)`` is what the engine calls: the same result per file, but one
scan and one Polars parse for a whole batch of files (the fixed cost of the Polars plans is
paid per batch, not per file); unusual files (stray quotes, Parquet) are read by
``read_records`` on their own.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import polars as pl

from assets.ingest.adapters.base import LINE, Adapter, canonical_header, safe_columns

# the csv module refuses fields over 128 KiB by default; a long cell is the contract's business
# (text_too_long), not a reason to lose the file
csv.field_size_limit(2**31 - 1)

# rejected records carry their original text as JSON (customer identity removed)
REJECT_SCHEMA = {LINE: pl.Int64, "rule": pl.String, "message": pl.String, "row_json": pl.String}

_QUOTE = '"'
_BOM_UTF8 = b"\xef\xbb\xbf"
_CANDIDATE_SEPARATORS = (",", ";", "\t", "|")
# files up to this size are parsed record by record with the csv module (faster when small)
SMALL_FILE_BYTES = 256 * 1024


class Message(NamedTuple):
    """A file-level finding (not a rejected record): ``line`` is None for the whole file."""

    line: int | None
    severity: str  # "warning" | "error"
    rule: str
    message: str


@dataclass
class ReadResult:
    """What :func:`read_records` found in one file.

    ``frame``: one row per accepted record, every column ``pl.String`` (empty field = null),
    plus ``source_line`` (Int64). ``rows_read``: records read (header, blank lines and trailers
    not counted) = ``frame.height + rejects.height``. ``rejects``: records refused before any
    mapping (``source_line``, ``rule``, ``message``, ``row_json``). ``messages``: file-level
    findings (``line`` None when about the whole file). ``failed``: an error made the whole
    file unreadable (wrong header, not Parquet): no record was read.
    """

    frame: pl.DataFrame
    rows_read: int
    messages: list[Message]
    encoding: str
    rejects: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REJECT_SCHEMA))
    header: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(m.severity == "error" for m in self.messages)


def read_records(path: Path, adapter: Adapter) -> ReadResult:
    """Read ``path`` in ``adapter``'s CSV dialect (or Parquet) into all-text columns.

    Never raises: every problem becomes a message or a rejected record; a path that cannot
    be read (vanished, permissions) or content no reader understands gives a failed result
    with a file-level error (:func:`unreadable`).
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".parquet":
            return _read_parquet(path, adapter)
        data = path.read_bytes()
        binary = not_text(data)
        if binary is not None:
            return _empty([], "", [binary])
        text, encoding, messages = decode(data)
        return _read_text(
            text,
            adapter,
            encoding,
            messages,
            ends_with_newline=text.endswith("\n"),
            small=len(data) <= SMALL_FILE_BYTES,
        )
    except Exception as exc:  # noqa: BLE001 - one file's failure must not stop the run
        return unreadable(exc)


def unreadable(exc: BaseException) -> ReadResult:
    """The failed result of a file that could not be read: a vanished file, a permission,
    or an error no rule foresaw (named, so the file can be fixed and is retried next run)."""
    if isinstance(exc, FileNotFoundError):
        msg = Message(None, "error", "file_vanished",
                      "the file disappeared while shelfwise was reading it: it is read next run")
    elif isinstance(exc, PermissionError):
        msg = Message(None, "error", "permission_denied",
                      "shelfwise may not read this file (permissions): allow reading it, and "
                      "it is read next run")
    elif isinstance(exc, OSError):
        msg = Message(None, "error", "unreadable_file", f"cannot read the file: {exc.strerror or exc}")
    else:
        # the exception's text is not shown: it may quote a cell (customer identity)
        msg = Message(None, "error", "unreadable_file",
                      f"the file could not be read ({type(exc).__name__}); please report it "
                      "with the file's format")
    return _empty([], "", [msg])


# --------------------------------------------------------------------------------------------
# decoding


def decode(data: bytes) -> tuple[str, str, list[Message]]:
    """Bytes → text, the encoding used, and findings about it. Never raises.

    - UTF-16 (LE or BE) with a BOM, or without one when the NUL bytes of the first few KiB
      say so (Square and Excel's "Unicode text" write it); an odd byte count or a lone
      surrogate replaces the broken character with U+FFFD and says on which line
      (``encoding_errors``): one bad character must not cost the file;
    - UTF-8, BOM dropped;
    - anything else: cp1252, the encoding Excel and most Windows exports use, and Latin-1
      where cp1252 leaves a byte undefined (Latin-1 decodes every byte, so no row is ever lost
      to decoding), with the warning ``encoding_fallback``. Bytes that merely *start* like a
      UTF-16 BOM (a cp1252 file beginning with ``ÿþ``) but do not decode to lines of text as
      UTF-16 take this path;
    - line endings: a file whose lines end in CR alone (old Mac exports) is read with those
      CRs as line ends (``cr_line_endings``, a warning) instead of as one long line.

    A compressed file or a workbook is not text: :func:`not_text` names it before decoding.
    """
    text, encoding, messages = _decode_bytes(data)
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
        messages.append(
            Message(None, "warning", "cr_line_endings",
                    "lines end in CR only (an old Mac export): read with CR as the line end")
        )
    return text, encoding, messages


def _utf16_byte_order(data: bytes) -> str | None:
    """"utf-16-le"/"utf-16-be" when the file is UTF-16 (BOM, or NUL bytes in every other
    position of its first 4 KiB, as ASCII text in UTF-16 has), else None."""
    if data.startswith(b"\xff\xfe"):
        return "utf-16-le"
    if data.startswith(b"\xfe\xff"):
        return "utf-16-be"
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / max(len(odd), 1)
    if odd_nul > 0.3 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _looks_like_text(text: str) -> bool:
    """Lines of delimited text: a newline or a separator among the first characters (bytes
    that are not UTF-16 decode to CJK-looking characters without either)."""
    head = text[:4096]
    return any(c in head for c in ("\n", "\r", *_CANDIDATE_SEPARATORS))


def _decode_bytes(data: bytes) -> tuple[str, str, list[Message]]:
    order = _utf16_byte_order(data)
    if order is not None:
        body = data[2:] if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data
        text = body.decode(order, errors="replace")
        if _looks_like_text(text):
            try:
                body.decode(order)
                return text, order, []
            except UnicodeDecodeError as exc:
                line = body[: exc.start].decode(order, errors="replace").count("\n") + 1
                cause = (
                    "the file ends in half a character: was it cut off?"
                    if exc.start >= len(body) - 1 and len(body) % 2
                    else "a lone surrogate"
                )
            return text, order, [
                Message(
                    line,
                    "warning",
                    "encoding_errors",
                    f"invalid {order.upper()} on line {line} ({cause}); the broken character "
                    "reads as U+FFFD, every row is kept",
                )
            ]
    encoding = "utf-8"
    if data.startswith(_BOM_UTF8):
        data, encoding = data[len(_BOM_UTF8) :], "utf-8-sig"
    try:
        return data.decode("utf-8"), encoding, []
    except UnicodeDecodeError as exc:
        bad_line = data.count(b"\n", 0, exc.start) + 1
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = data.decode("latin-1"), "latin-1"
    extra = []
    for mangled in ("ÿþ", "þÿ", "ï»¿"):  # a byte-order mark written through the wrong encoding
        if text.startswith(mangled):
            text = text[len(mangled) :]
            extra.append(Message(1, "warning", "mangled_bom",
                                 f"the file starts with {mangled!r}, a byte-order mark saved in "
                                 "the wrong encoding: ignored"))
            break
    return text, encoding, extra + [
        Message(
            bad_line,
            "warning",
            "encoding_fallback",
            f"not valid UTF-8 (first bad byte on line {bad_line}); decoded as {encoding}, "
            "every row kept — please export as UTF-8",
        )
    ]


# magic numbers of files that are not text: (prefix, rule, what it is, what to do)
_NOT_TEXT = (
    (b"\x1f\x8b", "compressed_file", "a gzip-compressed file",
     "unpack it (gunzip) and put the CSV itself in the inbox"),
    (b"PK\x03\x04", "compressed_file", "a ZIP archive or an Excel workbook (.xlsx)",
     "unpack it, or save the sheet as CSV (UTF-8), and put the CSV in the inbox"),
    (b"\xd0\xcf\x11\xe0", "compressed_file", "an old Excel workbook (.xls)",
     "save the sheet as CSV (UTF-8) and put the CSV in the inbox"),
    (b"PAR1", "unreadable_file", "a Parquet file without the .parquet extension",
     "rename it to end in .parquet"),
)


def not_text(data: bytes) -> Message | None:
    """A file-level error when ``data`` is a known binary format rather than text."""
    for magic, rule, what, fix in _NOT_TEXT:
        if data.startswith(magic):
            return Message(None, "error", rule, f"this is {what}, not a text export: {fix}")
    return None


# --------------------------------------------------------------------------------------------
# header


def _csv_reader(text: str, separator: str, quote_char: str | None = _QUOTE, strict=False):
    """Python's csv reader in an adapter's dialect (``quote_char`` None: quotes are text)."""
    if quote_char is None:
        return csv.reader(io.StringIO(text, newline=""), delimiter=separator,
                          quoting=csv.QUOTE_NONE, strict=strict)
    return csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar=quote_char,
                      strict=strict)


def _split_fields(text: str, separator: str, quote_char: str | None = _QUOTE) -> list[str]:
    """CSV-aware split of one record's text (quotes, doubled quotes, embedded newlines)."""
    rows = list(_csv_reader(text, separator, quote_char))
    if not rows:
        return []
    # a record with embedded newlines is one csv row; anything else is one row anyway
    return rows[0] if len(rows) == 1 else [f for r in rows for f in r]


def _read_header(names: list[str], adapter: Adapter) -> list[str]:
    """The header as the adapter knows it: names trimmed, known spellings renamed to the
    canonical name (``Adapter.header_aliases``), before any check or mapping."""
    return canonical_header([h.strip() for h in names], adapter)


def _spellings(column: str, adapter: Adapter) -> str:
    """``column`` and the other spellings tried for it, for a missing-column message."""
    others = adapter.header_aliases.get(column, ())
    return f"{column} (also tried: {', '.join(others)})" if others else column


def _check_header(header: list[str], adapter: Adapter, line: int) -> list[Message]:
    messages = []
    missing = [_spellings(c, adapter) for c in adapter.required_columns if c not in header]
    if missing:
        found = ", ".join(_shown(header[:20], adapter)) + (" ..." if len(header) > 20 else "")
        hint = ""
        if len(header) == 1:
            for sep in _CANDIDATE_SEPARATORS:
                if sep != adapter.separator and sep in header[0]:
                    hint = (
                        f"; the header looks {sep!r}-separated but this format uses "
                        f"{adapter.separator!r}"
                    )
                    break
        messages.append(
            Message(
                line,
                "error",
                "missing_columns",
                f"missing required column(s) {', '.join(missing)}; expected "
                f"{', '.join(adapter.required_columns)}; found {found}{hint}",
            )
        )
    allowed = getattr(adapter, "allowed_columns", None)
    if allowed:
        extra = [h for h in header if h not in allowed]
        if extra:
            messages.append(
                Message(
                    line,
                    "error",
                    "unexpected_columns",
                    f"unknown column(s) {', '.join(_shown(extra, adapter))}; allowed: "
                    f"{', '.join(allowed)}",
                )
            )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        messages.append(
            Message(line, "error", "duplicate_columns",
                    f"column(s) {', '.join(_shown(dupes, adapter))} appear twice")
        )
    return messages


def known_columns(adapter: Adapter) -> frozenset[str]:
    """Header names the adapter knows (required, allowed, identity, alias spellings): names
    a message may print. A header cell outside them may be a data row taken for a header."""
    aliases = getattr(adapter, "header_aliases", None) or {}
    spelled = set()
    if isinstance(aliases, dict):
        for canonical, spellings in aliases.items():
            spelled |= {canonical} | ({spellings} if isinstance(spellings, str) else set(spellings))
    return frozenset(
        set(adapter.required_columns) | set(adapter.pii_columns) | set(safe_columns(adapter))
        | set(getattr(adapter, "allowed_columns", ()) or ()) | spelled
    )


def _shown(names: list[str], adapter: Adapter) -> list[str]:
    """Header names for a message: known names in full, others cut to their first three
    characters (a file without a header row has a customer's name or e-mail there)."""
    known = known_columns(adapter)

    def is_known(name: str) -> bool:  # a whole header in a wrong separator is known parts
        return name in known or all(
            part.strip() in known for part in re.split(r"[,;\t|]", name)
        )

    return [repr(n) if len(n) <= 3 or is_known(n) else repr(n[:3] + "…") for n in names]


def _empty(header: list[str], encoding: str, messages: list[Message], rows_read: int = 0):
    schema = {h: pl.String for h in dict.fromkeys(header)} | {LINE: pl.Int64}
    return ReadResult(pl.DataFrame(schema=schema), rows_read, messages, encoding, header=header)


# --------------------------------------------------------------------------------------------
# CSV


def _read_text(
    text: str,
    adapter: Adapter,
    encoding: str,
    messages: list[Message],
    *,
    ends_with_newline: bool,
    small: bool = False,
) -> ReadResult:
    sep = adapter.separator
    lines = (
        pl.Series("text", [text], dtype=pl.String)
        .str.split("\n")
        .explode()
        .str.strip_suffix("\r")
    )
    skip = adapter.skip_rows
    if lines.len() <= skip or not (lines[skip] or "").strip():
        messages.append(Message(None, "warning", "empty_file", "the file has no header row"))
        return _empty([], encoding, messages)

    header_line_no = skip + 1
    header = _read_header(_split_fields(lines[skip], sep), adapter)
    header_msgs = _check_header(header, adapter, header_line_no)
    if header_msgs:
        return _empty(header, encoding, messages + header_msgs)

    body = pl.DataFrame({"text": lines.slice(skip + 1)}).with_row_index("idx")
    del lines
    body = body.with_columns((pl.col("idx").cast(pl.Int64) + header_line_no + 1).alias(LINE))
    # Small files (most daily exports): Python's csv module beats the vectorised scan, whose
    # fixed cost of a dozen Polars plans dominates below a few thousand lines.
    scan = None if small else _scan_records(
        body, sep, len(header), adapter.trailer_pattern, adapter.quote_char
    )
    result = None
    if small:
        result = _read_with_csv_module(body, header, adapter, encoding, messages, warn=False)
    elif scan is not None:
        # the whole file, as read, is exactly header + good single-line records: hand the
        # original text to Polars without rebuilding it
        direct = text if skip == 0 and scan.clean else None
        result = _read_scanned(body, scan, header, adapter, encoding, messages, direct)
    del text
    if result is None:  # unusual quoting, or Polars disagreed with the scan
        result = _read_with_csv_module(body, header, adapter, encoding, messages)
    _end_of_file_warnings(result, ends_with_newline)
    return result


def _end_of_file_warnings(result: "ReadResult", ends_with_newline: bool) -> None:
    """Warn about a file with no records, or one cut off inside a bad last record."""
    if result.rows_read == 0:
        result.messages.append(
            Message(None, "warning", "no_records", "the file has a header but no records")
        )
    if not ends_with_newline and result.rejects.height:
        last_bad = result.rejects.get_column(LINE).max()
        last_good = result.frame.get_column(LINE).max() if result.frame.height else 0
        if last_bad > (last_good or 0):
            result.messages.append(
                Message(
                    int(last_bad),
                    "warning",
                    "truncated_file",
                    f"the file ends without a newline inside a bad record (line {last_bad}): "
                    "it may have been cut off while being written",
                )
            )


@dataclass
class _Scan:
    records: pl.DataFrame  # record_id, source_line, n_fields, trailer, unterminated
    line_record: pl.DataFrame  # idx -> record_id for every physical line that belongs to one
    multiline: bool
    clean: bool  # no blank line, trailer, multi-line or bad record: the text parses as is


def _scan_records(
    body: pl.DataFrame, sep: str, n_header: int, trailer_pattern: str | None,
    quote: str | None = _QUOTE,
) -> _Scan | None:
    """Find record boundaries and field counts with vectorised quote parity.

    A physical line starts a record when the number of quotes before it is even (we are not
    inside a quoted field) and it is not blank. Field counts: separators outside quoted
    sections + 1. Returns None when the file has quotes *and* something unusual (a stray
    quote, or a record whose field count is off): then only a real CSV parser knows where the
    records are, and the caller falls back to the csv module.
    """
    text = pl.col("text")
    q = _quote_count(text, quote)
    has_quote = q > 0
    lines = body.select(
        "idx", LINE, "text", has_quote.alias("has_quote"), (q.cum_sum() - q).alias("q_before")
    ).with_columns(in_quote=pl.col("q_before") % 2 == 1)
    any_quotes = bool(lines.get_column("has_quote").any())
    lines = lines.with_columns(start=~pl.col("in_quote") & (text != "")).with_columns(
        belongs=pl.col("start") | pl.col("in_quote"), record_id=pl.col("start").cum_sum()
    )
    multiline = bool(lines.get_column("in_quote").any())
    if multiline and lines.select(
        (pl.col("in_quote") & ~pl.col("has_quote")
         & (text.str.count_matches(sep, literal=True) == n_header - 1)).any()
    ).item():
        # a quoted field runs over a line that looks like a record of its own: an unbalanced
        # quote, which the csv-module path rejects with its lines named
        return None
    # A stray quote (inside an unquoted field) flips the parity, so the records after it come
    # out with wrong field counts, and Polars refuses such quotes: both send the file to the
    # csv-module fallback below, so no separate check is needed.
    belongs = lines.filter(pl.col("belongs"))
    # blank lines between records (not the empty string after the final newline)
    blank = (text == "") & ~pl.col("in_quote") & (pl.col("idx") < lines.height - 1)
    blank_lines = bool(lines.select(blank.any()).item())
    if any_quotes:
        # remove quoted sections (a continuation line is prefixed with the quote that opened
        # it on an earlier line); `""` inside a field removes as two adjacent sections
        outside = (
            pl.when(pl.col("in_quote")).then(pl.lit(_QUOTE) + text).otherwise(text)
        ).str.replace_all(r'"[^"]*("|$)', "")
        seps = pl.when(pl.col("has_quote") | pl.col("in_quote")).then(
            outside.str.count_matches(sep, literal=True)
        ).otherwise(text.str.count_matches(sep, literal=True))
    else:
        seps = text.str.count_matches(sep, literal=True)
    belongs = belongs.with_columns(seps=seps)

    if multiline:
        records = belongs.group_by("record_id", maintain_order=True).agg(
            pl.col(LINE).first(),
            (pl.col("seps").sum() + 1).alias("n_fields"),
            text.first().alias("first_line"),
        )
    else:
        records = belongs.select(
            "record_id", LINE, (pl.col("seps") + 1).alias("n_fields"), text.alias("first_line")
        )
    if trailer_pattern:
        first_field = pl.col("first_line").str.extract(
            rf'^\s*"?([^"{re.escape(sep)}]*)', 1
        ).str.strip_chars()
        trailer = first_field.str.contains(trailer_pattern).fill_null(False)
    else:
        trailer = pl.lit(False)
    total_quotes_odd = bool(
        quote and lines.height and (lines["q_before"][-1] + lines["text"][-1].count(quote)) % 2
    )
    last_id = records.get_column("record_id").max() if records.height else -1
    records = records.with_columns(
        trailer=trailer,
        # an odd number of quotes in the whole body: the last record's quote never closes
        unterminated=(pl.col("record_id") == last_id) & pl.lit(total_quotes_odd),
    ).drop("first_line")
    n_bad = records.filter(
        ~pl.col("trailer") & ((pl.col("n_fields") != n_header) | pl.col("unterminated"))
    ).height
    if any_quotes and n_bad:
        # with quotes in play a miscounted record may be a quoting oddity: let the csv module
        # decide (only files that have bad records pay for it)
        return None
    clean = not (multiline or blank_lines or n_bad or bool(records.get_column("trailer").any()))
    return _Scan(records, belongs.select("idx", "record_id"), multiline, clean)


def _trailer_note(lines: list[int]) -> list[Message]:
    """An ``info`` message naming the lines dropped as report trailers: they are not records
    (not counted), but a line the pattern took by mistake must not vanish unnamed."""
    if not lines:
        return []
    shown = ", ".join(str(n) for n in lines[:20]) + (" ..." if len(lines) > 20 else "")
    return [Message(int(lines[0]), "info", "report_trailer",
                    f"{len(lines):,} line(s) dropped as the report's trailer: {shown}")]


def _quote_count(text: pl.Expr, quote: str | None) -> pl.Expr:
    """Quote characters on each line (0 for a format that never quotes)."""
    if quote is None:
        return pl.lit(0, dtype=pl.UInt32)
    return text.str.count_matches(quote, literal=True)


def _record_texts(body: pl.DataFrame, line_record: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """Full text (physical lines joined by newline) of the given records."""
    return (
        line_record.filter(pl.col("record_id").is_in(ids.implode()))
        .join(body.select("idx", "text", LINE), on="idx", how="left")
        .group_by("record_id", maintain_order=True)
        .agg(pl.col(LINE).first(), pl.col("text").str.join("\n"))
    )


def _read_scanned(
    body: pl.DataFrame,
    scan: _Scan,
    header: list[str],
    adapter: Adapter,
    encoding: str,
    messages: list[Message],
    direct: str | None,
) -> ReadResult | None:
    n = len(header)
    trailers = scan.records.filter(pl.col("trailer")).get_column(LINE).to_list()
    messages = messages + _trailer_note(trailers)
    records = scan.records.filter(~pl.col("trailer"))
    good = records.filter((pl.col("n_fields") == n) & ~pl.col("unterminated"))
    bad = records.filter((pl.col("n_fields") != n) | pl.col("unterminated"))

    if good.height == 0:
        frame = pl.DataFrame(schema={h: pl.String for h in header})
    else:
        if direct is not None:
            payload = direct.encode("utf-8")
        else:
            keep = scan.line_record.join(good.select("record_id"), on="record_id", how="semi")
            good_text = body.join(keep.select("idx"), on="idx", how="semi").get_column("text")
            payload = (
                _join_header(header, adapter.separator) + "\n" + (good_text.str.join("\n")[0] or "")
            ).encode("utf-8")
        try:
            frame = pl.read_csv(
                io.BytesIO(payload),
                separator=adapter.separator,
                has_header=True,
                new_columns=header,
                infer_schema=False,
                quote_char=adapter.quote_char,
                null_values=[""],  # a quoted empty field ("") is empty too, as in the csv path
            )
        except pl.exceptions.PolarsError:
            return None
        del payload
    if frame.height != good.height:
        return None
    frame = frame.with_columns(good.get_column(LINE).alias(LINE))

    rejects = pl.DataFrame(schema=REJECT_SCHEMA)
    if bad.height:
        texts = _record_texts(body, scan.line_record, bad.get_column("record_id"))
        texts = texts.join(bad.select("record_id", "unterminated"), on="record_id")
        rejects = _reject_rows(
            texts.get_column(LINE).to_list(),
            texts.get_column("text").to_list(),
            texts.get_column("unterminated").to_list(),
            header,
            adapter,
        )
    return ReadResult(
        frame, frame.height + rejects.height, messages, encoding, rejects=rejects, header=header
    )


def _join_header(header: list[str], sep: str) -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="").writerow(header)
    return buf.getvalue()


def _read_with_csv_module(
    body: pl.DataFrame,
    header: list[str],
    adapter: Adapter,
    encoding: str,
    messages: list[Message],
    *,
    warn: bool = True,
    depth: int = 0,
) -> ReadResult:
    """Record-by-record parse: small files, and the fallback for files Polars cannot parse
    (non-RFC-4180 quoting, which ``warn`` reports).

    A quote that is never closed swallows the rest of the file into one record: only its
    first line is rejected (``unterminated_quote``) and the lines after it are read again on
    their own, so a stray quote costs one record, not the file's tail. A quoted field that
    runs over lines which look like records of their own (the separator count of a whole
    record, no quote) is rejected whole with ``unbalanced_quote``, naming its lines."""
    n = len(header)
    quote, sep = adapter.quote_char, adapter.separator
    first_line = int(body.get_column(LINE)[0]) if body.height else 0
    text = "\n".join(body.get_column("text").to_list())
    reader = _csv_reader(text, adapter.separator, adapter.quote_char)
    trailer = re.compile(adapter.trailer_pattern) if adapter.trailer_pattern else None
    good_lines: list[int] = []
    columns: list[list[str | None]] = [[] for _ in range(n)]
    bad: list[tuple[int, str, str]] = []  # line, text, rule
    trailer_lines: list[int] = []
    physical = text.split("\n")
    consumed = 0
    while True:
        start = consumed
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            # open quote at end of file: the rest of the file is one unterminated record
            while start < len(physical) - 1 and physical[start] == "":
                start += 1
            line_no = first_line + start
            bad.append((line_no, "\n".join(physical[start:]), "unterminated_quote"))
            break
        consumed = reader.line_num
        if not row or (len(row) == 1 and row[0] == ""):
            continue
        # blank lines before the record are counted in line_num; find the first non-blank
        while start < consumed - 1 and physical[start] == "":
            start += 1
        line_no = first_line + start
        if trailer and trailer.search(row[0].strip()):
            trailer_lines.append(line_no)
            continue
        if len(row) != n:
            bad.append((line_no, "\n".join(physical[start:consumed]), "wrong_field_count"))
            continue
        if quote is not None and consumed - start > 1 and any(
            quote not in line and line.count(sep) == n - 1
            for line in physical[start + 1 : consumed]
        ):
            bad.append((line_no, "\n".join(physical[start:consumed]), "unbalanced_quote"))
            continue
        good_lines.append(line_no)
        for i, value in enumerate(row):
            columns[i].append(value if value != "" else None)
    last_good = good_lines[-1] if good_lines else -1
    last_bad = bad[-1][0] if bad else -1
    last = max(last_good, last_bad)
    if last >= 0 and _ends_inside_quote("\n".join(physical[last - first_line :]), adapter):
        # the lenient reader silently closes a quote left open at the end of the file: the
        # last record was cut off, whatever its field count says
        if last_bad > last_good:
            bad[-1] = (bad[-1][0], bad[-1][1], "unterminated_quote")
        else:
            bad.append((last_good, "\n".join(physical[last_good - first_line :]),
                        "unterminated_quote"))
            good_lines.pop()
            for col in columns:
                col.pop()
    rest = None
    if bad and bad[-1][2] == "unterminated_quote" and "\n" in bad[-1][1].rstrip("\n"):
        # the open quote swallowed the lines after it: reject its first line only, read on
        line_no, swallowed, _ = bad[-1]
        bad[-1] = (line_no, swallowed.split("\n", 1)[0], "unterminated_quote")
        after = body.filter(pl.col(LINE) > line_no)
        if depth < 100 and after.height:
            rest = _read_with_csv_module(after, header, adapter, encoding, [], warn=False,
                                         depth=depth + 1)
    frame = pl.DataFrame(
        {h: pl.Series(h, col, dtype=pl.String) for h, col in zip(header, columns)}
        | {LINE: pl.Series(LINE, good_lines, dtype=pl.Int64)}
    )
    rejects = _reject_rows(
        [b[0] for b in bad], [b[1] for b in bad], [b[2] for b in bad], header, adapter
    )
    messages = messages + _trailer_note(trailer_lines)
    if rest is not None:
        frame = pl.concat([frame, rest.frame.select(frame.columns)])
        rejects = pl.concat([rejects, rest.rejects])
        messages = messages + [m for m in rest.messages if m.rule != "nonstandard_quoting"]
    stray = re.compile(rf'[^{re.escape(adapter.separator)}"]"[^{re.escape(adapter.separator)}"]')
    if adapter.quote_char is not None and (
        warn or any(stray.search(line) for line in physical if _QUOTE in line)
    ):
        messages = messages + [
            Message(
                None,
                "warning",
                "nonstandard_quoting",
                "quotes inside unquoted fields (read as literal characters)",
            )
        ]
    return ReadResult(
        frame, frame.height + rejects.height, messages, encoding, rejects=rejects, header=header
    )


def _ends_inside_quote(record_text: str, adapter: Adapter) -> bool:
    """True when a strict CSV parse of the record hits the end of data inside a quote."""
    if adapter.quote_char is None:
        return False
    try:
        list(_csv_reader(record_text, adapter.separator, adapter.quote_char, strict=True))
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _reject_rows(
    line_nos: list[int],
    texts: list[str],
    unterminated: list[bool | str],
    header: list[str],
    adapter: Adapter,
) -> pl.DataFrame:
    """Rejected records as (source_line, rule, message, row_json).

    The fields are matched to header names by position, and only columns the adapter
    declares safe (:func:`~assets.ingest.adapters.base.safe_columns`, an allow-list) are kept.
    Because a missing or extra field shifts every later value, a value is kept only when
    every column within the shift distance of its position is safe: identity never reaches
    quarantine, however its column is spelled, even misaligned. Only rejected records pass
    through here (per-record Python is fine: they are few).
    """
    allowed = safe_columns(adapter)
    safe = [h in allowed for h in header]
    out_lines, rules, msgs, jsons = [], [], [], []
    n = len(header)
    for line_no, text, open_quote in zip(line_nos, texts, unterminated):
        fields = _split_fields(text, adapter.separator, adapter.quote_char)
        shift = abs(len(fields) - n)
        row = {}
        for i, value in enumerate(fields):
            if i >= n or not all(0 <= j < n and safe[j] for j in range(i - shift, i + shift + 1)):
                continue
            row[header[i]] = value
        if open_quote == "unbalanced_quote":
            rule = "unbalanced_quote"
            last = line_no + text.count("\n")
            msg = (
                f"lines {line_no}-{last}: a quote opened on line {line_no} closes only on line "
                f"{last}, and the lines between look like records of their own: check the "
                "quotes (this record is not loaded)"
            )
        elif open_quote and open_quote != "wrong_field_count":
            rule = "unterminated_quote"
            msg = (
                f"line {line_no}: a quoted field opened here is never closed (file truncated, "
                "or a stray quote?); the lines after it are read on their own"
            )
        else:
            rule = "wrong_field_count"
            msg = f"line {line_no}: expected {n} fields (the header's), found {len(fields)}"
        out_lines.append(line_no)
        rules.append(rule)
        msgs.append(msg)
        jsons.append(json.dumps(row, ensure_ascii=False))
    return pl.DataFrame(
        {LINE: out_lines, "rule": rules, "message": msgs, "row_json": jsons}, schema=REJECT_SCHEMA
    )


# --------------------------------------------------------------------------------------------
# Parquet


def _read_parquet(path: Path, adapter: Adapter) -> ReadResult:
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader error is a file-level finding
        return _empty(
            [],
            "parquet",
            [Message(None, "error", "unreadable_file", f"not a readable Parquet file: {exc}")],
        )
    header = _read_header(frame.columns, adapter)
    if header != frame.columns and len(set(header)) == len(header):
        frame = frame.rename(dict(zip(frame.columns, header)))
    header_msgs = _check_header(header, adapter, 1)
    if header_msgs:
        return _empty(header, "parquet", header_msgs)
    nested = [c for c in header if isinstance(frame.schema[c], (pl.List, pl.Array, pl.Struct, pl.Object))]
    if nested:
        return _empty(header, "parquet", [Message(
            None, "error", "unsupported_column_type",
            f"column(s) {', '.join(_shown(nested, adapter))} hold lists or structures, not "
            "single values: write one value per cell",
        )])
    try:
        frame = frame.select([_as_text(c, frame.schema[c]) for c in header])
    except pl.exceptions.PolarsError:
        binary = [c for c in header if frame.schema[c] == pl.Binary]
        return _empty(header, "parquet", [Message(
            None, "error", "not_text",
            f"column(s) {', '.join(_shown(binary or header, adapter))} hold bytes that are not "
            "UTF-8 text: write them as text columns",
        )])
    frame = frame.with_row_index(LINE, offset=1)
    frame = frame.with_columns(pl.col(LINE).cast(pl.Int64)).select(header + [LINE])
    messages = [] if frame.height else [
        Message(None, "warning", "no_records", "the Parquet file has no rows")
    ]
    return ReadResult(frame, frame.height, messages, "parquet", header=header)


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    """A Parquet column as the text a CSV export would carry (ISO 8601 for times, UTC 'Z')."""
    col = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            return col.dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ")
        return col.dt.to_string("%Y-%m-%dT%H:%M:%S%.f")
    if isinstance(dtype, pl.Date):
        return col.dt.to_string("%Y-%m-%d")
    return col.cast(pl.String)


# --------------------------------------------------------------------------------------------
# many files at once


def read_many(paths: list[Path], adapter: Adapter) -> list[ReadResult]:
    """See :func:`_read_many`; if anything unforeseen escapes it, every file is read alone
    (:func:`read_records` never raises), so one strange file cannot stop the batch."""
    try:
        return _read_many(paths, adapter)
    except Exception:  # noqa: BLE001
        return [read_records(Path(p), adapter) for p in paths]


def _read_many(paths: list[Path], adapter: Adapter) -> list[ReadResult]:
    """:func:`read_records` for many files of one format, with one vectorised scan and one
    Polars CSV parse for all of them (the fixed cost of a dozen Polars plans is paid once
    per batch, not once per file).

    Returns one result per path, in order; each frame is a zero-copy slice of the batch.
    A path that cannot be read gives a failed result (:func:`unreadable`), never an
    exception. Files this path
    cannot settle on its own — Parquet, quoting that is not RFC 4180 (a stray quote), a
    record of the wrong width in a file that has quotes — are read with :func:`read_records`,
    so every file gets exactly the result it would get alone.
    """
    out: list[ReadResult | OSError | None] = [None] * len(paths)
    sep, skip = adapter.separator, adapter.skip_rows
    pending: list[tuple[int, list[str], str, str, list[Message], bool]] = []
    for i, path in enumerate(paths):
        path = Path(path)
        if path.suffix.lower() == ".parquet":
            out[i] = _read_alone(path, adapter)
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            out[i] = unreadable(exc)
            continue
        binary = not_text(data)
        if binary is not None:
            out[i] = _empty([], "", [binary])
            continue
        text, encoding, messages = decode(data)
        parts = text.split("\n", skip + 1)
        header_text = parts[skip].removesuffix("\r") if len(parts) > skip else ""
        if not header_text.strip():
            messages.append(Message(None, "warning", "empty_file", "the file has no header row"))
            out[i] = _empty([], encoding, messages)
            continue
        header = _read_header(_split_fields(header_text, sep), adapter)
        header_msgs = _check_header(header, adapter, skip + 1)
        if header_msgs:
            out[i] = _empty(header, encoding, messages + header_msgs)
            continue
        body = parts[skip + 1] if len(parts) > skip + 1 else ""
        pending.append((i, header, body, encoding, messages, text.endswith("\n")))
    if pending:
        try:
            fallback = _read_batch(pending, adapter, out)
        except Exception:  # noqa: BLE001 - the batch failed: each file alone says why
            fallback = [p[0] for p in pending]
        for i in fallback:
            out[i] = _read_alone(Path(paths[i]), adapter)
    return out  # type: ignore[return-value]


def _read_alone(path: Path, adapter: Adapter) -> ReadResult:
    return read_records(path, adapter)


def _read_batch(pending, adapter: Adapter, out: list) -> list[int]:
    """Scan and parse the bodies of ``pending`` files together; fill ``out``; return the
    indices of files to read alone."""
    sep, first_line = adapter.separator, adapter.skip_rows + 2
    n_files = len(pending)
    text = pl.col("text")
    lines = (
        pl.DataFrame(
            {
                "f": pl.Series(range(n_files), dtype=pl.Int32),
                "text": pl.Series([p[2] for p in pending], dtype=pl.String),
                "n_header": pl.Series([len(p[1]) for p in pending], dtype=pl.Int64),
            }
        )
        .with_columns(text.str.split("\n"))
        .explode("text")
        .with_columns(text.str.strip_suffix("\r"))
        .with_columns(idx=pl.int_range(pl.len()).over("f"))
    )
    q = _quote_count(text, adapter.quote_char)
    lines = lines.with_columns(q=q).with_columns(
        has_quote=pl.col("q") > 0,
        q_before=pl.col("q").cum_sum().over("f") - pl.col("q"),
    ).with_columns(in_quote=pl.col("q_before") % 2 == 1)
    lines = lines.with_columns(
        start=~pl.col("in_quote") & (text != ""),
    ).with_columns(
        belongs=pl.col("start") | pl.col("in_quote"),
        record_id=pl.col("start").cum_sum(),
        LINE=(pl.col("idx") + first_line).cast(pl.Int64),
    )
    stray = rf'[^{re.escape(sep)}"]"[^{re.escape(sep)}"]'
    outside = (
        pl.when(pl.col("in_quote")).then(pl.lit(_QUOTE) + text).otherwise(text)
    ).str.replace_all(r'"[^"]*("|$)', "")
    seps = (
        pl.when(pl.col("has_quote") | pl.col("in_quote"))
        .then(outside.str.count_matches(sep, literal=True))
        .otherwise(text.str.count_matches(sep, literal=True))
    )
    per_file = lines.group_by("f").agg(
        any_quotes=pl.col("has_quote").any(),
        stray=(pl.col("has_quote") & text.str.contains(stray)).any(),
        quotes_odd=(pl.col("q").sum() % 2 == 1),
        # a quoted field running over a line that looks like a whole record: see
        # _read_with_csv_module (unbalanced_quote)
        swallowed=(
            pl.col("in_quote") & ~pl.col("has_quote")
            & (text.str.count_matches(sep, literal=True) == pl.col("n_header") - 1)
        ).any(),
    )
    belongs = lines.filter(pl.col("belongs")).with_columns(seps=seps)
    records = belongs.group_by("record_id", maintain_order=True).agg(
        pl.col("f").first(),
        pl.col("LINE").first(),
        pl.col("n_header").first(),
        (pl.col("seps").sum() + 1).alias("n_fields"),
        text.first().alias("first_line"),
    )
    if adapter.trailer_pattern:
        first_field = pl.col("first_line").str.extract(
            rf'^\s*"?([^"{re.escape(sep)}]*)', 1
        ).str.strip_chars()
        trailer = first_field.str.contains(adapter.trailer_pattern).fill_null(False)
    else:
        trailer = pl.lit(False)
    records = (
        records.join(per_file, on="f", how="left")
        .with_columns(
            trailer=trailer,
            unterminated=(pl.col("record_id") == pl.col("record_id").max().over("f"))
            & pl.col("quotes_odd"),
        )
    )
    trailer_lines = {
        f: lines for f, lines in records.filter(pl.col("trailer")).group_by("f").agg(
            pl.col("LINE").sort()).iter_rows()
    } if adapter.trailer_pattern else {}
    records = (
        records.filter(~pl.col("trailer"))
        .with_columns(
            bad=(pl.col("n_fields") != pl.col("n_header")) | pl.col("unterminated")
        )
        .drop("first_line")
    )
    # a stray quote, or a miscounted record in a file with quotes: only a real CSV parser
    # knows where its records are — such files are read alone (csv-module fallback)
    alone = set(
        per_file.filter(pl.col("stray") | pl.col("swallowed")).get_column("f").to_list()
        + records.filter(pl.col("bad") & pl.col("any_quotes")).get_column("f").to_list()
    )
    if alone:
        records = records.filter(~pl.col("f").is_in(sorted(alone)))
    good = records.filter(~pl.col("bad"))
    bad = records.filter(pl.col("bad"))

    # one Polars parse per distinct header
    headers: dict[tuple[str, ...], list[int]] = {}
    for f, p in enumerate(pending):
        if f not in alone:
            headers.setdefault(tuple(p[1]), []).append(f)
    frames: dict[int, pl.DataFrame] = {}
    line_record = belongs.select("idx", "f", "record_id", "text")
    for header, files in headers.items():
        g = good.filter(pl.col("f").is_in(files))
        if g.height == 0:
            for f in files:
                frames[f] = pl.DataFrame(schema={h: pl.String for h in header} | {LINE: pl.Int64})
            continue
        body = line_record.filter(pl.col("record_id").is_in(g.get_column("record_id").implode()))
        payload = (
            _join_header(list(header), sep) + "\n" + (body.get_column("text").str.join("\n")[0] or "")
        ).encode("utf-8")
        try:
            frame = pl.read_csv(
                io.BytesIO(payload),
                separator=sep,
                has_header=True,
                new_columns=list(header),
                infer_schema=False,
                quote_char=adapter.quote_char,
                null_values=[""],  # a quoted empty field ("") is empty too, as in the csv path
            )
        except pl.exceptions.PolarsError:
            frame = None
        del payload
        if frame is None or frame.height != g.height:
            alone.update(files)
            continue
        frame = frame.with_columns(g.get_column("LINE").alias(LINE))
        counts = dict(g.group_by("f").len().iter_rows())
        offset = 0
        for f in files:  # records are in file order, files in batch order
            n = counts.get(f, 0)
            frames[f] = frame.slice(offset, n)
            offset += n

    bad_by_file: dict[int, pl.DataFrame] = {}
    if bad.height:
        bad = bad.filter(~pl.col("f").is_in(sorted(alone)))
        texts = (
            line_record.join(bad.select("record_id", "unterminated"), on="record_id")
            .sort("f", "idx")
            .group_by("record_id", maintain_order=True)
            .agg(pl.col("f").first(), pl.col("idx").first(), pl.col("text").str.join("\n"),
                 pl.col("unterminated").first())
            .with_columns(LINE=(pl.col("idx") + first_line).cast(pl.Int64))
            .sort("f", "LINE")
        )
        for (f,), part in texts.partition_by("f", as_dict=True).items():
            bad_by_file[f] = part
    for f, (i, header, _, encoding, messages, ends_nl) in enumerate(pending):
        if f in alone:
            continue
        frame = frames[f]
        rejects = pl.DataFrame(schema=REJECT_SCHEMA)
        if f in bad_by_file:
            part = bad_by_file[f]
            rejects = _reject_rows(
                part.get_column("LINE").to_list(),
                part.get_column("text").to_list(),
                part.get_column("unterminated").to_list(),
                header,
                adapter,
            )
        result = ReadResult(
            frame, frame.height + rejects.height,
            messages + _trailer_note(trailer_lines.get(f, [])), encoding, rejects=rejects,
            header=header,
        )
        _end_of_file_warnings(result, ends_nl)
        out[i] = result
    return [pending[f][0] for f in sorted(alone)]
