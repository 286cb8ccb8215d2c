"""Widgets and formatting every page shares: filters, headline metrics, downloads, notes.

Filter widgets live in the sidebar and return plain values that pages pass to
:func:`dashboards.data.query` as SQL parameters (never formatted into SQL).
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

import polars as pl
import streamlit as st

from dashboards import data

if TYPE_CHECKING:  # Plotly is imported by the pages once their headline numbers are out
    import plotly.graph_objects as go

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        """The period of the same length just before this one (for metric deltas)."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))


def _default_period(bounds: tuple[date, date], default_days: int) -> tuple[date, date]:
    lo, hi = bounds
    return max(lo, hi - timedelta(days=default_days - 1)), hi


def _as_period(picked, default: tuple[date, date]) -> Period:
    # while the user is still picking, the widget returns one date: treat it as one day
    if isinstance(picked, (tuple, list)):
        start, end = (picked[0], picked[-1]) if picked else default
    else:
        start = end = picked
    return Period(start, end)


def period_filter(bounds: tuple[date, date], *, key: str, default_days: int = 28) -> Period:
    """A date range in the sidebar, defaulting to the last ``default_days`` of the data."""
    lo, hi = bounds
    default = _default_period(bounds, default_days)
    picked = st.sidebar.date_input("Period", value=default, min_value=lo, max_value=hi, key=key)
    return _as_period(picked, default)


def choice_filter(label: str, options: dict[str, str], *, key: str) -> list[str]:
    """A multiselect in the sidebar over id -> label. Nothing picked means all and returns []
    (SQL: ``len($x::VARCHAR[]) = 0 OR list_contains($x::VARCHAR[], column)``), so rows whose
    value is missing from the dimension are not silently dropped."""
    picked = st.sidebar.multiselect(
        label, list(options), format_func=lambda v: options.get(v, v), key=key,
        placeholder="All",
    )
    return list(picked)


class LateFilters:
    """Sidebar filters whose values a page uses before it draws them.

    The date picker and the multiselect are elements the browser loads on demand, and while
    one is loading the headline numbers stay hidden (:func:`hold_for_headline`). So a page
    reads its filters' values first (from the session, where Streamlit keeps a widget's
    value between runs; the default on a first visit), draws its headline, then calls
    :meth:`draw`. The widgets then show what the numbers used; if one returns something
    else (its bounds changed with a new snapshot, so it was reset), the page runs once more
    with it.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[object, object]] = []  # (draw, the value used)

    def period(self, bounds: tuple[date, date], *, key: str, default_days: int = 28) -> Period:
        """:func:`period_filter`'s value, drawn later."""
        default = _default_period(bounds, default_days)
        used = _as_period(st.session_state.get(key, default), default)
        self._pending.append(
            (lambda: period_filter(bounds, key=key, default_days=default_days), used))
        return used

    def choice(self, label: str, options: dict[str, str], *, key: str) -> list[str]:
        """:func:`choice_filter`'s value, drawn later."""
        used = list(st.session_state.get(key, []))
        self._pending.append((lambda: choice_filter(label, options, key=key), used))
        return used

    def draw(self) -> None:
        """Draw the filters in the sidebar, in the order they were read; run the page again if
        a widget's value is not the one the page used."""
        pending, self._pending = self._pending, []
        drawn = [(draw(), used) for draw, used in pending]
        # once: a widget that kept disagreeing must not make the page run for ever
        again = any(shown != used for shown, used in drawn) and not st.session_state.get(RERUN)
        st.session_state[RERUN] = again
        if again:
            st.rerun()


RERUN = "_late_filters_rerun"  # this run was the one rerun a LateFilters.draw asked for


# how long a browser's first run of a page holds back what follows its headline (seconds)
HEADLINE_HOLD_SECONDS = 0.5
HEADLINE_SHOWN = "_headline_shown"  # session key: this session's browser has had its hold


