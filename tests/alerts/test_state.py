"""The alert state machine: sent once when it opens, again only when it escalates, and once
when it resolves; a re-run changes nothing; a rule that did not run resolves nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts_builder import new_warehouse, put_mart, stocked_world
from assets.alerts import rules as alert_rules
from assets.alerts import state as alert_state
from assets.alerts.config import SEVERITIES, AlertThresholds

T0 = datetime(2026, 4, 1, 6, 0)


def raise_alerts(con, alerts: dict[str, str], *, evaluated: bool = True) -> None:
    """Make ``marts.alerts_current`` hold exactly ``alerts`` (key -> severity), all of one
    type whose rule ran (or not)."""
    rank = {s: n for n, s in enumerate(SEVERITIES, start=1)}
    frame = pl.DataFrame(  # noqa: F841 - read by DuckDB below
        [{"alert_key": k, "alert_type": "late_po", "severity": s, "severity_rank": rank[s],
          "subject": k, "message": f"{k} is {s}"} for k, s in alerts.items()],
        schema={"alert_key": pl.String, "alert_type": pl.String, "severity": pl.String,
                "severity_rank": pl.Int32, "subject": pl.String, "message": pl.String})
    typed = ", ".join(f"NULL::{t} AS {n}" for n, t in alert_rules.ALERT_COLUMNS)
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(f"CREATE OR REPLACE TABLE marts.alerts_current AS SELECT {typed} WHERE false")
    con.execute("INSERT INTO marts.alerts_current BY NAME SELECT * FROM frame")
    con.execute("CREATE OR REPLACE TABLE marts.alert_rules AS "
                "SELECT 'late_po' AS alert_type, ? AS evaluated", [evaluated])


def events(con) -> list[tuple[str, str, str]]:
    return con.execute("""SELECT alert_key, transition, severity FROM ops.alert_events
                          ORDER BY happened_at, alert_key""").fetchall()


def test_open_no_resend_escalate_deescalate_resolve_reopen():
    con = new_warehouse()
    step = iter(range(100))

    def run(alerts, evaluated=True):
        raise_alerts(con, alerts, evaluated=evaluated)
        return alert_state.advance_alert_state(con, T0 + timedelta(minutes=next(step)))

    assert run({"a": "warning", "b": "info"})["opened"] == 2
    assert run({"a": "warning", "b": "info"}) == {"opened": 0, "escalated": 0, "ongoing": 2,
                                                  "resolved": 0}
    assert run({"a": "critical", "b": "info"})["escalated"] == 1
    # back down and up again within one episode: announced at critical already, no news
    assert run({"a": "warning", "b": "info"})["escalated"] == 0
    assert run({"a": "critical", "b": "info"})["escalated"] == 0
    # b's rule did not run this time: b is not resolved, whatever alerts_current says
    assert run({"a": "critical"}, evaluated=False)["resolved"] == 0
    assert run({"a": "critical"})["resolved"] == 1
    assert run({})["resolved"] == 1
    assert run({"a": "info"})["opened"] == 1  # back: a new episode
    assert events(con) == [
        ("a", "opened", "warning"), ("b", "opened", "info"),
        ("a", "escalated", "critical"),
        ("b", "resolved", "info"),
        ("a", "resolved", "critical"),  # resolved at the severity it was announced at
        ("a", "opened", "info"),
    ]
    state = con.execute("""SELECT status, last_severity, notified_severity, times_opened,
                                  resolved_at IS NULL, opened_at
                           FROM ops.alert_state WHERE alert_key = 'a'""").fetchall()[0]
    assert state == ("open", "info", "info", 2, True, T0 + timedelta(minutes=8))
    b = con.execute("SELECT status, resolved_at FROM ops.alert_state "
                    "WHERE alert_key = 'b'").fetchall()
    assert b == [("resolved", T0 + timedelta(minutes=6))]


def test_the_real_rules_drive_the_state():
    con = new_warehouse()
    stocked_world(con)
    put_mart(con, "oversell_risk", [{"channel_id": "etsy", "channel_sku": "E-A", "sku": "A",
                                     "listed_quantity": 10, "ats_units": 4}])
    alert_rules.build_alerts_current(con, AlertThresholds())
    alert_state.advance_alert_state(con, T0)
    put_mart(con, "oversell_risk", [{"channel_id": "etsy", "channel_sku": "E-A", "sku": "A",
                                     "listed_quantity": 10, "ats_units": 0}])
    alert_rules.build_alerts_current(con, AlertThresholds())
    alert_state.advance_alert_state(con, T0 + timedelta(hours=1))
    put_mart(con, "oversell_risk", [])
    alert_rules.build_alerts_current(con, AlertThresholds())
    alert_state.advance_alert_state(con, T0 + timedelta(hours=2))
    assert events(con) == [("oversell_risk:A", "opened", "warning"),
                           ("oversell_risk:A", "escalated", "critical"),
                           ("oversell_risk:A", "resolved", "critical")]
    message = con.execute("SELECT message FROM ops.alert_events WHERE transition = 'resolved'"
                          ).fetchall()[0][0]
    assert message == ("A: listed beyond what is available to sell on etsy "
                       "(E-A: listed 10, available 0)")


def expected_events(observations: list[str | None]) -> list[tuple[str, str]]:
    """What a person expects to hear, worked out without SQL."""
    rank = {s: n for n, s in enumerate(SEVERITIES, start=1)}
    out, announced = [], None
    for seen in observations:
        if seen is None:
            if announced is not None:
                out.append(("resolved", announced))
            announced = None
        elif announced is None:
            out.append(("opened", seen))
            announced = seen
        elif rank[seen] > rank[announced]:
            out.append(("escalated", seen))
            announced = seen
    return out


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(SEVERITIES)), min_size=1, max_size=8))
def test_events_match_what_a_person_expects_and_reruns_add_nothing(observations):
    con = duckdb.connect()  # the state machine needs no core: an empty database is enough
    for i, seen in enumerate(observations):
        raise_alerts(con, {} if seen is None else {"k": seen})
        alert_state.advance_alert_state(con, T0 + timedelta(hours=i))
        # the same data again (a re-run): nothing new to say
        alert_state.advance_alert_state(con, T0 + timedelta(hours=i, minutes=30))
    assert [(t, s) for _, t, s in events(con)] == expected_events(observations)
    con.close()
