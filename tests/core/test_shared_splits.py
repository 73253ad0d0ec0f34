"""Prepared IDX splits saved once per machine and memory-mapped by every worker (core.shared_splits)."""
import logging
import os
import shutil
import time

import numpy as np
import pytest

from conftest import fake_idx_dataset
from core import data, shared_splits
from service.engine import Engine, Job
from service.pools import ProcessPool
from service.runner import make_trials
from trial_functions import mapped_file, shared_split_state


@pytest.fixture
def splits(data_dir, monkeypatch):
    """Fake Fashion-MNIST files and an empty folder of prepared splits of this test's own."""
    fake_idx_dataset(data_dir / "fashion-mnist", n_train=300, n_test=80)
    folder = data_dir / "splits"
    monkeypatch.setenv("EXPLORER_SPLITS_DIR", str(folder))
    return folder


def entries(folder):
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def fresh(**kwargs):
    """The split as built in memory, with no saved copy involved: the oracle."""
    arguments = dict(dataset="fashion-mnist", classes=(), normalisation="z", val_fraction=0.2, max_train=0, seed=0,
                     dtype="float32", toy_samples=400, toy_noise=0.2)
    return data._prepare(**{**arguments, **kwargs})


def assert_same_split(a, b):
    for name in shared_splits.ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(a, name).dtype == getattr(b, name).dtype
    assert a.class_names == b.class_names


@pytest.mark.slow
def test_two_workers_map_one_saved_copy_of_an_idx_split(splits):
    engine = Engine(ProcessPool(2))  # started after the folders were set: the workers inherit them
    engine.pool.start()
    try:
        trials = make_trials("shared", 0, [{"dataset": "fashion-mnist", "normalisation": "z", "i": i} for i in range(2)])
        run = engine.submit(Job(key="shared", title="shared", fn=shared_split_state, trials=trials))
        assert run.wait(60) and all(r.status == "ok" for r in run.results), [r.message for r in run.results]
        found = [r.payload for r in run.results]
    finally:
        engine.shutdown()
    assert len({f["pid"] for f in found}) == 2, "each trial ran in a worker of its own"
    [entry] = entries(splits)
    assert {f["file"] for f in found} == {str(splits / entry / "X_train.npy")}
    assert len({f["inode"] for f in found}) == 1 and all(f["listed"] for f in found)
    assert found[0]["sum"] == pytest.approx(float(fresh().X_train.sum(dtype="float64")))
    assert not [p for p in splits.iterdir() if p.suffix == ".tmp"]


def test_the_mapped_split_equals_the_one_built_in_memory_and_cannot_be_changed(splits):
    first = data.prepare("fashion-mnist", classes=(3, 5), normalisation="minmax", max_train=100, seed=2)
    data.prepare.cache_clear()
    again = data.prepare("fashion-mnist", classes=(3, 5), normalisation="minmax", max_train=100, seed=2)
    assert mapped_file(again.X_train) == mapped_file(first.X_train) is not None
    assert_same_split(again, fresh(classes=(3, 5), normalisation="minmax", max_train=100, seed=2))
    with pytest.raises(ValueError):
        again.X_train[0, 0] = 1.0


def test_another_normalisation_or_a_changed_data_file_is_another_entry(splits, data_dir):
    data.prepare("fashion-mnist")
    data.prepare("fashion-mnist", normalisation="rescale")
    assert len(entries(splits)) == 2
    data.prepare.cache_clear()
    fake_idx_dataset(data_dir / "fashion-mnist", n_train=300, n_test=80, seed=7)  # new pixels, same sizes
    changed = data.prepare("fashion-mnist")
    assert len(entries(splits)) == 3
    assert_same_split(changed, fresh())


