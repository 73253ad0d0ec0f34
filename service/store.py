"""Finished study results in an embedded SQLite database, so a shared link shows its results at once.

One row per run in ``runs`` (key, study, canonical parameters as JSON, code version, state, created,
last opened, size) and the run's tables in ``tables`` as Parquet bytes; teachers' exercises (a
question and fixed parameter texts, as JSON) in ``exercises``, named by a hash of their content. Nothing on any read path
unpickles: a file placed in the folder is never executed, old ``*.pickle`` entries are ignored.

A key is the study, its canonical parameters (the texts a share link carries) and the code version
(``service.code_version``: a hash of the code that computes results, not of charts or takeaways):
changing the maths invalidates old results instead of serving them, a new caption keeps them. The database is ``results.sqlite`` in ``$EXPLORER_STORE_DIR``, else ``.store/``
beside the code; WAL mode lets several server processes share it.

Bounded: after each save the least recently opened runs are evicted until the tables fit in
``$EXPLORER_STORE_MAX_MB`` (default 1024). Never a crash: a row that cannot be read is dropped (the
study is computed again); a file that is not a database is moved aside and a new one started; a
store that cannot be written (read-only folder or mount, full disk) raises StoreError on save for
the caller to report, and goes on serving what it holds: reads need only a readable file.

Untrusted: the file may have been edited by anyone who can write the folder. It is opened with
``trusted_schema`` off, and triggers or views that this code never creates are dropped before
anything is written (a planted trigger ran on every open); a table blob is measured from its
Parquet footer before it is decompressed (``$EXPLORER_STORE_TABLE_MB``, default 64, per table) and
a row's meta and parameters are checked for the types this code writes; what fails is dropped.
The footer's compressed and uncompressed sizes say nothing of what run-length and dictionary
encoded pages unpack to (106 KB of Parquet unpacked to 1.65 GB), so every table of a row is bounded
by its rows times its columns times their widths (a text column by its measured lengths, read with
its dictionary kept) before any is unpacked, and a row that fails is deleted before anything else
is read. Index rows are range-checked (dates, counts) and their meta and parameters read only up
to ``MAX_META`` / ``MAX_PARAMS`` characters: one hostile row must not take the runs page down.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import sqlite3
import time
from pathlib import Path

import pandas as pd

from service.code_version import code_version

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "results.sqlite"
log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, study TEXT NOT NULL, params TEXT NOT NULL,
    code TEXT NOT NULL, state TEXT NOT NULL, meta TEXT NOT NULL, created REAL NOT NULL, opened REAL NOT NULL,
    size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tables (key TEXT NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (key, name));
CREATE INDEX IF NOT EXISTS runs_opened ON runs (opened);
CREATE TABLE IF NOT EXISTS exercises (id TEXT PRIMARY KEY, study TEXT NOT NULL, spec TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS inflight (key TEXT PRIMARY KEY, server TEXT NOT NULL, done REAL NOT NULL,
    total INTEGER NOT NULL, heartbeat REAL NOT NULL);
"""
STALE_SECONDS = 20  # a run whose server has not written for this long is taken to have died with it
SKEW_SECONDS = 10   # servers sharing a store may disagree on the time by this much; a heartbeat further
                    # ahead (or not a number) is stale, else a skewed or hostile row held its run forever
MAX_EXERCISES = 10_000  # the oldest go first beyond this: a teacher's link stays valid for many terms
EXERCISE_ID = re.compile(r"[0-9a-f]{16}")
EXERCISE_TEXT = 2_000  # characters of any one text in an exercise (the question, a value)


MAX_ROWS = 5_000_000  # per table; the largest real one (decision-boundary regions) holds a quarter million
MAX_COLUMNS = 200     # per table; the widest real one (a search's summary) holds a few dozen
MAX_META = 2_000      # characters of a run's meta: its state, two counts, two errors, a short label
MAX_PARAMS = 20_000   # characters of a run's parameter texts
MAX_TRIALS = 1_000_000  # per run: far beyond what any limit lets a run plan
OLDEST = 946_684_800  # 2000-01-01: no run of this code was stored before; ...
CREATED_AHEAD = 86_400  # ... nor more than a day ahead of this clock (another machine's may be off)


