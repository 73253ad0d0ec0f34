"""The result database: no pickle on any read path, bounded, never lost, and never a crash."""
import json
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from service import store as store_module
from service.store import DATABASE, ResultStore, StoreError, code_version

ROOT = Path(__file__).resolve().parents[2]
FRAMES = {"tidy": pd.DataFrame({"a": [1, 2], "b": [0.5, np.nan], "s": ["x", None]}),
          "summary": pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})}


def test_round_trip_keys_and_meta(tmp_path):
    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1,2"}, FRAMES, {"state": "cancelled", "trials_done": 4})
    frames, meta = store.load("lr", {"x": "1,2"})
    for name, frame in FRAMES.items():
        pd.testing.assert_frame_equal(frames[name], frame)
    assert meta == {"state": "cancelled", "trials_done": 4}
    assert store.load("lr", {"x": "1,3"}) is None and store.load("other", {"x": "1,2"}) is None
    assert store.key("lr", {"a": "1", "b": "2"}) == store.key("lr", {"b": "2", "a": "1"})
    assert len(code_version()) == 16
    assert sqlite3.connect(tmp_path / DATABASE).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


class Payload:
    """What an attacker would drop into the store folder: unpickling it creates a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def plant_pickles(folder: Path, marker: Path) -> None:
    for where in (folder, folder / "learning_rate", folder / "bias_variance" / "deep"):
        where.mkdir(parents=True, exist_ok=True)
        for name in ("evil.pickle", "0123456789abcdef.pickle", "results.pkl"):
            (where / name).write_bytes(pickle.dumps(Payload(marker)))


@pytest.mark.slow
def test_a_planted_pickle_is_never_executed(tmp_path, monkeypatch):
    store_dir, marker = tmp_path / "store", tmp_path / "executed"
    plant_pickles(store_dir, marker)
    assert not marker.exists()
    pickle.loads((store_dir / "evil.pickle").read_bytes()) and None   # the payload works when unpickled...
    assert marker.exists()
    marker.unlink()                                                   # ...so its absence below means something
    monkeypatch.setenv("EXPLORER_STORE_DIR", str(store_dir))
    home = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    page = AppTest.from_file(str(ROOT / "app_pages" / "learning_rate.py"), default_timeout=60)
    page.query_params["epochs"] = "3"
    page.run()
    assert not home.exception and not page.exception
    cli = subprocess.run([sys.executable, "-m", "studies", "run", "bias_variance", "--set", "datasets=10",
                          "--set", "max_degree=3"], capture_output=True, text=True, env={**os.environ})
    assert cli.returncode == 0, cli.stderr
    assert ResultStore(store_dir).recent() == []
    assert not marker.exists()


def test_random_bytes_instead_of_the_database_are_moved_aside(tmp_path):
    tmp_path.joinpath(DATABASE).write_bytes(np.random.default_rng(0).bytes(5000))
    store = ResultStore(tmp_path)
    assert store.load("lr", {"x": "1"}) is None
    store.save("lr", {"x": "1"}, FRAMES, {})
    assert store.load("lr", {"x": "1"}) is not None
    assert len(list(tmp_path.glob(f"{DATABASE}.broken-*"))) == 1


def test_a_database_broken_while_the_server_runs_is_replaced(tmp_path):
    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1"}, FRAMES, {})
    tmp_path.joinpath(DATABASE).write_bytes(b"\0" * 4096)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / DATABASE}{suffix}").unlink(missing_ok=True)
    assert store.load("lr", {"x": "1"}) is None                    # noticed...
    store.save("lr", {"x": "2"}, FRAMES, {})                       # ...and a new database started
    assert store.load("lr", {"x": "2"}) is not None


def test_a_corrupt_row_is_dropped_and_the_rest_stays(tmp_path):
    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1"}, FRAMES, {})
    store.save("lr", {"x": "2"}, FRAMES, {})
    with sqlite3.connect(tmp_path / DATABASE) as db:
        db.execute("UPDATE tables SET data = ? WHERE key = ?", (b"junk", store.key("lr", {"x": "1"})))
        db.execute("INSERT INTO runs VALUES ('bad', 'lr', 'not json', ?, 'done', '{}', 1e12, 0, 0)", (code_version(),))
    assert store.load("lr", {"x": "1"}) is None
    assert store.load("lr", {"x": "2"}) is not None
    assert {"x": "1"} not in [r["params"] for r in store.recent()]   # dropped, so no longer listed


def test_recent_reads_the_index_of_this_code_version_only(tmp_path):
    store = ResultStore(tmp_path)
    for i in range(3):
        store.save("lr", {"x": str(i)}, FRAMES, {"state": "done"})
    with sqlite3.connect(tmp_path / DATABASE) as db:
        db.execute("UPDATE runs SET code = 'old' WHERE params = ?", ('{"x": "0"}',))
        db.execute("DELETE FROM tables")                           # the listing needs no table
    assert [r["params"]["x"] for r in store.recent(5)] == ["2", "1"]


def test_an_unwritable_store_raises_store_error_and_reads_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the store folder's parent should be")
    store = ResultStore(blocker / "store")
    assert store.load("lr", {"x": "1"}) is None and store.recent() == []
    with pytest.raises(StoreError, match="could not save"):
        store.save("lr", {"x": "1"}, FRAMES, {})



def test_a_table_parquet_cannot_hold_is_a_store_error_naming_it_and_nothing_is_half_saved(tmp_path):
    """The decision-boundary study once produced two "setting" columns: the save raised a plain
    ValueError, which the run's end only logged, so the page never said its result was not kept."""
    store = ResultStore(tmp_path)
    repeated = pd.DataFrame([[1, 2]], columns=["setting", "setting"])
    with pytest.raises(StoreError, match="'tidy'"):
        store.save("lr", {"x": "1"}, {**FRAMES, "tidy": repeated}, {})
    assert store.load("lr", {"x": "1"}) is None and store.recent() == []


