"""`shelfwise init` and `check`, the feature table and its doc (issue #19, items 1, 3, 10)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from click.testing import CliRunner

from assets.features import FEATURES, features_markdown
from assets.ingest.adapters import ADAPTERS
from pipelines.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "your-data.md"


def shelfwise(home: Path, *args: str, **kwargs):
    return CliRunner().invoke(main, ["--home", str(home), *args], **kwargs)


def test_init_creates_the_inbox_and_a_commented_toml(tmp_path):
    home = tmp_path / "shop"
    result = shelfwise(home, "init", "--base-currency", "brl", "--timezone", "America/Sao_Paulo")
    assert result.exit_code == 0, result.output
    settings = tomllib.loads((home / "shelfwise.toml").read_text())
    assert settings["base_currency"] == "BRL"
    assert settings["kpis"]["timezone"] == "America/Sao_Paulo"
    assert len(settings["pii_salt"]) == 32
    # one folder per adapter folder, each README naming every adapter that reads it
    for adapter in ADAPTERS:
        readme = (home / "inbox" / adapter.folder / "README.md").read_text()
        assert adapter.name in readme
        assert all(g in readme for g in adapter.file_globs)
    assert "inbox/orders/" in result.output and "shelfwise --home" in result.output


def test_init_never_defaults_the_currency_and_validates(tmp_path):
    home = tmp_path / "shop"
    missing = shelfwise(home, "init", "--timezone", "UTC")  # CliRunner's stdin is no terminal
    assert missing.exit_code == 2 and "--base-currency is required" in missing.output
    assert not (home / "shelfwise.toml").exists()
    bad = shelfwise(home, "init", "--base-currency", "EURO", "--timezone", "UTC")
    assert bad.exit_code == 2 and "not an ISO 4217 currency code" in bad.output
    bad_tz = shelfwise(home, "init", "--base-currency", "EUR", "--timezone", "Mars/Olympus")
    assert bad_tz.exit_code == 2 and "not a tz database time zone" in bad_tz.output


def test_init_refuses_to_overwrite_without_force(tmp_path):
    home = tmp_path / "shop"
    assert shelfwise(home, "init", "--base-currency", "EUR", "--timezone", "UTC").exit_code == 0
    again = shelfwise(home, "init", "--base-currency", "USD", "--timezone", "UTC")
    assert again.exit_code == 1 and "--force" in again.output
    assert 'base_currency = "EUR"' in (home / "shelfwise.toml").read_text()
    forced = shelfwise(home, "init", "--base-currency", "USD", "--timezone", "UTC", "--force")
    assert forced.exit_code == 0
    assert 'base_currency = "USD"' in (home / "shelfwise.toml").read_text()


def test_init_asks_at_a_terminal(tmp_path, monkeypatch):
    import pipelines.commands.home as home_module

    monkeypatch.setattr(home_module, "stdin_is_terminal", lambda: True)
    result = shelfwise(tmp_path / "shop", "init", input="xx\ngbp\nEurope/London\n")
    assert result.exit_code == 0, result.output
    assert "not an ISO 4217 currency code" in result.output  # asked again after a bad answer
    assert 'base_currency = "GBP"' in (tmp_path / "shop" / "shelfwise.toml").read_text()


def test_check_names_the_adapter_of_each_file_and_why_others_are_not_read(tmp_path):
    home = tmp_path / "shop"
    shelfwise(home, "init", "--base-currency", "EUR", "--timezone", "UTC")
    fixtures = Path(__file__).resolve().parents[2] / "data" / "samples" / "channels"
    (home / "inbox" / "orders" / "etsy").mkdir()
    etsy = fixtures / "etsy" / "EtsySoldOrderItems2024-3.csv"
    (home / "inbox" / "orders" / "etsy" / etsy.name).write_bytes(etsy.read_bytes())
    (home / "inbox" / "orders" / "etsy" / "notes.csv").write_text("a,b\n1,2\n")
    (home / "inbox" / "misc").mkdir()
    (home / "inbox" / "misc" / "x.csv").write_text("a\n")
    (home / "inbox" / "stock_snapshots" / "bad.csv").write_text("sku,qty\nA,1\n")
    result = shelfwise(home, "check")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "orders/etsy/EtsySoldOrderItems2024-3.csv  etsy_orders" in out
    assert "orders/etsy/notes.csv" in out and "matches none of the formats of orders/" in out
    assert "'misc/' is not an inbox folder" in out
    assert "header lacks snapshot_date" in out
    # orders only: what is skipped and why
    assert "skipped: add stock snapshots" in out
    currencies = {line for line in out.splitlines() if "no FX rate" in line}
    assert currencies, out  # the Etsy fixture sells in USD; the base is EUR


def test_the_docs_feature_table_is_the_data_table():
    doc = DOC.read_text()
    start = doc.index("<!-- features-table:start -->\n") + len("<!-- features-table:start -->\n")
    end = doc.index("<!-- features-table:end -->")
    assert doc[start:end].strip() == features_markdown()
    assert len(FEATURES) == features_markdown().count("\n") - 1


def test_the_daily_schedule_runs_what_shelfwise_run_runs():
    from pipelines.schedules import SCHEDULES

    daily = next(s for s in SCHEDULES if s.name == "daily_run")
    assert daily.job_name == "shelfwise_all"
    import inspect

    from pipelines.commands.home import run_home

    assert '"shelfwise_all"' in inspect.getsource(run_home)
