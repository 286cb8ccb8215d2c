"""Planner decisions on replenishment suggestions, kept in ``<home>/decisions.sqlite``.

Standard library only (sqlite3, json): no dagster, duckdb or polars, so the dashboard may
import this module (the one documented exception to "dashboards never import ``assets/``")
and a planner can decide while a pipeline run holds the DuckDB warehouse for writing.

Why SQLite and not the warehouse: DuckDB allows one writing process per file and a running
pipeline holds it. SQLite in WAL mode lets many processes write one after another (each write
waits up to ``busy_timeout`` for the previous one) while readers never block. Every call opens
its own short connection, so the store is safe from threads (Streamlit), processes (CLI,
dashboard, Dagster run workers) and across restarts.

A suggestion moves ``proposed`` (no row here yet, or a row with the planner's quantity not
yet approved) → ``approved`` / ``edited`` / ``rejected`` (as often as the planner changes their
mind) → ``sent`` (final: its line went to the supplier on a purchase order). Saving a quantity
(``plan``) never approves: only ``approve`` and ``edit`` make a line sendable. Every change is audited field by field in ``history()``: when (UTC),
who, which action, which field, from what to what.

Tables::

    decisions  one row per suggestion_id: the current decision (status, quantity in units,
               decided_at, user, note, the suggestion as the planner saw it, po_number,
               sent_at, revision = number of changes so far)
    audit      append-only: decided_at, user, action, field, old_value, new_value, note

The file must sit on a local disk (SQLite's WAL needs shared memory, not a network share).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

FILE_NAME = "decisions.sqlite"
# approve: order it; edit: order this quantity; reject: order nothing; plan: keep the planner's
# quantity without deciding (the line stays, or goes back to, proposed)
ACTIONS = ("approve", "edit", "reject", "plan")
STATUSES = ("proposed", "approved", "edited", "rejected", "sent")
# statuses whose line goes to the supplier on the next restock run
SENDABLE = ("approved", "edited")
# how long one write waits for another process's write before giving up (ms); writes take
# milliseconds, so this only matters under heavy contention
BUSY_TIMEOUT_MS = 60_000
# the suggestion fields kept in their own columns (the rest stays in the JSON snapshot)
KEY_FIELDS = ("sku", "location_id", "supplier_id", "as_of", "suggested_units")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    suggestion_id   TEXT PRIMARY KEY,
    status          TEXT NOT NULL
                    CHECK (status IN ('proposed', 'approved', 'edited', 'rejected', 'sent')),
    quantity        INTEGER,
    decided_at      TEXT NOT NULL,
    user            TEXT,
    note            TEXT,
    sku             TEXT,
    location_id     TEXT,
    supplier_id     TEXT,
    as_of           TEXT,
    suggested_units INTEGER,
    suggestion      TEXT,
    po_number       TEXT,
    sent_at         TEXT,
    revision        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_status ON decisions (status);
CREATE TABLE IF NOT EXISTS audit (
    audit_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    suggestion_id TEXT NOT NULL,
    decided_at    TEXT NOT NULL,
    user          TEXT,
    action        TEXT NOT NULL,
    field         TEXT NOT NULL,
    old_value     TEXT,
    new_value     TEXT,
    note          TEXT
);
CREATE INDEX IF NOT EXISTS audit_suggestion ON audit (suggestion_id);
"""

_COLUMNS = (
    "suggestion_id", "status", "quantity", "decided_at", "user", "note", "sku", "location_id",
    "supplier_id", "as_of", "suggested_units", "suggestion", "po_number", "sent_at", "revision",
)
_AUDIT_COLUMNS = (
    "audit_id", "suggestion_id", "decided_at", "user", "action", "field", "old_value",
    "new_value", "note",
)


class DecisionError(ValueError):
    """A decision the store refuses (unknown action, missing quantity, line already sent)."""


