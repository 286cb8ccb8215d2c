"""Serving: the read-only DuckDB snapshot the dashboards open (see snapshot.py).

The publish step waits for every mart the domains export (their ``SERVED_MARTS``); the one
registry of domains, :mod:`pipelines.domains`, hands it that list through
:func:`serving_definitions`.
"""

from collections.abc import Iterable

import dagster as dg

from assets.serving.assets import build_publish_serving_snapshot


def serving_definitions(served_marts: Iterable[dg.AssetKey]) -> dg.Definitions:
    """The serving domain's definitions: the publish asset, downstream of ``served_marts``."""
    return dg.Definitions(assets=[build_publish_serving_snapshot(served_marts)])
