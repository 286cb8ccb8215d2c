"""The shelfwise Dagster code location: every domain's definitions, merged, one executor.

Each domain package under ``assets/`` exposes ``defs`` (a ``dg.Definitions``); this module
merges them with the jobs, schedules and sensors of ``pipelines/`` and binds the resources to
the shelfwise home (``SHELFWISE_HOME``).
"""

from __future__ import annotations

import dagster as dg

from pipelines.domains import domain_definitions
from pipelines.jobs import JOBS
from pipelines.resources import build_resources
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS


def build_definitions(home: str | None = None) -> dg.Definitions:
    """All of shelfwise's definitions for the home folder ``home`` (default: the env)."""
    return dg.Definitions.merge(
        *domain_definitions(),
        dg.Definitions(
            jobs=JOBS,
            schedules=SCHEDULES,
            sensors=SENSORS,
            resources=build_resources(home),
            # warehouse steps run one after another in the run's own process; across runs
            # the "warehouse" pool (dagster.yaml) admits one writer at a time
            executor=dg.in_process_executor,
        ),
    )


defs = build_definitions()