def utc_now() -> str:
    """Now in UTC, ISO 8601 with microseconds (sorts as text in time order)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def _jsonable(value: object) -> object:
    # dates, numpy and Decimal values from a frame row: their text form is what the planner saw
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _units(value: object, what: str) -> int:
    """A whole, positive number of units (``12`` and ``12.0`` pass; ``12.5``, ``0``, ``-3`` not)."""
    if isinstance(value, bool):
        raise DecisionError(f"{what} must be a whole number of units, got {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DecisionError(f"{what} must be a whole number of units, got {value!r}") from None
    if not number.is_integer() or number <= 0:
        raise DecisionError(f"{what} must be a whole number of units above 0, got {value!r}")
    return int(number)


def quantity_problem(quantity: int, suggestion: dict) -> str | None:
    """Why ``quantity`` (units) cannot be ordered for ``suggestion``, or None when it can.

    A supplier ships whole cases and at least the minimum order quantity: the quantity must
    be a multiple of ``case_pack`` and at least ``moq`` when the suggestion carries them
    (absent or empty values are not checked). The dashboard shows the same message."""
    case_pack = suggestion.get("case_pack")
    moq = suggestion.get("moq")
    if case_pack and int(case_pack) > 1 and quantity % int(case_pack):
        pack = int(case_pack)
        lower, upper = quantity // pack * pack, (quantity // pack + 1) * pack
        options = f"{lower} or {upper}" if lower else f"{upper}"
        return f"{quantity} units is not a whole number of cases of {pack} (try {options})"
    if moq and quantity < int(moq):
        return f"{quantity} units is below the minimum order quantity of {int(moq)}"
    return None


class DecisionStore:
    """The planner decisions of one shelfwise home (``<home>/decisions.sqlite``).

    Cheap to create; the file and its tables are made on first use. A subclass names its
    own ``file_name`` (a separate store: :mod:`assets.decisions.transfer_store` keeps the
    transfer decisions apart, so approving one kind never sends the other) and ``sent_to``
    (who a sent line went to, in messages).
    """

    file_name = FILE_NAME
    sent_to = "supplier"

    def __init__(self, home: str | os.PathLike) -> None:
        self.home = Path(home)
        self.path = self.home / self.file_name

    # -- connections -----------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        self.home.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            con.row_factory = sqlite3.Row
            con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = NORMAL")  # durable across a process crash in WAL
            self._create_tables(con)
            if not write:
                yield con
                return
            # BEGIN IMMEDIATE takes the write lock up front: read-then-write cannot interleave
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.close()

    @staticmethod
    def _create_tables(con: sqlite3.Connection) -> None:
        """The tables on first use, under the write lock.

        A plain ``CREATE TABLE IF NOT EXISTS`` starts as a read and upgrades to a write; when
        another process created the tables in between, SQLite refuses the upgrade at once
        ("database is locked", without waiting for ``busy_timeout``). ``BEGIN IMMEDIATE``
        waits for the lock instead, and a store whose tables exist takes no lock at all.
        """
        tables = dict(con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN "
            "('decisions', 'audit')").fetchall())
        if len(tables) == 2 and "'proposed'" in tables["decisions"]:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            old = con.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'decisions'"
            ).fetchone()
            if old and "'proposed'" not in old[0]:
                # a store from before planned quantities: its status check refuses
                # 'proposed'; SQLite cannot alter a check, so the table is copied over
                con.execute("ALTER TABLE decisions RENAME TO decisions_before_plan")
                con.execute("DROP INDEX IF EXISTS decisions_status")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            if old and "'proposed'" not in old[0]:
                con.execute("INSERT INTO decisions SELECT * FROM decisions_before_plan")
                con.execute("DROP TABLE decisions_before_plan")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    @staticmethod
    def _row(row: sqlite3.Row | None) -> dict | None:
        if row is None:
            return None
        out = {name: row[name] for name in _COLUMNS}
        out["suggestion"] = json.loads(out["suggestion"]) if out["suggestion"] else None
        return out

    # -- writes ----------------------------------------------------------------------------

    def decide(
        self,
        suggestion_id: str,
        action: str,
        *,
        quantity: int | None = None,
        user: str | None = None,
        note: str | None = None,
        suggestion: dict | None = None,
    ) -> dict:
        """Save a planner's decision on one suggestion; returns the saved current row.

        ``action``: ``approve`` (order the suggested units, or the quantity the planner saved
        with ``plan``, or ``quantity`` units: a quantity that differs from the suggestion
        makes the status ``edited``), ``edit`` (order ``quantity`` units, required),
        ``reject`` (order nothing; no quantity) or ``plan`` (keep ``quantity`` units, required,
        without deciding: the status becomes ``proposed``, also for a line that was approved
        or rejected, so nothing is sent until someone approves that quantity).
        ``note`` belongs to this decision: a decision that changes the status or quantity
        without a note clears the note of the one before.
        ``quantity`` is in units (not cases), a whole number above 0.
        ``suggestion``: the suggestion row as the planner saw it (``sku``, ``location_id``,
        ``supplier_id``, ``suggested_units``, ``as_of``, ...), kept for the audit trail and
        for files built after the suggestion has left the warehouse.

        Idempotent: repeating the current decision changes nothing and adds no audit row.
        Raises :class:`DecisionError` for an unknown action, a missing or bad quantity, or a
        line that was already sent to its supplier (a sent line cannot change).
        """
        with self._connect(write=True) as con:
            return self._decide(con, suggestion_id, action, quantity=quantity, user=user,
                                note=note, suggestion=suggestion)

    def decide_many(self, decisions: Iterable[dict], *, user: str | None = None) -> list[dict]:
        """:meth:`decide` for many suggestions in one transaction (all saved or none).

        Each item holds ``suggestion_id``, ``action`` and optionally ``quantity``, ``note``,
        ``suggestion`` and ``user`` (else the ``user`` argument). Returns the saved rows."""
        with self._connect(write=True) as con:
            return [
                self._decide(con, d["suggestion_id"], d["action"], quantity=d.get("quantity"),
                             user=d.get("user", user), note=d.get("note"),
                             suggestion=d.get("suggestion"))
                for d in decisions
            ]

    def _decide(self, con: sqlite3.Connection, suggestion_id: str, action: str, *,
                quantity: int | None, user: str | None, note: str | None,
                suggestion: dict | None) -> dict:
        if not suggestion_id or not isinstance(suggestion_id, str):
            raise DecisionError(f"suggestion_id must be a non-empty text, got {suggestion_id!r}")
        if action not in ACTIONS:
            raise DecisionError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        if action in ("edit", "plan") and quantity is None:
            raise DecisionError(f"{action} of {suggestion_id} needs a quantity (units)")
        if action == "reject" and quantity is not None:
            raise DecisionError(f"reject of {suggestion_id} takes no quantity")
        units = None if quantity is None else _units(quantity, f"quantity for {suggestion_id}")
        snapshot = (
            None if suggestion is None
            else {str(k): _jsonable(v) for k, v in dict(suggestion).items()}
        )
        current = self._row(
            con.execute("SELECT * FROM decisions WHERE suggestion_id = ?", (suggestion_id,))
            .fetchone()
        )
        if current and current["status"] == "sent":
            raise DecisionError(
                f"{suggestion_id} was already sent to {self.sent_to} {current['supplier_id']} "
                f"on {current['po_number']} at {current['sent_at']}; it cannot change"
            )
        keys = {name: (current or {}).get(name) for name in KEY_FIELDS}
        if snapshot:
            keys.update({
                name: _text(snapshot.get(name)) if name != "suggested_units"
                else (None if snapshot.get(name) is None else int(snapshot[name]))
                for name in KEY_FIELDS if name in snapshot
            })
        suggested = keys["suggested_units"]
        problem = quantity_problem(
            units, snapshot or (current or {}).get("suggestion") or {}
        ) if units is not None else None
        if problem:
            raise DecisionError(f"quantity for {suggestion_id}: {problem}")
        if action == "reject":
            status, new_quantity = "rejected", None
        elif action == "edit":
            status, new_quantity = "edited", units
        elif action == "plan":
            status, new_quantity = "proposed", units
        else:
            # approving a line whose quantity the planner saved orders that quantity
            planned = current["quantity"] if current and current["status"] == "proposed" else None
            new_quantity = units if units is not None else (planned or suggested)
            changed = (new_quantity is not None and suggested is not None
                       and new_quantity != suggested)
            status = "edited" if changed else "approved"
        old = current or {"status": "proposed", "quantity": None, "note": None}
        # a note is its decision's: kept only when the decision itself stays the same
        same = _text(old["status"]) == status and _text(old["quantity"]) == _text(new_quantity)
        new_note = note if note is not None else (old["note"] if current and same else None)
        changes = [
            (field, _text(old[field]), _text(new))
            for field, new in (("status", status), ("quantity", new_quantity), ("note", new_note))
            if _text(old[field]) != _text(new)
        ]
        if not changes and current is not None:
            return current
        now = utc_now()
        row = {
            "suggestion_id": suggestion_id, "status": status, "quantity": new_quantity,
            "decided_at": now, "user": user, "note": new_note, **keys,
            "suggestion": json.dumps(snapshot, sort_keys=True) if snapshot
            else (json.dumps(current["suggestion"], sort_keys=True)
                  if current and current["suggestion"] else None),
            "po_number": None, "sent_at": None,
            "revision": (current["revision"] if current else 0) + 1,
        }
        con.execute(
            f"INSERT OR REPLACE INTO decisions ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_COLUMNS))})",
            [row[name] for name in _COLUMNS],
        )
        con.executemany(
            "INSERT INTO audit (suggestion_id, decided_at, user, action, field, old_value,"
            " new_value, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(suggestion_id, now, user, action, f, o, n, note) for f, o, n in changes],
        )
        return self._row(
            con.execute("SELECT * FROM decisions WHERE suggestion_id = ?", (suggestion_id,))
            .fetchone()
        )

    def mark_sent(
        self, lines: Iterable[dict], *, po_number: str, user: str | None = "pipeline",
        note: str | None = None,
    ) -> dict:
        """Mark lines as sent to their supplier on ``po_number``; they never go out again.

        ``lines``: dicts with ``suggestion_id``, ``quantity`` (the units written in the file)
        and ``revision`` (from :meth:`pending`, when the file was built). One transaction.
        A line already sent is left as it is. A line the planner changed after the file was
        built (its revision moved on) is still marked sent with the quantity that went out,
        because the supplier has it; the audit row says the later change arrived too late.
        ``note`` goes on every audit row (e.g. why an order below the supplier's minimum
        order value went out anyway).
        Returns ``{"sent": [ids], "already_sent": [ids], "late_changes": [ids]}``.
        """
        out: dict[str, list[str]] = {"sent": [], "already_sent": [], "late_changes": []}
        with self._connect(write=True) as con:
            now = utc_now()
            for line in lines:
                sid = line["suggestion_id"]
                current = self._row(
                    con.execute("SELECT * FROM decisions WHERE suggestion_id = ?", (sid,)).fetchone()
                )
                if current is None:
                    raise DecisionError(f"{sid} has no decision: it cannot be marked sent")
                if current["status"] == "sent":
                    out["already_sent"].append(sid)
                    continue
                late = line.get("revision") is not None and int(line["revision"]) != current["revision"]
                late_note = (
                    f"the change at revision {current['revision']} arrived after the file was "
                    f"written; {line['quantity']} units went out"
                ) if late else None
                line_note = "; ".join(n for n in (note, late_note) if n) or None
                audit = [("status", current["status"], "sent"), ("po_number", None, po_number)]
                if _text(current["quantity"]) != _text(line["quantity"]):
                    audit.append(("quantity", _text(current["quantity"]), _text(line["quantity"])))
                con.execute(
                    "UPDATE decisions SET status = 'sent', quantity = ?, po_number = ?, sent_at = ?,"
                    " revision = revision + 1 WHERE suggestion_id = ?",
                    (int(line["quantity"]), po_number, now, sid),
                )
                con.executemany(
                    "INSERT INTO audit (suggestion_id, decided_at, user, action, field, old_value,"
                    " new_value, note) VALUES (?, ?, ?, 'send', ?, ?, ?, ?)",
                    [(sid, now, user, f, o, n, line_note) for f, o, n in audit],
                )
                out["late_changes" if late else "sent"].append(sid)
        return out

    # -- reads -----------------------------------------------------------------------------

    def latest(self) -> list[dict]:
        """The current decision per suggestion_id (suggestions without one are ``proposed``
        and not listed): suggestion_id, status, quantity (units), decided_at (UTC), user,
        note, the key fields of the suggestion, po_number, sent_at, revision; oldest first."""
        with self._connect(write=False) as con:
            rows = con.execute("SELECT * FROM decisions ORDER BY decided_at, suggestion_id")
            return [self._row(r) for r in rows]

    def get(self, suggestion_id: str) -> dict | None:
        """The current decision on one suggestion, or None while it is still proposed."""
        with self._connect(write=False) as con:
            return self._row(
                con.execute("SELECT * FROM decisions WHERE suggestion_id = ?", (suggestion_id,))
                .fetchone()
            )

    def pending(self) -> list[dict]:
        """Approved or edited lines not yet sent (what the next restock run sends), by
        supplier then suggestion_id. Each row carries its ``revision`` for :meth:`mark_sent`."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT * FROM decisions WHERE status IN (?, ?)"
                " ORDER BY supplier_id, suggestion_id",
                SENDABLE,
            )
            return [self._row(r) for r in rows]

    def pending_count(self) -> int:
        """How many approved or edited lines wait to be sent (0 when the store is empty).

        Never creates the file: a sensor may call this on a home without decisions."""
        if not self.path.exists():
            return 0
        with self._connect(write=False) as con:
            return con.execute(
                "SELECT count(*) FROM decisions WHERE status IN (?, ?)", SENDABLE
            ).fetchone()[0]

    def history(self, suggestion_id: str | None = None) -> list[dict]:
        """Every audit row, oldest first (one suggestion's when ``suggestion_id`` is given):
        audit_id, suggestion_id, decided_at (UTC), user, action (approve, edit, reject, send),
        field (status, quantity, note, po_number), old_value, new_value (as text), note."""
        query = "SELECT * FROM audit"
        params: tuple = ()
        if suggestion_id is not None:
            query += " WHERE suggestion_id = ?"
            params = (suggestion_id,)
        with self._connect(write=False) as con:
            rows = con.execute(query + " ORDER BY audit_id", params)
            return [{name: r[name] for name in _AUDIT_COLUMNS} for r in rows]
