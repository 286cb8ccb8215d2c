"""The vocabulary of the quality domain: settings, probes, expectations and outcomes.

A *check* (one Dagster asset check) runs one *probe*: a SQL query that pulls a small frame
from the warehouse (aggregated in DuckDB wherever the question is about aggregates) plus the
Great Expectations expectations to validate on that frame. Expectations are described here as
plain data (the GX class name and its keyword arguments) so that importing this module, and
therefore loading the Dagster definitions, never imports Great Expectations (~2 s).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from assets.settings import Settings

BLOCKING = "blocking"
WARNING = "warning"


def day_text(value: Any) -> str:
    """A date/timestamp cell as YYYY-MM-DD (frames from DuckDB carry pandas Timestamps)."""
    return str(value)[:10] if value is not None else "?"


def num_text(value: Any) -> str:
    """A number for a sentence: integers without decimals, others with two."""
    if value is None:
        return "?"
    value = float(value)
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the quality checks; override them in ``[quality]`` of shelfwise.toml."""

    # the business day the volume checks judge; default: the latest complete day in the data
    as_of: dt.date | None = None
    # days of history a channel's day is compared with (median over these days)
    history_days: int = 28
    # a channel is judged only with at least this many days of history in the window
    min_history_days: int = 7
    # a day below this share of the channel's median volume is a collapse (blocking)
    min_volume_ratio: float = 0.1
    # days on which empty or thin channels are expected (holidays): volume is not judged
    quiet_days: tuple[dt.date, ...] = ()
    # a channel's mean unit price on the day may move within this band around its median
    price_band: tuple[float, float] = (0.5, 2.0)
    # relative tolerance of money identities (line amount vs quantity × price, FX)
    amount_tolerance: float = 0.01
    # newest order line may be at most this old (days) before a warning
    freshness_max_age_days: float = 2.0
    # validation runs kept per suite in the GX store and the Data Docs site
    keep_runs: int = 30
    # not a [quality] key: Settings.base_currency, whose FX rate is 1 by definition
    base_currency: str = "EUR"

    @classmethod
    def from_settings(cls, settings: Settings) -> QualitySettings:
        """Defaults overridden by the ``[quality]`` table of shelfwise.toml."""
        section = settings.section("quality")
        known = set(cls.__dataclass_fields__) - {"base_currency"}
        unknown = set(section) - known
        if unknown:
            raise ValueError(
                f"shelfwise.toml [quality]: unknown setting(s) {sorted(unknown)}; "
                f"known: {sorted(known)}"
            )
        values: dict[str, Any] = dict(section)
        if isinstance(values.get("as_of"), str):
            values["as_of"] = dt.date.fromisoformat(values["as_of"])
        if "price_band" in values:
            values["price_band"] = tuple(values["price_band"])
        if "quiet_days" in values:  # TOML dates or "YYYY-MM-DD" strings
            values["quiet_days"] = tuple(
                d if isinstance(d, dt.date) else dt.date.fromisoformat(d)
                for d in values["quiet_days"]
            )
        return cls(**values, base_currency=settings.base_currency)


@dataclass(frozen=True)
class Expect:
    """One Great Expectations expectation, as data.

    ``gx_type`` is the class name in ``great_expectations.expectations``; ``kwargs`` its
    arguments (``column`` included). ``explain`` turns one failing row of the probe frame into
    a sentence a person understands; without it the row is shown as ``column=value`` pairs.
    """

    gx_type: str
    kwargs: Mapping[str, Any]
    what: str  # one line: what a failure means, for the docs and the results table
    explain: Callable[[Mapping[str, Any]], str] | None = None

    @property
    def column(self) -> str | None:
        return self.kwargs.get("column")

    @property
    def expected(self) -> str:
        """The expected range or set, in words (for people and the results table)."""
        kw = self.kwargs
        if "value_set" in kw:
            values = sorted(kw["value_set"])
            shown = ", ".join(map(str, values[:8]))
            return f"in set of {len(values)} ({shown}{', ...' if len(values) > 8 else ''})"
        low, high = kw.get("min_value"), kw.get("max_value")
        if low is not None and high is not None:
            return f"between {low:g} and {high:g}"
        if low is not None:
            return f">= {low:g}"
        if high is not None:
            return f"<= {high:g}"
        return ", ".join(f"{k}={v}" for k, v in kw.items() if k != "column")


