"""The lock files the README's commands and CI install from: every requirement pinned with its
hashes at a version its lower bound allows, the app's lock and the tests' lock agreeing, and the
tests running with the locked versions (so what passed here is what a class's server installs)."""
import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==(\S+)((?:\s*\\\n\s*--hash=\S+)*)", re.M)


def pins(name: str) -> dict[str, tuple[str, int]]:
    """Package -> (version, number of hashes) of a lock file."""
    return {canonicalize_name(package): (version, hashes.count("--hash="))
            for package, version, hashes in PIN.findall((ROOT / name).read_text())}


def requirements(name: str) -> list[Requirement]:
    found = []
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line.startswith("-r "):
            found += requirements(line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


@pytest.mark.parametrize("source, lock", [("requirements.txt", "requirements.lock"),
                                          ("requirements-dev.txt", "requirements-dev.lock")])
def test_every_requirement_is_pinned_with_hashes_within_its_bounds(source, lock):
    locked = pins(lock)
    assert locked and all(count >= 1 for _, count in locked.values()), "a pin without --hash"
    for requirement in requirements(source):
        version, _ = locked[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(Version(version), prereleases=True), (requirement, version)


def test_the_apps_lock_and_the_tests_lock_pin_the_same_versions():
    app, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: version for name, (version, _) in app.items()} == \
        {name: dev[name][0] for name in app}


def test_the_tests_run_with_the_locked_versions():
    """Fails in an environment installed from the unlocked requirements, whose versions may differ."""
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    differ = {name: (version, installed.get(name)) for name, (version, _) in pins("requirements-dev.lock").items()
              if name not in ("pip", "setuptools") and installed.get(name) != version}
    assert not differ, f"installed versions differ from requirements-dev.lock (locked, installed): {differ}"
