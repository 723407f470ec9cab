"""podd under a real systemd: a minimal Debian booted with systemd-nspawn (systemd as PID 1,
as ../shared/peer/systemd-in-container.sh shows works here), podd installed into it with
`make install`, started by podd.socket on the first `podctl` call, then restarted, stopped
and started by systemctl while a pod's container keeps running (same process, same start
time).

Slow the first time (debootstrap of the root, about a minute, cached under
/var/cache/podd-test, never in the repo) and it builds the release binaries `make install`
installs: so it runs only with PODD_SYSTEMD_CONTAINER=1, which .ci/run sets.
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, require_root
from harness import wait_for

CACHE = Path(os.environ.get("PODD_TEST_CACHE", "/var/cache/podd-test"))
ROOT = CACHE / "bookworm"
MACHINE = "podd-sd-test"
MARKER = "sleep 36017"   # the test pod's command line, unique on this machine


def gate():
    if os.environ.get("PODD_SYSTEMD_CONTAINER") != "1":
        pytest.skip("boots systemd in a container (debootstrap once, ~1 min, then ~30 s): set PODD_SYSTEMD_CONTAINER=1 (CI does)")
    require_root()
    for tool, package in (("debootstrap", "debootstrap"), ("systemd-nspawn", "systemd-container")):
        if not shutil.which(tool):
            pytest.skip(f"needs {tool}: apt-get install -y {package}")


def apt_mirror():
    """The Debian mirror apt already uses here (read from apt's sources, never written)."""
    texts = [p.read_text() for p in Path("/etc/apt/sources.list.d").glob("*.sources")]
    for text in texts:
        for line in text.splitlines():
            if line.startswith("URIs:") and "security" not in line:
                return line.split()[1]
    for line in Path("/etc/apt/sources.list").read_text().splitlines() if Path("/etc/apt/sources.list").exists() else []:
        m = re.match(r"deb\s+(\[[^]]*\]\s+)?(\S+)", line)
        if m and "security" not in m.group(2):
            return m.group(2)
    return "http://deb.debian.org/debian"


def ensure_root():
    """A Debian root with systemd, made once and kept in the cache."""
    if (ROOT / "lib/systemd/systemd").exists():
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / "bookworm.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    r = subprocess.run(["debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus,libsystemd0",
                        "bookworm", str(tmp), apt_mirror()], capture_output=True, text=True, timeout=1200)
    if r.returncode != 0:
        pytest.skip(f"debootstrap failed (no mirror reachable?): {r.stderr.strip()[-300:]}")
    tmp.rename(ROOT)


