"""Service levels: the ABC × XYZ matrix, per-SKU overrides, and their validation.

Part of :mod:`forecasting.policy`; levels are cycle service levels in (0, 1).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

ABC = ("A", "B", "C")
XYZ = ("X", "Y", "Z")
# what a retailer usually wants: more protection for valuable (A) and steady (X) items, where
# service is cheap, less for cheap erratic ones (CZ), where every extra point costs a lot of stock
DEFAULT_SERVICE_LEVELS: dict[str, float] = {
    "AX": 0.98, "AY": 0.97, "AZ": 0.95,
    "BX": 0.96, "BY": 0.95, "BZ": 0.93,
    "CX": 0.93, "CY": 0.92, "CZ": 0.90,
}


def validate_service_levels(matrix: Mapping[str, float], overrides: Mapping[str, float]) -> None:
    """Raise ``ValueError`` naming the cell or SKU when a level is not in (0, 1) or a matrix
    key is not one of AX … CZ."""
    cells = {a + x for a in ABC for x in XYZ}
    for key, value in matrix.items():
        if key not in cells:
            raise ValueError(f"service level matrix: unknown cell {key!r}; cells are "
                             f"{', '.join(sorted(cells))} (ABC class then XYZ class)")
    for where, values in (("service level matrix", matrix), ("SKU service level", overrides)):
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
                raise ValueError(f"{where} {key!r} = {value!r}: must be a number between 0 and "
                                 "1 (0.95 is 95 %)")
    missing = cells - set(matrix)
    if missing:
        raise ValueError(f"service level matrix: no value for {', '.join(sorted(missing))}")


def service_levels(
    segments: pl.DataFrame,
    matrix: Mapping[str, float] | None = None,
    overrides: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """Target cycle service level (0..1) per SKU from its ABC × XYZ cell, or a per-SKU override.

    ``segments``: ``sku, abc, xyz`` (nulls allowed: a SKU without demand history counts as
    ``C`` and ``Z``, the least protected cell). ``matrix``: cell (``"AX"``) → level, all nine
    cells (default :data:`DEFAULT_SERVICE_LEVELS`); ``overrides``: SKU → level, which wins.

    Returns ``sku, abc_class, xyz_class, service_level, service_level_source``
    (``matrix`` | ``override``).
    """
    matrix = dict(DEFAULT_SERVICE_LEVELS if matrix is None else matrix)
    overrides = dict(overrides or {})
    validate_service_levels(matrix, overrides)
    cells = pl.DataFrame({"cell": list(matrix), "matrix_level": list(matrix.values())},
                         schema={"cell": pl.String, "matrix_level": pl.Float64})
    override = pl.DataFrame({"sku": list(overrides), "override_level": list(overrides.values())},
                            schema={"sku": pl.String, "override_level": pl.Float64})
    return (
        segments.select(
            "sku",
            pl.col("abc").fill_null("C").alias("abc_class"),
            pl.col("xyz").fill_null("Z").alias("xyz_class"),
        )
        .with_columns((pl.col("abc_class") + pl.col("xyz_class")).alias("cell"))
        .join(cells, on="cell", how="left")
        .join(override, on="sku", how="left")
        .select(
            "sku", "abc_class", "xyz_class",
            pl.coalesce("override_level", "matrix_level").alias("service_level"),
            pl.when(pl.col("override_level").is_not_null()).then(pl.lit("override"))
            .otherwise(pl.lit("matrix")).alias("service_level_source"),
        )
    )
