"""raw → core: the current version of every key, as a deterministic function of ``raw``.

For the keys a batch touched (new rows, or rows of a replaced file), :func:`merge_keys`
deletes those keys from ``core.<entity>`` and inserts, per key, the winning version from
``raw.<entity>``:

    ORDER BY <version_by> DESC NULLS LAST,   -- the row's own notion of "later"
             batch started_at DESC,          -- then the later batch
             source_file DESC, source_line DESC   -- then the later file / line

A key whose rows all left ``raw`` (its file was replaced by a version without it) leaves
``core``.

**The latest export of an order owns its lines** (:data:`GROUPS`). Files of a whole-order
format (``Adapter.whole_orders``: Shopify, Amazon, eBay, Etsy) carry every line of each order
they list, so for an order (``channel_id``, ``order_id``) only the lines of its *owning* file
compete: among the whole-order files that carry the order, the one whose version of the order
is latest by the same order as above (the latest ``updated_at`` of its lines, then the later
batch, then the later file name). A line an earlier export had and the owner lacks (an order
edit removed it) leaves core, although raw keeps it; :func:`lines_superseded` names such lines.
Rows of other files (canonical files, Square, B2B, invoices) compete line by line as always.
The merge therefore works on whole orders: every line of a touched order is re-derived.

The cost follows the number of touched keys (orders): ``raw`` is read through a semi join on
them, never scanned whole for an incremental batch beyond that join. An empty core (a first
load) is derived from raw whole, in pieces by key hash (:func:`derive_piece`).

Money in the base currency (``<column>_base``, see ``assets.model.BASE_AMOUNTS``) is the
amount times the FX rate of the business date (:data:`BUSINESS_DATE`), found with an ASOF
join on ``core.fx_rates`` (the latest rate on or before that date). The base currency itself
has rate 1. A date before a currency's first known rate uses that first rate; a currency
without any rate gives a null base amount (the contract's ``unknown_currency`` rule keeps
such rows out once FX rates exist). When FX rates change, :func:`refresh_base_amounts`
recomputes the base amounts of the affected currencies and dates; when the base currency
itself changes (``base_currency`` in shelfwise.toml), :func:`sync_base_currency` recomputes
every base amount at the start of the next ingest, without re-landing any file.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import duckdb
import polars as pl

from assets.model import BASE_AMOUNTS, ENTITIES, Entity

# Entities whose keys come in groups that one file can own whole (see the module docstring):
# entity -> the group's key columns (a prefix of the entity's key)
GROUPS = {"order_lines": ("channel_id", "order_id")}


def _whole_order_adapters() -> list[str]:
    from assets.ingest.adapters import ADAPTERS

    return [a.name for a in ADAPTERS if a.whole_orders]


# the date whose FX rate converts an entity's money to the base currency
BUSINESS_DATE = {
    "order_lines": "ordered_at",
    "returns": "requested_at",
    "purchase_orders": "ordered_at",
}


def _key_match(left: str, right: str, keys: tuple[str, ...]) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


def _base_select(entity: Entity, src: str) -> tuple[str, str]:
    """(extra select list, joins) computing the ``_base`` columns of ``entity`` from ``src``."""
    amounts = BASE_AMOUNTS.get(entity.name, {})
    if not amounts:
        return "", ""
    day = BUSINESS_DATE[entity.name]
    currency_cols = sorted(set(amounts.values()))
    joins, rate = [], {}
    for i, cur in enumerate(currency_cols):
        joins.append(
            f"ASOF LEFT JOIN core.fx_rates fx{i} ON fx{i}.currency = {src}.{cur} "
            f"AND fx{i}.rate_date <= CAST({src}.{day} AS DATE)"
        )
        joins.append(
            f"LEFT JOIN (SELECT currency, arg_min(rate_to_base, rate_date) AS rate "
            f"FROM core.fx_rates GROUP BY currency) first{i} ON first{i}.currency = {src}.{cur}"
        )
        # $base is the base currency (a parameter, never formatted into the SQL)
        rate[cur] = (
            f"CASE WHEN {src}.{cur} = $base THEN 1.0 "
            f"ELSE coalesce(fx{i}.rate_to_base, first{i}.rate) END"
        )
    cols = ", ".join(f"{src}.{m} * {rate[c]} AS {m}_base" for m, c in amounts.items())
    return ", " + cols, "\n".join(joins)


# A merge handles at most about this many rows (or touched keys) per statement: the window
# that picks each key's winner sorts what it is given, and bounded pieces keep a first load of
# 20M+ snapshot rows inside a modest DuckDB memory limit instead of one giant sort.
MERGE_BUCKET_ROWS = 2_000_000


def merge_keys(
    con: duckdb.DuckDBPyConnection, entity: Entity | str, keys: pl.DataFrame, base_currency: str,
    superseded: list[pl.DataFrame] | None = None,
) -> int:
    """Re-derive ``core.<entity>`` for ``keys`` (a frame of the entity's key columns; for a
    grouped entity, :data:`GROUPS`, every key of their groups).

    Returns the number of core rows written. Runs inside the caller's transaction, in pieces
    of at most :data:`MERGE_BUCKET_ROWS` keys (split by a hash of the key, or of the group, so
    a key's rows are always in one piece). ``superseded``: gets the frame of
    :func:`lines_superseded` for the lines this merge removed from core while raw keeps them.

    When ``core.<entity>`` is empty, ``raw.<entity>`` can only hold rows of the keys being
    merged (core is a function of raw after every transaction, one row per raw key), so
    the winners are picked straight from ``raw`` without joining the keys back.
    """
    entity = ENTITIES[entity] if isinstance(entity, str) else entity
    unit = GROUPS.get(entity.name, entity.key)  # what is merged whole: a key, or its group
    keys = keys.select(unit).unique()
    if keys.height == 0:
        return 0
    name = entity.name
    track = superseded is not None and name in GROUPS  # collect the lines a later export left
    if core_is_empty(con, entity):
        pieces = derive_pieces(con, entity)
        written = sum(derive_piece(con, entity, piece, pieces, base_currency)
                      for piece in range(pieces))
        if track:
            superseded.append(lines_superseded(con, entity))
        return written
    pieces = max(1, -(-keys.height // MERGE_BUCKET_ROWS))
    if pieces > 1:
        keys = keys.with_columns(_piece=pl.struct(unit).hash() % pieces)
    written = 0
    for piece in (keys.partition_by("_piece", include_key=False) if pieces > 1 else [keys]):
        con.register("_touched_keys", piece)
        try:
            before = None
            if track:
                before = con.sql(
                    f"SELECT {', '.join(entity.key)}, source_file FROM core.{name} c "
                    f"SEMI JOIN _touched_keys t ON {_key_match('c', 't', unit)}"
                ).pl()
            con.execute(
                f"DELETE FROM core.{name} USING _touched_keys t WHERE "
                + _key_match(f"core.{name}", "t", unit)
            ).fetchall()
            # every touched key left core above, so the rows inserted are its rows for them
            written += _insert_winners(
                con, entity,
                f"SELECT r.* FROM raw.{name} r SEMI JOIN _touched_keys t "
                f"ON {_key_match('r', 't', unit)}",
                base_currency,
            )
            if before is not None and before.height:
                superseded.append(lines_superseded(con, entity, before))
        finally:
            con.unregister("_touched_keys")
    return written


def lines_superseded(
    con: duckdb.DuckDBPyConnection, entity: Entity, before: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Lines that a later export of their order left out: in raw, but not in core.

    ``before``: the core rows (key + ``source_file``) of the orders just merged, as they were
    before the merge (``_touched_keys`` still names those orders): the lines among them that
    left core while their file's row stays in raw (a line its own corrected file dropped is
    not superseded, it is gone). None: every raw line without a core row (after a first load
    derived core whole; one row per line, its latest file).

    Returns one row per line: ``channel_id, order_id, line_id``, ``earlier_file`` (the file
    whose line left) and ``later_file`` (a file that now holds the order in core; null if no
    line of the order is left). Cheap when nothing left: the check reads the touched orders'
    core rows, and raw only for the lines that left.
    """
    group, key, name = GROUPS[entity.name], entity.key, entity.name
    cols = ", ".join(key)
    if before is None:  # an aggregation, not a join: it spills within the memory limit
        gone = con.sql(
            f"""SELECT {cols}, max(source_file) AS source_file
                FROM (SELECT {cols}, source_file, false AS in_core FROM raw.{name}
                      UNION ALL SELECT {cols}, NULL, true FROM core.{name})
                GROUP BY ALL HAVING NOT bool_or(in_core)"""
        ).pl()
    else:
        after = con.sql(
            f"SELECT {cols} FROM core.{name} c SEMI JOIN _touched_keys t "
            f"ON {_key_match('c', 't', group)}"
        ).pl()
        gone = before.join(after, on=list(key), how="anti")
        if gone.height:
            con.register("_gone", gone)
            try:
                gone = con.sql(
                    f"""SELECT DISTINCT g.* FROM _gone g JOIN raw.{name} r
                        ON {_key_match('r', 'g', key)} AND r.source_file = g.source_file"""
                ).pl()
            finally:
                con.unregister("_gone")
    if gone.height == 0:
        return pl.DataFrame(schema={**{k: pl.String for k in key}, "earlier_file": pl.String,
                                    "later_file": pl.String})
    con.register("_gone", gone)
    try:
        return con.sql(
            f"""SELECT {', '.join(f'g.{k}' for k in key)}, g.source_file AS earlier_file,
                       o.later_file
                FROM _gone g LEFT JOIN (
                    SELECT {', '.join(group)}, max(source_file) AS later_file
                    FROM core.{name} c SEMI JOIN _gone g ON {_key_match('c', 'g', group)}
                    GROUP BY ALL) o ON {_key_match('o', 'g', group)}
                ORDER BY ALL"""
        ).pl()
    finally:
        con.unregister("_gone")


def core_is_empty(con: duckdb.DuckDBPyConnection, entity: Entity | str) -> bool:
    """Whether ``core.<entity>`` has no row (then, outside a first load, neither has raw)."""
    name = entity if isinstance(entity, str) else entity.name
    return not con.execute(f"SELECT EXISTS (SELECT 1 FROM core.{name})").fetchall()[0][0]


def derive_pieces(con: duckdb.DuckDBPyConnection, entity: Entity) -> int:
    """How many pieces :func:`derive_piece` splits ``raw.<entity>`` into (at most
    :data:`MERGE_BUCKET_ROWS` raw rows each, on average)."""
    raw_rows = con.execute(f"SELECT count(*) FROM raw.{entity.name}").fetchall()[0][0]
    return max(1, -(-raw_rows // MERGE_BUCKET_ROWS))


def derive_piece(
    con: duckdb.DuckDBPyConnection, entity: Entity, piece: int, pieces: int, base_currency: str
) -> int:
    """Insert into an empty ``core.<entity>`` the winners of the raw keys whose hash falls in
    ``piece`` (of ``pieces``): every key lands in exactly one piece, so running every piece
    derives core from raw whole (a grouped entity's pieces split by group: an order's lines are
    always in one piece). Returns the rows written."""
    key_hash = f"hash({', '.join(GROUPS.get(entity.name, entity.key))}) % {pieces}"
    return _insert_winners(
        con, entity, f"SELECT * FROM raw.{entity.name} WHERE {key_hash} = {piece}", base_currency
    )


def _insert_winners(con, entity: Entity, candidates: str, base_currency: str) -> int:
    """Insert into core, per key, the winning version among the ``candidates`` raw rows."""
    order = ", ".join(
        ([f"r.{entity.version_by} DESC NULLS LAST"] if entity.version_by else [])
        + ["b.started_at DESC NULLS LAST", "r.source_file DESC", "r.source_line DESC"]
    )
    partition = ", ".join(f"r.{k}" for k in entity.key)
    base_cols, base_joins = _base_select(entity, "latest")
    params = {"base": base_currency} if base_cols else {}
    if entity.name in GROUPS:
        # only the owning file's lines of an order compete (module docstring); the candidates
        # hold every raw row of their orders (merge_keys and derive_piece work on whole orders)
        group = ", ".join(GROUPS[entity.name])
        candidates = f"""
        WITH rows AS (
            SELECT r.*, b.started_at AS _started, w.source_file IS NOT NULL AS _whole
            FROM ({candidates}) r
            LEFT JOIN ops.ingest_batches b ON b.batch_id = r.batch_id
            LEFT JOIN (SELECT DISTINCT source_file FROM ops.ingested_files
                       WHERE status = 'loaded' AND list_contains($whole, adapter)) w
                   ON w.source_file = r.source_file
        ), versions AS (  -- each file's version of the order: its latest line
            SELECT *, max(updated_at) OVER (PARTITION BY {group}, source_file) AS _version
            FROM rows
        ), owned AS (
            SELECT *, first_value(source_file) OVER (
                PARTITION BY {group} ORDER BY _whole DESC, _version DESC NULLS LAST,
                _started DESC NULLS LAST, source_file DESC) AS _owner
            FROM versions
        )
        SELECT * EXCLUDE (_started, _whole, _version, _owner) FROM owned
        WHERE NOT _whole OR source_file = _owner"""
        params["whole"] = _whole_order_adapters()
    sql = f"""
    INSERT INTO core.{entity.name} BY NAME
    WITH candidates AS ({candidates}),
    latest AS (
        SELECT r.*
        FROM candidates r
        LEFT JOIN ops.ingest_batches b ON b.batch_id = r.batch_id
        QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {order}) = 1
    )
    SELECT latest.*{base_cols}
    FROM latest
    {base_joins}
    """
    return con.execute(sql, params).fetchall()[0][0]


def refresh_base_amounts(
    con: duckdb.DuckDBPyConnection, fx_keys: pl.DataFrame, base_currency: str
) -> dict[str, int]:
    """Recompute ``<column>_base`` in core after FX rates for ``fx_keys`` changed.

    ``fx_keys``: the touched (``rate_date``, ``currency``) pairs. For each currency, rows
    dated on or after its earliest touched rate date are recomputed; when the touched rate is
    (or precedes) the currency's first rate, all its rows are (the first rate also serves the
    dates before it). Returns rows updated per entity.
    """
    if fx_keys.height == 0:
        return {}
    since = fx_keys.group_by("currency").agg(pl.col("rate_date").min().alias("since"))
    firsts = con.sql(
        "SELECT currency, min(rate_date) AS first_date FROM core.fx_rates GROUP BY currency"
    ).pl()
    since = since.join(firsts, on="currency", how="left").with_columns(
        since=pl.when(pl.col("since") <= pl.col("first_date"))
        .then(pl.lit(date(1, 1, 1)))
        .otherwise(pl.col("since"))
    ).select("currency", "since")
    updated = {}
    con.register("_fx_since", since)
    try:
        for name, amounts in BASE_AMOUNTS.items():
            entity = ENTITIES[name]
            day = BUSINESS_DATE[name]
            base_cols, base_joins = _base_select(entity, "latest")
            sets = ", ".join(f"{m}_base = s.{m}_base" for m in amounts)
            currency_col = sorted(set(amounts.values()))[0]
            sql = f"""
            UPDATE core.{name} AS c SET {sets}
            FROM (
                SELECT {", ".join(f"latest.{k}" for k in entity.key)}{base_cols}
                FROM (
                    SELECT l.* FROM core.{name} l
                    JOIN _fx_since f ON f.currency = l.{currency_col}
                    WHERE CAST(l.{day} AS DATE) >= f.since
                ) latest
                {base_joins}
            ) s
            WHERE {_key_match("c", "s", entity.key)}
            """
            con.execute(sql, {"base": base_currency}).fetchall()
            updated[name] = con.execute(
                f"SELECT count(*) FROM core.{name} l JOIN _fx_since f "
                f"ON f.currency = l.{currency_col} WHERE CAST(l.{day} AS DATE) >= f.since"
            ).fetchall()[0][0]
    finally:
        con.unregister("_fx_since")
    return updated


def sync_base_currency(con: duckdb.DuckDBPyConnection, base_currency: str) -> int | None:
    """Make every ``*_base`` amount of core agree with ``base_currency``.

    ``ops.base_currency`` records the base currency the amounts were computed with (its
    latest row). When the settings name another one (or a warehouse has amounts but no
    record yet), every base amount of every currency is recomputed, in one transaction with
    the new record. Returns the core rows recomputed, or None when nothing had to change.
    """
    recorded = con.execute(
        "SELECT base_currency FROM ops.base_currency ORDER BY set_at DESC LIMIT 1"
    ).fetchall()
    if recorded and recorded[0][0] == base_currency:
        return None
    currencies = " UNION ".join(
        f"SELECT DISTINCT {column} AS currency FROM core.{name} WHERE {column} IS NOT NULL"
        for name, amounts in BASE_AMOUNTS.items() for column in sorted(set(amounts.values()))
    )
    con.execute("BEGIN").fetchall()
    try:
        # every currency "since the first day": refresh_base_amounts then redoes all rows
        every_row = con.sql(f"SELECT currency, DATE '0001-01-01' AS rate_date FROM ({currencies})").pl()
        recomputed = sum(refresh_base_amounts(con, every_row, base_currency).values())
        con.execute(
            "INSERT INTO ops.base_currency VALUES (?, ?, ?)",
            [base_currency, datetime.now(timezone.utc).replace(tzinfo=None), recomputed],
        ).fetchall()
        con.execute("COMMIT").fetchall()
    except Exception:
        con.execute("ROLLBACK").fetchall()
        raise
    return recomputed
