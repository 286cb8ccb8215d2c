"""Planner decisions on replenishment suggestions (see docs/approvals.md).

:mod:`assets.decisions.store` is the decision store: standard library only, so the dashboard
imports it without pulling in Dagster. ``defs`` (the Dagster assets in
:mod:`assets.decisions.assets`: auto-approve rules and the import into
``ops.suggestion_decisions``) is loaded on first access for the same reason.
"""


# the marts this domain builds, for the serving snapshot to wait for (decisions writes ops only)
SERVED_MARTS: tuple[str, ...] = ()


def __getattr__(name: str):
    # PEP 562: `assets.decisions.defs` imports Dagster only when the code location asks for it
    if name == "defs":
        from assets.decisions.assets import defs

        return defs
    raise AttributeError(name)
