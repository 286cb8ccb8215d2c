"""dashboards/data.py: one cached read-only connection per published snapshot, and a publish
(a new file renamed over the served one) is picked up by the next query."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import duckdb
import streamlit as st

from dashboards import data


def write_snapshot(path: Path, value: int) -> None:
    """A tiny snapshot written the way the publish step does: a new file, then a rename."""
    tmp = path.with_name(f".{path.name}.{value}.tmp")
    con = duckdb.connect(str(tmp))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute("CREATE TABLE marts.numbers AS SELECT ? AS value", [value])
    finally:
        con.close()
    os.replace(tmp, path)


def open_files(name: str) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if name in target:
            found.append(target)
    return found


def test_a_new_snapshot_is_read_on_the_next_query_and_the_old_file_let_go(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("SHELFWISE_HOME", str(tmp_path))
    served = tmp_path / "serving" / "serving.duckdb"
    served.parent.mkdir()
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        write_snapshot(served, 1)
        assert data.query("SELECT value FROM marts.numbers").item() == 1
        assert data.has_table("marts.numbers")
        first = data.snapshot_version()

        write_snapshot(served, 2)  # publish: rename over the served file
        assert data.snapshot_version() != first
        # DuckDB's own connect(path) would hand back the still-open old file here
        assert data.query("SELECT value FROM marts.numbers").item() == 2
        gc.collect()
        assert not [f for f in open_files(str(tmp_path)) if "deleted" in f], \
            "the replaced snapshot is still open"
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        gc.collect()


def test_queries_share_one_connection_per_snapshot(tmp_path, monkeypatch):
    monkeypatch.setenv("SHELFWISE_HOME", str(tmp_path))
    served = tmp_path / "serving" / "serving.duckdb"
    served.parent.mkdir()
    write_snapshot(served, 7)
    st.cache_data.clear()
    st.cache_resource.clear()
    opened = []
    real_connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect",
                        lambda *a, **k: opened.append(a) or real_connect(*a, **k))
    try:
        for value in range(5):
            got = data.query("SELECT value + ? AS v FROM marts.numbers", [value]).item()
            assert got == 7 + value
        assert len(opened) == 1
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        gc.collect()
