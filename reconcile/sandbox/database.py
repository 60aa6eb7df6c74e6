"""The SQLite file behind the emulator's store: its schema, and opening it for use.

``open_database`` creates the file (and its directory) on demand, turns on WAL for files,
creates the schema, and proves the file is ours and writable; ``StoreError`` says why a
file cannot be used (not a directory, not SQLite, another schema, read-only).
"""

from __future__ import annotations

import pathlib
import sqlite3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    client_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    product_type TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    region TEXT,
    status TEXT NOT NULL,
    create_ts REAL,
    update_ts REAL,
    pb_create REAL NOT NULL,
    pb_update REAL NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (client_id, sku)
);
CREATE INDEX IF NOT EXISTS products_sku ON products (sku);
-- Serves the default search (sku order, six-month window) without a sort, and its count
-- as a covering scan; an index led by pb_create would make every page sort all matches.
DROP INDEX IF EXISTS products_pb_create;
CREATE INDEX IF NOT EXISTS products_window ON products (client_id, sku, pb_create);
CREATE TABLE IF NOT EXISTS boms (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    sku TEXT NOT NULL,
    node TEXT,
    brand TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    create_ts REAL,
    update_ts REAL,
    pb_create REAL NOT NULL,
    pb_update REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS boms_client_sku ON boms (client_id, sku);
CREATE INDEX IF NOT EXISTS boms_client_active ON boms (client_id, active, seq);
CREATE TABLE IF NOT EXISTS bom_components (
    bom_seq INTEGER NOT NULL REFERENCES boms (seq),
    client_id TEXT NOT NULL,
    sku TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bom_components_sku ON bom_components (client_id, sku);
CREATE INDEX IF NOT EXISTS bom_components_bom ON bom_components (bom_seq);
CREATE TABLE IF NOT EXISTS inventory (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT,
    sku TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS inventory_sku ON inventory (sku);
"""

#: Every column the store uses, per table: an existing file must have them all.
_COLUMNS = {
    "products": "client_id, sku, product_type, active, region, status, create_ts, update_ts,"
    " pb_create, pb_update, body",
    "boms": "seq, id, client_id, sku, node, brand, active, create_ts, update_ts, pb_create,"
    " pb_update, body",
    "bom_components": "bom_seq, client_id, sku",
    "inventory": "seq, client_id, sku, body",
}


class StoreError(Exception):
    """The database file cannot be used as the emulator's store (and why)."""

    def __init__(self, path: str, reason: str, *, read_only: bool = False) -> None:
        self.path = path
        self.reason = reason
        self.read_only = read_only
        super().__init__(f"{path}: {reason}")


def _read_only(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "readonly" in str(error)


def _reason(error: BaseException) -> str:
    """What went wrong, in words a user can act on."""
    text = str(error)
    if isinstance(error, FileExistsError | NotADirectoryError):
        return f"{error.filename} is a file where a directory is needed"
    if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
        return "not a SQLite database"
    if "no such column" in text or "no such table" in text:
        return f"a SQLite database of another schema ({text})"
    if _read_only(error):
        return "read-only (the sandbox writes to it)"
    if "unable to open" in text:
        return f"cannot be opened ({text}; is it a directory?)"
    return f"{text or type(error).__name__}"


def open_database(path: str) -> sqlite3.Connection:
    """Open (or create) the database at ``path``, ready for ``Store``; else StoreError."""
    try:
        if path != ":memory:" and not path.startswith("file:"):
            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    except (OSError, sqlite3.Error) as e:
        raise StoreError(path, _reason(e)) from e
    try:
        _prepare(db, path)
    except (OSError, sqlite3.Error) as e:
        db.close()
        raise StoreError(path, _reason(e), read_only=_read_only(e)) from e
    return db


def _prepare(db: sqlite3.Connection, path: str) -> None:
    """WAL for files, the schema, then proof that it is ours and writable."""
    if path != ":memory:":
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(_SCHEMA)
    for table, columns in _COLUMNS.items():  # tables of another schema: no such column
        db.execute(f"SELECT {columns} FROM {table} LIMIT 0").fetchall()
    # A read-only file opens and reads fine; only a write says so. Rolled back.
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("CREATE TABLE write_probe (x)")
    finally:
        db.execute("ROLLBACK")