class Machine:
    def __init__(self, work):
        self.work = work
        self.root = work / "merged"
        self.nspawn = None
        self.leader = None

    def run(self, *cmd, check=True, timeout=60):
        r = subprocess.run(["nsenter", "-t", str(self.leader), "-a", *cmd], capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def podctl(self, *args, **kw):
        return self.run("/usr/local/bin/podctl", *args, **kw)

    def show(self, unit, prop):
        return self.run("systemctl", "show", "-P", prop, unit).stdout.strip()


def cgroup_dirs():
    return [Path("/sys/fs/cgroup") / h / MACHINE for h in ("systemd", "unified")]


@pytest.fixture(scope="module")
def machine(tmp_path_factory, busybox_tar):
    gate()
    ensure_root()
    work = Path(tempfile.mkdtemp(prefix="podd-nspawn-", dir="/var/tmp"))
    m = Machine(work)
    for d in ("upper", "work", "merged", "varlib"):
        (work / d).mkdir()
    # The cached root stays clean: the machine writes to an overlay upper layer. podd's
    # state (whose overlay layers cannot live on an overlay) is a host directory.
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={ROOT},upperdir={work / 'upper'},workdir={work / 'work'}", str(m.root)], check=True)
    try:
        r = subprocess.run(["make", "-s", "install", f"DESTDIR={m.root}"], cwd=REPO, capture_output=True, text=True,
                           timeout=3600)
        assert r.returncode == 0, f"make install failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
        # The machine is a minimal debootstrap without the CNI plugins: its pods are
        # loopback-only (test_network.py covers the pod network).
        conf = m.root / "etc/podd/podd.yaml"
        kept, skipping = [], False
        for line in conf.read_text().splitlines():
            if line.startswith("network:"):
                skipping = True
                continue
            if skipping and line.startswith((" ", "\t")):
                continue
            skipping = False
            kept.append(line)
        conf.write_text("\n".join(kept) + "\nnetwork: none\n")
        shutil.copy(busybox_tar, m.root / "root/busybox.tar")
        (m.root / "root/web.yaml").write_text(f"""apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: busybox
    command: [sh, -c, "echo hello-from-web; exec {MARKER}"]
""")
        (m.root / "etc/hostname").write_text("poddbox\n")
        # Without a host systemd, nspawn --keep-unit splits its own cgroup: give it one.
        for d in cgroup_dirs():
            d.mkdir(exist_ok=True)
        log = open(work / "boot.log", "wb")
        m.nspawn = subprocess.Popen(
            ["sh", "-c", "for d in \"$@\"; do echo $$ > $d/cgroup.procs; done; exec systemd-nspawn -D " + str(m.root)
             + " --boot --register=no --keep-unit -M " + MACHINE + " --private-network --console=pipe"
             + f" --bind={work / 'varlib'}:/var/lib/podd", "sh", *map(str, cgroup_dirs())],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def leader():
            out = subprocess.run(["pgrep", "-P", str(m.nspawn.pid), "-x", "systemd"], capture_output=True, text=True).stdout.split()
            return int(out[0]) if out else None
        m.leader = wait_for(leader, timeout=30, what="systemd in the container")
        wait_for(lambda: m.run("systemctl", "is-system-running", check=False).stdout.strip() in ("running", "degraded"),
                 timeout=60, what="the container's boot")
        # What a package's scripts do after installing (make install does it itself on a
        # machine running systemd without DESTDIR).
        m.run("systemd-sysusers")
        m.run("systemd-tmpfiles", "--create")
        m.run("systemctl", "daemon-reload")
        yield m
    finally:
        if m.leader:
            m.run("/usr/local/bin/podctl", "delete", "pod", "web", "--grace-period", "0", "--wait", check=False)
            m.run("systemctl", "poweroff", check=False)
        if m.nspawn:
            try:
                m.nspawn.wait(30)
            except subprocess.TimeoutExpired:
                m.nspawn.kill()
                m.nspawn.wait()
        subprocess.run(["umount", "-l", str(m.root)], check=False)
        for _ in range(50):
            left = [d for d in cgroup_dirs() if d.exists()]
            for d in left:
                subprocess.run(["find", str(d), "-depth", "-type", "d", "-exec", "rmdir", "{}", "+"], capture_output=True)
            if not any(d.exists() for d in cgroup_dirs()):
                break
            time.sleep(0.1)
        shutil.rmtree(work, ignore_errors=True)


def container_process():
    """(host pid, start time) of the test pod's container, seen from the host."""
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if (p / "cmdline").read_bytes().replace(b"\0", b" ").strip() == MARKER.encode():
                stat = (p / "stat").read_text()
                return int(p.name), int(stat.rsplit(")", 1)[1].split()[19])
        except OSError:
            continue
    return None


def pod_status(m):
    import json
    return json.loads(m.podctl("get", "pod", "web", "-o", "json").stdout)["status"]


def test_socket_activation_starts_podd_on_first_call(machine):
    m = machine
    m.run("systemctl", "start", "podd.socket")
    assert m.show("podd.socket", "ActiveState") == "active"
    assert m.show("podd.service", "ActiveState") == "inactive"
    st = m.run("stat", "-c", "%a %G", "/run/podd/podd.sock").stdout.split()
    assert st == ["660", "podd"], st
    out = m.podctl("version").stdout
    assert "v0.1.0-podd" in out or "Server" in out, out
    wait_for(lambda: m.show("podd.service", "ActiveState") == "active", timeout=30, what="podd.service active")
    assert m.show("podd.service", "StatusText").startswith("0 pods")
    m.run("systemd-analyze", "verify", "podd.service", "podd.socket")


def test_pod_runs_and_logs_to_the_journal(machine):
    m = machine
    m.podctl("image", "import", "busybox", "/root/busybox.tar")
    m.podctl("apply", "-f", "/root/web.yaml")
    wait_for(lambda: pod_status(m).get("phase") == "Running", timeout=60, what="the pod running")
    assert wait_for(container_process, timeout=10, what="the container's process")
    out = wait_for(lambda: (t := m.run("journalctl", "--no-pager", "-o", "verbose", "POD_NAME=web", check=False).stdout)
                   and "hello-from-web" in t and t, timeout=30, what="the container's line in the journal")
    assert "CONTAINER_NAME=app" in out and "POD_NAMESPACE=default" in out
    wait_for(lambda: "1 running" in m.show("podd.service", "StatusText"), timeout=10, what="STATUS= with the pod")
    # podd's own lines are structured journal entries too.
    own = m.run("journalctl", "--no-pager", "-o", "verbose", "SYSLOG_IDENTIFIER=podd", "-u", "podd.service").stdout
    assert "CODE_FILE=" in own


def test_systemctl_restart_keeps_the_container(machine):
    m = machine
    before = wait_for(container_process, timeout=10, what="the container's process")
    main_pid = m.show("podd.service", "MainPID")
    m.run("systemctl", "restart", "podd.service")
    assert m.show("podd.service", "ActiveState") == "active"
    assert m.show("podd.service", "MainPID") != main_pid
    wait_for(lambda: pod_status(m).get("phase") == "Running", timeout=30, what="the pod after the restart")
    assert container_process() == before                # same process, same start time
    assert pod_status(m)["containerStatuses"][0]["restartCount"] == 0


def test_systemctl_stop_then_start_brings_it_back(machine):
    m = machine
    before = container_process()
    m.run("systemctl", "stop", "podd.service")
    assert m.show("podd.service", "ActiveState") in ("inactive", "failed") and m.show("podd.service", "Result") == "success"
    assert container_process() == before                # the pod outlives podd
    m.run("systemctl", "start", "podd.service")
    wait_for(lambda: pod_status(m).get("phase") == "Running", timeout=30, what="the pod after the start")
    assert container_process() == before
    s = pod_status(m)["containerStatuses"][0]
    assert s["restartCount"] == 0 and "running" in s["state"]
    assert "hello-from-web" in m.podctl("logs", "web").stdout


def test_reload_goes_through_reloading_and_back_to_active(machine):
    m = machine
    m.run("systemctl", "reload", "podd.service")
    assert m.show("podd.service", "ActiveState") == "active"
    assert container_process() is not None
