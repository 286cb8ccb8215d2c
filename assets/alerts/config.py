"""The alert knobs a retailer sets in ``shelfwise.toml``, with their defaults.

::

    [alerts]
    low_stock_critical_days = 7             # stockout within this many days (or now): critical
    low_stock_min_value = 50.0              # low stock losing less margin than this: no alert
    overstock_days_of_cover = 180           # excess = on hand beyond this many days of demand,
    overstock_warning_days_of_cover = 365   # alerted from this many days of cover
    overstock_min_value = 2500.0            # when the excess ties up this much (base currency)
    no_sale_days = 90                       # dead stock: no sale in this many days (default:
                                            # [kpis] dead_stock_days, the KPI's own threshold)
    dead_stock_warning_value = 1000.0       # dead stock worth this much (base currency): alert
    oversell_warning_share = 0.5            # listed beyond ATS by this share of ATS: warning
    discrepancy_units = 10                  # a reconciliation break of this many units ...
    discrepancy_value = 100.0               # ... or worth this much (base currency) alerts
    discrepancy_critical_value = 1000.0     # worth this much: critical
    late_po_grace_days = 0                  # a PO line this many days past expected_at is late
    late_po_critical_days = 7               # this many days late: critical

    [alerts.jsonl]                          # the default sink: <home>/outbox/alerts/*.jsonl
    enabled = true
    min_severity = "info"

    [alerts.webhook]                        # Slack-compatible JSON POST
    url = "https://hooks.slack.com/services/..."   # or url_env = "SHELFWISE_WEBHOOK_URL"
    min_severity = "warning"
    retries = 3                             # retries after the first try, within one run
    backoff_seconds = 1.0                   # wait before retry n: backoff × 2^(n-1)
    timeout_seconds = 10.0

    [alerts.email]                          # SMTP, optional
    host = "smtp.example.com"
    port = 587
    from_addr = "shelfwise@example.com"
    to = ["ops@example.com"]
    starttls = true
    username = "shelfwise"                  # optional; the password comes from the environment
    password_env = "SHELFWISE_SMTP_PASSWORD"
    min_severity = "critical"

A sink is on when its table is present (``[alerts.jsonl]`` is on unless ``enabled = false``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

from assets.settings import Settings, SettingsError, read_section

SEVERITIES = ("info", "warning", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES, start=1)}


class AlertSettingsError(SettingsError):
    """A value in shelfwise.toml that the alerts domain cannot use."""


@dataclass(frozen=True)
class AlertThresholds:
    low_stock_critical_days: int = 7
    low_stock_min_value: float = 50.0
    overstock_days_of_cover: float = 180.0
    overstock_warning_days_of_cover: float = 365.0
    overstock_min_value: float = 2500.0
    no_sale_days: int = 90
    dead_stock_warning_value: float = 1000.0
    oversell_warning_share: float = 0.5
    discrepancy_units: int = 10
    discrepancy_value: float = 100.0
    discrepancy_critical_value: float = 1000.0
    late_po_grace_days: int = 0
    late_po_critical_days: int = 7


@dataclass(frozen=True)
class SinkSettings:
    """One sink's table. ``kind`` is jsonl, webhook or email; unused fields keep defaults."""

    kind: str
    enabled: bool = True
    min_severity: str = "info"
    retries: int = 3
    backoff_seconds: float = 1.0
    timeout_seconds: float = 10.0
    url: str = ""
    url_env: str = ""
    host: str = ""
    port: int = 25
    from_addr: str = ""
    to: tuple[str, ...] = ()
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password_env: str = ""

    @property
    def min_rank(self) -> int:
        return SEVERITY_RANK[self.min_severity]

    @property
    def webhook_url(self) -> str:
        """The URL, from ``url`` or the environment variable named by ``url_env``."""
        return self.url or os.environ.get(self.url_env, "")

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass(frozen=True)
class AlertSettings:
    thresholds: AlertThresholds = AlertThresholds()
    sinks: tuple[SinkSettings, ...] = field(default_factory=lambda: (SinkSettings("jsonl"),))

    @property
    def enabled_sinks(self) -> tuple[SinkSettings, ...]:
        return tuple(s for s in self.sinks if s.enabled)


