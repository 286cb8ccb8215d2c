"""The adapters shelfwise knows: one per export format (see ``base.py`` for the interface).

``CHANNEL_ADAPTERS`` are the sales channels' own order exports (docs/formats.md, "Channel
order formats"); ``MASTER_DATA_ADAPTERS`` read the channels' catalogue exports into
``products`` (Shopify's products export, Etsy's listings download); ``GENERIC_ADAPTERS``
(``assets/ingest/generic.py``) read the canonical "bring your own data" CSV/Parquet format
of every entity. ``ADAPTERS`` is the list the
engine matches inbox files against: channel formats first, because their file globs and
required columns are specific, the generic formats last as the fallback.
"""

from __future__ import annotations

from assets.ingest.adapters import (
    amazon,
    b2b,
    ebay,
    etsy,
    etsy_listings,
    online_retail,
    pos,
    shopify,
    shopify_products,
    woocommerce,
)
from assets.ingest.adapters.base import Adapter

CHANNEL_ADAPTERS: list[Adapter] = [
    shopify.ADAPTER,
    amazon.ADAPTER,
    ebay.ADAPTER,
    ebay.SALES_HISTORY_ADAPTER,
    etsy.ADAPTER,
    pos.ADAPTER,
    b2b.ADAPTER,
    online_retail.ADAPTER,
    woocommerce.ADAPTER,
]

MASTER_DATA_ADAPTERS: list[Adapter] = [shopify_products.ADAPTER, etsy_listings.ADAPTER]

from assets.ingest.generic import GENERIC_ADAPTERS  # noqa: E402 - after the lists it extends

ADAPTERS: list[Adapter] = CHANNEL_ADAPTERS + MASTER_DATA_ADAPTERS + list(GENERIC_ADAPTERS)

__all__ = ["ADAPTERS", "CHANNEL_ADAPTERS", "GENERIC_ADAPTERS", "MASTER_DATA_ADAPTERS", "Adapter"]