def none_of(column: str, what: str, explain: Callable[[Mapping[str, Any]], str] | None = None
            ) -> Expect:
    """Expect no row of the probe frame to count anything in ``column`` (a count of bad rows
    per channel and day, per location, per supplier, ...: at most 0)."""
    return Expect("ExpectColumnValuesToBeBetween", {"column": column, "max_value": 0}, what,
                  explain)


@dataclass
class Probe:
    """A small frame pulled from the warehouse and what it is expected to satisfy."""

    frame: pd.DataFrame
    expectations: Sequence[Expect]
    # context a person needs to read the result (e.g. the day judged); goes to metadata
    context: dict[str, Any] = field(default_factory=dict)
    # when the probe cannot run (a mart lacks a column): why, in words; a failure
    unavailable: str | None = None
    # when there is nothing to judge by design (the checked table was not built because the
    # home lacks its inputs, e.g. no stock data): why, in words; the check passes
    not_applicable: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one expectation on one probe frame."""

    expectation: Expect
    success: bool
    rows_checked: int
    failing_rows: int
    observed: str
    sample: list[dict[str, Any]]
    message: str


@dataclass(frozen=True)
class QualityCheck:
    """One Dagster asset check: which asset, blocking or not, and the probe it runs."""

    name: str
    asset: tuple[str, ...]
    blocking: bool
    description: str
    probe: Callable[[Any, QualitySettings], Probe]  # (duckdb connection, settings) -> Probe

    @property
    def severity(self) -> str:
        return BLOCKING if self.blocking else WARNING

    @property
    def suite(self) -> str:
        """The GX suite name: ``<schema>.<table>.<check>``."""
        return ".".join((*self.asset, self.name))


def unreadable_table(
    con: Any, schema: str, table: str, columns: Iterable[str], expectations: Sequence[Expect]
) -> Probe | None:
    """A probe that cannot run on ``schema.table``, or None when the table has ``columns``.

    A table that does not exist was not built by design (its asset found no inputs, e.g. no
    stock data: it drops the table so nobody reads old rows): nothing to judge, the check
    passes as "not applicable" and blocks nothing. A table that exists without a column the
    check reads is a real problem (the mart changed under the check): the check fails, naming
    the missing columns and the ones the table has.
    """
    present = set(
        con.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = $schema AND table_name = $table",
            {"schema": schema, "table": table},
        ).df()["column_name"]
    )
    if not present:
        return Probe(frame=pd.DataFrame(), expectations=expectations,
                     not_applicable=f"{schema}.{table} was not built (its inputs are absent)")
    missing = [c for c in columns if c not in present]
    if not missing:
        return None
    return Probe(
        frame=pd.DataFrame(), expectations=expectations,
        unavailable=(f"{schema}.{table} lacks the column(s) this check reads: "
                     f"{', '.join(missing)}; it has {', '.join(sorted(present))}"),
    )


def table_probe(
    con: Any, schema: str, table: str, columns: Mapping[str, str], sql: str,
    expectations: Sequence[Expect],
) -> Probe:
    """The probe of one mart: :func:`unreadable_table`'s answer when ``schema.table`` lacks one
    of ``columns`` (role -> column) or was not built, else the rows of ``sql`` judged by
    ``expectations``, with ``columns`` shown in the check's metadata."""
    cannot = unreadable_table(con, schema, table, columns.values(), expectations)
    if cannot:
        return cannot
    return Probe(frame=con.execute(sql).df(), expectations=expectations,
                 context={"columns": columns})
