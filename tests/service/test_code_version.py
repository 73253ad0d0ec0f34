"""Issue 30: the stored runs' key and the cluster's version check hash the code that computes results,
not charts or takeaways: a caption change keeps every stored run, a change to a trial or to a study's
assembling moves the key. Checked on a copy of this checkout, edited as a developer would."""
import shutil
from pathlib import Path

import pytest

from service.code_version import code_version
from ui.local_server import ROOT


@pytest.fixture()
def checkout(tmp_path) -> Path:
    copy = tmp_path / "checkout"
    for folder in ("core", "studies"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def edited(root: Path, relative: str, old: str, new: str) -> str:
    path = root / relative
    text = path.read_text()
    assert old in text, (relative, old)
    path.write_text(text.replace(old, new, 1))
    code_version.cache_clear()
    return code_version(root)


def test_the_copy_has_this_checkouts_version(checkout):
    code_version.cache_clear()
    assert code_version(checkout) == code_version(ROOT)


@pytest.mark.parametrize("relative, old, new", [
    ("studies/common/charts.py", 'HEIGHT = ', 'HEIGHT = 1 + '),                         # every chart taller
    ("studies/learning_rate.py", "Look for: the U shape", "Look for: a U"),           # a caption
    ("studies/learning_rate.py", 'title="Training cost per epoch', 'title="Cost'),    # a chart title
    ("studies/common/takeaways.py", "def ", "# a comment\ndef "),                       # a takeaway module
    ("studies/init.py", "ACTIVATION_DASH = [[1, 0]", "ACTIVATION_DASH = [[2, 0]"),    # a chart's constant
    ("core/mlp.py", '"""', '"""A docstring, reworded. '),                             # a docstring
])
def test_a_presentation_edit_keeps_the_version(checkout, relative, old, new):
    before = code_version(checkout)
    assert edited(checkout, relative, old, new) == before


@pytest.mark.parametrize("relative, old, new", [
    ("core/mlp.py", "BN_EPS = 1e-3", "BN_EPS = 1e-5"),                                # the maths
    ("studies/trials/init.py", "def distinct_units(net) -> int:", "def distinct_units(net, x=0) -> int:"),
    ("studies/training_size.py", '"final_{split}_cost"', '"last_{split}_cost"'),      # a study's assemble
    ("studies/clipping.py", 'NONE = "none"', 'NONE = "off"'),                         # a constant assemble uses
    ("studies/common/training.py", "def sweep(", "def sweep(*_, "),                    # the shared sweep
])
def test_a_computing_edit_moves_the_version(checkout, relative, old, new):
    code_version.cache_clear()
    before = code_version(checkout)
    assert edited(checkout, relative, old, new) != before
