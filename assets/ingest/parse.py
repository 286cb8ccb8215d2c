"""Parsing helpers for text columns: Polars expressions in, typed expressions out.

Every adapter receives its file as all-text columns (``pl.String``) and turns them into the
canonical types with these helpers. They share one contract:

- they are *expressions* (``pl.Expr`` in, ``pl.Expr`` out), so a mapping stays one vectorised
  ``select`` with no Python loop over rows;
- they never raise on bad input: a value that cannot be parsed becomes null, and the
  canonical entity's pandera contract (or the adapter, through :func:`rejects_where`) rejects
  the row with a named rule. Blank cells (empty or whitespace only) are null. The usual
  spellings of "no value" (``NaN``, ``NA``, ``N/A``, ``null``, ``None``, ``-``) are null only
  where a number, a count or a time is expected: in text and identifier columns they are
  text (real SKUs are called ``NA``, ``NAN``, ``None`` and ``-``; ``NA`` is Namibia);
- numbers are read in the *declared* number format of the file (:func:`number_format`: the
  decimal mark and the thousands mark, the adapter's declaration or a ``shelfwise.toml``
  override set by the engine), never guessed from one cell: ``"2,5"`` in a file whose decimal
  mark is ``.`` is not a number (null, so the row is quarantined), not 25;
- output dtypes are the canonical ones: ``Float64`` money, ``Int64`` counts, naive
  ``Datetime("us")`` holding UTC, ``Date`` for business dates, ``String`` ISO codes.

Example::

    frame.select(
        quantity=to_int(pl.col("Qty")),
        unit_price=to_number(pl.col("Price")),
        ordered_at=to_utc(pl.col("Created at"), ["%Y-%m-%d %H:%M:%S %z"], "UTC"),
        ship_country=country_iso2(pl.col("Country")),
    )
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar

import polars as pl

# Spellings that mean "no value" where a number, count or time is expected (compared after
# trim, case-insensitive). Never applied to text or identifiers: "NA" may be a SKU.
NULL_TOKENS = ("", "nan", "na", "n/a", "null", "none", "-", "--")

# (decimal mark, thousands mark) of the file being mapped: set by the engine around an
# adapter's ``map`` (:func:`number_format`), read when a number expression is built
_NUMBER_FORMAT: ContextVar[tuple[str, str]] = ContextVar("number_format", default=(".", ","))
DECIMAL_MARKS = (".", ",")
THOUSANDS_MARKS = (",", ".", " ", "'", "")


@contextlib.contextmanager
def number_format(decimal_mark: str = ".", thousands_mark: str = ",") -> Iterator[None]:
    """Within the block, :func:`to_number` and :func:`to_int` read numbers with this decimal
    mark (``"."`` or ``","``) and thousands mark (``","``, ``"."``, ``" "``, ``"'"`` or ``""``
    for none). Raises ``ValueError`` for a mark outside those, or two equal marks."""
    if decimal_mark not in DECIMAL_MARKS or thousands_mark not in THOUSANDS_MARKS:
        raise ValueError(
            f"number format: decimal mark {decimal_mark!r} must be one of {DECIMAL_MARKS}, "
            f"thousands mark {thousands_mark!r} one of {THOUSANDS_MARKS}"
        )
    if decimal_mark == thousands_mark:
        raise ValueError(f"number format: decimal and thousands mark are both {decimal_mark!r}")
    token = _NUMBER_FORMAT.set((decimal_mark, thousands_mark))
    try:
        yield
    finally:
        _NUMBER_FORMAT.reset(token)

# Currency signs and ISO codes that exports glue to amounts ("$12.50", "£1,234.00",
# "EUR 12,50", "12.50 USD", "US $12.50"). Removed before the number is read.
# ASCII word boundaries and digits: a Unicode \b in a haystack with "£" or "€" takes Rust's
# regex off its fast engine (eBay's "£12.99" prices: to_number 0.44 s → 0.17 s per 100k cells)
_CURRENCY_NOISE = (
    r"(?i)(US|AU|CA|C|A|NZ)?\s*\$|[£€¥₹₩₽¢]"
    r"|(?-u:\b)(USD|EUR|GBP|CAD|AUD|JPY|CHF|SEK|NOK|DKK|PLN|CZK|NZD)(?-u:\b)"
)


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trimmed text; empty (or whitespace-only) cells become null.

    Only leading/trailing whitespace (including non-breaking spaces) is removed, never
    inner spaces: ``"  RED  MUG "`` → ``"RED  MUG"``. ``"NA"``, ``"None"``, ``"-"`` stay text:
    in an identifier or text column they are values (a SKU ``NA``, the country Namibia).
    """
    text = expr.cast(pl.String).str.strip_chars(" \t\r\n\u00a0")
    return pl.when(text == "").then(None).otherwise(text)


