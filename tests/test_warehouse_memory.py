"""The home can cap DuckDB's memory in pipeline steps (DuckDB's default: 80 % of RAM)."""

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
