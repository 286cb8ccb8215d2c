"""Ingestion: inbox files in each system's own format → raw, quarantine, core."""

# Import order matters: the adapters package imports ``generic`` (which subclasses
# ``adapters.base.Adapter``); loading the package first means any later ``import
# assets.ingest.generic`` finds both modules complete instead of a partial circular import.
from assets.ingest import adapters as _adapters  # noqa: F401  isort: skip

import dagster as dg

from assets.ingest.assets import ASSET_CHECKS, ASSETS
from assets.ingest.checks import CHECKS as QUALITY_CHECKS

defs = dg.Definitions(assets=ASSETS, asset_checks=[*ASSET_CHECKS, *QUALITY_CHECKS])

# the marts this domain builds, for the serving snapshot to wait for (ingest builds core only)
SERVED_MARTS: tuple[str, ...] = ()