def missing_to_null(expr: pl.Expr) -> pl.Expr:
    """:func:`blank_to_null`, and the spellings of "no value" (``NaN``, ``N/A``, ``-``, ...)
    null too: for cells that hold a number, a count or a time, never an identifier."""
    text = blank_to_null(expr)
    return pl.when(text.str.to_lowercase().is_in(NULL_TOKENS)).then(None).otherwise(text)


def to_number(expr: pl.Expr, *, decimal_comma: bool | None = None) -> pl.Expr:
    """Money or measure text → ``Float64``; null when it is not a number *in the declared
    number format* (:func:`number_format`; ``decimal_comma=True`` forces ``1.234,50``).

    Accepts, with ``.`` as the decimal mark and ``,`` as the thousands mark (the default):
    - plain numbers ``"12.5"``, ``"-3"``, ``"+3"``, ``".5"``, ``"1e3"``;
    - thousands marks in groups of three ``"1,234.50"`` → 1234.5;
    - currency signs or codes before or after the number: ``"$12.50"``, ``"£1,234.00"``,
      ``"US $9.99"``, ``"12.50 EUR"``, ``"-$3.00"`` and ``"$-3.00"`` (both → -3.0);
    - accounting negatives ``"(12.50)"`` → -12.5;
    - inner spaces used as thousands separators ``"1 234.50"`` → 1234.5.

    With ``,`` as the decimal mark and ``.`` as the thousands mark: ``"12,50"`` → 12.5,
    ``"1.234,50"`` → 1234.5, ``"1.234"`` → 1234.

    Null (refused, never guessed): blanks, null tokens (``NaN``, ``N/A``, ``-``), text
    (``"free"``), two numbers in one cell, ``inf``/``nan``; a mark that does not fit the
    declared format (``"2,5"``, ``"12,50"`` and ``"1.234,50"`` when ``.`` is the decimal
    mark; ``"12.50"`` when ``,`` is); and, with ``,`` as the decimal mark, a lone ``,``
    followed by exactly three digits (``"1,234"``): a file that writes thousands with commas
    looks just the same, so the value is ambiguous.
    """
    decimal, thousands = (",", ".") if decimal_comma else _NUMBER_FORMAT.get()
    if decimal_comma is False:
        decimal, thousands = ".", ","
    text = missing_to_null(expr)
    if decimal == ".":
        # Most cells are plain numbers already: only the others go through the clean-up
        # regexes (their input is null for plain cells, and a null skips the regex work).
        plain = text.str.contains(_PLAIN_NUMBER)
        messy = _cleaned(pl.when(~plain).then(text), decimal, thousands)
        return pl.when(plain).then(text.cast(pl.Float64, strict=False)).otherwise(
            _number_from(messy)
        )
    return _number_from(_cleaned(text, decimal, thousands))


_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_PLAIN_INT = r"^-?[0-9]{1,15}$"


def _grouped(decimal: str, thousands: str) -> str:
    """Regex of a number with thousands marks in groups of three (any decimal part)."""
    t, d = _re_escape(thousands), _re_escape(decimal)
    return rf"^[+-]?[0-9]{{1,3}}({t}[0-9]{{3}})+({d}[0-9]*)?$"


def _re_escape(mark: str) -> str:
    """A number mark for a regex (only "." is special among the marks we allow)."""
    return r"\." if mark == "." else mark