WRITER = """
import sys
import pandas as pd
from pathlib import Path
from service.store import ResultStore
store, worker = ResultStore(Path(sys.argv[1])), int(sys.argv[2])
for i in range(15):
    frame = pd.DataFrame({"worker": [worker] * 200, "i": range(200)})
    store.save("lr", {"x": "same"}, {"tidy": frame, "summary": frame.head(1)}, {"worker": worker})
"""


def test_two_processes_writing_one_key_leave_one_readable_entry(tmp_path):
    ResultStore(tmp_path).save("lr", {"x": "other"}, FRAMES, {})
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w)], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for w in (1, 2)]
    assert [w.wait(60) for w in writers] == [0, 0], [w.stderr.read() for w in writers]
    frames, meta = ResultStore(tmp_path).load("lr", {"x": "same"})
    assert set(frames["tidy"]["worker"]) == {meta["worker"]} and len(frames["tidy"]) == 200
    with sqlite3.connect(tmp_path / DATABASE) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM tables").fetchone()[0] == 2 + 2


def test_eviction_keeps_the_store_under_its_cap_least_recently_opened_first(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_STORE_MAX_MB", "0.1")
    store = ResultStore(tmp_path)
    big = {"tidy": pd.DataFrame({"v": np.random.default_rng(0).random(3000)}), "summary": FRAMES["summary"]}
    evicted_first = None
    for i in range(8):
        store.save("lr", {"x": str(i)}, big, {})
        assert store.total_bytes() <= 0.1 * 2**20
        if i == 1:
            store.load("lr", {"x": "0"})        # opening a link counts as use
        kept = {r["params"]["x"] for r in store.recent(10)}
        if evicted_first is None and len(kept) < i + 1:
            evicted_first = ({"0", "1"} - kept).pop()
    assert evicted_first == "1"                  # saved after 0, but 0 was opened since
    assert str(i) in kept and len(kept) < 8


# -- hostile rows (issue 18) ----------------------------------------------------------------------
def stored_study_run(tmp_path):
    """A real stored bias-variance run: its store, study, values and key."""
    from studies import bias_variance
    from studies.common import execution, launch

    store, values = ResultStore(tmp_path), bias_variance.SCHEMA.parse({"datasets": "10", "max_degree": "3"})
    execution.save_result(store, bias_variance, values, launch.run_study(bias_variance, values, n_jobs=1))
    return store, bias_variance, values, execution.run_key(bias_variance, values)


def test_a_row_with_text_for_a_count_is_dropped_not_a_crash(tmp_path):
    from studies.common import execution

    store, study, values, key = stored_study_run(tmp_path)
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE runs SET meta = ? WHERE key = ?", ('{"state": "done", "trials_done": "abc"}', key))
    assert execution.load_result(store, study, values) is None
    assert store.load_key(key) is None and key not in [r["key"] for r in store.recent()]


def test_a_table_without_the_columns_this_code_writes_is_dropped(tmp_path):
    """A table without 'status' raised KeyError on the page."""
    from studies.common import execution

    store, study, values, key = stored_study_run(tmp_path)
    broken = execution.load_result(store, study, values).tidy.drop(columns="status")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tables SET data = ? WHERE key = ? AND name = 'tidy'", (parquet(broken), key))
    assert execution.load_result(store, study, values) is None
    assert store.load_key(key) is None                                      # dropped: Run computes it again


def parquet(frame: pd.DataFrame) -> bytes:
    import io
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_a_small_blob_that_unpacks_to_gigabytes_is_dropped_before_it_is_unpacked(tmp_path, monkeypatch):
    """A few hundred KB of Parquet held 100 million zeros: +1.1 GB of server memory on every open."""
    import resource
    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1"}, FRAMES, {})
    bomb = parquet(pd.DataFrame({"a": np.zeros(20_000_000, dtype=np.int64)}))
    assert len(bomb) < 2 ** 20                                              # under a megabyte on disk
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tables SET data = ? WHERE name = 'tidy'", (bomb,))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert store.load("lr", {"x": "1"}) is None
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50 * 1024   # KB: never unpacked


def test_a_planted_trigger_is_dropped_before_it_can_run(tmp_path):
    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1"}, FRAMES, {})
    marker = tmp_path / "fired"
    with sqlite3.connect(store.path) as db:
        db.execute("CREATE TABLE log (x)")
        db.execute("CREATE TRIGGER spy AFTER UPDATE ON runs BEGIN INSERT INTO log VALUES (1); END")
        db.execute("CREATE VIEW peek AS SELECT * FROM runs")
    fresh = ResultStore(tmp_path)                                          # a server started on the planted file
    assert fresh.load("lr", {"x": "1"}) is not None
    fresh.save("lr", {"x": "2"}, FRAMES, {})
    with sqlite3.connect(store.path) as db:
        assert db.execute("SELECT COUNT(*) FROM log").fetchone()[0] == 0
        assert db.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'view')").fetchall() == []
    assert not marker.exists()


