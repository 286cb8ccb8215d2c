"""Fixed world of the demo retailer: channels, locations, categories, carriers, markets.

Everything here is constant data (no randomness). The generator draws the SKUs, suppliers,
customers and their behaviour from these tables with one seeded ``numpy.random.Generator``.
Changing a number here changes the demo data for every seed, so tests pin behaviour, not
values.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE_CURRENCY = "EUR"
# currencies with an FX random walk against EUR: (start rate_to_base, daily log-volatility)
FX_WALKS = {"USD": (0.92, 0.0045), "GBP": (1.17, 0.0035), "CNY": (0.127, 0.0040)}

# the default settings' salt and postal prefix (assets.settings.Settings): the generic
# canonical fallback order files carry the same customer_key an adapter would compute
DEMO_PII_SALT = "shelfwise-demo-salt"
POSTAL_PREFIX_CHARS = 3

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class ChannelSpec:
    """A sales channel and how its orders behave.

    Times are in days unless named otherwise; probabilities are per order.
    """

    channel_id: str
    name: str
    channel_type: str  # adapter module name under assets.ingest.adapters
    currency: str
    weight: float  # share of total demand when a SKU is listed everywhere
    list_share: float  # share of SKUs listed on the channel
    safety_buffer_units: int
    safety_buffer_pct: float
    handling_days: int  # promised ship-by = ordered + handling days
    ship_delay: tuple[int, int]  # usual days from order to ship (inclusive range)
    late_ship_prob: float  # orders shipped after the promise (more in the Christmas peak)
    paid_prob: float  # orders ever paid; the rest are cancelled after unpaid_cancel_days
    pay_delay_max: int  # days a payment may arrive after the order (0 = at once)
    cancel_prob: float  # paid orders the customer cancels before shipping
    reports_delivery: bool  # the channel's export shows a delivered status
    price_factor: float  # channel price relative to the web shop list price
    promo: bool  # SKU promotions run on this channel
    order_lines_mean: float  # mean order lines per order
    return_factor: float  # channel multiplier on the category return rate
    markets: tuple[tuple[str, float], ...]  # ship-to countries and their shares
    hour_shift: int  # local evening peak in UTC hours (US buyers shop later in UTC)


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("webshop", "Own web shop", "shopify", "EUR", 0.36, 1.00, 1, 0.00, 2, (0, 2),
                0.04, 0.985, 0, 0.020, True, 1.00, True, 1.6, 1.0,
                (("DE", 0.55), ("AT", 0.15), ("NL", 0.10), ("FR", 0.10), ("BE", 0.10)), 0),
    ChannelSpec("amazon_de", "Amazon.de", "amazon", "EUR", 0.30, 0.70, 2, 0.05, 1, (0, 1),
                0.03, 0.995, 0, 0.015, False, 1.06, True, 1.2, 1.25,
                (("DE", 0.85), ("AT", 0.10), ("NL", 0.05)), 0),
    ChannelSpec("ebay_uk", "eBay UK", "ebay", "GBP", 0.11, 0.50, 1, 0.10, 3, (1, 3),
                0.06, 0.93, 3, 0.015, True, 0.97, True, 1.1, 1.0,
                (("GB", 0.95), ("IE", 0.05)), -1),
    ChannelSpec("etsy", "Etsy", "etsy", "USD", 0.06, 0.25, 1, 0.10, 5, (1, 5),
                0.05, 0.99, 0, 0.010, False, 1.15, False, 1.3, 0.6,
                (("US", 0.70), ("CA", 0.10), ("GB", 0.10), ("DE", 0.10)), 5),
    ChannelSpec("stores", "Stores (POS)", "pos", "EUR", 0.12, 0.60, 0, 0.00, 0, (0, 0),
                0.00, 1.0, 0, 0.0, True, 1.00, True, 1.4, 0.5, (("DE", 1.0),), 0),
    ChannelSpec("b2b", "B2B portal", "b2b", "EUR", 0.05, 0.22, 0, 0.20, 7, (2, 6),
                0.08, 1.0, 0, 0.010, True, 0.70, False, 3.5, 0.3,
                (("DE", 0.6), ("NL", 0.2), ("AT", 0.2)), 0),
)

# daily export file name per channel type (matches the adapters' file globs)
ORDER_FILE_NAMES = {
    "shopify": "orders_export_{date}.csv",
    "amazon": "All-Orders-Report_{date}.txt",
    "ebay": "eBay-OrdersReport-{date}.csv",
    "etsy": "EtsySoldOrderItems_{date}.csv",
    "pos": "items-{date}.csv",
    "b2b": "b2b-orders-{date}.csv",
}

# weekday demand multipliers per channel type, Monday first (normalised to mean 1 in code).
# Stores close on Sundays (German shop hours); B2B buyers order on working days.
WEEKLY = {
    "shopify": (1.08, 1.00, 0.97, 0.96, 0.92, 0.88, 1.19),
    "amazon": (1.05, 1.00, 0.98, 0.97, 0.93, 0.95, 1.12),
    "ebay": (1.00, 0.97, 0.96, 0.97, 0.95, 1.00, 1.15),
    "etsy": (1.00, 1.00, 1.00, 1.00, 0.95, 1.00, 1.05),
    "pos": (0.80, 0.85, 0.90, 0.95, 1.20, 1.60, 0.00),
    "b2b": (1.35, 1.30, 1.25, 1.20, 0.90, 0.00, 0.00),
}


@dataclass(frozen=True)
class LocationSpec:
    location_id: str
    name: str
    location_type: str
    country: str
    timezone: str


WAREHOUSES: tuple[LocationSpec, ...] = (
    LocationSpec("wh_berlin", "Berlin fulfilment centre", "warehouse", "DE", "Europe/Berlin"),
    LocationSpec("wh_rotterdam", "Rotterdam fulfilment centre", "warehouse", "NL",
                 "Europe/Amsterdam"),
    LocationSpec("wh_leeds", "Leeds fulfilment centre", "warehouse", "GB", "Europe/London"),
    LocationSpec("wh_poznan", "Poznan fulfilment centre", "warehouse", "PL", "Europe/Warsaw"),
    LocationSpec("wh_lyon", "Lyon fulfilment centre", "warehouse", "FR", "Europe/Paris"),
    LocationSpec("wh_milan", "Milan fulfilment centre", "warehouse", "IT", "Europe/Rome"),
)
STORE = LocationSpec("store_hamburg", "Hamburg flagship store", "store", "DE", "Europe/Berlin")

# which warehouses serve a channel, by preference (indices into the generated warehouses,
# taken modulo their number; duplicates dropped). The store serves only the POS channel.
CHANNEL_WAREHOUSES = {
    "webshop": (0, 1),
    "amazon_de": (1, 0),
    "ebay_uk": (2, 0),
    "etsy": (0,),
    "b2b": (0, 1),
}


@dataclass(frozen=True)
class Category:
    name: str
    weight: float  # share of SKUs
    price: tuple[float, float]  # EUR list price range (log-uniform)
    cost_ratio: tuple[float, float]  # unit cost ÷ list price
    return_rate: float  # share of shipped lines returned (web shop baseline)
    season: str  # key of the yearly profile in demand.py
    case_packs: tuple[int, ...]
    nouns: tuple[str, ...]
    variants: tuple[str, ...]
    reasons: tuple[tuple[str, float], ...]  # return reasons and their shares


_SIZE_REASONS = (("wrong size", 0.45), ("changed mind", 0.25), ("not as described", 0.12),
                 ("damaged in transit", 0.06), ("defective", 0.12))
_GOODS_REASONS = (("changed mind", 0.35), ("not as described", 0.2),
                  ("damaged in transit", 0.2), ("defective", 0.25))

CATEGORIES: tuple[Category, ...] = (
    Category("Apparel", 0.22, (12, 120), (0.28, 0.45), 0.17, "apparel", (1, 6, 12),
             ("Crew Sweater", "Linen Shirt", "Chino Trousers", "Rain Jacket", "Hoodie",
              "Wool Scarf", "T-Shirt", "Denim Jacket", "Pyjama Set", "Beanie"),
             ("XS", "S", "M", "L", "XL"), _SIZE_REASONS),
    Category("Footwear", 0.08, (35, 160), (0.35, 0.5), 0.20, "apparel", (1, 6),
             ("Leather Sneaker", "Chelsea Boot", "Trail Runner", "Slipper", "Sandal"),
             ("EU 38", "EU 40", "EU 42", "EU 44"), _SIZE_REASONS),
    Category("Home & Kitchen", 0.18, (6, 90), (0.3, 0.5), 0.05, "home", (1, 4, 6, 12, 24),
             ("Ceramic Mug", "Chef Knife", "Linen Tea Towel", "Glass Carafe", "Cutting Board",
              "Storage Jar", "Cast Iron Pan", "Table Lamp", "Throw Pillow"),
             ("Sand", "Slate", "Forest", "Oat", "Terracotta"), _GOODS_REASONS),
    Category("Toys & Games", 0.12, (8, 80), (0.3, 0.5), 0.04, "toys", (1, 6, 12),
             ("Wooden Puzzle", "Card Game", "Building Set", "Plush Fox", "Marble Run",
              "Board Game", "Kite"), ("Mini", "Classic", "Deluxe"), _GOODS_REASONS),
    Category("Garden", 0.08, (5, 140), (0.3, 0.5), 0.05, "garden", (1, 6, 12, 24),
             ("Seed Kit", "Planter", "Pruning Shears", "Hose Reel", "Bird Feeder",
              "Garden Gloves"), ("Small", "Medium", "Large"), _GOODS_REASONS),
    Category("Electronics Accessories", 0.10, (9, 150), (0.4, 0.6), 0.08, "flat", (1, 6, 12, 24),
             ("USB-C Cable", "Phone Case", "Power Bank", "Wireless Charger", "Earbuds",
              "Laptop Sleeve"), ("Black", "White", "Blue", "1 m", "2 m"), _GOODS_REASONS),
    Category("Beauty", 0.08, (4, 60), (0.2, 0.4), 0.03, "gifts", (6, 12, 24),
             ("Hand Cream", "Lip Balm", "Face Serum", "Bath Salts", "Soap Bar"),
             ("50 ml", "100 ml", "Lavender", "Citrus"), _GOODS_REASONS),
    Category("Sports & Outdoors", 0.08, (10, 200), (0.35, 0.55), 0.08, "outdoor", (1, 4, 6),
             ("Yoga Mat", "Water Bottle", "Headlamp", "Camping Mug", "Daypack", "Resistance Band"),
             ("Grey", "Olive", "Navy", "Orange"), _GOODS_REASONS),
    Category("Stationery", 0.06, (2, 40), (0.25, 0.45), 0.02, "school", (6, 12, 24),
             ("Notebook", "Fountain Pen", "Pencil Set", "Planner", "Washi Tape"),
             ("A5", "A6", "Dotted", "Lined"), _GOODS_REASONS),
)

# return reason → probabilities of (resellable, damaged, defective, missing) on receipt
RETURN_CONDITION = {
    "wrong size": (0.93, 0.03, 0.0, 0.04),
    "changed mind": (0.88, 0.06, 0.0, 0.06),
    "not as described": (0.70, 0.10, 0.15, 0.05),
    "damaged in transit": (0.10, 0.85, 0.0, 0.05),
    "defective": (0.0, 0.05, 0.93, 0.02),
}


@dataclass(frozen=True)
class Carrier:
    name: str
    transit: tuple[int, int]  # days from ship to delivery (inclusive)
    prefix: str  # tracking number prefix
    digits: int  # random digits after the prefix
    suffix: str = ""


CARRIERS: tuple[Carrier, ...] = (
    Carrier("DHL", (1, 3), "00340434", 12),
    Carrier("DPD", (1, 3), "0", 13),
    Carrier("Hermes", (2, 4), "H", 19),
    Carrier("Royal Mail", (1, 4), "RM", 9, "GB"),
    Carrier("DHL Express", (2, 5), "JD01460", 11),
    Carrier("Deutsche Post International", (6, 14), "LX", 9, "DE"),
    Carrier("DB Schenker", (2, 5), "SCH", 10),
    Carrier("PostNL", (1, 3), "3S", 13),
)
CARRIER_INDEX = {c.name: i for i, c in enumerate(CARRIERS)}

# carriers by destination group (weights), chosen per order; B2B ships pallets by Schenker
DESTINATION_CARRIERS = {
    "domestic_eu": (("DHL", 0.6), ("DPD", 0.25), ("Hermes", 0.15)),
    "nl": (("PostNL", 0.6), ("DHL", 0.4)),
    "gb": (("Royal Mail", 0.7), ("DPD", 0.3)),
    "intl": (("DHL Express", 0.35), ("Deutsche Post International", 0.65)),
    "b2b": (("DB Schenker", 0.8), ("DHL", 0.2)),
}

# share of value-added tax inside gross prices per ship-to country (US sales tax: none here)
VAT = {"DE": 0.19, "AT": 0.20, "NL": 0.21, "FR": 0.20, "BE": 0.21, "GB": 0.20, "IE": 0.23,
       "US": 0.0, "CA": 0.0, "PL": 0.23, "IT": 0.22}