def _cleaned(text: pl.Expr, decimal: str, thousands: str) -> pl.Expr:
    """Number text without currency noise and inner spaces, in ``.``-decimal form; null when
    its marks do not fit the declared format (so it is refused, not misread)."""
    text = text.str.replace_all(_CURRENCY_NOISE, "")
    # accounting style: "(12.50)" means -12.50
    text = (
        pl.when(text.str.contains(r"^\s*\(.*\)\s*$"))
        .then(pl.lit("-") + text.str.strip_chars(" ()"))
        .otherwise(text)
    )
    if thousands in (" ", "'", ","):
        # inner spaces and Swiss apostrophes group thousands in every format we read
        text = text.str.replace_all(r"[\s\u00a0']", "")
    else:
        text = text.str.replace_all(r"[\s\u00a0]", "")
    other = "," if decimal == "." else "."
    plain = rf"^[+-]?([0-9]+({_re_escape(decimal)}[0-9]*)?|{_re_escape(decimal)}[0-9]+)([eE][+-]?[0-9]+)?$"
    grouped = _grouped(decimal, thousands) if thousands in (",", ".") else None
    ok = text.str.contains(plain)
    if decimal == ",":
        # "1,234": a thousands comma or a decimal comma? refused
        ok = ok & ~text.str.contains(r"^[+-]?[0-9]{1,3},[0-9]{3}$")
    if grouped is not None:
        ok = ok | text.str.contains(grouped)
    without_groups = text.str.replace_all(_re_escape(other), "") if grouped else text
    normal = without_groups.str.replace(",", ".", literal=True) if decimal == "," else without_groups
    return pl.when(ok).then(normal).otherwise(None)


def _number_from(text: pl.Expr) -> pl.Expr:
    # only a full number is accepted: this refuses "12.5.3", "abc", "inf", "nan"
    valid = text.str.contains(_PLAIN_NUMBER)
    return pl.when(valid).then(text.cast(pl.Float64, strict=False)).otherwise(None)


def to_int(expr: pl.Expr) -> pl.Expr:
    """Count text → ``Int64``; null unless the value is a whole number written in digits.

    ``"6"``, ``"+6"``, ``"-6"``, ``"1,200"`` (thousands mark of the declared number format)
    and float-typed text ``"17850.0"`` (exports written through a float column) are whole
    numbers; ``"2.5"``, ``"abc"``, blanks and exponent notation (``"1e3"``: no export writes
    a count so, and a float artefact is not a quantity) are null. Values beyond ±2^53 are
    null (a float cannot hold them exactly).
    """
    decimal, thousands = _NUMBER_FORMAT.get()
    text = missing_to_null(expr).str.strip_prefix("+")
    # plain whole numbers (almost every cell) are cast directly; the rest as numbers
    plain = text.str.contains(_PLAIN_INT)
    grouped = (
        text.str.contains(rf"^-?[0-9]{{1,3}}({_re_escape(thousands)}[0-9]{{3}})+$")
        if thousands else pl.lit(False)
    )
    artefact = text.str.contains(rf"^-?[0-9]+{_re_escape(decimal)}0+$")
    digits = (
        pl.when(grouped).then(text.str.replace_all(_re_escape(thousands), ""))
        .when(artefact).then(text.str.replace(rf"{_re_escape(decimal)}0+$", ""))
    )
    number = digits.cast(pl.Float64, strict=False)
    return (
        pl.when(plain).then(text.cast(pl.Int64, strict=False))
        .when(number.abs() <= 2.0**53).then(number.cast(pl.Int64, strict=False))
        .otherwise(None)
    )


def to_id(expr: pl.Expr) -> pl.Expr:
    """Identifier text: trimmed, blanks null, and a float artefact ``"17850.0"`` → ``"17850"``.

    Spreadsheet round trips write integer ids as floats; the id is the same customer.
    Other text is kept as it is (``"C536379"``, ``"#1001"``, ``"00123"`` keep their form).
    """
    text = blank_to_null(expr)
    return text.str.replace(r"^(\d+)\.0+$", "${1}")


def _has_zone(fmt: str) -> bool:
    return any(z in fmt for z in ("%z", "%#z", "%:z", "%::z"))