class Planted:
    """An object whose unpickling would write a file: what a hostile saved array could carry."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("damage", ["pickled object", "truncated", "label outside the classes", "names not text"])
def test_a_damaged_entry_is_built_again_and_nothing_in_it_runs(splits, tmp_path, damage, caplog):
    data.prepare("fashion-mnist")
    data.prepare.cache_clear()
    [entry] = [splits / name for name in entries(splits)]
    marker = tmp_path / "executed"
    if damage == "pickled object":
        np.save(entry / "X_train.npy", np.array([Planted(str(marker))], dtype=object), allow_pickle=True)
    elif damage == "truncated":
        raw = (entry / "X_train.npy").read_bytes()
        (entry / "X_train.npy").write_bytes(raw[: len(raw) // 2])
    elif damage == "label outside the classes":
        np.save(entry / "y_val.npy", np.full(len(np.load(entry / "y_val.npy")), 10, dtype=np.int64))
    else:
        (entry / "class_names.json").write_text('{"__class__": "os.system"}')
    with caplog.at_level(logging.WARNING, logger="core.shared_splits"):
        again = data.prepare("fashion-mnist")
    assert not marker.exists()
    assert "building it again" in caplog.text
    assert_same_split(again, fresh())
    assert mapped_file(again.X_train) == str(entry / "X_train.npy")  # the rebuilt entry is what is mapped


def test_a_folder_others_may_write_to_is_not_read(data_dir, monkeypatch, caplog):
    fake_idx_dataset(data_dir / "fashion-mnist", n_train=300, n_test=80)
    shared = data_dir / "open-to-all"
    shared.mkdir()
    os.chmod(shared, 0o777)
    monkeypatch.setenv("EXPLORER_SPLITS_DIR", str(shared))
    with caplog.at_level(logging.WARNING, logger="core.shared_splits"):
        split = data.prepare("fashion-mnist")
    assert "others may write to it" in caplog.text and "EXPLORER_SPLITS_DIR" in caplog.text
    assert mapped_file(split.X_train) is None and list(shared.iterdir()) == []
    assert_same_split(split, fresh())


def test_the_folder_keeps_within_its_bound_removing_the_least_recently_used(splits, monkeypatch):
    data.prepare("fashion-mnist", seed=1)
    [one] = entries(splits)
    size = sum(f.stat().st_size for f in (splits / one).iterdir())
    monkeypatch.setenv("EXPLORER_SPLITS_MB", str(2.5 * size / 2 ** 20))  # room for two entries, not three
    data.prepare("fashion-mnist", seed=2)
    two = (set(entries(splits)) - {one}).pop()
    os.utime(splits / two, (1, 1))  # seed 2 used long ago ...
    data.prepare.cache_clear()
    data.prepare("fashion-mnist", seed=1)  # ... seed 1 just now
    data.prepare("fashion-mnist", seed=3)
    assert one in entries(splits) and two not in entries(splits) and len(entries(splits)) == 2


def test_a_split_that_cannot_be_saved_stays_in_memory(splits, monkeypatch, caplog):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared_splits.np, "save", full_disk)
    with caplog.at_level(logging.WARNING, logger="core.shared_splits"):
        split = data.prepare("fashion-mnist")
    assert "No space left" in caplog.text
    assert mapped_file(split.X_train) is None and entries(splits) == []
    assert not [p for p in splits.iterdir() if p.suffix == ".tmp"]
    assert_same_split(split, fresh())


def test_a_half_written_entry_that_a_killed_worker_left_is_removed_once_it_is_old(splits):
    splits.mkdir()
    abandoned, writing = splits / f"{'a' * 32}.{'0' * 32}.tmp", splits / f"{'b' * 32}.{'1' * 32}.tmp"
    for folder in (abandoned, writing):
        folder.mkdir()
        (folder / shared_splits.MARKER).touch()
        (folder / "X_train.npy").write_bytes(b"\0" * 1000)
    os.utime(abandoned, (0, time.time() - shared_splits.ABANDONED_SECONDS - 60))
    data.prepare("fashion-mnist")
    assert not abandoned.exists() and writing.exists()  # another worker may still be writing that one


def test_a_folder_where_no_lock_can_be_taken_leaves_the_split_in_memory(splits, caplog, monkeypatch):
    """A disk that became read-only or full after the folder was made: the trial still runs."""
    data.prepare("fashion-mnist")
    data.prepare.cache_clear()
    [entry] = [splits / name for name in entries(splits)]
    shutil.rmtree(entry)

    def read_only(*args, **kwargs):  # as on a read-only disk (even for root)
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(shared_splits, "open", read_only, raising=False)
    with caplog.at_level(logging.WARNING, logger="core.shared_splits"):
        split = data.prepare("fashion-mnist")
    assert "cannot be locked" in caplog.text and mapped_file(split.X_train) is None
    assert_same_split(split, fresh())


def tiny_bound(monkeypatch):
    monkeypatch.setenv("EXPLORER_SPLITS_MB", "0.001")  # every other entry would be over the bound


@pytest.mark.parametrize("planted", ["a folder of results", "a file", "a folder named like an entry, unmarked"])
def test_an_existing_folder_holding_anything_else_is_refused_and_left_whole(splits, monkeypatch, caplog, planted):
    """Issue 29: EXPLORER_SPLITS_DIR pointed at a folder in use lost its ``results-2025/``."""
    tiny_bound(monkeypatch)
    name = {"a folder of results": "results-2025", "a file": "notes.txt"}.get(planted, "c" * 32)
    splits.mkdir(mode=0o700)
    target = splits / name
    if planted == "a file":
        target.write_text("mine")
    else:
        target.mkdir()
        (target / "table.csv").write_text("a,b\n1,2\n")
    with caplog.at_level(logging.WARNING, logger="core.shared_splits"):
        split = data.prepare("fashion-mnist")
    assert "did not write" in caplog.text and name in caplog.text
    assert [p.name for p in splits.iterdir()] == [name] and target.exists()
    assert mapped_file(split.X_train) is None
    assert_same_split(split, fresh())


def test_a_symlinked_folder_is_refused_and_what_it_points_at_left_whole(data_dir, tmp_path, monkeypatch, caplog):
    """Issue 29: a splits folder that was a link to a home folder lost ``photos/`` and a thesis."""
    fake_idx_dataset(data_dir / "fashion-mnist", n_train=300, n_test=80)
    home = tmp_path / "home"
    (home / "photos").mkdir(parents=True)
    (home / "thesis").mkdir()
    (home / "thesis" / "chapter1.tex").write_text("\\chapter{One}")
    os.chmod(home, 0o700)
    link = tmp_path / "splits"
    link.symlink_to(home)
    monkeypatch.setenv("EXPLORER_SPLITS_DIR", str(link))
    tiny_bound(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="core.shared_splits"):
        split = data.prepare("fashion-mnist")
    assert "symbolic link" in caplog.text
    assert sorted(p.name for p in home.iterdir()) == ["photos", "thesis"]
    assert (home / "thesis" / "chapter1.tex").read_text() == "\\chapter{One}"
    assert_same_split(split, fresh())


def test_the_bound_removes_only_marked_entries(splits, monkeypatch):
    """An entry loses its marker (a hand-made copy): the folder is no longer used, and nothing goes."""
    data.prepare("fashion-mnist", seed=1)
    [one] = entries(splits)
    (splits / one / shared_splits.MARKER).unlink()
    tiny_bound(monkeypatch)
    data.prepare("fashion-mnist", seed=2)
    assert entries(splits) == [one]
