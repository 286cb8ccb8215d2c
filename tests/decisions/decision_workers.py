"""Functions the concurrency test runs in other processes (importable by name for spawn)."""

from __future__ import annotations

import time

import duckdb

from assets.decisions.store import DecisionStore


def hold_warehouse(path: str, ready, stop) -> None:
    """Hold the DuckDB warehouse open for writing (as a pipeline run does) and keep writing
    until ``stop`` is set."""
    con = duckdb.connect(path)
    con.execute("CREATE OR REPLACE TABLE marts.busy AS SELECT 0 AS n")
    ready.set()
    n = 0
    while not stop.is_set():
        n += 1
        con.execute("INSERT INTO marts.busy VALUES (?)", [n])
        time.sleep(0.005)
    con.close()


def decide_many_times(args: tuple[str, int, int]) -> list[str]:
    """One planner process: decide on its own suggestions one by one and flip a shared one.
    Returns the errors it met (none expected)."""
    home, worker, count = args
    store = DecisionStore(home)
    errors = []
    for i in range(count):
        try:
            store.decide(f"S-{worker}-{i}", "approve", user=f"planner-{worker}",
                         suggestion={"sku": f"SKU-{i}", "location_id": "WH1",
                                     "supplier_id": "SUP-A", "suggested_units": 12})
            # every process edits the same line too: the writes queue, none is lost
            store.decide("SHARED", "edit", quantity=12 * (worker + 1) + i * 100, user=f"planner-{worker}")
        except Exception as exc:  # report, do not hide: the test asserts there are none
            errors.append(f"{type(exc).__name__}: {exc}")
    return errors