def to_utc(
    expr: pl.Expr,
    formats: Sequence[str],
    assume_tz: str = "UTC",
    *,
    date_hour: int = 12,
) -> pl.Expr:
    """Timestamp text → naive ``Datetime("us")`` holding UTC; null when no format fits.

    ``formats`` are chrono/strftime patterns tried in order; the first that parses the whole
    cell wins (so list the most specific first). A format with an offset directive (``%z``,
    ``%#z``, ``%:z``) honours the offset in the text: ``"2024-03-01 10:15:00 -0500"`` with
    ``"%Y-%m-%d %H:%M:%S %z"`` → 2024-03-01 15:15. ``%#z`` also accepts ``Z`` and ``+05:00``.
    A format without one reads local wall time in ``assume_tz`` (an IANA name such as
    ``"Europe/London"``): in the hour that repeats when clocks go back the earlier instant is
    taken; a wall time that does not exist (clocks go forward) is null.
    ``%.f`` matches optional fractional seconds.

    A date-only format (no hour directive) gives ``date_hour`` o'clock local time, noon by
    default: midnight in a zone east of UTC is the previous day in UTC, and a business date
    must stay the same date whatever the zone (noon does for every zone within ±12 h, i.e.
    all but New Zealand's summer time and a few Pacific islands).
    """
    text = missing_to_null(expr)
    parsed: list[pl.Expr] = []
    for fmt in formats:
        if _has_zone(fmt):
            value = (
                text.str.to_datetime(fmt, strict=False, time_unit="us")
                .dt.convert_time_zone("UTC")
                .dt.replace_time_zone(None)
            )
        else:
            naive = (
                text.str.to_datetime(fmt, strict=False, time_unit="us")
                if _has_time(fmt)
                else text.str.to_date(fmt, strict=False).cast(pl.Datetime("us"))
                + pl.duration(hours=date_hour)
            )
            value = (
                naive.dt.replace_time_zone(assume_tz, ambiguous="earliest", non_existent="null")
                .dt.convert_time_zone("UTC")
                .dt.replace_time_zone(None)
            )
        parsed.append(value)
    return pl.coalesce(parsed).cast(pl.Datetime("us"))


def _has_time(fmt: str) -> bool:
    return any(d in fmt for d in ("%H", "%I", "%M", "%S", "%T", "%R", "%X", "%c", "%s"))


