"""Data quality: Great Expectations suites over ``core`` and ``marts``, run as Dagster asset checks.

Pandera guards the door row by row; these checks look at whole tables: a channel that sent
nothing yesterday, a day with a tenth of the usual orders, a duplicated key, an orphan SKU,
ATS above on hand. Blocking checks stop the assets downstream (the forecast); the others warn.
Every run lands in ``marts.quality_results`` and in the GX Data Docs under
``<home>/quality/data_docs``. See docs/data-quality.md.

Great Expectations is imported only when a check runs, never when the definitions load.
"""

from assets.quality.checks import build_quality_defs

defs = build_quality_defs()
