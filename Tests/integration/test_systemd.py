"""podd as a systemd service, with systemd's own tools and no booted systemd: the test plays
the service manager (a NOTIFY_SOCKET listener, as ../shared/peer/sd/notify-and-socket.sh
does), `systemd-socket-activate` passes the API socket, and `systemd-analyze verify` checks
the units. (journald: test_journal.py; a real booted systemd: test_systemd_container.py.)"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, require_root
from harness import BIN, Podd, pod_manifest, wait_for


class NotifyListener:
    """A NOTIFY_SOCKET: records each datagram as (monotonic time, [KEY=VALUE lines])."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return None
        m = (time.monotonic(), data.decode().split("\n"))
        self.messages.append(m)
        return m

    def wait_for(self, line, timeout=20, on_message=None):
        """Receives until a message holds `line` (or a line starting with it, for "STATUS=")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = self.receive(max(0.01, deadline - time.monotonic()))
            if m is None:
                continue
            if on_message:
                on_message(m)
            if any(l == line or (line.endswith("=") and l.startswith(line)) for l in m[1]):
                return m
        raise AssertionError(f"no {line!r} within {timeout}s; got {self.messages}")

    def lines(self):
        return [l for _, ls in self.messages for l in ls]

    def close(self):
        self.sock.close()


@pytest.fixture
def service(busybox_tar):
    """A podd started as systemd would (NOTIFY_SOCKET, optionally WATCHDOG_USEC), not yet running."""
    require_root()
    made = []

    def make(env=None, **kw):
        root = Path(tempfile.mkdtemp(prefix="podd-sd-", dir="/tmp"))
        listener = NotifyListener(root / "notify.sock")
        d = Podd(root, env={"NOTIFY_SOCKET": listener.path, **(env or {})}, **kw)
        made.append((d, listener, root))
        return d, listener

    yield make
    for d, listener, root in made:
        d.cleanup()
        listener.close()
        shutil.rmtree(root, ignore_errors=True)


def healthz(d):
    return d.request("GET", "/healthz", timeout=2).status


def test_ready_only_once_the_api_answers_then_status(service):
    d, n = service()
    t0 = time.monotonic()
    d.start(wait=False)
    answered_at_ready = []

    def check(m):
        if "READY=1" in m[1]:
            # At the moment READY=1 arrives, the API must already answer.
            answered_at_ready.append(healthz(d))
    ready = n.wait_for("READY=1", on_message=check)
    assert answered_at_ready == [200]
    assert any(l.startswith("STATUS=") for l in ready[1]), ready
    assert not any("READY=1" in ls for _, ls in n.messages[:-1]), "READY sent twice"
    print(f"start -> READY=1: {(ready[0] - t0) * 1000:.0f} ms")


def test_status_follows_pod_counts(service, busybox_tar):
    d, n = service()
    d.start()
    n.wait_for("READY=1")
    d.podctl("image", "import", "busybox", str(busybox_tar))
    d.create(pod_manifest("one", [("a", "sleep 3600")]))
    d.wait_running("one")
    n.wait_for("STATUS=1 pod: 1 running", timeout=10)
    d.request("DELETE", "/api/v1/namespaces/default/pods/one?gracePeriodSeconds=0")
    d.wait_gone("one")
    n.wait_for("STATUS=0 pods", timeout=10)


def test_stopping_on_sigterm(service):
    d, n = service()
    d.start()
    n.wait_for("READY=1")
    d.proc.send_signal(signal.SIGTERM)
    n.wait_for("STOPPING=1", timeout=10)
    assert d.proc.wait(15) == 0


def test_watchdog_pings_at_half_the_timeout(service):
    d, n = service(env={"WATCHDOG_USEC": "1000000"})
    d.start()
    n.wait_for("READY=1")
    t0 = time.monotonic()
    pings = []
    while time.monotonic() - t0 < 3.0:
        m = n.receive(0.1)
        if m and "WATCHDOG=1" in m[1]:
            pings.append(m[0])
    # WATCHDOG_USEC=1 s: a ping every 0.5 s, so 6 in 3 s (timer jitter allowed for).
    assert 5 <= len(pings) <= 7, pings
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert all(0.3 < g < 0.8 for g in gaps), gaps


def test_no_watchdog_pings_without_watchdog_usec(service):
    d, n = service()
    d.start()
    n.wait_for("READY=1")
    time.sleep(1.5)
    while n.receive(0.1):
        pass
    assert "WATCHDOG=1" not in n.lines()


def test_sighup_reloads_between_reloading_and_ready(service):
    d, n = service()
    d.start()
    n.wait_for("READY=1")
    # A bad config is refused (named in the log) and the running one kept.
    d.config_path.write_text(d.config_path.read_text() + "bogusKey: 1\n")
    d.proc.send_signal(signal.SIGHUP)
    reloading = n.wait_for("RELOADING=1", timeout=10)
    assert any(l.startswith("MONOTONIC_USEC=") for l in reloading[1])
    n.wait_for("READY=1", timeout=10)
    wait_for(lambda: "bogusKey: unknown key" in d.log_text(), timeout=5, what="reload error in the log")
    assert healthz(d) == 200
    # A good one is applied: journal forwarding switched off, say.
    d.config_path.write_text("network: none\nrestartBackoff: {initial: 1s, max: 4s, resetAfter: 30s}\njournal: off\n")
    d.proc.send_signal(signal.SIGHUP)
    n.wait_for("RELOADING=1", timeout=10)
    n.wait_for("READY=1", timeout=10)
    wait_for(lambda: "configuration reloaded" in d.log_text(), timeout=5, what="reload in the log")
    assert d.proc.poll() is None


# --- socket activation ---------------------------------------------------------------------

def test_socket_activation_serves_podctl(busybox_tar):
    require_root()
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("needs systemd-socket-activate (apt-get install systemd)")
    root = Path(tempfile.mkdtemp(prefix="podd-act-", dir="/tmp"))
    d = Podd(root, wrapper=["systemd-socket-activate", "-l", str(root / "podd.sock"),
                            "--fdname=podd"])
    try:
        d.start()
        d.podctl("image", "import", "busybox", str(busybox_tar))
        d.podctl("apply", "-f", "-", input=f"""
