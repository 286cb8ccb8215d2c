"""Fake but realistic customers: names, e-mails, addresses and postal codes per country.

These are the personal data (PII) that real channel exports carry and that shelfwise must
never keep. They only ever appear in channel-native order files, never in the generic
canonical files. All values are invented; any match with a real person is a coincidence.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .config import DEMO_PII_SALT

FIRST = {
    "DE": ("Anna", "Lukas", "Marie", "Jonas", "Sophie", "Leon", "Lena", "Felix", "Emma", "Paul",
           "Hannah", "Finn", "Mia", "Jan", "Laura", "Tim", "Katrin", "Stefan", "Ute", "Jürgen"),
    "GB": ("Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Charlie",
           "Grace", "Thomas", "Lily", "James", "Sophie", "William", "Chloe"),
    "US": ("Liam", "Olivia", "Noah", "Emma", "James", "Ava", "Mason", "Sophia", "Ethan",
           "Isabella", "Lucas", "Mia", "Logan", "Harper", "Aiden", "Evelyn"),
    "FR": ("Louise", "Gabriel", "Chloé", "Raphaël", "Léa", "Arthur", "Manon", "Hugo", "Camille"),
    "NL": ("Daan", "Julia", "Sem", "Tess", "Lucas", "Sara", "Milan", "Fenna", "Bram", "Noor"),
}
LAST = {
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
           "Patel", "Wright", "Walker", "Evans", "Thomas", "Roberts"),
    "US": ("Smith", "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Rodriguez",
           "Martinez", "Anderson", "Taylor", "Thomas", "Moore", "Lee", "Nguyen"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"),
    "NL": ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer"),
}
STREET = {
    "DE": ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schulstraße",
           "Bergstraße", "Kirchplatz", "Am Markt", "Rosenweg", "Mühlenweg"),
    "GB": ("High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane",
           "Mill Road", "Park Avenue", "Queens Road"),
    "US": ("Main St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine St", "Elm St", "Washington Ave",
           "Lakeview Dr"),
    "FR": ("Rue de la Paix", "Avenue Victor Hugo", "Rue du Moulin", "Place de l'Église"),
    "NL": ("Dorpsstraat", "Kerkstraat", "Molenweg", "Schoolstraat", "Julianalaan"),
}
# (city, region, postal-code pattern) — in the pattern, 9 = a random digit, A = a random
# letter; the leading characters fix the city's real postal region
CITIES = {
    "DE": (("Berlin", "BE", "10999"), ("Hamburg", "HH", "20999"), ("München", "BY", "80999"),
           ("Köln", "NW", "50999"), ("Leipzig", "SN", "04999"), ("Stuttgart", "BW", "70999"),
           ("Bremen", "HB", "28999"), ("Dresden", "SN", "01999")),
    "AT": (("Wien", "W", "1099"), ("Graz", "ST", "8099"), ("Linz", "OÖ", "4099")),
    "NL": (("Amsterdam", "NH", "10 99 AA"), ("Rotterdam", "ZH", "30 99 AA"),
           ("Utrecht", "UT", "35 99 AA")),
    "BE": (("Bruxelles", "BRU", "1099"), ("Antwerpen", "VAN", "2099"), ("Gent", "VOV", "9099")),
    "FR": (("Paris", "IDF", "75099"), ("Lyon", "ARA", "69099"), ("Marseille", "PAC", "13099")),
    "GB": (("London", "LND", "SW19 9AA"), ("Manchester", "MAN", "M9 9AA"),
           ("Leeds", "LDS", "LS9 9AA"), ("Bristol", "BST", "BS9 9AA"),
           ("Edinburgh", "EDH", "EH9 9AA")),
    "IE": (("Dublin", "D", "D09 A9A9"), ("Cork", "CO", "T12 A9A9")),
    "US": (("New York", "NY", "10099"), ("Austin", "TX", "78799"), ("Seattle", "WA", "98199"),
           ("Denver", "CO", "80299"), ("Chicago", "IL", "60699"), ("Portland", "OR", "97299")),
    "CA": (("Toronto", "ON", "M5A 9A9"), ("Vancouver", "BC", "V6B 9A9")),
}
# countries without their own name lists borrow one
NAME_LANG = {"AT": "DE", "BE": "NL", "IE": "GB", "CA": "US", "PL": "DE", "IT": "FR"}
EMAIL_DOMAINS = ("gmail.com", "web.de", "gmx.de", "outlook.com", "yahoo.com", "icloud.com",
                 "posteo.de", "hotmail.co.uk", "proton.me")
COMPANY_WORDS = ("Nord", "Alpen", "Rhein", "Hansa", "Linden", "Stern", "Berg", "Kontor",
                 "Werk", "Haus", "Markt", "Hof")
COMPANY_FORMS = ("GmbH", "KG", "B.V.", "e.K.", "GmbH & Co. KG", "AG")


_LETTERS = tuple("ABDEFGHJLNPQRSTUWXYZ")
_DIGITS = tuple("0123456789")


def pick(values, idx: np.ndarray) -> pl.Series:
    """``values[idx]`` as a String series (gathering in polars is far cheaper than building
    strings from numpy unicode arrays)."""
    return pl.Series(list(values), dtype=pl.String).gather(idx)


def draw(values, n: int, rng: np.random.Generator) -> pl.Series:
    """``n`` uniform picks from ``values``."""
    return pick(values, rng.integers(0, len(values), n))


def _fill_pattern(pattern: str, n: int, rng: np.random.Generator) -> pl.Series:
    """``n`` postal codes from one pattern (9 → digit, A → letter after the fixed prefix)."""
    # the first two characters are the city's fixed postal region; later 9/A are random
    parts = []
    for i, ch in enumerate(pattern):
        if i >= 2 and ch == "9":
            parts.append(draw(_DIGITS, n, rng))
        elif i >= 2 and ch == "A":
            parts.append(draw(_LETTERS, n, rng))
        else:
            parts.append(pl.repeat(ch, n, eager=True))
    return pl.DataFrame(parts[0].alias("p0")).select(
        pl.concat_str([p.alias(f"p{i}") for i, p in enumerate(parts)])
    ).to_series()


def customer_pool(
    markets: dict[str, int], n_business: int, rng: np.random.Generator
) -> pl.DataFrame:
    """Customers per ship-to country, then business accounts (market ``B2B``).

    ``markets``: country → number of consumers. Returns one row per customer, rows grouped
    by market in the order given, with ``market``, ``customer_id`` (the channel-neutral id),
    ``customer_name``, ``customer_email``, ``ship_address1``, ``ship_city``, ``ship_region``,
    ``ship_postal_code``, ``ship_country`` and the ``customer_key`` the default settings' salt
    gives (for the generic canonical fallback).
    """
    parts = []
    for country, n in list(markets.items()) + [("B2B", n_business)]:
        if n <= 0:
            continue
        geo = "DE" if country == "B2B" else country
        lang = NAME_LANG.get(geo, geo)
        first = draw(FIRST[lang], n, rng)
        last = draw(LAST[lang], n, rng)
        cities = CITIES[geo]
        city_idx = rng.integers(0, len(cities), n)
        # every customer gets a code of each city's pattern; the city index picks one
        codes = pl.DataFrame([_fill_pattern(c[2], n, rng).alias(f"c{j}")
                              for j, c in enumerate(cities)])
        postal = codes.select(
            pl.coalesce([pl.when(pl.Series(city_idx) == j).then(pl.col(f"c{j}"))
                         for j in range(len(cities))])
        ).to_series()
        street = draw(STREET[lang], n, rng)
        number = pl.Series(rng.integers(1, 180, n)).cast(pl.String)
        tag = pl.Series(rng.integers(1, 999, n)).cast(pl.String)
        domain = draw(EMAIL_DOMAINS, n, rng)
        if country == "B2B":
            company = draw(COMPANY_WORDS, n, rng) + draw(COMPANY_WORDS, n, rng).str.to_lowercase()
            frame = pl.DataFrame({
                "customer_name": company + " " + draw(COMPANY_FORMS, n, rng),
                "customer_email": "purchasing@" + company.str.to_lowercase() + ".example",
            })
        else:
            frame = pl.DataFrame({
                "customer_name": first + " " + last,
                "customer_email": (first.str.to_lowercase() + "."
                                   + last.str.to_lowercase().str.replace_all(" ", "")
                                   + tag + "@" + domain),
            })
        parts.append(frame.with_columns(
            market=pl.lit(country),
            ship_address1=street + " " + number,
            ship_city=pick([c[0] for c in cities], city_idx),
            ship_region=pick([c[1] for c in cities], city_idx),
            ship_postal_code=postal,
            ship_country=pl.lit(geo),
        ))
    pool = pl.concat(parts, how="vertical").with_columns(
        # umlauts and accents are not allowed in the local part of most mailboxes
        customer_email=pl.col("customer_email").str.replace_all("ü", "ue")
        .str.replace_all("ö", "oe").str.replace_all("é", "e").str.replace_all("ë", "e"),
        customer_id=pl.format("C{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(8)),
    )
    from assets.ingest.adapters.base import customer_key

    # hashed once per customer here, so order files only gather it
    return pool.with_columns(
        customer_key=customer_key(pool.get_column("customer_email"), DEMO_PII_SALT)
    )