def max_table_bytes() -> int:
    return int(float(os.environ.get("EXPLORER_STORE_TABLE_MB") or 64) * 2 ** 20)


class StoreError(Exception):
    """The store could not keep a result (read-only folder, full disk); the message says why."""


def default_folder() -> Path:
    return Path(os.environ.get("EXPLORER_STORE_DIR") or ROOT / ".store")


def max_bytes() -> int:
    return int(float(os.environ.get("EXPLORER_STORE_MAX_MB") or 1024) * 2 ** 20)


def _is_broken(exc: sqlite3.DatabaseError) -> bool:
    return "not a database" in str(exc) or "malformed" in str(exc)


def _to_parquet(name: str, frame: pd.DataFrame) -> bytes:
    """A table as Parquet; StoreError (so the run is kept on its page with a warning, not lost with a
    log line) where pyarrow cannot write it: repeated column names, mixed types in a column."""
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except (ValueError, TypeError, NotImplementedError) as exc:  # pyarrow's errors derive from these
        raise StoreError(f"table {name!r} cannot be written as Parquet: {exc}") from exc
    return buffer.getvalue()


def _drop_planted(connection: sqlite3.Connection) -> None:
    """Drop triggers and views this code never creates: they would run whatever a file planted on
    our next write (a trigger on ``runs`` made every open of a link take 6 s)."""
    planted = connection.execute("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view')").fetchall()
    for kind, name in planted:
        log.warning("result store: dropping the %s %r that this code never created", kind, name)
        connection.execute(f'DROP {kind.upper()} IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')


# a runs row as _checked_row reads it: an oversized text comes back as NULL (measured in bytes: SQLite
# counts a text's characters by reading it all, 3 times slower than the byte length of its blob)
ROW = f"CASE WHEN length(CAST(meta AS BLOB)) <= {MAX_META} THEN meta END, study, " \
      f"CASE WHEN length(CAST(params AS BLOB)) <= {MAX_PARAMS} THEN params END, created"


def _checked_row(meta_text, study, params_text, created) -> tuple[str, dict, dict]:
    """A runs row as ``save`` writes it: meta with a known state and whole trial counts, parameter
    texts, a date this code could have written (``created = 1e300`` took the runs page down)."""
    if meta_text is None or params_text is None:
        raise ValueError(f"meta over {MAX_META} or parameters over {MAX_PARAMS} characters")
    if not isinstance(created, (int, float)) or not OLDEST <= created <= time.time() + CREATED_AHEAD:
        raise ValueError(f"created at {created!r}, not a time this code writes")
    meta, params = json.loads(meta_text), json.loads(params_text)
    if not isinstance(study, str) or not isinstance(params, dict) or not isinstance(meta, dict):
        raise ValueError("row of the wrong types")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise ValueError("parameters that are not texts")
    if meta.get("state", "done") not in ("done", "cancelled"):
        raise ValueError(f"unknown state {meta.get('state')!r}")
    for name in ("trials_done", "trials_total"):
        value = meta.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TRIALS:
            raise ValueError(f"{name} is not a whole number from 0 to {MAX_TRIALS:,}")
    for name in ("best_val_error", "test_error"):
        value = meta.get(name)
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value != value):
            raise ValueError(f"{name} is not a number")
    if not isinstance(meta.get("selected", ""), str) or len(meta.get("selected", "")) > 200:
        raise ValueError("selected is not a short text")
    return study, params, meta


def _checked_exercise(spec) -> dict | None:
    """``spec`` if it has exactly the shape an exercise has, else None."""
    if not isinstance(spec, dict) or set(spec) != {"question", "lock", "hide"}:
        return None
    texts = [spec["question"]]
    for kind in ("lock", "hide"):
        if not isinstance(spec[kind], dict):
            return None
        texts += [*spec[kind], *spec[kind].values()]
    return spec if all(isinstance(t, str) and len(t) <= EXERCISE_TEXT for t in texts) else None


# Bytes per value once unpacked into pandas, by Parquet physical type: at least 8 (a boolean or int32
# column with gaps becomes float64; a text is an 8-byte offset or pointer, plus its characters).
WIDTH = {"BOOLEAN": 8, "INT32": 8, "INT64": 8, "INT96": 12, "FLOAT": 8, "DOUBLE": 8, "BYTE_ARRAY": 8}
TEXT_TYPES = ("string", "large_string", "binary", "large_binary")


