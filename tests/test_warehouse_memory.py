"""The home can cap DuckDB's memory in pipeline steps (DuckDB's default: 80 % of RAM)."""

from pathlib import Path

from assets.warehouse import connect
from pipelines.resources import build_resources


def _limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_home_can_cap_duckdb_memory(tmp_path):
    with connect(tmp_path / "a.duckdb") as default, connect(tmp_path / "b.duckdb",
                                                            memory_limit="1GB") as capped:
        assert _limit(capped) == "953.6 MiB" != _limit(default)
    (tmp_path / "shelfwise.toml").write_text('duckdb_memory_limit = "512MB"\n')
    warehouse = build_resources(str(tmp_path))["warehouse"]
    with warehouse.connect() as con:
        assert _limit(con) == "488.2 MiB"


def test_ingest_runs_under_its_own_cap_and_gives_the_pipeline_its_limit_back(tmp_path, monkeypatch):
    from dataclasses import replace

    from assets.ingest import engine
    from assets.settings import load_settings

    settings = load_settings(tmp_path)
    (tmp_path / "inbox").mkdir()
    during = []
    real = engine._ingest_inbox

    def spy(con, *args):
        during.append(_limit(con))
        return real(con, *args)

    monkeypatch.setattr(engine, "_ingest_inbox", spy)
    with connect(tmp_path / "w.duckdb") as con:
        default = _limit(con)
        engine.ingest_inbox(con, replace(settings, ingest_memory_limit="1GB"), settings.inbox)
        assert during == ["953.6 MiB"] and _limit(con) == default
        engine.ingest_inbox(con, replace(settings, ingest_memory_limit="1GB",
                                         duckdb_memory_limit="512MB"), settings.inbox)
        assert _limit(con) == "488.2 MiB"
        engine.ingest_inbox(con, replace(settings, ingest_memory_limit=""), settings.inbox)
        assert during[-1] == "488.2 MiB"


def test_every_connection_is_bounded_by_default_and_spills_under_the_home(tmp_path):
    """Issue #20 items 10/11: not only ingest; every step's DuckDB gets a limit derived from
    the machine (DuckDB's own default is 80 % of RAM) and at most 4 threads."""
    import os

    import duckdb

    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    expected_mib = min(2560, int(ram * 0.40) // 2**20)  # the medium set fits 4 GiB
    probe = duckdb.connect()
    probe.execute("SET memory_limit = ?", [f"{expected_mib}MiB"])
    expected = _limit(probe)
    probe.close()
    warehouse = build_resources(str(tmp_path))["warehouse"]
    for opened in (connect(tmp_path / "warehouse" / "w.duckdb"), warehouse.connect()):
        with opened as con:
            assert _limit(con) == expected
            threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
            assert 1 <= threads <= min(4, os.cpu_count())
            spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
            assert spill == str(tmp_path / "warehouse" / "tmp" / f"duckdb-{os.getpid()}")


def test_a_query_larger_than_the_limit_spills_instead_of_failing(tmp_path):
    with connect(tmp_path / "w.duckdb", memory_limit="64MB", threads=1) as con:
        spill = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        # a sort of ~300 MB of rows under a 64 MB cap: DuckDB must write to the spill folder
        con.execute("""CREATE TABLE sorted AS SELECT i, md5(i::VARCHAR) || md5((i+1)::VARCHAR) AS s
                       FROM range(4000000) t(i) ORDER BY s""")
        assert con.execute("SELECT count(*) FROM sorted").fetchone()[0] == 4_000_000
        used = con.execute("SELECT count(*) FROM duckdb_temporary_files()").fetchone()[0]
        assert used > 0 or any(Path(spill).glob("*"))


def test_the_home_can_set_threads_and_lift_the_cap(tmp_path):
    (tmp_path / "shelfwise.toml").write_text('duckdb_memory_limit = "none"\nduckdb_threads = 1\n')
    warehouse = build_resources(str(tmp_path))["warehouse"]
    with warehouse.connect() as con, connect(tmp_path / "x.duckdb", memory_limit="none") as raw:
        assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
        assert _limit(con) == _limit(raw)  # DuckDB's own default
