"""One settings reader (issue #18, build item 5): every domain reads its table of
shelfwise.toml through assets.settings.read_section, so an unknown key or a wrong type is
refused the same way everywhere, naming the file, the table and the key; defaults stay."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from assets.alerts.config import AlertThresholds, alert_settings
from assets.decisions.config import approval_rules
from assets.forecast.config import ForecastSettings, forecast_settings
from assets.ingest.engine import IngestOptions
from assets.inventory.config import (
    AllocationSettings,
    ReconciliationSettings,
    allocation_settings,
    channel_buffer_overrides,
    reconciliation_settings,
)
from assets.kpis.marts import KpiSettings
from assets.replenishment.config import replenishment_settings
from assets.settings import SettingsError, load_settings, read_section
from pipelines.schedules import ScheduleSettings, daily_run_settings


def home_with(tmp_path, toml: str):
    (tmp_path / "shelfwise.toml").write_text(toml, encoding="utf-8")
    return load_settings(tmp_path)


READERS = {
    "kpis": KpiSettings.from_settings,
    "forecast": forecast_settings,
    "reconciliation": reconciliation_settings,
    "inventory": allocation_settings,
    "replenishment": replenishment_settings,
    "replenishment.transfers": replenishment_settings,
    "alerts": alert_settings,
    "alerts.email": alert_settings,
    "channels.etsy": channel_buffer_overrides,
    "ingest": IngestOptions.from_settings,
    "schedules": daily_run_settings,
}


@pytest.mark.parametrize("table", sorted(READERS))
def test_an_unknown_key_is_refused_naming_the_file_table_and_key(tmp_path, table):
    settings = home_with(tmp_path, f"[{table}]\nmisspelt_key = 1\n")
    with pytest.raises(SettingsError,
                       match=rf"shelfwise.toml \[{table}\]: unknown key\(s\) misspelt_key; known: "):
        READERS[table](settings)


@pytest.mark.parametrize(("table", "key", "value"), [
    ("kpis", "dead_stock_days", '"90"'),
    ("kpis", "returns_linked_warn_share", "true"),
    ("forecast", "level_shock", "1"),
    ("reconciliation", "tolerance_pct", '"2%"'),
    ("alerts", "low_stock_min_value", '"50"'),
    ("replenishment.transfers", "enabled", '"yes"'),
    ("schedules", "daily_run_cron", "5"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_the_key(tmp_path, table, key, value):
    settings = home_with(tmp_path, f"[{table}]\n{key} = {value}\n")
    with pytest.raises(SettingsError, match=rf"shelfwise.toml \[{table}\] {key} = .*: expected "):
        READERS[table](settings)


def test_an_approval_rule_key_and_the_approvals_table_go_through_the_reader(tmp_path):
    with pytest.raises(SettingsError, match=r"\[approvals\]: unknown key\(s\) auto; known: "
                                            "auto_approve"):
        approval_rules(home_with(tmp_path, "[approvals]\nauto = 1\n"))
    with pytest.raises(SettingsError, match="auto_approve rule 2: unknown key"):
        approval_rules(home_with(tmp_path, "[approvals]\nauto_approve = [{ abc_class = 'A' }, "
                                           "{ abc = 'B' }]\n"))


def test_defaults_are_the_dataclasses_own(tmp_path):
    settings = load_settings(tmp_path)  # no shelfwise.toml
    assert KpiSettings.from_settings(settings) == KpiSettings(base_currency="EUR")
    assert forecast_settings(settings) == ForecastSettings()
    assert reconciliation_settings(settings) == ReconciliationSettings()
    assert allocation_settings(settings) == AllocationSettings()
    assert alert_settings(settings).thresholds == AlertThresholds()
    assert daily_run_settings(settings) == ScheduleSettings()
    assert IngestOptions.from_settings(settings) == IngestOptions()
    assert channel_buffer_overrides(settings).is_empty()
    assert approval_rules(settings) == []


def test_the_kpi_base_currency_comes_from_the_top_of_the_file(tmp_path):
    settings = home_with(tmp_path, 'base_currency = "GBP"\n[kpis]\ndead_stock_days = 60\n')
    kpi = KpiSettings.from_settings(settings)
    assert (kpi.base_currency, kpi.dead_stock_days, kpi.timezone) == ("GBP", 60, "UTC")


@dataclass(frozen=True)
class Inner:
    hours: float = 1.0
    lanes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Knobs:
    days: int = 7
    share: float = 0.5
    on: bool = True
    name: str = "x"
    to: tuple[str, ...] = ()
    free: dt.date | None = None
    inner: Inner = field(default_factory=Inner)


def test_the_reader_types_values_by_their_default(tmp_path):
    settings = home_with(tmp_path, '[knobs]\nshare = 2\nto = "ops@example.com"\n'
                                   'free = 2026-12-24\n[knobs.inner]\nhours = 3\n'
                                   '[knobs.inner.lanes]\n"A>B" = 1\n')
    knobs = read_section(settings, "knobs", Knobs)
    assert knobs == Knobs(share=2.0, to=("ops@example.com",), free=dt.date(2026, 12, 24),
                          inner=Inner(hours=3.0, lanes={"A>B": 1}))
    assert isinstance(knobs.share, float)
    assert read_section(settings, "knobs.inner", Inner).hours == 3.0
    for body, message in (("days = 7.5", r"\[knobs\] days = 7.5: expected a whole number"),
                          ("days = true", r"days = True: expected a whole number"),
                          ("share = false", r"share = False: expected a number"),
                          ("to = [1]", r"to = \[1\]: expected a list of strings"),
                          ("inner = 3", r"\[knobs\] inner: expected a table \[knobs.inner\]"),
                          ("[knobs.inner]\nhour = 1", r"\[knobs.inner\]: unknown key\(s\) hour")):
        with pytest.raises(SettingsError, match=message):
            read_section(home_with(tmp_path, f"[knobs]\n{body}\n"), "knobs", Knobs)
