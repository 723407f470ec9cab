"""Shared fixtures for podd's integration tests (real processes, real namespaces, root)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


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