# -- stores that cannot be written keep serving what they hold (issue 18) ------------------------
@pytest.fixture
def mounted(tmp_path):
    """A 2 MB tmpfs of this test's own (the store's full disk and read-only remount are real)."""
    folder = tmp_path / "mount"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    with open(folder / "filler", "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass


def test_a_full_disk_keeps_serving_stored_runs_after_a_restart(mounted):
    store = ResultStore(mounted / "store")
    store.save("lr", {"x": "1"}, FRAMES, {"state": "done"})
    fill(mounted)
    restarted = ResultStore(mounted / "store")
    assert restarted.load("lr", {"x": "1"}) is not None                     # it said "not stored yet"
    assert [r["params"] for r in restarted.recent()] == [{"x": "1"}]         # Recent runs was empty
    with pytest.raises(StoreError):
        restarted.save("lr", {"x": "2"}, {"tidy": pd.DataFrame({"a": np.arange(400_000)})}, {})
    assert restarted.load("lr", {"x": "1"}) is not None


def test_a_read_only_mount_keeps_serving_stored_runs_after_a_restart(mounted):
    store = ResultStore(mounted / "store")
    store.save("lr", {"x": "1"}, FRAMES, {"state": "done"})
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    restarted = ResultStore(mounted / "store")
    assert restarted.load("lr", {"x": "1"}) is not None
    assert [r["params"] for r in restarted.recent()] == [{"x": "1"}]
    with pytest.raises(StoreError, match="can only be read"):
        restarted.save("lr", {"x": "2"}, FRAMES, {})


def test_an_exercise_is_kept_by_its_content_and_the_oldest_go_beyond_the_cap(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    spec = {"question": "Why?", "lock": {"epochs": "5"}, "hide": {"dataset": "digits"}}
    first = store.save_exercise("learning_rate", spec)
    assert store.save_exercise("learning_rate", dict(spec)) == first          # the same exercise, the same link
    assert store.load_exercise(first) == ("learning_rate", spec)
    assert store.save_exercise("batch_size", spec) != first
    assert store.load_exercise("../../etc/passwd") is None and store.load_exercise("f" * 16) is None
    with pytest.raises(StoreError):
        store.save_exercise("learning_rate", {**spec, "question": "x" * 5000})
    monkeypatch.setattr(store_module, "MAX_EXERCISES", 3)
    ids = [store.save_exercise("learning_rate", {**spec, "question": f"q{i}"}) for i in range(5)]
    assert [store.load_exercise(i) is not None for i in ids] == [False, False, True, True, True]


def test_a_run_in_flight_is_claimed_once_across_servers_until_its_server_stops_beating(tmp_path):
    from service.store import STALE_SECONDS

    store = ResultStore(tmp_path)
    assert store.claim("k", "server-a") is None and store.claim("k", "server-a") is None   # its own: again
    assert store.claim("k", "server-b") == "server-a"
    store.beat("server-a", {"k": (1.5, 4)})
    assert store.in_flight("k") == {"server": "server-a", "done": 1.5, "total": 4}
    with sqlite3.connect(tmp_path / "results.sqlite") as db:                                 # server a died
        db.execute("UPDATE inflight SET heartbeat = heartbeat - ?", (STALE_SECONDS + 1,))
    assert store.in_flight("k") is None and store.claim("k", "server-b") is None
    store.release("k", "server-a")                                                          # not a's any more
    assert store.in_flight("k")["server"] == "server-b"
    store.release("k", "server-b")
    assert store.in_flight("k") is None
    with sqlite3.connect(tmp_path / "results.sqlite") as db:                                 # a planted row
        db.execute("INSERT INTO inflight VALUES ('h', 'x', 'many', 'all', 'now')")
    assert store.in_flight("h") is None


PEAK = """
import json, resource, sys
from pathlib import Path
import pandas, pyarrow.parquet, pyarrow.compute
from service.store import ResultStore
store = ResultStore(Path(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
found = store.load_key(sys.argv[2])
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"found": found is not None, "grew_mb": grew}))
"""


def open_in_a_fresh_process(folder, key) -> dict:
    """What opening the run's link costs a server: found or not, and its peak memory's growth (MB)."""
    proc = subprocess.run([sys.executable, "-c", PEAK, str(folder), key], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def planted(tmp_path, blob: bytes) -> str:
    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1"}, FRAMES, {})
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tables SET data = ? WHERE name = 'tidy'", (blob,))
    return store.key("lr", {"x": "1"})


def test_a_dictionary_encoded_bomb_is_dropped_before_it_is_unpacked(tmp_path):
    """Issue 29: 106 KB of dictionary-encoded text unpacked to 1.65 GB: its footer's sizes are those of
    the run-length encoded indices. Here 4 million rows of one 100-character text (400 MB unpacked)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 4_000_000
    text = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array(["x" * 100]))
    buffer = io.BytesIO()
    pq.write_table(pa.table({"s": text}), buffer, store_schema=False)  # read back as plain text, not categories
    assert len(buffer.getvalue()) < 2 ** 20 and pq.ParquetFile(io.BytesIO(buffer.getvalue())).metadata.num_rows == rows
    key = planted(tmp_path, buffer.getvalue())
    opened = open_in_a_fresh_process(tmp_path, key)
    assert not opened["found"] and opened["grew_mb"] < 64, opened               # never unpacked
    with sqlite3.connect(tmp_path / DATABASE) as db:                             # and dropped at once
        assert db.execute("SELECT COUNT(*) FROM tables WHERE key = ?", (key,)).fetchone() == (0,)


def test_a_table_of_300_columns_is_dropped_before_it_is_unpacked(tmp_path):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    zeros = pa.array(np.zeros(25_000, dtype=np.int64))
    buffer = io.BytesIO()
    pq.write_table(pa.table({f"c{i}": zeros for i in range(300)}), buffer)   # 60 MB unpacked, under the bound
    assert len(buffer.getvalue()) < 2 ** 20
    opened = open_in_a_fresh_process(tmp_path, planted(tmp_path, buffer.getvalue()))
    assert not opened["found"] and opened["grew_mb"] < 30, opened


@pytest.mark.parametrize("edit", ["created = 1e300", "created = -1", "created = 'soon'",
                                  "meta = '{\"trials_done\": 100000000000}'", "meta = '{\"trials_total\": -3}'"])
def test_an_index_row_out_of_range_is_skipped(tmp_path, edit):
    store = ResultStore(tmp_path)
    for x in "12":
        store.save("lr", {"x": x}, FRAMES, {"state": "done", "trials_done": 1, "trials_total": 1})
    with sqlite3.connect(store.path) as db:
        db.execute(f"UPDATE runs SET {edit} WHERE params = ?", ('{"x": "1"}',))
    assert [r["params"] for r in store.index()] == [{"x": "2"}] == [r["params"] for r in store.recent()]
    assert store.load("lr", {"x": "1"}) is None and store.load("lr", {"x": "2"}) is not None


def test_the_index_never_fetches_an_oversized_meta_and_save_refuses_one(tmp_path):
    """Issue 29: 60 rows of 5 MB meta cost the runs page 5.7 s and 440 MB on every visit."""
    import tracemalloc

    store = ResultStore(tmp_path)
    store.save("lr", {"x": "1"}, FRAMES, {})
    huge = json.dumps({"state": "done", "selected": "", "padding": "x" * 5_000_000})
    with sqlite3.connect(store.path) as db:
        db.executemany("INSERT INTO runs SELECT ?, study, params, code, state, ?, created, opened, size FROM runs "
                       "WHERE key = ?", [(f"k{i}", huge, store.key("lr", {"x": "1"})) for i in range(20)])
    tracemalloc.start()
    listed = store.index()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [r["params"] for r in listed] == [{"x": "1"}] and peak < 2 ** 20, peak
    with pytest.raises(StoreError, match="meta"):
        store.save("lr", {"x": "2"}, FRAMES, {"state": "done", "selected": "", "note": "x" * 10_000})


@pytest.mark.parametrize("heartbeat", ["'abc'", "1e300", "julianday('now') * 86400 + 3600"])
def test_an_unreadable_or_future_heartbeat_is_stale(tmp_path, heartbeat):
    """Issue 29: 'abc' made Run show a traceback; a heartbeat ahead of the clock (a hostile row, or a
    machine whose clock runs ahead) held the run 'on another server' forever."""
    store = ResultStore(tmp_path)
    assert store.claim("k", "server-a") is None
    with sqlite3.connect(store.path) as db:
        db.execute(f"UPDATE inflight SET heartbeat = {heartbeat}")
    assert store.in_flight("k") is None
    assert store.claim("k", "server-b") is None and store.in_flight("k")["server"] == "server-b"


def test_a_heartbeat_within_the_clock_skew_tolerance_is_fresh(tmp_path):
    from service.store import SKEW_SECONDS

    store = ResultStore(tmp_path)
    store.claim("k", "server-a")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE inflight SET heartbeat = heartbeat + ?", (SKEW_SECONDS / 2,))
    assert store.claim("k", "server-b") == "server-a" and store.in_flight("k")["server"] == "server-a"


def test_a_formula_planted_in_a_stored_table_reaches_no_csv_as_a_formula(tmp_path):
    """Issue 29: a store edit put ``=HYPERLINK(...)`` into a results CSV cell, which a spreadsheet runs."""
    import csv
    import io

    from studies.common import execution

    store, study, values, key = stored_study_run(tmp_path)
    tidy = execution.load_result(store, study, values).tidy
    planted = tidy.assign(note='=HYPERLINK("http://evil.example","open")', delta=-0.5, signed="-0.25",
                          **{"@cmd": "+1+cmd|' /C calc'!A0"})
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE tables SET data = ? WHERE key = ? AND name = 'tidy'", (parquet(planted), key))
    result = execution.load_result(store, study, values)
    rows = list(csv.reader(io.StringIO(execution.to_csv(execution.exported(study, values, result.tidy)))))
    header, first = rows[0], dict(zip(rows[0], rows[1]))
    assert first["note"] == '\'=HYPERLINK("http://evil.example","open")' and "'@cmd" in header
    assert first["'@cmd"].startswith("'+") and first["delta"] == "-0.5" and first["signed"] == "-0.25"
    assert not [cell for row in rows for cell in row if cell[:1] in "=+-@" and not cell.lstrip("+-")[:1].isdigit()]