SINK_KINDS = ("jsonl", "webhook", "email")
# the fields each sink kind reads (anything else in its table is a typo worth reporting)
_SINK_FIELDS = {
    "jsonl": {"enabled", "min_severity"},
    "webhook": {"enabled", "min_severity", "retries", "backoff_seconds", "timeout_seconds",
                "url", "url_env"},
    "email": {"enabled", "min_severity", "retries", "backoff_seconds", "timeout_seconds",
              "host", "port", "from_addr", "to", "starttls", "ssl", "username", "password_env"},
}


def _thresholds(settings: Settings, kpi_dead_stock_days: int) -> AlertThresholds:
    # dead stock is one definition: the KPI mart's. It holds only SKUs idle for at least
    # [kpis] dead_stock_days, so an alert threshold below that would silently see nothing
    thresholds = read_section(settings, "alerts", AlertThresholds, error=AlertSettingsError,
                              sub_tables=SINK_KINDS, no_sale_days=kpi_dead_stock_days)
    if thresholds.no_sale_days < kpi_dead_stock_days:
        raise AlertSettingsError(
            f"shelfwise.toml [alerts] no_sale_days = {thresholds.no_sale_days}: must be >= [kpis] "
            f"dead_stock_days ({kpi_dead_stock_days}); lower [kpis] dead_stock_days instead")
    negative = [f.name for f in fields(AlertThresholds) if getattr(thresholds, f.name) < 0]
    if negative:
        raise AlertSettingsError(f"shelfwise.toml [alerts]: {', '.join(negative)} must be >= 0")
    if thresholds.overstock_warning_days_of_cover < thresholds.overstock_days_of_cover:
        raise AlertSettingsError("shelfwise.toml [alerts]: overstock_warning_days_of_cover must be "
                                 ">= overstock_days_of_cover")
    return thresholds


def _sink(settings: Settings, kind: str) -> SinkSettings:
    where = f"[alerts.{kind}]"
    sink = read_section(settings, f"alerts.{kind}", SinkSettings, error=AlertSettingsError,
                        keys=_SINK_FIELDS[kind], kind=kind)
    if sink.min_severity not in SEVERITY_RANK:
        raise AlertSettingsError(f"shelfwise.toml {where} min_severity = {sink.min_severity!r}: "
                                 f"expected one of {', '.join(SEVERITIES)}")
    if sink.retries < 0 or sink.backoff_seconds < 0 or sink.timeout_seconds <= 0:
        raise AlertSettingsError(f"shelfwise.toml {where}: retries and backoff_seconds must be "
                                 ">= 0, timeout_seconds > 0")
    if sink.enabled and kind == "webhook" and not (sink.url or sink.url_env):
        raise AlertSettingsError(f"shelfwise.toml {where}: set url (or url_env, the name of an "
                                 "environment variable holding it)")
    if sink.enabled and kind == "email" and not (sink.host and sink.from_addr and sink.to):
        raise AlertSettingsError(f"shelfwise.toml {where}: host, from_addr and to are required")
    return sink


def alert_settings(settings: Settings) -> AlertSettings:
    """The ``[alerts]`` table with defaults, validated; errors name the table and key."""
    # here, not at the top: the command line imports this module for SEVERITIES, and
    # assets.kpis.marts loads DuckDB and Dagster (through assets.warehouse) with its SQL helper
    from assets.kpis.marts import KpiSettings

    section = settings.section("alerts")
    thresholds = _thresholds(settings, KpiSettings.from_settings(settings).dead_stock_days)
    # JSONL is the default sink: on unless its table says enabled = false
    sinks = [_sink(settings, "jsonl")]
    sinks += [_sink(settings, kind) for kind in ("webhook", "email") if kind in section]
    return AlertSettings(thresholds=thresholds, sinks=tuple(sinks))
