"""The alert SQL is kept as models (issue #18): one statement a file in assets/alerts/sql/,
values as $parameters, no SQL text built in Python; and every table an alert passes through
has the columns of ``ALERT_COLUMNS``, in its order."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from alerts_builder import new_warehouse, stocked_world
from assets.alerts import rules, state
from assets.alerts.config import AlertThresholds
from sql_model_checks import not_one_statement, spliced_sql

DOMAIN = Path(rules.__file__).resolve().parent


def sql_files() -> list[Path]:
    return sorted((DOMAIN / "sql").glob("*.sql"))


def test_every_model_is_one_statement():
    assert len(sql_files()) >= 20
    assert not_one_statement(DOMAIN) == {}


def test_no_sql_is_built_with_f_strings():
    """The old sql.py spliced its statements together with nine f-strings."""
    assert spliced_sql(DOMAIN) == []


def test_every_rule_has_its_model_and_every_model_is_used():
    used = {"alert_day", "alert_selling_price", "alerts_raised", "alerts_current", "alert_rules",
            "catalog_columns", "alert_next_state", "alert_events_new", "alert_state_from_next",
            "alert_sinks_register", "alert_deliveries_pending", "alert_deliveries_record",
            *state.OPS_TABLES, *state.REPORTS, *(f"rule_{r.alert_type}" for r in rules.RULES)}
    assert {p.stem for p in sql_files()} == used


def columns(con, table: str) -> list[tuple[str, str]]:
    return [(r["column_name"], r["column_type"])
            for r in con.sql(f"DESCRIBE {table}").pl().iter_rows(named=True)]


@pytest.fixture(scope="module")
def built():
    con = new_warehouse()
    stocked_world(con)
    rules.build_alerts_current(con, AlertThresholds())
    state.ensure_alert_tables(con)
    yield con
    con.close()


def test_alert_tables_follow_alert_columns(built):
    assert columns(built, "marts.alerts_current") == list(rules.ALERT_COLUMNS)
    without_severity = [c for c in rules.ALERT_COLUMNS
                        if c[0] not in ("severity", "severity_rank")]
    assert columns(built, "alerts_raised") == [c for c in rules.ALERT_COLUMNS
                                               if c[0] not in ("severity_rank", "as_of")]
    assert columns(built, "ops.alert_state")[:len(without_severity)] == without_severity
    events = columns(built, "ops.alert_events")
    assert events[:5] == [("event_id", "VARCHAR"), ("transition", "VARCHAR"),
                          ("happened_at", "TIMESTAMP"), ("severity", "VARCHAR"),
                          ("severity_rank", "INTEGER")]
    assert events[5:] == without_severity


def test_each_rule_gets_exactly_the_values_it_uses():
    assert rules.bind("SELECT $a, $b -- not $c\nFROM t WHERE x > $a", {"a": 1, "b": 2, "c": 3}) \
        == {"a": 1, "b": 2}
    values = {**asdict(AlertThresholds()), "base_currency": "EUR"}
    used = {name for rule in rules.RULES for name in rules.bind(rule.sql, values)}
    assert used == set(values)  # every threshold is read by some rule