def to_date(expr: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """Date text → ``Date``; null when no format fits. Formats tried in order.

    Two-digit years (``%y``) read as 1970–2069 (``"03/01/24"`` with ``"%m/%d/%y"`` →
    2024-03-01). Single-digit months and days parse with the zero-padded directives
    (``"3/1/24"``). A cell carrying a time as well does not match a date-only format: use
    :func:`to_utc` and take ``.dt.date()`` if the time matters.
    """
    text = missing_to_null(expr)
    return pl.coalesce([text.str.to_date(fmt, strict=False) for fmt in formats])


# Country names as the exports write them → ISO 3166-1 alpha-2. Keys are lower-case.
# Regions without one code ("Channel Islands": Jersey or Guernsey, "European Community",
# "Unspecified") are deliberately absent: they map to null, never to a guess.
COUNTRY_NAMES: dict[str, str] = {
    "united kingdom": "GB", "great britain": "GB", "uk": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "gbr": "GB",
    "ireland": "IE", "eire": "IE", "republic of ireland": "IE", "irl": "IE",
    "united states": "US", "united states of america": "US", "usa": "US", "us": "US",
    "u.s.a.": "US", "u.s.": "US", "america": "US",
    "canada": "CA", "can": "CA", "mexico": "MX", "mex": "MX", "brazil": "BR", "bra": "BR",
    "argentina": "AR", "chile": "CL", "colombia": "CO", "peru": "PE",
    "france": "FR", "fra": "FR", "germany": "DE", "deutschland": "DE", "deu": "DE",
    "netherlands": "NL", "the netherlands": "NL", "holland": "NL", "nld": "NL",
    "belgium": "BE", "bel": "BE", "luxembourg": "LU", "switzerland": "CH", "che": "CH",
    "austria": "AT", "aut": "AT", "italy": "IT", "ita": "IT", "spain": "ES", "esp": "ES",
    "portugal": "PT", "prt": "PT", "greece": "GR", "grc": "GR", "malta": "MT", "cyprus": "CY",
    "denmark": "DK", "dnk": "DK", "sweden": "SE", "swe": "SE", "norway": "NO", "nor": "NO",
    "finland": "FI", "fin": "FI", "iceland": "IS", "isl": "IS",
    "poland": "PL", "pol": "PL", "czech republic": "CZ", "czechia": "CZ", "cze": "CZ",
    "slovakia": "SK", "hungary": "HU", "romania": "RO", "bulgaria": "BG", "croatia": "HR",
    "slovenia": "SI", "estonia": "EE", "latvia": "LV", "lithuania": "LT", "ltu": "LT",
    "ukraine": "UA", "russia": "RU", "russian federation": "RU", "turkey": "TR", "türkiye": "TR",
    "israel": "IL", "isr": "IL", "lebanon": "LB", "lbn": "LB", "bahrain": "BH", "bhr": "BH",
    "saudi arabia": "SA", "sau": "SA", "united arab emirates": "AE", "uae": "AE", "are": "AE",
    "qatar": "QA", "kuwait": "KW", "egypt": "EG",
    "south africa": "ZA", "rsa": "ZA", "zaf": "ZA", "nigeria": "NG", "kenya": "KE",
    "japan": "JP", "jpn": "JP", "china": "CN", "chn": "CN", "hong kong": "HK", "hkg": "HK",
    "taiwan": "TW", "south korea": "KR", "korea, republic of": "KR", "korea": "KR",
    "singapore": "SG", "sgp": "SG", "malaysia": "MY", "thailand": "TH", "vietnam": "VN",
    "indonesia": "ID", "philippines": "PH", "india": "IN", "ind": "IN",
    "australia": "AU", "aus": "AU", "new zealand": "NZ", "nzl": "NZ",
}


def country_iso2(expr: pl.Expr) -> pl.Expr:
    """Country name or code → ISO 3166-1 alpha-2 (upper case); null when unknown.

    A two-letter cell is taken as a code already (``"gb"`` → ``"GB"``; note the UK's code is
    ``GB``: a cell ``"UK"`` maps to ``GB`` too). Names and common alpha-3 codes are looked up
    case-insensitively after trimming (``"United Kingdom"``, ``"EIRE"`` → ``IE``, ``"USA"``,
    ``"RSA"`` → ``ZA``). Regions without a single code (``"Channel Islands"``,
    ``"European Community"``, ``"Unspecified"``) and unknown names are null: an ISO column
    must never hold a guess.
    """
    text = blank_to_null(expr)
    lower = text.str.to_lowercase()
    named = lower.replace_strict(COUNTRY_NAMES, default=None, return_dtype=pl.String)
    two_letter = text.str.contains(r"^[A-Za-z]{2}$")
    return (
        pl.when(named.is_not_null())
        .then(named)
        .when(two_letter)
        .then(text.str.to_uppercase())
        .otherwise(None)
    )


def rejects_where(
    frame: pl.DataFrame,
    condition: pl.Expr,
    rule: str,
    message: pl.Expr | str,
    line: str = "source_line",
) -> pl.DataFrame:
    """The rejects frame (``source_line``, ``rule``, ``message``) of the rows where
    ``condition`` is true; null conditions count as false.

    ``rule`` is a snake_case name (``quantity_not_a_number``); ``message`` is a text
    expression evaluated per row so it can name the column and the bad value, e.g.
    ``pl.format("Quantity {!r} is not a whole number", pl.col("Quantity"))``.
    """
    msg = pl.lit(message) if isinstance(message, str) else message
    # lazily: the optimiser evaluates a sub-expression used twice (a parsed value) once
    return frame.lazy().filter(condition.fill_null(False)).select(
        pl.col(line).cast(pl.Int64),
        pl.lit(rule, dtype=pl.String).alias("rule"),
        msg.cast(pl.String).alias("message"),
    ).collect()


def quoted(expr: pl.Expr) -> pl.Expr:
    """The cell value for a message: ``'abc'`` in quotes, or ``<blank>`` when null/empty."""
    return pl.when(expr.is_null() | (expr.cast(pl.String).str.strip_chars() == "")).then(
        pl.lit("<blank>")
    ).otherwise(pl.lit("'") + expr.cast(pl.String) + pl.lit("'"))
