"""Suite-wide: the slowest integration tests start first; pages run without Streamlit's magic.

Under ``pytest -n 2`` a worker takes tests in collection order; the crash test (over 5
minutes: five killed runs, each re-run) collected late would run alone at the end. Started
first, the other worker meanwhile runs the rest of the suite.
"""

from __future__ import annotations

SLOW_FIRST = (
    "test_runs_killed_at_random_moments",
    "test_a_rerun_equals_the_clean_run",
    "test_a_run_killed_during_ingest_does_not_block",
)


def pytest_configure(config):
    # the page tests (Streamlit AppTest, in this process) run the pages as `shelfwise
    # dashboards` serves them: without "magic" (pipelines/commands/dashboards.py says why)
    from streamlit import config as streamlit_config

    streamlit_config.set_option("runner.magicEnabled", False)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        for i, name in enumerate(SLOW_FIRST):
            if name in item.nodeid:
                return i
        return len(SLOW_FIRST)

    items.sort(key=rank)  # stable: every other test keeps its order