def hold_for_headline() -> bool:
    """Give the browser time to show the headline numbers before anything else arrives.

    Streamlit's browser code loads each kind of element (metric, date picker, chart, table)
    as a separate script and shows a placeholder until it is there; React then reveals a
    loaded element no sooner than 0.5 s after the newest placeholder while any other is
    still loading. Sent together with the filters, charts and tables, the headline numbers
    stayed hidden until the last of them (Plotly's 4.7 MB) was compiled: 2.0-3.2 s on the
    demo home, 2.4-3.1x a bare app (docs/dashboards.md, Speed). So a page draws its
    headline with elements that load nothing heavy (titles, captions, metrics), then calls
    this: on the first run of a browser session it waits ``HEADLINE_HOLD_SECONDS``, long
    enough for the browser to fetch the metric's script and show the numbers. Reruns (a
    filter changed, a page switched) load nothing new and do not wait; nor does a session
    without a browser (AppTest). True when it waited.
    """
    if st.session_state.get(HEADLINE_SHOWN):
        return False
    st.session_state[HEADLINE_SHOWN] = True
    if not _has_browser():
        return False
    time.sleep(HEADLINE_HOLD_SECONDS)
    return True


def _has_browser() -> bool:
    """A browser is on the other end of this session: its websocket brought HTTP headers
    (AppTest's sessions have none)."""
    return bool(st.context.headers)


def change(current: float | None, previous: float | None, *, relative: bool = True) -> str | None:
    """A metric delta against the previous period, in % (relative) or points."""
    if current is None or previous is None:
        return None
    if relative:
        return None if previous == 0 else f"{(current - previous) / abs(previous):+.1%}"
    return f"{(current - previous) * 100:+.1f} pt"


# a change that prints as zero ("-0.0%", "+0.0 pt"): no direction to show
NO_CHANGE = re.compile(r"[+-]?0(\.0+)?( ?%| pt)")


def metric(cell, label: str, value: str, delta: str | None = None, **kwargs) -> None:
    """``cell.metric``, except that a change which rounds to zero reads "0.0%" in grey with no
    arrow: a red "-0.0%" under a down arrow tells a manager of a fall that is not there."""
    if delta is not None and NO_CHANGE.fullmatch(delta):
        delta = delta.lstrip("+-")
        kwargs.update(delta_color="off", delta_arrow="off")
    cell.metric(label, value, delta, **kwargs)


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} h"


def base_currency() -> str:
    """The currency code of every ``*_base`` amount (``"EUR"``): the one the KPI marts were
    computed with (``marts.kpi_reporting_settings``), else the home's ``base_currency`` in
    shelfwise.toml, else shelfwise's default, EUR. Never the word "base"."""
    if data.has_columns("marts.kpi_reporting_settings", ["base_currency"]):
        code = data.query("SELECT base_currency FROM marts.kpi_reporting_settings").item()
        if code:
            return code
    try:
        with open(data.home() / "shelfwise.toml", "rb") as f:
            code = tomllib.load(f).get("base_currency")
    except (OSError, tomllib.TOMLDecodeError):
        code = None
    return code or "EUR"


def money(value: float | None, currency: str, digits: int = 2) -> str:
    """``1,234.50 EUR``; "–" when unknown."""
    return "–" if value is None else f"{value:,.{digits}f} {currency}"


# a legend row sits above the plot, under the title: below the plot it collides with the
# x-axis title, and on a phone it wraps onto the tick labels
LEGEND = dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, title_text="")


def chart(fig: go.Figure, *, height: int = 340) -> None:
    """A Plotly chart that fills its column (phones included), its legend above the plot and
    below the title, so neither collides with an axis title."""
    # one series needs no legend (the title names it); several get a row above the plot
    legend = len(fig.data) > 1
    fig.update_layout(margin=dict(l=8, r=8, t=96 if legend else 48, b=8), height=height,
                      legend=LEGEND, showlegend=legend,
                      title=dict(y=0.98, yanchor="top", x=0, xanchor="left"))
    st.plotly_chart(fig, width="stretch")


