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
