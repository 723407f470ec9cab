"""Container output forwarded to the systemd journal by podd-monitor (docs/monitor-protocol.md,
`journal` and `journal.field` in `spawn`), checked two ways:

- against a stand-in journald: a datagram socket the test binds, whose entries it decodes
  (journald's native protocol), so every field and byte is checked without systemd;
- against the real systemd-journald, started by hand in a private mount namespace (see
  ../shared/peer/sd/journald-by-hand.sh), with podd itself and `journalctl POD_NAME=...`.
"""
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import require_root
from harness import BIN, Podd, pod_manifest, wait_for
from test_monitor import monitor_binary, pod  # noqa: F401  (fixtures)


def decode_native(data):
    """One journald native-protocol datagram -> [(KEY, bytes)]."""
    fields = []
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            key, _, value = line.partition(b"=")
            fields.append((key.decode(), value))
            i = nl + 1
        else:
            (size,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            value = data[nl + 9:nl + 9 + size]
            assert data[nl + 9 + size:nl + 10 + size] == b"\n", "binary field not closed by a newline"
            fields.append((line.decode(), value))
            i = nl + 10 + size
    return fields


class FakeJournal:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.entries = []

    def collect(self, until, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.entries.append(dict(decode_native(self.sock.recv(1 << 20))))
            except socket.timeout:
                pass
            if until(self.entries):
                return self.entries
        raise AssertionError(f"journal entries never matched; got {self.entries}")

    def close(self):
        self.sock.close()


def test_monitor_forwards_each_line_with_fields_and_priority(pod, tmp_path):
    j = FakeJournal(tmp_path / "journal.sock")
    try:
        m = pod()
        fields = [("journal", j.path)] + [("journal.field", f) for f in (
            "POD_NAME=web", "POD_NAMESPACE=prod", "POD_UID=u-1", "CONTAINER_NAME=app",
            "CONTAINER_ID=abc123", "SYSLOG_IDENTIFIER=app")]
        m.start("app", ["sh", "-c", "echo one; echo two >&2; printf 'bin\\001ary=x'; exit 0"], extra=fields)
        m.wait_for("exited", "app")
        entries = j.collect(lambda es: len(es) >= 3)
        by_msg = {e["MESSAGE"]: e for e in entries}
        assert set(by_msg) == {b"one", b"two", b"bin\x01ary=x"}
        assert by_msg[b"one"]["PRIORITY"] == b"6" and by_msg[b"two"]["PRIORITY"] == b"3"
        for e in entries:
            assert e["POD_NAME"] == b"web" and e["POD_NAMESPACE"] == b"prod" and e["POD_UID"] == b"u-1"
            assert e["CONTAINER_NAME"] == b"app" and e["CONTAINER_ID"] == b"abc123"
        # The CRI log has every line as well.
        assert sorted(m.output("app")) == ["bin\x01ary=x", "one", "two"]
    finally:
        j.close()


def test_monitor_without_journal_keeps_lines_in_the_log_only(pod, tmp_path):
    m = pod()
    m.start("app", ["sh", "-c", "echo only-in-log"], extra=[("journal", str(tmp_path / "nobody-listens.sock")),
                                                           ("journal.field", "POD_NAME=x")])
    m.wait_for("exited", "app")
    assert m.output("app") == ["only-in-log"]


def test_monitor_refuses_bad_journal_fields(pod):
    m = pod()
    r = m.spawn("app", ["true"], extra=[("journal", "/run/x.sock"), ("journal.field", "lower=case")])
    assert r.op == "failed" and r["stage"] == "spawn" and "journal.field" in r["message"]
    r = m.spawn("app2", ["true"], extra=[("journal", "relative.sock")])
    assert r.op == "failed" and "journal" in r["message"]


# --- the real journald ---------------------------------------------------------------------

JOURNALD = "/lib/systemd/systemd-journald"

# Runs podd in a private mount namespace whose /run/systemd/journal, /run/log and
# /var/log/journal are fresh tmpfs, with systemd-journald started there first: the host's
# journal (if any) is untouched, and podd's monitors (which copy podd's mount namespace) see
# the same journal socket.
WRAPPER = r"""
set -eu
for d in /run/systemd/journal /run/log /var/log/journal; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
%(journald)s >/dev/null 2>&1 &
echo $! > %(pidfile)s
for i in $(seq 1 200); do [ -S /run/systemd/journal/socket ] && break; sleep 0.01; done
exec "$@"
"""


@pytest.fixture
def podd_with_journald(busybox_tar):
    require_root()
    if not os.path.exists(JOURNALD) or not shutil.which("journalctl"):
        pytest.skip(f"needs {JOURNALD} and journalctl (apt-get install systemd)")
    root = Path(tempfile.mkdtemp(prefix="podd-j-", dir="/tmp"))
    # JOURNAL_STREAM names podd's stderr, as systemd sets it for a service whose output goes
    # to the journal: podd then logs through sd_journal_sendv.
    log = root / "podd.log"
    log.touch()
    st = os.stat(log)
    d = Podd(root, extra_config="journal: on\n", env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"},
             wrapper=["unshare", "-m", "--propagation", "private", "sh", "-c",
                      WRAPPER % {"journald": JOURNALD, "pidfile": root / "journald.pid"}, "podd-in-ns"])
    d.start()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    yield d
    d.cleanup()
    # journald lives in podd's private namespace: end it once podd and the pods are gone.
    try:
        os.kill(int((root / "journald.pid").read_text()), 15)
    except (OSError, ValueError):
        pass
    shutil.rmtree(root, ignore_errors=True)


def journalctl(d, *args):
    # journald's files are in podd's mount namespace: read them from inside it.
    r = subprocess.run(["nsenter", "-t", str(d.proc.pid), "-m", "journalctl", "--no-pager", *args],
                       capture_output=True, text=True, timeout=30)
    return r.stdout


def test_journalctl_pod_name_shows_container_lines(podd_with_journald):
    d = podd_with_journald
    m = pod_manifest("jweb", [("app", "echo hello-journal; echo oops >&2; sleep 3600")])
    created = d.create(m).json()
    d.wait_running("jweb")
    uid = created["metadata"]["uid"]
    out = wait_for(lambda: (t := journalctl(d, "-o", "verbose", "POD_NAME=jweb")) and "oops" in t and t,
                   what="container lines in the journal")
    assert "MESSAGE=hello-journal" in out and "MESSAGE=oops" in out
    assert "POD_NAMESPACE=default" in out and f"POD_UID={uid}" in out and "CONTAINER_NAME=app" in out
    cid = d.pod("jweb")["status"]["containerStatuses"][0]["containerID"].split("://", 1)[1]
    assert f"CONTAINER_ID={cid}" in out
    # stdout at PRIORITY 6, stderr at 3
    assert journalctl(d, "-o", "cat", "POD_NAME=jweb", "PRIORITY=3").split() == ["oops"]
    assert "hello-journal" in journalctl(d, "-o", "cat", "POD_NAME=jweb", "PRIORITY=6")
    # ... and `podctl logs` still reads the CRI file.
    assert "hello-journal" in d.podctl("logs", "jweb").stdout


def test_podd_logs_to_the_journal_with_code_and_pod_fields(podd_with_journald):
    d = podd_with_journald
    out = wait_for(lambda: (t := journalctl(d, "-o", "verbose", "SYSLOG_IDENTIFIER=podd")) and "serving on" in t and t,
                   what="podd's own start-up line in the journal")
    assert "PRIORITY=6" in out and "CODE_FILE=" in out and "CODE_LINE=" in out and "CODE_FUNC=" in out
    # With JOURNAL_STREAM, nothing goes to stderr any more.
    assert "serving on" not in d.log_text()
    d.create(pod_manifest("jlog", [("app", "sleep 3600")]))
    d.wait_running("jlog")
    out = wait_for(lambda: (t := journalctl(d, "-o", "verbose", "SYSLOG_IDENTIFIER=podd", "POD_NAME=jlog")) and "CONTAINER_NAME=app" in t and t,
                   what="podd's lines about the pod, with its fields")
    assert "POD_NAME=jlog" in out
