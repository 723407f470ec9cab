"""The stress cases of `make stress` (scripts/stress/, issue 9) at STRESS_SCALE=small: load,
churn, chaos, disk full, fuzz and limits, each against a podd of its own on a temporary
state dir and socket (so they run side by side under pytest-xdist). Each asserts its goals:
0 pods lost or doubled, 0 leaked processes, mounts, cgroups, fds or files, 0 crashes, 0 5xx
for bad input, clear refusals. `make stress` runs the same cases at full scale."""
import os
import sys

import pytest

from harness import REPO

sys.path.insert(0, str(REPO / "scripts" / "stress"))
import chaos  # noqa: E402
import churn  # noqa: E402
import disk_full  # noqa: E402
import load  # noqa: E402
import limits  # noqa: E402
from outcome import Scale  # noqa: E402

SMALL = Scale(os.environ.get("STRESS_SCALE", "small"))


@pytest.fixture
def tar(busybox_tar):
    """The busybox image tarball; each case starts its own podd with it."""
    from conftest import _require_binaries, require_root
    require_root()
    _require_binaries()
    return busybox_tar


def check(outcome):
    print(outcome.summary())
    assert outcome.passed, outcome.summary()


def test_load(tar):
    check(load.run(SMALL, tar))


def test_churn(tar):
    check(churn.run(SMALL, tar))


# Random kills at random moments (kill -9 of podd, a monitor, a container): every pod must
# reach its desired state. `make stress` runs 80 rounds; STRESS_SEED=N reproduces one.
def test_chaos(tar):
    check(chaos.run(SMALL, tar))


def test_disk_full(tar):
    check(disk_full.run(SMALL, tar))


def test_fuzz(tar):
    pytest.importorskip("hypothesis")
    pytest.importorskip("hypothesis_jsonschema")
    import fuzz
    check(fuzz.run(SMALL, tar))


# Holds 1,200 connections and watches and asks /healthz to answer meanwhile: on 2 cores that
# is a test of podd only when no other test shares the machine (`make integration-test` runs
# the `alone` tests after the parallel ones, one at a time).
@pytest.mark.alone
def test_limits(tar):
    check(limits.run(SMALL, tar))
