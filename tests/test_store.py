import pandas as pd

from core.store import ResultStore, code_version


def test_round_trip_and_keys(tmp_path):
    store = ResultStore(tmp_path)
    frame = pd.DataFrame({"a": [1, 2]})
    store.save("lr", {"x": (1, 2)}, {"tidy": frame})
    pd.testing.assert_frame_equal(store.load("lr", {"x": (1, 2)})["tidy"], frame)
    assert store.load("lr", {"x": (1, 3)}) is None
    assert store.load("other", {"x": (1, 2)}) is None
    assert store.key("lr", {"a": 1, "b": 2}) == store.key("lr", {"b": 2, "a": 1})
    assert len(code_version()) == 16


def test_corrupt_entry_is_ignored_and_removed(tmp_path):
    store = ResultStore(tmp_path)
    store.save("lr", {"x": 1}, [1, 2, 3])
    path = next(tmp_path.glob("lr/*.pickle"))
    path.write_bytes(path.read_bytes()[:5])
    assert store.load("lr", {"x": 1}) is None
    assert not path.exists()
    store.save("lr", {"x": 1}, [4])
    assert store.load("lr", {"x": 1}) == [4]


def test_no_temporary_files_left_behind(tmp_path):
    store = ResultStore(tmp_path)
    for i in range(3):
        store.save("lr", {"x": 1}, i)
    assert [p.suffix for p in (tmp_path / "lr").iterdir()] == [".pickle"]


def test_recent_lists_newest_readable_entries_first(tmp_path):
    import os
    store = ResultStore(tmp_path)
    for i in range(4):
        store.save("lr", {"x": i}, f"result {i}")
        os.utime(next(p for p in (tmp_path / "lr").glob("*.pickle") if store.key("lr", {"x": i}) in p.name),
                 (1000 + i, 1000 + i))
    (tmp_path / "lr" / "broken.pickle").write_bytes(b"junk")
    assert [r for _, _, r in store.recent(3)] == ["result 3", "result 2", "result 1"]
