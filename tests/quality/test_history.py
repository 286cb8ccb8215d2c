"""History is history: the first load of a history export does not trip the volume or
freshness checks; a daily drop still does (issue #19, item 5).

The warehouse is landed by the real ingest engine from generic order files, so every line
has its batch: one batch for the history export, one per later daily drop.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from quality_builder import get_check

from assets.ingest.engine import ingest_inbox
from assets.quality.runner import evaluate
from assets.quality.specs import QualitySettings
from assets.settings import load_settings
from assets.warehouse import connect

LAST_DAY = dt.date(2024, 3, 31)  # the export's last day: long ago, as a history export is
DAYS = 40
USUAL = 11  # lines on a usual day


def _lines(channel: str, days: list[dt.date], per_day: dict[dt.date, int]) -> pl.DataFrame:
    rows = []
    for day in days:
        for n in range(per_day.get(day, USUAL)):
            at = dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=17 * n)
            rows.append({
                "order_id": f"{channel}-{day:%m%d}-{n}", "line_id": "1",
                "channel_sku": f"SKU-{n % 4}", "sku": f"SKU-{n % 4}", "quantity": 1,
                "unit_price": 10.0, "currency": "EUR", "line_amount": 10.0, "status": "paid",
                "ordered_at": at.isoformat(), "updated_at": at.isoformat(),
            })
    return pl.DataFrame(rows)


def _write(home: Path, channel: str, name: str, frame: pl.DataFrame) -> None:
    folder = home / "inbox" / "orders" / channel
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_csv(folder / f"{name}.canonical.csv")


def _ingest(home: Path) -> None:
    settings = load_settings(home)
    with connect(settings.warehouse_path) as con:
        ingest_inbox(con, settings, settings.inbox)


def _check(home: Path, suite: str):
    settings = load_settings(home)
    with connect(settings.warehouse_path) as con:
        # no as_of: judged by the data, as a run does
        return evaluate(get_check(suite), con, QualitySettings(), home)


def _history(home: Path, last_day_lines: int) -> None:
    days = [LAST_DAY - dt.timedelta(days=k) for k in range(DAYS - 1, -1, -1)]
    _write(home, "web", "history-2024", _lines("web", days, {LAST_DAY: last_day_lines}))
    _ingest(home)


def test_a_history_export_with_a_partial_last_day_passes(tmp_path):
    """The measured case: 1 line on the export's last day against a usual 11 failed the
    blocking daily_volume check and stopped every KPI mart and the snapshot."""
    _history(tmp_path, last_day_lines=1)
    report = _check(tmp_path, "core.order_lines.daily_volume")
    assert report.passed, report.message
    assert "2024-03-31: 1 lines against a usual 11" in report.context["partial_last_day"]
    # the day before was judged instead, and it is a normal day
    assert report.outcomes[0].rows_checked == 1
    assert "history export" in report.context["partial_last_day"]


def test_a_history_export_is_not_stale_against_the_clock(tmp_path):
    """A fresh load of last year's orders is history, not a stopped feed."""
    _history(tmp_path, last_day_lines=USUAL)
    report = _check(tmp_path, "core.order_lines.freshness")
    assert report.passed, report.message
    assert float(report.context["data_age_days"]) > 365  # reported, not judged


def test_a_collapsed_daily_drop_still_fails(tmp_path):
    """After the history load, a daily file whose day collapses is judged as before."""
    _history(tmp_path, last_day_lines=USUAL)
    next_day = LAST_DAY + dt.timedelta(days=1)
    _write(tmp_path, "web", f"{next_day}", _lines("web", [next_day], {next_day: 1}))
    _ingest(tmp_path)
    report = _check(tmp_path, "core.order_lines.daily_volume")
    assert not report.passed
    assert f"channel web sent only 1 order lines on {next_day}" in report.message


def test_a_channel_whose_daily_drops_stopped_is_stale(tmp_path):
    """Two channels; one keeps sending daily files, the other's files stopped 5 days ago."""
    days = [LAST_DAY - dt.timedelta(days=k) for k in range(DAYS - 1, -1, -1)]
    _write(tmp_path, "web", "history", _lines("web", days, {}))
    _write(tmp_path, "shop", "history", _lines("shop", days, {}))
    _ingest(tmp_path)
    later = [LAST_DAY + dt.timedelta(days=k) for k in range(1, 8)]
    _write(tmp_path, "web", "drops", _lines("web", later, {}))
    _write(tmp_path, "shop", "drops", _lines("shop", later[:2], {}))
    _ingest(tmp_path)
    report = _check(tmp_path, "core.order_lines.freshness")
    assert not report.passed
    assert "the newest order line of channel shop" in report.message
    assert "5.0 days before" in report.message