apiVersion: v1
kind: Pod
metadata: {{name: act}}
spec:
  containers: [{{name: a, image: busybox, command: [sh, -c, "echo activated; sleep 3600"]}}]
""")
        d.wait_running("act")
        out = d.podctl("get", "pods").stdout
        assert "act" in out and "Running" in out
        assert "(socket activation)" in d.log_text()
        # The socket is systemd's: podd did not replace it with one of its own.
        st = os.stat(root / "podd.sock")
        assert st.st_ino == os.stat(root / "podd.sock").st_ino
    finally:
        d.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def test_socket_activation_socket_is_left_in_place_on_exit(busybox_tar):
    require_root()
    if not shutil.which("systemd-socket-activate"):
        pytest.skip("needs systemd-socket-activate (apt-get install systemd)")
    root = Path(tempfile.mkdtemp(prefix="podd-act-", dir="/tmp"))
    d = Podd(root, wrapper=["systemd-socket-activate", "-l", str(root / "podd.sock")])
    try:
        d.start()
        ino = os.stat(root / "podd.sock").st_ino
        d.stop()
        # The socket belongs to the socket unit: it stays for the next activation.
        assert os.stat(root / "podd.sock").st_ino == ino
    finally:
        d.cleanup()
        shutil.rmtree(root, ignore_errors=True)


# --- configuration -------------------------------------------------------------------------

def check_config(text, tmp_path):
    cfg = tmp_path / "podd.yaml"
    cfg.write_text(text)
    return subprocess.run([str(BIN / "podd"), "--config", str(cfg), "--check-config"],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("text,named", [
    ("socketPath: /run/x.sock\n", "socketPath: unknown key"),
    ("logLevel: loud\n", 'logLevel: "loud" is not one of'),
    ("journal: sometimes\n", 'journal: "sometimes" is not one of auto, on, off'),
    ("stateDir: relative/dir\n", "stateDir: must be an absolute path"),
    ("restartBackoff: {initial: soon}\n", 'restartBackoff.initial: "soon" is not a duration'),
    ("restartBackoff: {initial: 10s, maximum: 5m}\n", "restartBackoff.maximum: unknown key"),
    ("restartBackoff: {initial: 1m, max: 10s}\n", "restartBackoff.max must not be less than"),
    ("- a list\n", "expected a mapping"),
])
def test_check_config_names_the_bad_key_or_value(text, named, tmp_path):
    r = check_config(text, tmp_path)
    assert r.returncode != 0
    assert named in r.stderr, r.stderr
    assert str(tmp_path / "podd.yaml") in r.stderr


def test_check_config_accepts_the_example_and_yaml_booleans(tmp_path):
    r = subprocess.run([str(BIN / "podd"), "--config", str(REPO / "config" / "podd.yaml"), "--check-config"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "config OK" in r.stdout, r.stderr
    r = check_config("journal: on\nlogLevel: debug\n", tmp_path)
    assert r.returncode == 0 and "journal on" in r.stdout, r.stderr


def test_check_config_shows_every_key_as_it_will_be_used(tmp_path):
    r = check_config("hostPathAllow: [/srv/data]\nlogs: {containerLogMaxSize: 1Mi, containerLogMaxFiles: 3}\n"
                     "api: {maxConnections: 10}\nimages: {maxUploadBytes: 1000}\ncgroupParent: pods\n", tmp_path)
    assert r.returncode == 0, r.stderr
    for shown in ("hostPathAllow [/srv/data]", "containerLogMaxSize 1048576", "containerLogMaxFiles 3",
                  "maxConnections 10", "maxUploadBytes 1000", "cgroupParent pods", "restartBackoff {initial 10.0s"):
        assert shown in r.stdout, (shown, r.stdout)


def test_bad_config_stops_podd_at_start_naming_it(tmp_path):
    require_root()
    d = Podd(tmp_path / "d", extra_config="manifestDir: /etc/podd/pods.d\n")
    d.start(wait=False)
    assert d.proc.wait(30) != 0
    d.stop()
    assert "manifestDir: unknown key" in d.log_text()
    assert not os.path.exists(d.socket)


# --- units -----------------------------------------------------------------------------------

def test_units_pass_systemd_analyze_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("needs systemd-analyze (apt-get install systemd)")
    # Installed into a scratch root as `make install` does (without building), then verified.
    root = tmp_path / "root"
    r = subprocess.run(["make", "-s", "install-files", f"DESTDIR={root}", f"BIN_DIR={BIN}"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    installed = root / "etc/systemd/system"
    assert (root / "usr/local/libexec/podd/podd-monitor").exists()
    assert (root / "usr/lib/tmpfiles.d/podd.conf").exists() and (root / "usr/lib/sysusers.d/podd.conf").exists()
    # verify checks that ExecStart= exists on this machine: point it at the scratch copy.
    check = tmp_path / "verify"
    check.mkdir()
    service = (installed / "podd.service").read_text()
    assert "ExecStart=/usr/local/bin/podd" in service
    (check / "podd.service").write_text(service.replace("/usr/local/bin/podd", str(root / "usr/local/bin/podd")))
    shutil.copy(installed / "podd.socket", check / "podd.socket")
    r = subprocess.run(["systemd-analyze", "verify", str(check / "podd.service"), str(check / "podd.socket")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    # The service is what the issue asks for.
    for line in ("Type=notify", "NotifyAccess=main", "Restart=on-failure", "Delegate=yes", "KillMode=process"):
        assert line in service.splitlines()
    assert any(l.startswith("WatchdogSec=") for l in service.splitlines())
    socket_unit = (installed / "podd.socket").read_text().splitlines()
    for line in ("ListenStream=/run/podd/podd.sock", "SocketMode=0660", "SocketGroup=podd"):
        assert line in socket_unit


def test_make_uninstall_removes_what_install_put(tmp_path):
    root = tmp_path / "root"
    subprocess.run(["make", "-s", "install-files", f"DESTDIR={root}", f"BIN_DIR={BIN}"], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    r = subprocess.run(["make", "-s", "uninstall", f"DESTDIR={root}"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    # The config (and the empty directories) stay, as a package's conffiles do.
    assert left == ["etc/podd/podd.yaml"], left