def _bound_table(name: str, data: bytes) -> None:
    """ValueError unless the Parquet blob unpacks within ``max_table_bytes``, judged before any page is
    decoded into rows: the footer's sizes (compressed pages), its column count, then every column's
    values times its width, a text column's characters counted from its dictionary and indices
    (about 4 bytes a row) instead of being expanded."""
    import pyarrow.parquet as pq

    limit = max_table_bytes()
    if not isinstance(data, bytes) or len(data) > limit:
        raise ValueError(f"table {name!r} is not a blob of at most {limit:,} bytes")
    parquet = pq.ParquetFile(io.BytesIO(data))
    meta = parquet.metadata
    if meta.num_columns > MAX_COLUMNS:
        raise ValueError(f"table {name!r} has {meta.num_columns:,} columns, over {MAX_COLUMNS}")
    groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
    rows = max(meta.num_rows, sum(g.num_rows for g in groups))
    chunks = [(g.num_rows, g.column(j)) for g in groups for j in range(meta.num_columns)]
    if unknown := {c.physical_type for _, c in chunks} - set(WIDTH):
        raise ValueError(f"table {name!r} holds values of a type this code never writes ({sorted(unknown)})")
    packed = sum(c.total_uncompressed_size for _, c in chunks)
    unpacked = sum(max(c.num_values, n) * WIDTH[c.physical_type] for n, c in chunks)
    if rows > MAX_ROWS or packed > limit or unpacked > limit:
        raise ValueError(f"table {name!r} unpacks to {rows:,} rows of {meta.num_columns} columns, at least "
                         f"{max(packed, unpacked):,} bytes: over the limit of {limit:,}")
    texts = [f.name for f in parquet.schema_arrow if str(f.type) in TEXT_TYPES]
    if texts:
        unpacked += _text_bytes(pq.read_table(io.BytesIO(data), columns=texts, read_dictionary=texts))
        if unpacked > limit:
            raise ValueError(f"table {name!r} unpacks to {unpacked:,} bytes of text and values: over the "
                             f"limit of {limit:,}")


def _text_bytes(table) -> int:
    """Characters a table of dictionary-encoded text columns holds once every row is expanded."""
    import pyarrow.compute as pc

    total = 0
    for column in table.columns:
        for chunk in column.chunks:
            lengths = pc.binary_length(chunk.dictionary)
            total += pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0
    return total


def _fresh(heartbeat) -> bool:
    """Whether a runs-in-flight heartbeat says its server is alive: a number written less than
    ``STALE_SECONDS`` ago, and not more than ``SKEW_SECONDS`` in the future."""
    return isinstance(heartbeat, (int, float)) and -SKEW_SECONDS <= time.time() - heartbeat < STALE_SECONDS


