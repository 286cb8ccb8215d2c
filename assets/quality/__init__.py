"""Data quality: the shared runner of the Great Expectations checks each domain keeps beside
its assets (``assets/<domain>/checks.py``).

Pandera guards the door row by row; these checks look at whole tables: a channel that sent
nothing yesterday, a day with a tenth of the usual orders, a duplicated order line, an orphan
SKU, ATS above on hand. Blocking checks stop the assets downstream (the forecast); the others
warn. :mod:`assets.quality.specs` is the vocabulary (settings, probes, expectations),
:mod:`assets.quality.gx_runner` validates with GX and builds the Data Docs under
``<home>/quality/data_docs``, :mod:`assets.quality.results` writes ``marts.quality_results``,
:mod:`assets.quality.runner` turns a domain's checks into Dagster asset checks. This package
defines no assets of its own. See docs/data-quality.md.

Great Expectations is imported only when a check runs, never when the definitions load.
"""
