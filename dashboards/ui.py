"""Widgets and formatting every page shares: filters, headline metrics, downloads, notes.

Filter widgets live in the sidebar and return plain values that pages pass to
:func:`dashboards.data.query` as SQL parameters (never formatted into SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from dashboards import data

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


def period_filter(bounds: tuple[date, date], *, key: str, default_days: int = 28) -> Period:
    """A date range in the sidebar, defaulting to the last ``default_days`` of the data."""
    lo, hi = bounds
    default = (max(lo, hi - timedelta(days=default_days - 1)), hi)
    picked = st.sidebar.date_input("Period", value=default, min_value=lo, max_value=hi, key=key)
    # while the user is still picking, the widget returns one date: treat it as one day
    if isinstance(picked, (tuple, list)):
        start, end = (picked[0], picked[-1]) if picked else default
    else:
        start = end = picked
    return Period(start, end)


def choice_filter(label: str, options: dict[str, str], *, key: str) -> list[str]:
    """A multiselect in the sidebar over id -> label. Nothing picked means all and returns []
    (SQL: ``len($x::VARCHAR[]) = 0 OR list_contains($x::VARCHAR[], column)``), so rows whose
    value is missing from the dimension are not silently dropped."""
    picked = st.sidebar.multiselect(
        label, list(options), format_func=lambda v: options.get(v, v), key=key,
        placeholder="All",
    )
    return list(picked)


def change(current: float | None, previous: float | None, *, relative: bool = True) -> str | None:
    """A metric delta against the previous period, in % (relative) or points."""
    if current is None or previous is None:
        return None
    if relative:
        return None if previous == 0 else f"{(current - previous) / abs(previous):+.1%}"
    return f"{(current - previous) * 100:+.1f} pt"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def hours(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f} h"


def chart(fig: go.Figure) -> None:
    """A Plotly chart that fills its column (phones included) with a compact legend."""
    fig.update_layout(margin=dict(l=8, r=8, t=36, b=8), legend=dict(orientation="h", y=-0.2),
                      height=320)
    st.plotly_chart(fig, width="stretch")


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


def table(frame: pl.DataFrame, *, name: str, key: str) -> None:
    """A full-width table and a CSV download of exactly what it shows."""
    st.dataframe(frame, width="stretch", hide_index=True)
    download(frame, name=name, key=key)


def download(frame: pl.DataFrame, *, name: str, key: str) -> None:
    """A CSV download button for ``frame``, formula-looking text cells neutralised."""
    st.download_button(
        f"Download {name} (CSV)", neutralise(frame).write_csv().encode("utf-8"),
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
