"""Container logs are rotated as kubelet rotates them (issue 9, item 6, the writing side):
config `logs: {containerLogMaxSize, containerLogMaxFiles}`, applied by the monitor."""
import re
import shutil
import tempfile

import pytest

from harness import Podd, pod_manifest, wait_for

MAX = 1 << 20
LINE = 101  # "x" * 100 + newline, before the CRI prefix


@pytest.fixture
def rotating(busybox_tar):
    # A short root: the monitors' socket paths must fit in 108 bytes.
    root = tempfile.mkdtemp(prefix="podd-", dir="/tmp")
    d = Podd(root, extra_config="logs: {containerLogMaxSize: 1Mi, containerLogMaxFiles: 3}\n").start()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    yield d
    d.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def test_a_noisy_container_keeps_at_most_max_files_of_max_size(rotating):
    d = rotating
    script = "yes $(head -c 100 /dev/zero | tr '\\0' x) | head -n 300000; echo LAST-LINE; exec sleep 100000"
    r = d.create(pod_manifest("noisy", [("app", script)], terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    d.wait_running("noisy")
    wait_for(lambda: d.podctl("logs", "noisy", "--tail", "1").stdout == "LAST-LINE\n", timeout=120,
             what="the last line in the log")
    uid = d.pod("noisy")["metadata"]["uid"]
    directory = d.state_dir / "logs" / f"default_noisy_{uid}" / "app"
    files = sorted(p.name for p in directory.iterdir())
    assert len(files) <= 3, files
    current = [f for f in files if re.fullmatch(r"\d+\.log", f)]
    rotated = [f for f in files if f not in current]
    assert len(current) == 1 and len(rotated) == 2, files
    for f in rotated:
        assert re.fullmatch(re.escape(current[0]) + r"\.\d{8}-\d{6}\.\d{6}", f), f
    longest_line = max(len(line) for f in files for line in (directory / f).read_bytes().splitlines(True))
    for f in files:
        assert (directory / f).stat().st_size <= MAX + longest_line, (f, (directory / f).stat().st_size)
    # The rotated files are full (rotation happens at the limit, not earlier), and together
    # with the current one hold the most recent output, in order.
    for f in rotated:
        assert (directory / f).stat().st_size > MAX - longest_line, f
    assert (directory / current[0]).read_text().splitlines()[-1].endswith(" stdout F LAST-LINE")


def test_bad_rotation_settings_stop_podd_with_a_message(tmp_path):
    for bad, words in [("{containerLogMaxSize: lots}", "containerLogMaxSize"),
                       ("{containerLogMaxFiles: 1}", "containerLogMaxFiles"),
                       ("{containerLogMaxSize: 10}", "less than 1Ki"),
                       ("{maxSize: 10Mi}", "logs.maxSize: unknown key")]:
        d = Podd(tmp_path / bad.replace(" ", "").replace(":", "")[:20], extra_config=f"logs: {bad}\n")
        d.start(wait=False)
        assert d.proc.wait(30) != 0
        d.stop()
        assert words in d.log_text(), (bad, d.log_text())