class ResultStore:
    """``save`` / ``load`` a run's named DataFrames and a small JSON ``meta`` under its key."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder else default_folder()
        self.path = self.folder / DATABASE
        self._ready, self._read_only = False, ""

    @staticmethod
    def key(study: str, params: dict[str, str]) -> str:
        text = json.dumps({"study": study, "params": params, "code": code_version()}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    # -- the connection ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self):
        """A connection per call: sessions and the engine call from many threads, and a fresh
        connection costs about 0.1 ms. A file that is not a database is moved aside first (also
        when it turns into one while the server runs: the next call notices). A store that could
        not be prepared for writing is opened read-only."""
        if not self._ready:
            self._prepare()
        connection = sqlite3.connect(self._address(), timeout=30, isolation_level=None, uri=True)
        try:
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.execute("PRAGMA trusted_schema = OFF")
            if not self._read_only:
                _drop_planted(connection)
            yield connection
        except sqlite3.DatabaseError as exc:
            if _is_broken(exc):
                self._ready = False
            raise
        finally:
            connection.close()

    def _address(self) -> str:
        if not self._read_only:
            return f"file:{self.path}"
        return f"file:{self.path}?{self._read_only}"

    def _prepare(self) -> None:
        self._read_only = ""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._create()
        except sqlite3.DatabaseError as exc:
            if not _is_broken(exc):
                if self._readable():
                    return
                raise
            aside = self.path.with_name(f"{DATABASE}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
            log.warning("result store %s is not a database (%s): moved aside to %s, starting a new one",
                        self.path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{self.path}{suffix}").exists():
                    Path(f"{self.path}{suffix}").replace(f"{aside}{suffix}")
            self._create()
        except OSError:
            if not self._readable():
                raise
            return
        self._ready = True

    def _readable(self) -> bool:
        """After a failed write: can the database still be read? Read-only first (a WAL database then
        needs its -shm file or a writable folder), else as immutable (a read-only mount after a clean
        shutdown, where nobody can be writing). Sets the mode ``_connect`` uses."""
        if not self.path.is_file():
            return False
        for mode in ("mode=ro", "immutable=1"):
            try:
                connection = sqlite3.connect(f"file:{self.path}?{mode}", uri=True, timeout=5)
                try:
                    connection.execute("SELECT COUNT(*) FROM runs").fetchone()
                finally:
                    connection.close()
            except sqlite3.DatabaseError:
                continue
            log.warning("result store %s cannot be written: serving what it holds, read-only (%s)", self.path, mode)
            self._read_only, self._ready = mode, True
            return True
        return False

    def _create(self) -> None:
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA auto_vacuum = INCREMENTAL")  # evicted runs give their pages back
            connection.execute("PRAGMA journal_mode = WAL")
            connection.executescript(SCHEMA)
            _drop_planted(connection)
        finally:
            connection.close()

    # -- reading ------------------------------------------------------------------------------------
    def load(self, study: str, params: dict[str, str]) -> tuple[dict[str, pd.DataFrame], dict] | None:
        """The run's tables and meta, or None (not stored, unreadable, or no store at all). Opening
        counts as use for eviction."""
        found = self.load_key(self.key(study, params))
        return found[2:] if found else None

    def load_key(self, key: str) -> tuple[str, dict, dict[str, pd.DataFrame], dict] | None:
        """(study, parameter texts, tables, meta) of the run stored under ``key``, or None. A row
        that is not what ``save`` writes, or with a table too large to unpack, is deleted before
        any of its tables is unpacked: a read that takes the server down would be repeated."""
        try:
            with self._connect() as connection:
                row = connection.execute(f"SELECT {ROW} FROM runs WHERE key = ?", (key,)).fetchone()
                if row is None:
                    return None
                parts = connection.execute("SELECT name, CASE WHEN length(data) <= ? THEN data END FROM tables "
                                           "WHERE key = ?", (max_table_bytes(), key)).fetchall()
        except (sqlite3.Error, OSError) as exc:
            log.warning("result store %s unreadable: %s", self.path, exc)
            return None
        try:
            study, params, meta = _checked_row(*row)
            for name, data in parts:
                _bound_table(name, data)
            if "tidy" not in dict(parts):
                raise ValueError("no tidy table")
            frames = {str(name): pd.read_parquet(io.BytesIO(data)) for name, data in parts}
        except Exception as exc:  # a corrupt or hostile row: drop it, the caller computes the study again
            log.warning("dropping unreadable stored run %s: %s", key, exc)
            self.delete(key)
            return None
        self._touch(key)
        return study, params, frames, meta

    def _touch(self, key: str) -> None:
        """Opening counts as use for eviction; a store that cannot be written still serves the read."""
        if self._read_only:
            return
        try:
            with self._connect() as connection:
                connection.execute("UPDATE runs SET opened = ? WHERE key = ?", (time.time(), key))
        except (sqlite3.Error, OSError) as exc:
            log.warning("result store %s: could not mark run %s as opened: %s", self.path, key, exc)

    def recent(self, count: int = 5, study: str | None = None) -> list[dict]:
        """The latest ``count`` runs of ``index`` (a few rows beyond, in case some are skipped)."""
        return self.index(4 * count, study)[:count]

    def index(self, count: int = 1000, study: str | None = None) -> list[dict]:
        """Every stored run of the current code version, newest first, from the ``runs`` rows alone
        (no table is read): dicts with ``study``, ``params`` (texts), ``state``, ``created``, ``key``
        and the meta's trial counts, best validation error, test error and selected setting. A row
        that does not read as ``save`` wrote it is skipped (its meta is not even fetched when it is
        over ``MAX_META``: 60 rows of 5 MB cost the runs page 5.7 s and 440 MB)."""
        try:
            with self._connect() as connection:
                rows = connection.execute(f"SELECT {ROW}, state, key FROM runs WHERE code = ? "
                                          "AND (? IS NULL OR study = ?) ORDER BY created DESC LIMIT ?",
                                          (code_version(), study, study, int(count))).fetchall()
        except (sqlite3.Error, OSError) as exc:
            log.warning("result store %s unreadable: %s", self.path, exc)
            return []
        found = []
        for meta, study_name, params, created, state, key in rows:
            try:
                study_name, texts, meta = _checked_row(meta, study_name, params, created)
                found.append({"study": study_name, "params": texts, "state": str(state), "created": float(created),
                              "key": str(key), "trials_done": int(meta.get("trials_done", 0)),
                              "trials_total": int(meta.get("trials_total", 0)),
                              "best_val_error": meta.get("best_val_error"), "test_error": meta.get("test_error"),
                              "selected": meta.get("selected", "")})
            except (ValueError, TypeError):
                log.warning("runs index: skipping unreadable row %s", key)
        return found

    # -- writing ------------------------------------------------------------------------------------
    def save(self, study: str, params: dict[str, str], frames: dict[str, pd.DataFrame], meta: dict) -> None:
        """Keep a run (replacing an entry of the same key in one transaction); StoreError if it cannot."""
        key = self.key(study, params)
        try:
            if not self._ready:
                self._prepare()
            if self._read_only:
                raise StoreError(f"{self.path} can only be read (a read-only folder or mount, or a full disk "
                                 "when the server started)")
            meta_text = json.dumps(meta)
            if len(meta_text) > MAX_META:
                raise StoreError(f"the run's meta is {len(meta_text):,} characters, over {MAX_META:,}")
            blobs = {name: _to_parquet(name, frame) for name, frame in frames.items()}
            size = sum(map(len, blobs.values()))
            now = time.time()
            with self._connect() as connection:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("DELETE FROM tables WHERE key = ?", (key,))
                connection.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                   (key, study, json.dumps(params, sort_keys=True), code_version(),
                                    meta.get("state", "done"), meta_text, now, now, size))
                connection.executemany("INSERT INTO tables VALUES (?, ?, ?)",
                                       [(key, name, blob) for name, blob in blobs.items()])
                connection.execute("COMMIT")
                self._evict(connection, keep=key)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"could not save to {self.path}: {exc}") from exc

    def _evict(self, connection: sqlite3.Connection, keep: str) -> None:
        """Drop the least recently opened runs until the stored tables fit the cap."""
        limit = max_bytes()
        total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM runs").fetchone()[0]
        if total <= limit:
            return
        for key, size in connection.execute("SELECT key, size FROM runs WHERE key != ? ORDER BY opened",
                                            (keep,)).fetchall():
            self._delete(connection, key)
            total -= size
            if total <= limit:
                break
        connection.execute("PRAGMA incremental_vacuum")

    def delete(self, key: str) -> None:
        try:
            with self._connect() as connection:
                self._delete(connection, key)
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not delete stored run %s: %s", key, exc)

    @staticmethod
    def _delete(connection: sqlite3.Connection, key: str) -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("DELETE FROM tables WHERE key = ?", (key,))
        connection.execute("DELETE FROM runs WHERE key = ?", (key,))
        connection.execute("COMMIT")

    # -- runs in flight, across server processes ---------------------------------------------------
    def claim(self, key: str, server: str) -> str | None:
        """Mark ``key`` as computed by ``server``, unless another server is computing it (its row
        written less than STALE_SECONDS ago): then that server's name, and this one should wait for
        its result instead of computing it again. Both in one transaction, so two servers pressing
        Run at once cannot both win. A store that cannot be written claims nothing (None)."""
        try:
            with self._connect() as connection:
                connection.execute("BEGIN IMMEDIATE")
                row = connection.execute("SELECT server, heartbeat FROM inflight WHERE key = ?", (key,)).fetchone()
                if row and row[0] != server and _fresh(row[1]):
                    connection.execute("COMMIT")
                    return str(row[0])
                connection.execute("INSERT OR REPLACE INTO inflight VALUES (?, ?, 0, 0, ?)", (key, server, time.time()))
                connection.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not mark run %s in flight: %s", key, exc)
        return None

    def beat(self, server: str, progress: dict[str, tuple[float, int]]) -> None:
        """``server`` is alive and its runs have got this far (key -> (trials done, trials planned))."""
        try:
            with self._connect() as connection:
                connection.executemany("UPDATE inflight SET done = ?, total = ?, heartbeat = ? WHERE key = ? AND "
                                       "server = ?", [(float(d), int(t), time.time(), k, server)
                                                      for k, (d, t) in progress.items()])
        except (sqlite3.Error, OSError) as exc:
            log.warning("could not update the runs in flight: %s", exc)

    def release(self, key: str, server: str) -> None:
        with contextlib.suppress(sqlite3.Error, OSError), self._connect() as connection:
            connection.execute("DELETE FROM inflight WHERE key = ? AND server = ?", (key, server))

    def in_flight(self, key: str) -> dict | None:
        """The server computing ``key`` and how far it has got, while its row is fresh; else None."""
        row = self._in_flight_row(key)
        try:
            fresh = row is not None and _fresh(row[3])
            return {"server": str(row[0]), "done": float(row[1]), "total": int(row[2])} if fresh else None
        except (TypeError, ValueError):  # a hostile row: nothing is in flight
            return None

    def abandoned(self, key: str) -> str | None:
        """The server that claimed ``key`` and then went silent (killed, cut off), else None: a page
        says so instead of only "not stored yet"."""
        row = self._in_flight_row(key)
        return str(row[0]) if row is not None and not _fresh(row[3]) else None

    def _in_flight_row(self, key: str) -> tuple | None:
        try:
            with self._connect() as connection:
                return connection.execute("SELECT server, done, total, heartbeat FROM inflight WHERE key = ?",
                                          (key,)).fetchone()
        except (sqlite3.Error, OSError):
            return None

    # -- exercises ----------------------------------------------------------------------------------
    def save_exercise(self, study: str, spec: dict) -> str:
        """Keep a teacher's exercise (``spec``: question text, ``lock`` and ``hide`` as {name: value
        text}) and return its id, a hash of its content: the same exercise gets the same link.
        StoreError if it cannot be kept."""
        text = json.dumps(spec, sort_keys=True)
        exercise_id = hashlib.sha256(f"{study}\n{text}".encode()).hexdigest()[:16]
        if _checked_exercise(spec) is None:
            raise StoreError("an exercise holds a question and two lists of parameter values, each text at most "
                             f"{EXERCISE_TEXT} characters")
        try:
            if not self._ready:
                self._prepare()
            if self._read_only:
                raise StoreError(f"{self.path} can only be read")
            with self._connect() as connection:
                connection.execute("INSERT OR IGNORE INTO exercises VALUES (?, ?, ?, ?)",
                                   (exercise_id, study, text, time.time()))
                connection.execute("DELETE FROM exercises WHERE id NOT IN (SELECT id FROM exercises "
                                   "ORDER BY created DESC LIMIT ?)", (MAX_EXERCISES,))
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"could not save to {self.path}: {exc}") from exc
        return exercise_id

    def load_exercise(self, exercise_id: str) -> tuple[str, dict] | None:
        """(study, spec) of a stored exercise, or None: not an id, not stored, or not what
        ``save_exercise`` writes (a hostile row is ignored, never trusted)."""
        if not EXERCISE_ID.fullmatch(str(exercise_id)):
            return None
        try:
            with self._connect() as connection:
                row = connection.execute("SELECT study, spec FROM exercises WHERE id = ?", (exercise_id,)).fetchone()
        except (sqlite3.Error, OSError) as exc:
            log.warning("result store %s unreadable: %s", self.path, exc)
            return None
        try:
            spec = _checked_exercise(json.loads(row[1])) if row else None
        except (ValueError, TypeError):
            spec = None
        return (str(row[0]), spec) if spec is not None else None

    def total_bytes(self) -> int:
        with self._connect() as connection:
            return connection.execute("SELECT COALESCE(SUM(size), 0) FROM runs").fetchone()[0]
