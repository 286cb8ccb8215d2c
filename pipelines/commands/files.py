"""The files commands take and write: demand and item files in, forecasts and exports out.

Public on purpose: ``forecast``, ``backtest`` and ``simulate`` read demand files with
:func:`read_table` / :func:`load_grid`; ``suggestions`` and ``transfers`` export with
:func:`write_export`. Polars loads inside the functions (``shelfwise --help`` stays fast).
"""

from __future__ import annotations

from pathlib import Path

import click


def read_table(path: str, required: dict[str, str]):
    """Read a CSV or Parquet file (by extension) and check ``required`` columns.

    ``required``: column → kind (``str``, ``date``, ``units``, ``bool``). Errors name the file,
    the line (CSV: header is line 1) and what is wrong.
    """
    import polars as pl

    p = Path(path)
    suffix = p.suffix.lower()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(p)
            first_line = 1  # parquet has no header line: rows count from 1
        elif suffix in (".csv", ".txt"):
            frame = pl.read_csv(p, infer_schema=False)  # all strings: we parse and report ourselves
            first_line = 2
        else:
            raise click.UsageError(f"{path}: unknown file type {suffix!r}; use .csv or .parquet")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise click.ClickException(f"{path}: cannot read: {exc}") from exc
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise click.ClickException(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns) or 'none'}. "
            f"Expected columns: {', '.join(required)}"
        )
    frame = frame.with_row_index("_line", offset=first_line)
    parsed = frame.with_columns(_parse(frame, col, kind).alias(col) for col, kind in required.items())
    for col, kind in required.items():
        _refuse_bad_values(path, frame, parsed, col, kind)
    return parsed.select(list(required))


def _parse(frame, col: str, kind: str):
    """The Polars expression that parses column ``col`` as ``kind`` (null where it cannot)."""
    import polars as pl

    src = pl.col(col)
    if kind == "date":
        return (
            src
            if frame[col].dtype == pl.Date
            else src.cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
        )
    if kind == "units":
        return src.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    if kind == "bool":
        return (
            src.cast(pl.String)
            .str.strip_chars()
            .str.to_lowercase()
            .replace_strict(
                {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False},
                default=None,
                return_dtype=pl.Boolean,
            )
        )
    return src.cast(pl.String).str.strip_chars()


def _refuse_bad_values(path: str, frame, parsed, col: str, kind: str) -> None:
    """``click.ClickException`` naming the first line whose ``col`` is not a ``kind`` (or a
    negative number of units), and how many more there are."""
    import polars as pl

    bad = parsed.with_columns(frame[col].alias("_raw")).filter(pl.col(col).is_null())
    if len(bad):
        row = bad.row(0, named=True)
        what = {
            "date": "is not a date (YYYY-MM-DD)",
            "units": "is not a number",
            "bool": "is not true/false",
            "str": "is empty",
        }[kind]
        more = f" (and {len(bad) - 1} more line(s))" if len(bad) > 1 else ""
        raise click.ClickException(
            f"{path}: line {row['_line']}: {col} {row['_raw']!r} {what}{more}"
        )
    if kind == "units":
        neg = parsed.filter(pl.col(col) < 0)
        if len(neg):
            row = neg.row(0, named=True)
            more = f" (and {len(neg) - 1} more line(s))" if len(neg) > 1 else ""
            raise click.ClickException(
                f"{path}: line {row['_line']}: {col} {row[col]:g} is negative; demand counts units "
                f"ordered (returns are not negative demand){more}"
            )


def load_grid(demand: str, stockouts: str | None):
    """The daily demand grid (:func:`forecasting.daily_grid`) of a demand file (``sku, date,
    units``), stockout days from the optional ``stockouts`` file (``sku, date, stockout``)."""
    from forecasting import daily_grid

    frame = read_table(demand, {"sku": "str", "date": "date", "units": "units"})
    if frame.is_empty():
        raise click.ClickException(f"{demand}: no rows")
    stock = (
        read_table(stockouts, {"sku": "str", "date": "date", "stockout": "bool"})
        if stockouts
        else None
    )
    return daily_grid(frame, stock)


def write_frame(frame, out: str) -> None:
    """Write CSV or Parquet (by extension) to a temporary name, then rename."""
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    if p.suffix.lower() == ".parquet":
        frame.write_parquet(tmp)
    elif p.suffix.lower() == ".csv":
        frame.write_csv(tmp)
    else:
        raise click.UsageError(f"{out}: unknown file type {p.suffix!r}; use .csv or .parquet")
    tmp.replace(p)


# decimals a person reads per exported float column (by name; the rest: DEFAULT_DECIMALS).
# Money in cents; units and days to a tenth; a service level or share as 0.9892
EXPORT_DECIMALS = {"service_level": 4, "demand_share": 4}
DEFAULT_DECIMALS = 4


def _decimals(column: str) -> int:
    if column in EXPORT_DECIMALS:
        return EXPORT_DECIMALS[column]
    if "cost" in column or "value" in column or "price" in column:
        return 2
    if column.endswith("_units") or "days" in column:
        return 1
    return DEFAULT_DECIMALS


def rounded_for_export(frame):
    """``frame`` with every float column rounded to the decimals a reader needs (see
    :data:`EXPORT_DECIMALS`), so an export shows 0.9892, not 0.98915543999."""
    import polars as pl

    return frame.with_columns(
        pl.col(c).round(_decimals(c)) for c, dtype in frame.schema.items() if dtype.is_float())


def write_export(frame, out: Path) -> None:
    """CSV or XLSX by extension, floats rounded per column, text cells neutralised, written
    atomically."""
    import io

    from assets.outbox import csv_bytes, neutralise_frame, write_atomic

    frame = rounded_for_export(frame)
    suffix = out.suffix.lower()
    if suffix == ".csv":
        write_atomic(out, csv_bytes(frame))
    elif suffix == ".xlsx":
        buffer = io.BytesIO()
        neutralise_frame(frame).write_excel(buffer, worksheet="suggestions", autofit=True)
        write_atomic(out, buffer.getvalue())
    else:
        raise click.ClickException(f"{out}: export to .csv or .xlsx (got '{out.suffix}')")