def share_axis(fig: go.Figure, values: pl.Series | list, *, axis: str = "y",
               bars: bool = False) -> None:
    """A percent axis whose ticks differ: as many decimals as the range needs, so 99.7 % and
    99.9 % are not both printed "100%". The range pads the data (a line of weeks at 99.7-100 %
    fills the chart instead of hugging its top) and never passes 100 % or 0 % unless the data
    does (a bias may be negative). ``bars`` start at 0: a bar's length is its value."""
    shown = [v for v in (values.to_list() if isinstance(values, pl.Series) else values)
             if v is not None]
    if not shown:
        return
    lo, hi = min(shown), max(shown)
    # one value only (every week 100 %): a band of half a percentage point below it
    pad = max(hi - lo, 0.005) * 0.15
    top = min(hi + pad, 1.0) if hi <= 1.0 else hi + pad
    bottom = 0.0 if bars and lo >= 0 else max(lo - pad, 0.0) if lo >= 0.0 else lo - pad
    bottom = min(bottom, top - 0.005)
    # Plotly draws 5-8 ticks over the range: each step must print differently
    span = top - bottom
    digits = 0 if span >= 0.2 else 1 if span >= 0.02 else 2
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickformat=f".{digits}%", range=[bottom, top])


def empty_note(frame: pl.DataFrame, what_fills_it: str) -> bool:
    """True (and a note saying what data would fill it) when ``frame`` has no rows: a
    chart or table of nothing tells nobody anything."""
    if frame.is_empty():
        st.info(what_fills_it, icon=":material/info:")
        return True
    return False


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe."""
    exprs = [
        pl.when(pl.any_horizontal([pl.col(c).str.starts_with(p) for p in FORMULA_PREFIXES]))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    ]
    return frame.with_columns(exprs) if exprs else frame


@dataclass(frozen=True)
class Col:
    """How one column reads in a table: its header and what its numbers are.

    ``kind``: ``text``; ``count`` (whole units, thousands separated); ``number`` (2 decimals);
    ``decimal1``; ``money`` (2 decimals, the header names the currency); ``share`` (0..1,
    shown as ``12.3 %``); ``signed_share`` (``+4.0 %``); ``hours`` (1 decimal); ``days``;
    ``date``; ``datetime`` (UTC, to the minute); ``id`` (a number that is a name: line
    numbers, HTTP statuses, no separators); ``flag`` (a tick box)."""

    label: str
    kind: str = "text"


# the warehouse's column names in the business's words: one place for every page
LABELS: dict[str, Col] = {
    "sku": Col("SKU"), "name": Col("Product"), "product": Col("Product"),
    "category": Col("Category"), "location_id": Col("Location"), "channel_id": Col("Channel"),
    "channel_name": Col("Channel name"), "channel_sku": Col("Channel SKU"),
    "supplier_id": Col("Supplier"), "is_bundle": Col("Bundle", "flag"),
    "on_hand_units": Col("On hand (units)", "count"),
    "allocated_units": Col("Allocated (units)", "count"),
    "reserved_units": Col("Reserved (units)", "count"),
    "ats_units": Col("Available to sell (units)", "count"),
    "item_ats_units": Col("Available to sell (units, bundles excluded)", "count"),
    "skus_at_zero": Col("SKUs at zero", "count"),
    "snapshot_date": Col("Snapshot day", "date"), "as_of": Col("As of", "date"),
    "expected_on_hand": Col("Expected on hand (units)", "count"),
    "counted_on_hand": Col("Counted on hand (units)", "count"),
    "difference_units": Col("Difference (units)", "count"),
    "difference_value_base": Col("Difference value", "money"),
    "within_tolerance": Col("Within tolerance", "flag"),
    "likely_cause": Col("Likely cause"),
    "listed_quantity": Col("Listed (units)", "count"),
    "excess_units": Col("Excess (units)", "count"),
    "unit_cost_base": Col("Unit cost", "money"),
    "dead_stock_value_base": Col("Dead stock value", "money"),
    "last_sold_on": Col("Last sold", "date"),
    "days_without_sale": Col("Days without a sale", "count"),
    "units_shipped": Col("Units shipped", "count"), "window_days": Col("Window (days)", "count"),
    "days_of_supply": Col("Days of supply", "decimal1"),
    "excess_value_base": Col("Excess value", "money"),
    "lines_shipped": Col("Lines shipped", "count"),
    "median_hours_to_ship": Col("Time to ship, median (h)", "hours"),
    "p90_hours_to_ship": Col("Time to ship, p90 (h)", "hours"),
    "median_hours_to_deliver": Col("Time to deliver, median (h)", "hours"),
    "fulfilled_by": Col("Fulfilled by"), "carrier": Col("Carrier"),
    # data quality
    "entity": Col("Data"), "rule": Col("Rule broken"), "source_file": Col("File"),
    "rows_quarantined": Col("Rows quarantined", "count"), "files": Col("Files", "count"),
    "first_line": Col("First line", "id"), "example_message": Col("Example message"),
    "latest_ordered_at": Col("Newest order (UTC)", "datetime"),
    "order_lines": Col("Order lines", "count"),
    "hours_behind_newest": Col("Hours behind the newest channel", "hours"),
    "run_at": Col("Checked at (UTC)", "datetime"), "check_name": Col("Check"),
    "asset": Col("Table checked"), "expectation": Col("Expectation"),
    "column_name": Col("Column"), "success": Col("Passed", "flag"),
    "severity": Col("Severity"), "observed_value": Col("Observed"),
    "expected": Col("Expected"), "failing_rows": Col("Failing rows", "count"),
    "message": Col("Message"),
    "ingested_at": Col("Ingested at (UTC)", "datetime"),
    # alerts
    "alert_type": Col("Condition"), "subject": Col("Subject"),
    "opened_at": Col("Opened (UTC)", "datetime"), "resolved_at": Col("Resolved (UTC)", "datetime"),
    "attempted_at": Col("Attempted at (UTC)", "datetime"), "sink": Col("Sink"),
    "status": Col("Status"), "attempt": Col("Attempt", "id"),
    "http_status": Col("HTTP status", "id"), "error": Col("Error"),
    "transition": Col("Change"), "target": Col("Sent to"),
}
NUMBER_FORMATS = {
    "count": "%,.0f", "number": "%,.2f", "decimal1": "%,.1f", "money": "%,.2f",
    "share": "%.1f %%", "signed_share": "%+.1f %%", "hours": "%,.1f", "days": "%,.1f",
    "id": "%d",
}


def _guess(column: str, dtype: pl.DataType) -> Col:
    """A column not in LABELS: its name in words, its kind from its type and name
    (``q0.9`` -> "Quantile 0.9", ``statistical_q0.9`` -> "Statistical quantile 0.9")."""
    words = re.sub(r"\bq(0\.\d+)\b", r"quantile \1", column.replace("_", " ").strip())
    label = words[:1].upper() + words[1:]
    if column.endswith("_base"):
        return Col(label.removesuffix(" base"), "money")
    if dtype.is_integer():
        return Col(label, "count")
    if dtype.is_float():
        return Col(label, "number")
    if dtype == pl.Date:
        return Col(label, "date")
    if isinstance(dtype, pl.Datetime):
        return Col(label, "datetime")
    if dtype == pl.Boolean:
        return Col(label, "flag")
    return Col(label)


def _is_midnight(series: pl.Series) -> bool:
    times = series.drop_nulls()
    return times.len() > 0 and bool((times.dt.truncate("1d") == times).all())


def readable(frame: pl.DataFrame, columns: dict[str, Col | str] | None = None,
             currency: str | None = None) -> tuple[pl.DataFrame, dict]:
    """``frame`` with headers in words and its Streamlit ``column_config``: money headers
    name the currency ("Dead stock value (EUR)"), counts get thousands separators, shares
    print as ``12.3 %`` (their values become 0..100), timestamps that are all midnight
    become dates. ``columns`` overrides LABELS per page (a string is a text column's
    header). Returns (the frame to show and download, its column_config)."""
    currency = currency or base_currency()
    overrides = {k: Col(v) if isinstance(v, str) else v for k, v in (columns or {}).items()}
    config, renames, exprs = {}, {}, []
    taken: set[str] = set()
    for column, dtype in frame.schema.items():
        spec = overrides.get(column) or LABELS.get(column) or _guess(column, dtype)
        label = f"{spec.label} ({currency})" if spec.kind == "money" else spec.label
        if label in taken:  # two columns, one word ("name" and "product"): tell them apart
            label = f"{_guess(column, dtype).label} ({column})"
        taken.add(label)
        kind = spec.kind
        if kind in ("date", "datetime") and isinstance(dtype, pl.Datetime):
            if kind == "date" or _is_midnight(frame[column]):
                exprs.append(pl.col(column).dt.date())
                kind = "date"
        if kind in ("share", "signed_share") and dtype.is_numeric():
            exprs.append(pl.col(column) * 100)
        if kind in NUMBER_FORMATS and dtype.is_numeric():
            config[label] = st.column_config.NumberColumn(format=NUMBER_FORMATS[kind])
        elif kind == "date":
            config[label] = st.column_config.DateColumn(format="YYYY-MM-DD")
        elif kind == "datetime" and isinstance(dtype, pl.Datetime):
            config[label] = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
        elif kind == "flag" and dtype == pl.Boolean:
            config[label] = st.column_config.CheckboxColumn()
        renames[column] = label
    shown = frame.with_columns(exprs) if exprs else frame
    return shown.rename(renames), config


# a missing value shows as this dash, never as "None"
MISSING = "–"


def table(frame: pl.DataFrame, *, name: str, key: str, title: str | None = None,
          columns: dict[str, Col | str] | None = None, empty: str | None = None,
          currency: str | None = None) -> None:
    """A full-width table under its ``title`` (bold), headers in words and numbers
    formatted (:func:`readable`), missing values as a dash, and a CSV download of exactly
    what it shows. With ``empty`` (what data would fill it), an empty frame is that note
    instead of a table of nothing."""
    if title:
        st.markdown(title)
    if empty is not None and empty_note(frame, empty):
        return
    shown, config = readable(frame, columns, currency)
    st.dataframe(shown, width="stretch", hide_index=True, column_config=config,
                 placeholder=MISSING)
    download(shown, name=name, key=key)


def download(frame: pl.DataFrame, *, name: str, key: str) -> None:
    """A CSV download button for ``frame``, formula-looking text cells neutralised."""
    st.download_button(
        f"Download {name.replace('_', ' ')} (CSV)", neutralise(frame).write_csv().encode("utf-8"),
        file_name=f"{name}.csv", mime="text/csv", key=key,
    )


def not_computed(what: str, step: str, feature: str | None = None) -> None:
    """The honest empty state: which numbers are missing and which step produces them; for
    a ``feature`` whose data this home lacks (``marts.feature_availability``), which file
    would switch it on."""
    needs = data.feature_needs(feature) if feature else None
    if needs:
        st.info(f"{what}: this page needs {needs}. Then run `shelfwise run` "
                "(docs/your-data.md).", icon=":material/upload_file:")
        return
    st.info(f"{what}: not computed yet. Available once the {step} step runs and the serving "
            "snapshot is published again.", icon=":material/hourglass_empty:")


def snapshot_caption() -> None:
    if data.has_table("ops.snapshot_info"):
        published = data.query("SELECT published_at FROM ops.snapshot_info").item()
        st.caption(f"Serving snapshot published {published:%Y-%m-%d %H:%M} UTC.")


def feature_notes(features: list[str]) -> None:
    """One note per feature of this page that the home's data does not switch on yet, with
    the file that would (an orders-only home has no stock: no ATS, no suggestions)."""
    for key in features:
        needs = data.feature_needs(key)
        if needs:
            name = data.feature_name(key)
            st.info(f"{name}: this page needs {needs}. Then run `shelfwise run` "
                    "(docs/your-data.md).", icon=":material/upload_file:")
