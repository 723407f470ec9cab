"""Shared fixtures for podd's integration tests (real processes, real namespaces, root)."""
import os
import shutil
import subprocess
from pathlib import Path

import sys

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def require_root():
    """Integration tests create namespaces and mounts: without root they cannot run."""
    if os.geteuid() != 0:
        pytest.skip("needs root (namespaces, mounts, cgroups): run the tests as root")


@pytest.fixture(scope="session")
def busybox_rootfs(tmp_path_factory):
    """A busybox image directory built by scripts/make-busybox-rootfs.sh, once per session."""
    require_root()
    busybox = "/usr/bin/busybox"
    if not os.path.exists(busybox) or "statically linked" not in subprocess.run(
        ["file", "-L", busybox], capture_output=True, text=True
    ).stdout:
        pytest.skip("needs busybox-static at /usr/bin/busybox: apt-get install -y busybox-static")
    out = tmp_path_factory.mktemp("image") / "busybox"
    subprocess.run(
        [str(REPO / "scripts" / "make-busybox-rootfs.sh"), str(out)],
        check=True, capture_output=True,
    )
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.fixture(scope="session")
def busybox_tar(busybox_rootfs, tmp_path_factory):
    """The busybox image as a tarball, what `podctl image import` takes."""
    tar = tmp_path_factory.mktemp("image-tar") / "busybox.tar"
    subprocess.run(["tar", "-C", str(busybox_rootfs), "--numeric-owner", "-cf", str(tar), "."], check=True)
    return tar


def _require_binaries():
    from harness import BIN
    for name in ("podd", "podctl", "podd-monitor"):
        if not (BIN / name).exists():
            pytest.skip(f"needs {BIN / name}: build with `make build` first")


@pytest.fixture
def daemon():
    """A running podd of its own (no image imported). Its root is short: Unix socket paths
    (the API's, the monitors') must fit in 108 bytes."""
    require_root()
    _require_binaries()
    import tempfile
    from harness import Podd
    root = tempfile.mkdtemp(prefix="podd-", dir="/tmp")
    d = Podd(root).start()
    yield d
    d.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def podd(daemon, busybox_tar):
    """A running podd with the busybox image imported."""
    daemon.podctl("image", "import", "busybox", str(busybox_tar))
    return daemon


def pytest_configure(config):
    config.addinivalue_line("markers", "alone: needs the machine to itself (run after the parallel tests, one at a time)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the last lines of its podd's log, and says whether podd
    had exited: a CI machine's temp dirs are gone by the time anyone reads the report."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    daemon = item.funcargs.get("daemon") or item.funcargs.get("podd")
    if daemon is None or getattr(daemon, "proc", None) is None:
        return
    code = daemon.proc.poll()
    state = "still running" if code is None else f"exited with {code}"
    lines = daemon.log_text().splitlines()[-80:]
    report.sections.append((f"podd ({state}): last {len(lines)} lines of its log", "\n".join(lines)))
