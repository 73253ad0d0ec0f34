"""Reading IDX files, their error messages, tasks, splits and normalisation."""
import numpy as np
import pytest

from conftest import fake_idx_dataset, write_idx
from core import data
from core.data import DataError, check_task, dataset_shape, load_dataset, normaliser, parse_idx, prepare


@pytest.mark.parametrize("compress", [True, False])
def test_idx_files_are_read_gzip_or_raw(data_dir, compress):
    arrays = fake_idx_dataset(data_dir / "fashion-mnist", compress=compress)
    ds = load_dataset("fashion-mnist")
    np.testing.assert_array_equal(ds.X, arrays["train"][0].reshape(200, 36))
    np.testing.assert_array_equal(ds.y, arrays["train"][1])
    np.testing.assert_array_equal(ds.X_test, arrays["t10k"][0].reshape(60, 36))
    assert ds.class_names[1] == "Trouser"


def test_missing_folder_names_folder_and_files(data_dir):
    with pytest.raises(DataError) as err:
        load_dataset("mnist")
    message = str(err.value)
    assert str(data_dir / "mnist") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "EXPLORER_DATA_DIR" in message


def test_bad_magic_number(tmp_path):
    raw = write_idx(tmp_path / "x", np.zeros((2, 3, 3)), compress=False, magic=0x0801)
    with pytest.raises(DataError, match="bad magic number 00000801; expected 00000803"):
        parse_idx(raw, 3, "x")


def test_truncated_file(tmp_path):
    raw = write_idx(tmp_path / "x", np.zeros((4, 3, 3)), compress=False)
    with pytest.raises(DataError, match="truncated"):
        parse_idx(raw[:-5], 3, "x")
    with pytest.raises(DataError, match="truncated header"):
        parse_idx(raw[:9], 3, "x")


@pytest.mark.parametrize("shape", [(0, 28, 28), (5, 0, 0), (5, 28, 0)])
def test_empty_or_pixel_free_images_are_a_data_error_saying_what_to_do(data_dir, shape):
    """They raised a bare ValueError from reshape (issue 18)."""
    folder = data_dir / "fashion-mnist"
    fake_idx_dataset(folder)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros(shape))
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(shape[0]))
    with pytest.raises(DataError, match=r"no images or images without pixels; the file is empty or corrupt, copy"):
        load_dataset("fashion-mnist")


def test_mismatched_image_and_label_counts(data_dir):
    folder = data_dir / "fashion-mnist"
    fake_idx_dataset(folder)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(150))
    with pytest.raises(DataError, match="200 images but train-labels-idx1-ubyte holds 150 labels"):
        load_dataset("fashion-mnist")


def test_corrupt_gzip(data_dir):
    folder = data_dir / "fashion-mnist"
    fake_idx_dataset(folder)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="not a readable gzip file"):
        load_dataset("fashion-mnist")


def test_unknown_dataset():
    with pytest.raises(DataError, match="choose one of digits"):
        load_dataset("cifar")


@pytest.mark.parametrize("method,expected", [
    ("none", [[0, 10], [20, 40]]),
    ("rescale", [[0, 0.5], [1, 2]]),
    ("minmax", [[-1, 0], [1, 3]]),
])
def test_min_max_statistics_come_from_training_data_only(method, expected):
    norm = normaliser(np.array([[0.0, 10.0], [20.0, 5.0]]), method)
    np.testing.assert_allclose(norm(np.array([[0.0, 10.0], [20.0, 40.0]])), expected)


def test_z_normalisation_uses_one_mean_and_std_over_all_pixels():
    train = np.array([[1.0, 3.0], [5.0, 7.0]])
    norm = normaliser(train, "z")
    mean, std = 4.0, np.sqrt(5.0)
    np.testing.assert_allclose(norm(np.array([[4.0, 9.0]])), [[0.0, 5.0 / std]])
    assert norm(train).mean() == pytest.approx(0) and norm(train).std() == pytest.approx(1)
    assert mean == train.mean()


