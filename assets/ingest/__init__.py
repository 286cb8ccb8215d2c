"""Ingestion: inbox files in each system's own format → raw, quarantine, core."""

import dagster as dg

defs = dg.Definitions()
