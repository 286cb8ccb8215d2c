"""Supplier restock files: approved lines → one purchase order per supplier (CSV + XLSX).

:mod:`assets.restock.files` builds the lines and renders the files, :mod:`assets.restock.deliver`
writes, lists, delivers (:class:`~assets.restock.deliver.RestockSink`) and marks lines sent;
``defs`` holds the asset ``ops.supplier_restock_lines`` (group ``restock``). See docs/approvals.md.
"""

import dagster as dg

from assets.restock.assets import ASSETS

defs = dg.Definitions(assets=ASSETS)

# the marts this domain builds, for the serving snapshot to wait for (restock writes ops only)
SERVED_MARTS: tuple[str, ...] = ()