def test_digits_split_is_stratified_and_seeded():
    s = prepare("digits", val_fraction=0.2, seed=3)
    assert len(s.X_train) + len(s.X_val) + len(s.X_test) == 1797
    assert len(s.X_test) == pytest.approx(0.25 * 1797, abs=1)
    for y in (s.y_train, s.y_val, s.y_test):
        shares = np.bincount(y, minlength=10) / len(y)
        assert np.all(np.abs(shares - 0.1) < 0.02)
    again = prepare.__wrapped__("digits", val_fraction=0.2, seed=3)
    np.testing.assert_array_equal(again.X_train, s.X_train)
    other = prepare.__wrapped__("digits", val_fraction=0.2, seed=4)
    assert not np.array_equal(other.y_train, s.y_train)


def test_pair_task_relabels_in_the_order_given():
    s = prepare("digits", classes=(7, 1), normalisation="none")
    assert s.class_names == ["7", "1"]
    raw = load_dataset("digits")
    sevens = {row.tobytes() for row in raw.X[raw.y == 7].astype("float32")}
    assert all(x.tobytes() in sevens for x in s.X_train[s.y_train == 0])
    assert set(np.unique(s.y_test)) == {0, 1}


def test_cap_and_normalisation_fitted_on_training_split():
    s = prepare("digits", normalisation="rescale", max_train=300)
    assert len(s.X_train) == 300
    assert s.X_train.min() == 0 and s.X_train.max() == 1
    assert s.X_train.dtype == np.float32 and not s.X_train.flags.writeable


def test_idx_data_set_keeps_its_official_test_split(data_dir):
    fake_idx_dataset(data_dir / "fashion-mnist")
    s = prepare("fashion-mnist", classes=(0, 1), normalisation="none")
    assert len(s.X_test) == 12  # 6 T-shirts and 6 trousers among the 60 t10k images
    assert len(s.X_train) + len(s.X_val) == 40


def test_bad_classes_are_rejected():
    with pytest.raises(ValueError, match="between 0 and 9"):
        prepare("digits", classes=(3, 12))


def test_labels_outside_the_classes_are_reported(data_dir):
    folder = data_dir / "fashion-mnist"
    fake_idx_dataset(folder)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.full(200, 12))
    with pytest.raises(DataError, match="label 12 is outside the classes 0-9"):
        load_dataset("fashion-mnist")


def test_a_header_announcing_an_absurd_size_is_reported_before_reading(data_dir):
    import gzip
    import struct
    folder = data_dir / "fashion-mnist"
    fake_idx_dataset(folder)
    header = struct.pack(">IIII", 0x0803, 2**31, 28, 28)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header))
    with pytest.raises(DataError, match="header is corrupt"):
        check_task("fashion-mnist")


def test_permission_error_becomes_a_data_error(data_dir, monkeypatch):
    """As root the file mode cannot deny reading, so the refusal is made where the file is opened."""
    folder = data_dir / "fashion-mnist"
    fake_idx_dataset(folder)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(data.gzip, "open", refuse)
    with pytest.raises(DataError, match="permission denied.*chmod a\\+r"):
        load_dataset("fashion-mnist")


def test_check_task_reads_headers_only_and_loads_nothing(data_dir):
    fake_idx_dataset(data_dir / "fashion-mnist")
    check_task("fashion-mnist", (0, 1))
    assert dataset_shape("fashion-mnist") == (200, 60, 36)
    assert load_dataset.cache_info().currsize == 0
    with pytest.raises(ValueError, match="distinct"):
        check_task("fashion-mnist", (1, 1))


def test_prepared_splits_are_cached_within_a_byte_limit(monkeypatch):
    monkeypatch.setenv("EXPLORER_CACHE_MB", "1")      # one digits split is about 0.45 MB
    prepare.cache_clear()
    for seed in range(6):
        prepare("digits", seed=seed)
    assert prepare.nbytes() <= 2**20
    assert len(prepare.entries) == 2
    assert prepare("digits", seed=5) is prepare("digits", seed=5)   # the newest stays cached
    prepare.cache_clear()
