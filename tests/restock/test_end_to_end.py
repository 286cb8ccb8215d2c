"""End to end: generated demo data → every asset → suggestions → approvals via the CLI →
the restock sensor and job → one PO per supplier, read back as CSV and XLSX; a re-run sends
nothing twice and leaves the files as they are."""

from __future__ import annotations

import dagster as dg
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from assets.decisions.store import DecisionStore
from assets.outbox import read_manifest, sha256_file
from assets.resources import SettingsResource
from assets.restock.deliver import SUPPLIER_FILE_KIND, supplier_dir
from assets.settings import load_settings
from assets.warehouse import connect
from pipelines.cli import main
from pipelines.commands.core import run_job
from pipelines.definitions import build_definitions
from pipelines.generate import generate_demo
from pipelines.sensors import restock_sensor

# a short forecast keeps the run small; the policy still sees a full lead time
FAST = "[forecast]\nbacktest_cutoffs = 0\nhorizon = 35\nhistory_days = 120\n"
SUGGESTIONS = dg.AssetKey(["marts", "replenishment_suggestions"])


def build_suggestions(home) -> dg.ExecuteInProcessResult:
    """Everything the suggestions need, from the inbox on, through the real code location
    (the data-quality checks and the dashboards' assets are left to their own tests)."""
    selection = (dg.AssetSelection.assets(SUGGESTIONS).upstream()
                 .required_multi_asset_neighbors().without_checks())
    defs = dg.Definitions.merge(build_definitions(str(home)), dg.Definitions(
        jobs=[dg.define_asset_job("e2e_suggestions", selection=selection)]))
    return defs.resolve_job_def("e2e_suggestions").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


@pytest.mark.integration
def test_generated_demo_to_supplier_files(tmp_path):
    (tmp_path / "shelfwise.toml").write_text(FAST)
    settings = load_settings(tmp_path)
    generate_demo(settings.inbox, seed=11, skus=30, warehouses=2, channels=3, days=150)
    assert build_suggestions(tmp_path).success
    with connect(settings.warehouse_path, read_only=True) as con:
        suggestions = con.sql("FROM marts.replenishment_suggestions ORDER BY urgency_rank").pl()
    assert suggestions.height >= 2, "the demo should need some orders"
    assert not list(settings.outbox.glob("suppliers/*/*"))  # nothing approved: nothing sent

    cli = CliRunner()
    first, second = suggestions["suggestion_id"][:2]
    out = cli.invoke(main, ["--home", str(tmp_path), "approve", first, second, "--user", "anna"])
    assert out.exit_code == 0, out.output
    rest = suggestions.filter(~pl.col("suggestion_id").is_in([first, second]))
    if rest.height:
        out = cli.invoke(main, ["--home", str(tmp_path), "reject", rest["suggestion_id"][0],
                                "--note", "not this week"])
        assert out.exit_code == 0, out.output
    approved = suggestions.filter(pl.col("suggestion_id").is_in([first, second]))

    resource = SettingsResource(home=str(tmp_path))
    context = dg.build_sensor_context(resources={"shelfwise": resource})
    assert isinstance(restock_sensor(context), dg.RunRequest)
    assert run_job(settings, "restock_files").success  # what the sensor's run request starts

    # an order below its supplier's minimum order value is held (docs/approvals.md)
    with connect(settings.warehouse_path, read_only=True) as con:
        minimums = dict(con.execute(
            "SELECT supplier_id, min_order_value FROM core.suppliers").fetchall())
    values = approved.group_by("supplier_id").agg(pl.col("line_value").sum())
    reaching = {s for s, v in values.iter_rows() if not minimums.get(s) or v >= minimums[s]}
    assert {p.parent.name for p in settings.outbox.glob("suppliers/*/*.csv")} == reaching
    store = DecisionStore(tmp_path)
    assert {r["supplier_id"] for r in store.pending()} == set(approved["supplier_id"]) - reaching
    out = cli.invoke(main, ["--home", str(tmp_path), "restock", "--force", "--user", "anna"])
    assert out.exit_code == 0, out.output  # the planner sends the held ones anyway

    for supplier_id, mine in approved.partition_by("supplier_id", as_dict=True).items():
        folder = supplier_dir(settings.outbox, supplier_id[0])
        csv_path = next(folder.glob("PO-*.csv"))
        csv = pl.read_csv(csv_path, try_parse_dates=True)
        assert sorted(zip(csv["sku"], csv["deliver_to"], csv["quantity_units"])) == sorted(
            zip(mine["sku"], mine["location_id"], mine["suggested_units"]))
        assert csv["unit_cost"].to_list() == pytest.approx(
            [mine.filter(sku=s, location_id=loc)["unit_cost"].item()
             for s, loc in zip(csv["sku"], csv["deliver_to"])])
        sheet = openpyxl.load_workbook(csv_path.with_suffix(".xlsx"))["Purchase order"]
        values = [c.value for row in sheet.iter_rows() for c in row]
        assert csv_path.stem in values and all(sku in values for sku in mine["sku"])
    sent_to = {p.parent.name for p in settings.outbox.glob("suppliers/*/*.csv")}
    assert sent_to == set(approved["supplier_id"])  # nobody else got a file
    assert {r["status"] for r in store.latest() if r["suggestion_id"] in (first, second)} == {"sent"}

    # a re-run: no new PO, the same files untouched, the sensor stays quiet
    files = {p: sha256_file(p) for p in settings.outbox.glob("suppliers/*/*")}
    manifest = [e for e in read_manifest(settings.outbox) if e["kind"] == SUPPLIER_FILE_KIND]
    assert run_job(settings, "restock_files").success
    assert {p: sha256_file(p) for p in settings.outbox.glob("suppliers/*/*")} == files
    assert [e for e in read_manifest(settings.outbox) if e["kind"] == SUPPLIER_FILE_KIND] == manifest
    assert isinstance(restock_sensor(dg.build_sensor_context(resources={"shelfwise": resource})),
                      dg.SkipReason)
