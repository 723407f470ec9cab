"""Integration tests of podd-monitor (Sources/podd-monitor), driven through its protocol.

Each test starts a real monitor (real namespaces, overlayfs, cgroups) on a socketpair, as
podd does, and talks docs/monitor-protocol.md to it. Run as root:

    python3 -m pytest -q Tests/integration/test_monitor.py

PODD_MONITOR=/path/to/podd-monitor tests a prebuilt binary instead of building one.
"""
import ctypes
import errno
import os
import random
import re
import shutil
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest

from conftest import REPO, require_root

CRI_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$")
TIMEOUT = 10.0

# The test process becomes a subreaper: the monitor daemonizes (its stub exits), and its
# orphaned child is then reparented to us, so we can reap it and check its exit status.
PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


# --- protocol --------------------------------------------------------------------------

def encode(op, fields=()):
    """op + [(key, value), ...] -> one datagram of NUL-terminated key=value fields."""
    out = b"op=" + op.encode() + b"\0"
    for key, value in fields:
        out += f"{key}={value}".encode() + b"\0"
    return out


class Msg:
    def __init__(self, data):
        self.fields = []
        for part in data.split(b"\0"):
            if part:
                key, _, value = part.decode().partition("=")
                self.fields.append((key, value))
        self.op = self.fields[0][1] if self.fields and self.fields[0][0] == "op" else None
        self.d = dict(self.fields[1:])

    def __getitem__(self, key):
        return self.d[key]

    def get(self, key, default=None):
        return self.d.get(key, default)

    def __repr__(self):
        return f"Msg({self.fields})"


# --- fixtures --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def monitor_binary(tmp_path_factory):
    require_root()
    if os.environ.get("PODD_MONITOR"):
        return Path(os.environ["PODD_MONITOR"])
    out = tmp_path_factory.mktemp("bin") / "podd-monitor"
    sources = sorted(str(p) for p in (REPO / "Sources" / "podd-monitor").glob("*.c"))
    # Exactly the Makefile's command, so a warning here is a build failure there.
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-o", str(out), *sources, "-lseccomp"],
                   check=True)
    return out


def proc_alive(pid):
    """True if PID exists and is not a zombie. A process reaped between the open and the read
    of its stat file makes the read fail with ESRCH: it is gone too."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_gone(pid, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc_alive(pid):
            return True
        time.sleep(0.01)
    return False


class Monitor:
    """One running podd-monitor and podd's end of its control connection."""

    def __init__(self, binary, image, workdir, share_pid=False, cgroup=None, hostname="testpod"):
        self.image = image
        self.workdir = workdir
        # The pod dir's name is the pod's uid to the monitor, which names the pod's v1 devices
        # group after it (when it has no --cgroup): one name shared by the tests' monitors
        # let one's shutdown remove the group another's next container was to join.
        self.pod_dir = workdir / f"pod{os.urandom(3).hex()}"
        self.pod_dir.mkdir(parents=True)
        self.logs = workdir / "logs"
        self.logs.mkdir()
        self.pending = []
        self.closed = False
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        theirs_fd = theirs.fileno()

        def give_fd3():
            # The protocol's fd 3; dup2 makes it inheritable (Python fds are not).
            if theirs_fd == 3:
                os.set_inheritable(3, True)
            else:
                os.dup2(theirs_fd, 3)

        args = [str(binary), "--pod-dir", str(self.pod_dir), "--hostname", hostname]
        if share_pid:
            args.append("--share-pid")
        if cgroup:
            args += ["--cgroup", str(cgroup)]
        self.stderr_path = workdir / "monitor.stderr"
        with open(self.stderr_path, "wb") as err:
            stub = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, preexec_fn=give_fd3, close_fds=False)
        theirs.close()
        self.sock = ours
        self.sock.settimeout(TIMEOUT)
        spawned = self.recv()
        assert stub.wait(timeout=TIMEOUT) == 0, f"stub failed: {spawned}"
        assert spawned.op == "spawned", spawned
        ready = self.recv()
        assert ready.op == "ready", f"{ready} stderr={self.stderr_path.read_text()}"
        self.pid = int(ready["pid"])
        assert self.pid == int(spawned["pid"])

    # messages

    def send(self, op, fields=()):
        self.sock.send(encode(op, fields))

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("monitor closed the connection")
        return Msg(data)

    def recv_some(self, count, timeout=TIMEOUT):
        """Up to COUNT next messages: fewer if the monitor sends no more within TIMEOUT."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                got.append(self.recv())
            except socket.timeout:
                break
        self.sock.settimeout(TIMEOUT)
        return got

    def wait_for(self, op, name=None, timeout=TIMEOUT):
        """The next message OP (for container NAME); others are kept for later waits."""
        def match(m):
            return m.op == op and (name is None or m.get("name") == name)
        for i, m in enumerate(self.pending):
            if match(m):
                return self.pending.pop(i)
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    m = self.recv()
                except socket.timeout:
                    raise AssertionError(f"no op={op} name={name} within {timeout}s; got {self.pending}")
                if match(m):
                    return m
                self.pending.append(m)
        finally:
            # What was left of this wait's deadline (0.02 s after a poll of
            # wait_started_or_failed) must not become the next plain recv's timeout: a
            # release's reply, or a status, then "timed out" whenever the loaded machine
            # took the monitor 20 ms to answer (the cascade test's failure in CI).
            self.sock.settimeout(TIMEOUT)

    # containers

    def spawn(self, name, args, env=("PATH=/bin:/sbin:/usr/bin",), mounts=(), extra=(),
              lower=None, cwd=None, wait=True):
        cdir = self.workdir / "containers" / name
        for sub in ("upper", "work", "merged"):
            (cdir / sub).mkdir(parents=True, exist_ok=True)
        fields = [("name", name), ("rootfs.lower", lower or self.image),
                  ("rootfs.upper", cdir / "upper"), ("rootfs.work", cdir / "work"),
                  ("rootfs.merged", cdir / "merged")]
        for mount in mounts:
            fields += list(mount)
        fields += [("env", e) for e in env]
        fields += [("arg", a) for a in args]
        if cwd:
            fields.append(("cwd", cwd))
        fields.append(("log", self.log_path(name)))
        fields += list(extra)
        self.send("spawn", fields)
        if not wait:
            return None
        return self.wait_started_or_failed(name)

    def wait_started_or_failed(self, name, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for op in ("started", "failed"):
                try:
                    return self.wait_for(op, name, timeout=0.02)
                except AssertionError:
                    pass
        raise AssertionError(f"no started/failed for {name}: pending {self.pending}")

    def start(self, name, args, **kw):
        m = self.spawn(name, args, **kw)
        assert m.op == "started", m
        return m

    def run(self, name, args, **kw):
        """Start NAME, wait for it to exit; returns (exited message, stdout+stderr text)."""
        self.start(name, args, **kw)
        exited = self.wait_for("exited", name)
        return exited, "\n".join(text for _, _, _, text in self.log_lines(name))

    def log_path(self, name):
        return self.logs / f"{name}.log"

    def log_lines(self, name):
        lines = []
        path = self.log_path(name)
        if not path.exists():
            return lines
        for line in path.read_text().splitlines():
            m = CRI_LINE.match(line)
            assert m, f"not a CRI log line: {line!r}"
            lines.append(m.groups())
        return lines

    def output(self, name, stream=None):
        return [text for _, s, _, text in self.log_lines(name) if stream in (None, s)]

    def wait_log(self, name, needle, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(needle in line for line in self.output(name)):
                return
            time.sleep(0.02)
        raise AssertionError(f"{needle!r} not in log of {name}: {self.output(name)}")

    def status(self, sock=None):
        sock = sock or self.sock
        sock.send(encode("status"))
        states = {}
        while True:
            m = Msg(sock.recv(65536))
            if m.op == "status-end":
                return states
            if m.op == "state":
                states[m["name"]] = m
            else:
                self.pending.append(m)

    def shutdown(self):
        """op=shutdown; returns the messages up to and including bye.

        The monitor itself waits up to 10 s for processes in uninterruptible sleep, so
        this waits longer than that (CI's loaded 2 cores once needed it), and on a time-out
        names the processes still left in the monitor's PID namespace."""
        self.send("shutdown")
        msgs = []
        self.sock.settimeout(3 * TIMEOUT)
        try:
            while True:
                try:
                    m = self.recv()
                except TimeoutError:
                    raise AssertionError(f"no bye after {3 * TIMEOUT:.0f} s; got {[x.op for x in msgs]}; "
                                         f"left in the pod: {self.leftovers()}") from None
                msgs.append(m)
                if m.op == "bye":
                    break
        finally:
            self.sock.settimeout(TIMEOUT)
        self.reap()
        return msgs

    def leftovers(self):
        """(pid, state, command) of every process the monitor still has: in its PID
        namespace (the host's namespace when the pod has none: then its children)."""
        try:
            ns = os.readlink(f"/proc/{self.pid}/ns/pid")
        except OSError:
            return "monitor gone"
        own_ns = ns != os.readlink("/proc/self/ns/pid")
        found = []
        for p in filter(str.isdigit, os.listdir("/proc")):
            try:
                fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                if int(p) == self.pid:
                    continue
                if own_ns and os.readlink(f"/proc/{p}/ns/pid") != ns:
                    continue
                if not own_ns and int(fields[1]) != self.pid:
                    continue
                state = fields[0]
                cmd = open(f"/proc/{p}/cmdline").read().replace("\0", " ").strip()
                found.append((int(p), state, cmd))
            except OSError:
                continue
        return found

    def wait_held(self, count=1):
        """Waits until `count` of the monitor's processes wait at their gate (a held spawn
        whose set-up is done: blocked reading the pipe its release writes to) and returns
        their pids. The monitor answers a status once a spawn is handled, but the child's
        set-up (its overlay among it) goes on after that."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            waiting = []
            for pid, _, _ in self.leftovers():
                try:
                    if open(f"/proc/{pid}/wchan").read().endswith("pipe_read"):
                        waiting.append(pid)
                except OSError:
                    pass
            if len(waiting) == count:
                return waiting
            time.sleep(0.01)
        raise AssertionError(f"{count} held processes never waited at their gate: {self.leftovers()}")

    def reap(self):
        """Collect the exited monitor (we are its subreaper) and check it exited 0."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                assert os.waitstatus_to_exitcode(status) == 0
                self.closed = True
                return
            time.sleep(0.01)
        raise AssertionError("monitor did not exit")

    def rss_anon_kb(self):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1])
        raise AssertionError("no RssAnon")

    def cleanup(self):
        if not self.closed:
            try:
                self.shutdown()
            except Exception:
                # A broken monitor: make sure it and its pod are gone anyway.
                try:
                    os.kill(self.pid, 9)
                    os.waitpid(self.pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
        self.sock.close()


@pytest.fixture
def pod(monitor_binary, busybox_rootfs, tmp_path):
    """A factory of monitors; every monitor is shut down and its files removed after the test."""
    made = []

    def make(**kw):
        m = Monitor(monitor_binary, busybox_rootfs, tmp_path / f"pod{len(made)}", **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.cleanup()
    shutil.rmtree(tmp_path, ignore_errors=True)


def bind(source, target, options=None):
    group = [("mount.type", "bind"), ("mount.source", source), ("mount.target", target)]
    if options:
        group.append(("mount.options", options))
    return group


# --- start, exit, logs -----------------------------------------------------------------

def test_run_exit_code_hostname_and_cri_log(pod):
    m = pod(hostname="web-1")
    started = m.start("main", ["sh", "-c", "echo out; echo err >&2; hostname; exit 3"])
    assert int(started["pid"]) > 0 and int(started["starttime"]) > 0
    assert abs(int(started["startedAt"]) - time.time_ns()) < 60e9
    exited = m.wait_for("exited", "main")
    assert exited["exitCode"] == "3" and exited["signal"] == "0"
    assert exited["pid"] == started["pid"]
    assert int(exited["finishedAt"]) >= int(exited["startedAt"]) == int(started["startedAt"])
    lines = m.log_lines("main")
    assert [(s, tag, text) for _, s, tag, text in lines if s == "stdout"] == [
        ("stdout", "F", "out"), ("stdout", "F", "web-1")]
    assert [(s, tag, text) for _, s, tag, text in lines if s == "stderr"] == [("stderr", "F", "err")]
    assert stat.S_IMODE(os.stat(m.log_path("main")).st_mode) == 0o640


def test_long_lines_are_split_and_last_bytes_kept(pod):
    m = pod()
    exited, _ = m.run("long", ["sh", "-c", "head -c 20000 /dev/zero | tr '\\0' a; echo; printf tail"])
    assert exited["exitCode"] == "0"
    lines = [(tag, text) for _, _, tag, text in m.log_lines("long")]
    assert lines == [("P", "a" * 16384), ("F", "a" * (20000 - 16384)), ("F", "tail")]


def test_all_output_is_logged_before_exited(pod):
    m = pod()
    exited, _ = m.run("chatty", ["sh", "-c", "seq 1 20000; seq 1 5000 >&2"])
    assert exited["exitCode"] == "0"
    # Read once, right after `exited`: the monitor must have drained the pipes already.
    assert m.output("chatty", "stdout") == [str(i) for i in range(1, 20001)]
    assert m.output("chatty", "stderr") == [str(i) for i in range(1, 5001)]


def test_environment_cwd_and_path_lookup(pod):
    m = pod()
    exited, out = m.run("env", ["sh", "-c", 'echo "$GREETING"; pwd'],
                        env=["PATH=/bin", "GREETING=hello world"], cwd="/work/dir")
    assert exited["exitCode"] == "0"
    assert m.output("env") == ["hello world", "/work/dir"]


# --- failures ---------------------------------------------------------------------------

def children_of(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append((int(entry), fields[0]))
            except (FileNotFoundError, ProcessLookupError):
                pass
    return kids


def test_bad_command_fails_at_exec_and_leaves_nothing(pod):
    m = pod()
    failed = m.spawn("abs", ["/bin/nosuch"])
    assert failed.op == "failed" and failed["stage"] == "exec"
    assert failed["errno"] == str(errno.ENOENT) and "/bin/nosuch" in failed["message"]
    failed = m.spawn("rel", ["nosuch", "arg"])
    assert failed.op == "failed" and failed["stage"] == "exec"
    assert "not found in $PATH" in failed["message"]
    # Never reported as started or exited, not in status, and no zombie left.
    time.sleep(0.1)
    assert not [p for p in m.pending if p.get("name") in ("abs", "rel")]
    assert m.status() == {}
    assert children_of(m.pid) == []


def test_missing_lower_dir_fails_at_overlay_mount(pod, tmp_path):
    m = pod()
    failed = m.spawn("nolower", ["true"], lower=tmp_path / "does-not-exist")
    assert failed.op == "failed" and failed["stage"] == "mount(overlay)", failed
    assert failed["errno"] == str(errno.ENOENT)


def test_cwd_that_is_a_file_fails_at_chdir(pod):
    m = pod()
    failed = m.spawn("badcwd", ["true"], cwd="/etc/passwd")
    assert failed.op == "failed" and failed["stage"] == "chdir(/etc/passwd)", failed
    assert failed["errno"] == str(errno.ENOTDIR)


def test_bad_requests_get_errors_and_the_monitor_carries_on(pod):
    m = pod()
    m.sock.send(b"no equals sign\0")
    assert m.wait_for("error").get("message")
    m.sock.send(b"name=x\0op=status\0")
    assert "op" in m.wait_for("error")["message"]
    m.send("frobnicate")
    assert m.wait_for("error")["request"] == "frobnicate"
    m.send("spawn", [("arg", "true")])
    assert m.wait_for("error")["request"] == "spawn"
    m.send("spawn", [("name", "x"), ("arg", "true")])
    failed = m.wait_for("failed", "x")
    assert failed["stage"] == "spawn" and "rootfs" in failed["message"]
    m.spawn("y", ["true"], extra=[("bogus", "1")], wait=False)
    assert "unknown key bogus" in m.wait_for("failed", "y")["message"]
    m.send("signal", [("name", "ghost"), ("signal", "15")])
    assert m.wait_for("error")["name"] == "ghost"
    m.send("signal", [("name", "ghost"), ("signal", "banana")])
    assert m.wait_for("error")["request"] == "signal"
    m.sock.send(b"")
    assert m.wait_for("error")["message"] == "empty message"
    rng = random.Random(1)
    for _ in range(300):
        junk = bytes(rng.choice(b"op=spawnamesignal\0xyz9") for _ in range(rng.randrange(1, 200)))
        m.sock.send(junk)
    m.sock.send(b"op=status")  # no final NUL: still understood
    while Msg(m.sock.recv(65536)).op != "status-end":
        pass  # the replies to the junk
    m.pending.clear()
    exited, out = m.run("ok", ["echo", "still fine"])
    assert out == "still fine"


def test_large_spawn_message(pod):
    m = pod()
    # A large ConfigMap in the environment, say: 200 kB in one datagram.
    env = ["PATH=/bin"] + [f"V{i}={'x' * 20_000}" for i in range(10)]
    exited, out = m.run("big", ["sh", "-c", 'echo ${#V0} ${#V9}'], env=env)
    assert out == "20000 20000"
    # One string over the kernel's 128 KiB limit arrives, but exec refuses it: E2BIG.
    failed = m.spawn("huge", ["true"], env=["PATH=/bin", "BIG=" + "x" * 150_000])
    assert failed.op == "failed" and failed["stage"] == "exec" and failed["errno"] == str(errno.E2BIG)


def test_fatal_before_ready(monitor_binary, tmp_path):
    """A failure during start-up is reported as op=fatal with its stage; exit status 1."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    fd = theirs.fileno()
    proc = subprocess.Popen([str(monitor_binary), "--pod-dir", str(tmp_path / "missing"),
                             "--hostname", "x"], stderr=subprocess.DEVNULL, close_fds=False,
                            preexec_fn=lambda: os.dup2(fd, 3) if fd != 3 else os.set_inheritable(3, True))
    theirs.close()
    ours.settimeout(TIMEOUT)
    m = Msg(ours.recv(65536))
    assert proc.wait(timeout=TIMEOUT) == 1
    assert m.op == "fatal" and m["stage"] == "mount(shm)" and m["errno"] == str(errno.ENOENT), m
    ours.close()


# --- mounts ------------------------------------------------------------------------------

def test_shared_emptydir_between_two_containers(pod, tmp_path):
    m = pod()
    shared = tmp_path / "emptydir"
    shared.mkdir()
    exited, _ = m.run("writer", ["sh", "-c", "echo from-writer > /data/file"], mounts=[bind(shared, "/data")])
    assert exited["exitCode"] == "0"
    exited, out = m.run("reader", ["cat", "/data/file"], mounts=[bind(shared, "/data")])
    assert exited["exitCode"] == "0" and out == "from-writer"
    assert (shared / "file").read_text() == "from-writer\n"


def test_readonly_bind_is_read_only(pod, tmp_path):
    m = pod()
    vol = tmp_path / "config"
    vol.mkdir()
    (vol / "setting").write_text("42\n")
    conf = tmp_path / "app.conf"
    conf.write_text("single file\n")
    exited, out = m.run("ro", ["sh", "-c", "cat /cfg/setting; cat /etc/app.conf; "
                                           "echo x > /cfg/new; echo rc=$?; grep ' /cfg ' /proc/mounts"],
                        mounts=[bind(vol, "/cfg", "ro"), bind(conf, "/etc/app.conf", "ro")])
    assert "42" in out and "single file" in out
    assert "Read-only file system" in out and "rc=1" in out
    assert re.search(r" /cfg \S+ ro[ ,]", out), out
    assert not (vol / "new").exists()


def test_tmpfs_mount_with_size(pod):
    m = pod()
    exited, out = m.run("tmp", ["sh", "-c", "grep ' /scratch ' /proc/mounts"],
                        mounts=[[("mount.type", "tmpfs"), ("mount.target", "/scratch"),
                                 ("mount.options", "size=1048576")]])
    assert exited["exitCode"] == "0"
    assert re.search(r"^tmpfs /scratch tmpfs rw,nosuid,nodev.*size=1024k", out), out


def test_mount_target_symlink_cannot_escape_the_root(pod, tmp_path):
    """Symlinks in an image resolve inside the container's root, never to host paths."""
    m = pod()
    upper = m.workdir / "containers" / "evil" / "upper"
    upper.mkdir(parents=True)
    # /escape -> /tmp: outside the root, that would be the host's /tmp.
    os.symlink("/tmp", upper / "escape")
    name = f"podd-escape-{os.getpid()}"
    exited, out = m.run("evil", ["sh", "-c", f"grep ' /tmp/{name} ' /proc/mounts && echo inside"],
                        mounts=[[("mount.type", "tmpfs"), ("mount.target", f"/escape/{name}")]])
    assert "inside" in out, out
    assert not Path("/tmp", name).exists(), "mount point was created on the host"

    # A link to a host-only path dangles inside the root: refused, nothing made on the host.
    host_dir = tmp_path / "host-side"
    host_dir.mkdir()
    upper = m.workdir / "containers" / "evil2" / "upper"
    upper.mkdir(parents=True)
    os.symlink(str(host_dir), upper / "escape")
    failed = m.spawn("evil2", ["true"], mounts=[[("mount.type", "tmpfs"), ("mount.target", "/escape/mnt")]])
    assert failed.op == "failed" and failed["stage"] == "mount(/escape/mnt)", failed
    assert list(host_dir.iterdir()) == []


def test_bind_source_with_a_symlink_in_its_path_is_refused(pod, tmp_path):
    """podd sends bind sources with every symlink resolved (and checks hostPath volumes on that
    path); a symlink found in one at start was put there since, to redirect the mount: the
    monitor refuses it instead of following it, for a whole volume and for a subPath's volume."""
    m = pod()
    real = tmp_path / "real"
    real.mkdir()
    (real / "file").write_text("through the real path\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "file").write_text("not for the pod\n")
    exited, out = m.run("direct", ["cat", "/vol/file"], mounts=[bind(real, "/vol")])
    assert exited["exitCode"] == "0" and "through the real path" in out, out
    # The same directory reached through a symlink (as if swapped in after podd's check).
    swapped = tmp_path / "swapped"
    os.symlink(secret, swapped)
    for name, mount in (("whole", bind(swapped, "/vol")),
                        ("sub", bind(swapped, "/vol/file") + [("mount.subPath", "file")]),
                        ("parent", bind(swapped / "file", "/f"))):
        failed = m.spawn(name, ["cat", "/vol/file"], mounts=[mount])
        assert failed.op == "failed", (name, failed)
        assert "a symlink appeared in its path" in failed["message"], (name, failed["message"])
        assert not m.log_path(name).exists() or "not for the pod" not in m.log_path(name).read_text()


def test_seccomp_profile_that_cannot_compile_fails_the_start_and_the_monitor_goes_on(pod):
    """The monitor compiles a seccomp profile in a child process (libseccomp's compiler would
    leave the monitor's heap grown for the pod's life); a profile the compiler refuses comes
    back as the start's error, named, and the monitor serves the next spawn."""
    m = pod()
    failed = m.spawn("badarch", ["true"], extra=[("seccomp", "profile"), ("seccomp.default", "allow"),
                                                 ("seccomp.arch", "SCMP_ARCH_NOSUCH")])
    assert failed.op == "failed" and failed["stage"] == "seccomp", failed
    assert "unknown architecture SCMP_ARCH_NOSUCH" in failed["message"], failed["message"]
    # A profile that compiles is installed: mkdir refused with EPERM, the rest allowed.
    exited, out = m.run("nomkdir", ["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"],
                        extra=[("seccomp", "profile"), ("seccomp.default", "allow"),
                               ("seccomp.rule", "errno mkdir"), ("seccomp.rule", "errno mkdirat")])
    assert exited["exitCode"] == "0" and "Operation not permitted" in out and "rc=1" in out, out
    assert proc_alive(m.pid)


def test_dev_proc_masks_and_capabilities(pod):
    m = pod()
    exited, out = m.run("sec", ["sh", "-c",
                                "ls /dev | tr '\\n' ' '; echo; "
                                "for f in /proc/kcore /proc/keys /proc/timer_list; do "
                                "[ -e $f ] && echo masked $f $(wc -c < $f); done; "
                                "echo h > /proc/sysrq-trigger; echo sysrq=$?; "
                                "grep ' /proc/sys ' /proc/mounts; "
                                "grep -E '^Cap(Inh|Eff|Bnd)' /proc/self/status; "
                                "echo x > /dev/null && echo devnull-ok; "
                                "readlink /dev/ptmx"])
    devs = out.splitlines()[0].split()
    for d in ("null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm",
              "mqueue", "fd", "stdin", "stdout", "stderr"):
        assert d in devs, out
    assert "sda" not in devs and "kmsg" not in devs
    # Whichever of these the kernel has reads as /dev/null (empty).
    masked = [line.split() for line in out.splitlines() if line.startswith("masked ")]
    assert masked and all(size == "0" for _, _, size in masked), out
    assert "sysrq=1" in out
    assert re.search(r"proc /proc/sys proc ro,", out), out
    # Docker's default set, 0xa80425fb; nothing inheritable.
    assert "CapBnd:\t00000000a80425fb" in out and "CapEff:\t00000000a80425fb" in out
    assert "CapInh:\t0000000000000000" in out
    assert "devnull-ok" in out and "pts/ptmx" in out


def test_clean_process_state_at_exec(pod):
    """No descriptor of the monitor leaks in; no signal stays blocked or ignored."""
    m = pod(share_pid=True)
    m.start("other", ["sleep", "1000"])  # its pipes are open in the monitor meanwhile
    exited, out = m.run("fds", ["sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; echo; "
                                           "grep -E '^Sig(Blk|Ign)' /proc/self/status; umask"])
    assert out.splitlines()[0].split() == ["0", "1", "2", "3"], out  # 3: ls's own directory
    assert "SigBlk:\t0000000000000000" in out and "SigIgn:\t0000000000000000" in out
    assert out.splitlines()[-1] == "0022"


def test_dev_shm_is_shared_by_the_pod(pod):
    m = pod()
    m.run("a", ["sh", "-c", "echo shm-data > /dev/shm/x"])
    exited, out = m.run("b", ["cat", "/dev/shm/x"])
    assert out == "shm-data"


# --- namespaces --------------------------------------------------------------------------

def test_shared_pid_namespace_sees_siblings(pod):
    m = pod(share_pid=True)
    m.start("sleeper", ["sleep", "1000"])
    exited, out = m.run("ps", ["ps", "-o", "pid,args"])
    assert "sleep 1000" in out, out
    # The monitor is the pod's PID 1 (it reaps orphans), like catatonit for podman.
    assert re.search(r"^\s*1 .*podd-monitor", out, re.M), out


def test_pid_reported_is_the_host_pid(pod):
    """As the pod's PID 1 the monitor forks pod PIDs; podd must still get its own PIDs."""
    m = pod(share_pid=True)
    started = m.start("sleeper", ["sleep", "1000"])
    with open(f"/proc/{started['pid']}/cmdline") as f:
        assert f.read() == "sleep\x001000\x00"


def test_own_pid_namespace_sees_only_itself(pod):
    m = pod()
    m.start("sleeper", ["sleep", "1000"])
    exited, out = m.run("ps", ["ps", "-o", "pid,args"])
    assert "sleep" not in out, out
    assert re.search(r"^\s*1 ps -o pid,args$", out, re.M), out


def test_pidns_pod_needs_share_pid(pod):
    m = pod()
    failed = m.spawn("c", ["true"], extra=[("pidns", "pod")])
    assert failed.op == "failed" and failed["stage"] == "pidns"


def test_ephemeral_container_joins_target_pid_namespace(pod):
    m = pod()
    target = m.start("app", ["sleep", "1000"])
    exited, out = m.run("debugger", ["ps", "-o", "pid,args"], extra=[("pidns", "container:app")])
    assert exited["exitCode"] == "0"
    assert re.search(r"^\s*1 sleep 1000$", out, re.M), out
    # The debugger was the monitor's child (reported with its own pid), not the target's.
    assert exited["pid"] != target["pid"]
    failed = m.spawn("lost", ["true"], extra=[("pidns", "container:nobody")])
    assert failed.op == "failed" and failed["stage"] == "setns(pid)"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_loopback_is_up_and_shared_by_the_pod(pod):
    m = pod()
    port = free_port()
    exited, out = m.run("flags", ["cat", "/sys/class/net/lo/flags"])
    assert int(out, 16) & 0x1, "lo is not IFF_UP"
    # The server's stdin must stay open: on EOF (its stdin is /dev/null) busybox nc
    # half-closes at once, and the client may then quit before it has sent anything.
    m.start("server", ["sh", "-c", f"sleep 1000 | nc -l -p {port}"])
    client = (f"for i in $(seq 1 100); do echo ping-over-lo | nc 127.0.0.1 {port} && exit 0; "
              "sleep 0.05; done; exit 1")
    m.start("client", ["sh", "-c", client])
    assert m.wait_for("exited", "client")["exitCode"] == "0"
    m.wait_log("server", "ping-over-lo")
    # The pod's loopback is its own: the host's 127.0.0.1:PORT has nobody listening.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


# --- control: status, reconnect, signal, shutdown ----------------------------------------

# --- held spawns: set up ahead of their turn (hold=1), started by op=release ------------------

def test_held_container_waits_for_release_and_sees_what_was_written_meanwhile(pod, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    m = pod()
    m.spawn("later", ["sh", "-c", "cat /shared/note; echo ran > /shared/ran"], mounts=[bind(shared, "/shared")],
            extra=[("hold", "1")], wait=False)
    # Its process is made (a child of the monitor, its root set up), but nothing runs and
    # nothing is reported, and podd's status does not list it. (The status is answered after
    # the spawn is handled: the process exists by then, and the child that compiled its
    # seccomp filter is gone.)
    assert "later" not in m.status()
    assert len(m.leftovers()) == 1, m.leftovers()
    m.wait_held()
    time.sleep(0.3)
    with pytest.raises(AssertionError):
        m.wait_started_or_failed("later", timeout=0.2)
    assert not (shared / "ran").exists()
    # What an earlier container writes into a shared volume meanwhile is what it reads.
    (shared / "note").write_text("written after the set-up\n")
    m.send("release", [("name", "later")])
    assert m.wait_started_or_failed("later").op == "started"
    assert m.wait_for("exited", "later")["exitCode"] == "0"
    assert m.output("later") == ["written after the set-up"]
    assert (shared / "ran").read_text() == "ran\n"
    # A release of what is not held is a start that cannot be made.
    m.send("release", [("name", "later")])
    failed = m.wait_for("failed", "later")
    assert failed["stage"] == "release" and failed["errno"] == str(errno.ESRCH)
    m.send("release", [("name", "nobody")])
    assert m.wait_for("failed", "nobody")["stage"] == "release"


@pytest.mark.parametrize("share_pid", [False, True])
def test_held_container_is_given_up_by_forget_a_new_spawn_or_shutdown(pod, share_pid):
    m = pod(share_pid=share_pid)
    # forget: its process goes, and nothing is reported.
    m.spawn("a", ["touch", "/ran"], extra=[("hold", "1")], wait=False)
    # Answered once the spawn is handled (the seccomp filter's compiling child gone, the
    # container's process made).
    assert m.status() == {}
    held = [pid for pid, _, _ in m.leftovers()]
    assert len(held) == 1
    m.send("forget", [("name", "a")])
    assert m.status() == {}
    assert all(wait_gone(pid) for pid in held) and m.leftovers() == []
    # A spawn of the name replaces what is held: it runs at once, as spawned (with fresh
    # layer directories, as podd makes them for every spawn: a volatile overlay's work
    # directory cannot be mounted again).
    m.spawn("b", ["sleep", "1000"], extra=[("hold", "1")], wait=False)
    # Its overlay is mounted (its work directory in use) before it waits at its gate.
    m.wait_held()
    shutil.rmtree(m.workdir / "containers" / "b")
    exited, text = m.run("b", ["sh", "-c", "echo replaced"])
    assert exited["exitCode"] == "0" and text == "replaced"
    assert m.leftovers() == []
    # shutdown: given up without an exit of its own.
    m.spawn("c", ["sleep", "1000"], extra=[("hold", "1")], wait=False)
    m.start("d", ["sleep", "1000"])
    msgs = m.shutdown()
    assert [x["name"] for x in msgs if x.op == "exited"] == ["d"]
    assert not [x for x in msgs if x.get("name") == "c"]


def test_held_container_whose_set_up_failed_says_so_at_its_release(pod, tmp_path):
    m = pod()
    m.spawn("broken", ["true"], lower=tmp_path / "no-such-image", extra=[("hold", "1")], wait=False)
    # The child fails and is reaped by the monitor; podd hears of it only when it starts it.
    time.sleep(0.3)
    assert m.leftovers() == []
    assert "broken" not in m.status()
    m.send("release", [("name", "broken")])
    failed = m.wait_started_or_failed("broken")
    assert failed.op == "failed" and failed["stage"] == "mount(overlay)", failed
    # hold=1 is for containers in the pod's or their own PID namespace.
    m.spawn("eph", ["true"], extra=[("pidns", "container:broken"), ("hold", "1")], wait=False)
    assert m.wait_for("failed", "eph")["stage"] == "spawn"
    m.spawn("flag", ["true"], extra=[("hold", "yes")], wait=False)
    assert "hold take 0 or 1" in m.wait_for("failed", "flag")["message"]
    # devices=1 says a device program comes with the spawn: any other value is refused, and
    # one without the descriptor starts as usual (the monitor loads its own program).
    m.spawn("devbad", ["true"], extra=[("devices", "2")], wait=False)
    assert "devices takes 1" in m.wait_for("failed", "devbad")["message"]
    assert m.spawn("devnofd", ["true"], extra=[("devices", "1")]).op == "started"


# --- chained starts: a held container released by its predecessor's clean exit (after=) -------

def gated(shared, gate, code=0):
    """A command that waits until the test creates SHARED/GATE, then exits CODE."""
    return ["sh", "-c", f"while [ ! -e /shared/{gate} ]; do sleep 0.01; done; exit {code}"]


def wait_file(path, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.01)
    return False


def assert_quiet(m, name, seconds=0.3):
    """Nothing about container NAME reaches podd for SECONDS."""
    with pytest.raises(AssertionError):
        m.wait_started_or_failed(name, timeout=seconds)
    assert not [x for x in m.pending if x.get("name") == name], m.pending


def test_chained_start_runs_at_the_clean_exit_and_is_told_at_podds_release(pod, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    m = pod()
    volume = [bind(shared, "/shared")]
    m.start("first", gated(shared, "go"), mounts=volume)
    m.spawn("second", ["sh", "-c", "echo ran > /shared/second"], mounts=volume,
            extra=[("hold", "1"), ("after", "first")], wait=False)
    m.wait_held()
    assert not (shared / "second").exists()
    (shared / "go").touch()
    assert m.wait_for("exited", "first")["exitCode"] == "0"
    # It ran without a release from podd, and podd has heard nothing of it yet.
    assert wait_file(shared / "second") and (shared / "second").read_text() == "ran\n"
    assert_quiet(m, "second")
    # podd's release is answered with its start, then (it has ended) its exit, in order.
    m.send("release", [("name", "second")])
    started, exited = m.recv(), m.recv()
    assert (started.op, started["name"], exited.op, exited["name"]) == ("started", "second", "exited", "second")
    assert exited["exitCode"] == "0" and exited["pid"] == started["pid"]
    assert int(started["startedAt"]) <= int(exited["finishedAt"])
    assert m.output("second") == []
    # Claimed once: another release of it is a start that cannot be made.
    m.send("release", [("name", "second")])
    assert m.wait_for("failed", "second")["stage"] == "release"

    # A chain whose start is still running when podd claims it; its own set-up failure is
    # told at the release too.
    m.start("third", gated(shared, "go3"), mounts=volume)
    m.spawn("fourth", ["sleep", "1000"], extra=[("hold", "1"), ("after", "third")], wait=False)
    m.spawn("broken", ["true"], lower=tmp_path / "no-such-image", extra=[("hold", "1"), ("after", "fourth")],
            wait=False)
    m.wait_held()
    (shared / "go3").touch()
    m.wait_for("exited", "third")
    assert_quiet(m, "fourth")
    m.send("release", [("name", "fourth")])
    assert m.wait_started_or_failed("fourth").op == "started"
    m.send("signal", [("name", "fourth"), ("signal", "9")])
    assert m.wait_for("exited", "fourth")["signal"] == "9"
    # fourth was killed: broken was not started by it, and starts at podd's release.
    m.send("release", [("name", "broken")])
    assert m.wait_started_or_failed("broken")["stage"] == "mount(overlay)"


def test_a_cascade_of_fast_chained_starts_loses_no_exit(pod, tmp_path):
    """Chained `true` containers start one another, each exec'd as the one before is reaped:
    a child that exits before its start is read must still be told, in order."""
    m = pod(share_pid=True)
    names = [f"c{k}" for k in range(6)]
    for round in range(8):
        for k, name in enumerate(names[1:], 1):
            shutil.rmtree(m.workdir / "containers" / name, ignore_errors=True)
            m.spawn(name, ["true"], extra=[("hold", "1"), ("after", names[k - 1])], wait=False)
        m.wait_held(len(names) - 1)
        shutil.rmtree(m.workdir / "containers" / names[0], ignore_errors=True)
        m.start(names[0], ["true"])
        assert m.wait_for("exited", names[0])["exitCode"] == "0"
        deadline = time.monotonic() + TIMEOUT
        while m.leftovers() and time.monotonic() < deadline:
            time.sleep(0.01)
        if m.leftovers():
            # Where each leftover waits (pipe_read: at its gate), then what each release says.
            waits = []
            for pid, _, _ in m.leftovers():
                try:
                    waits.append((pid, open(f"/proc/{pid}/wchan").read()))
                except OSError:
                    pass
            said = []
            for name in names[1:]:
                m.send("release", [("name", name)])
                said += m.recv_some(2, timeout=2)
            raise AssertionError(f"round {round}: the cascade stopped: {waits}; releases said {said}; "
                                 f"stderr: {m.stderr_path.read_text()}")
        for name in names[1:]:
            m.send("release", [("name", name)])
            replies = m.recv_some(2)
            assert [r.op for r in replies] == ["started", "exited"] and replies[1]["exitCode"] == "0", \
                f"round {round}, release of {name}: {replies}; left: {m.leftovers()}; stderr: {m.stderr_path.read_text()}"
        for name in names:
            m.send("forget", [("name", name)])
        assert m.status() == {}


def test_no_chained_start_after_a_failure_or_a_stop_podd_asked_for(pod, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    m = pod()
    volume = [bind(shared, "/shared")]
    # The container it follows failed: it waits for podd.
    m.start("a", gated(shared, "go", code=3), mounts=volume)
    m.spawn("b", ["touch", "/shared/b"], mounts=volume, extra=[("hold", "1"), ("after", "a")], wait=False)
    m.wait_held()
    (shared / "go").touch()
    assert m.wait_for("exited", "a")["exitCode"] == "3"
    time.sleep(0.3)
    assert not (shared / "b").exists()
    m.send("release", [("name", "b")])
    assert m.wait_started_or_failed("b").op == "started"
    assert m.wait_for("exited", "b")["exitCode"] == "0" and (shared / "b").exists()
    # podd stopped it (a signal), and it exited 0 all the same: the decision is podd's.
    m.start("c", ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.01; done"])
    m.spawn("d", ["touch", "/shared/d"], mounts=volume, extra=[("hold", "1"), ("after", "c")], wait=False)
    m.wait_held()
    m.send("signal", [("name", "c"), ("signal", "15")])
    assert m.wait_for("exited", "c")["exitCode"] == "0"
    time.sleep(0.3)
    assert not (shared / "d").exists()
    assert "d" not in m.status()
    # after= is for a held container, and names another one.
    m.spawn("e", ["true"], extra=[("after", "a")], wait=False)
    assert "after=NAME needs hold=1" in m.wait_for("failed", "e")["message"]
    m.spawn("f", ["true"], extra=[("hold", "1"), ("after", "f")], wait=False)
    assert m.wait_for("failed", "f")["stage"] == "spawn"
    m.spawn("g", ["true"], extra=[("hold", "1"), ("after", "Bad/Name")], wait=False)
    assert "after must name a container" in m.wait_for("failed", "g")["message"]


def test_unclaimed_chained_start_goes_with_forget_a_new_spawn_or_shutdown_and_a_status_claims_it(pod, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    m = pod(share_pid=True)
    volume = [bind(shared, "/shared")]

    def chain(first, second, args, gate):
        m.start(first, gated(shared, gate), mounts=volume)
        m.spawn(second, args, extra=[("hold", "1"), ("after", first)], wait=False)
        m.wait_held()
        (shared / gate).touch()
        m.wait_for("exited", first)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            running = [pid for pid, _, cmd in m.leftovers() if cmd == " ".join(args)]
            if running:
                return running[0]
            time.sleep(0.01)
        raise AssertionError(f"{second} did not start: {m.leftovers()}")

    # forget: podd gave it up before it claimed it: killed, and nothing of it is told.
    pid = chain("a", "b", ["sleep", "1001"], "go-a")
    m.send("forget", [("name", "b")])
    assert wait_gone(pid)
    assert set(m.status()) == {"a"}
    assert not [x for x in m.pending if x.get("name") == "b"], m.pending
    # A new spawn of its name replaces it (what it was set up with changed).
    pid = chain("c", "d", ["sleep", "1002"], "go-c")
    shutil.rmtree(m.workdir / "containers" / "d")
    exited, text = m.run("d", ["sh", "-c", "echo replaced"])
    assert exited["exitCode"] == "0" and text == "replaced"
    assert wait_gone(pid)
    assert [x for x in m.pending if x.get("name") == "d"] == []
    # A status (a new podd) claims it: it is listed, and podd's own now.
    pid = chain("e", "f", ["sleep", "1003"], "go-e")
    states = m.status()
    assert states["f"]["state"] == "running" and int(states["f"]["pid"]) == pid
    m.send("release", [("name", "f")])
    assert m.wait_for("failed", "f")["stage"] == "release"
    # shutdown: an unclaimed start goes without an exit of its own.
    pid = chain("g", "h", ["sleep", "1004"], "go-g")
    msgs = m.shutdown()
    assert sorted(x["name"] for x in msgs if x.op == "exited") == ["f"]
    assert not [x for x in msgs if x.get("name") == "h"]
    assert wait_gone(pid)


def test_status_after_reconnect_and_forget(pod):
    m = pod()
    running = m.start("long", ["sleep", "1000"])
    m.run("short", ["true"])
    assert stat.S_IMODE(os.stat(m.pod_dir / "monitor.sock").st_mode) == 0o600
    hostpid, starttime, features = (m.pod_dir / "monitor.pid").read_text().split()
    assert int(hostpid) == m.pid
    assert "oom" in features.split(","), "the monitor lists the keys podd may send it"
    with open(f"/proc/{m.pid}/stat") as f:
        assert f.read().rsplit(")", 1)[1].split()[19] == starttime

    # podd restarts: a new connection on monitor.sock replaces the first one.
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.settimeout(TIMEOUT)
    conn.connect(str(m.pod_dir / "monitor.sock"))
    states = m.status(conn)
    assert m.sock.recv(100) == b""  # the old connection was closed
    m.sock.close()
    m.sock = conn
    assert set(states) == {"long", "short"}
    assert states["long"]["state"] == "running" and states["long"]["pid"] == running["pid"]
    assert states["long"]["starttime"] == running["starttime"]
    assert states["short"]["state"] == "exited" and states["short"]["exitCode"] == "0"
    assert "finishedAt" in states["short"].d

    m.send("forget", [("name", "short")])
    m.send("forget", [("name", "long")])
    assert m.wait_for("error")["name"] == "long"  # a running container cannot be forgotten
    assert set(m.status()) == {"long"}


def test_signal_term_and_kill(pod):
    m = pod(share_pid=True)
    m.start("sleeper", ["sleep", "1000"])
    m.send("signal", [("name", "sleeper"), ("signal", "15")])
    exited = m.wait_for("exited", "sleeper")
    assert exited["exitCode"] == "143" and exited["signal"] == "15"

    own = pod()  # pidns own: the workload is PID 1 there; SIGKILL still ends it
    own.start("init", ["sleep", "1000"])
    own.send("signal", [("name", "init"), ("signal", "9")])
    exited = own.wait_for("exited", "init")
    assert exited["exitCode"] == "137" and exited["signal"] == "9"


def test_sigterm_to_the_monitor_is_ignored(pod):
    m = pod()
    m.start("sleeper", ["sleep", "1000"])
    for sig in (15, 2, 1):
        os.kill(m.pid, sig)
    time.sleep(0.2)
    assert proc_alive(m.pid)
    assert m.status()["sleeper"]["state"] == "running"


@pytest.mark.parametrize("share_pid", [False, True])
def test_shutdown_leaves_nothing(pod, share_pid):
    m = pod(share_pid=share_pid)
    pids = [int(m.start(n, ["sleep", "1000"])["pid"]) for n in ("a", "b")]
    # An orphan too (sh forks a background sleep and exits).
    m.run("orphaner", ["sh", "-c", "sleep 999 & echo $!"])
    msgs = m.shutdown()
    exits = {x["name"]: x for x in msgs if x.op == "exited"}
    assert set(exits) == {"a", "b"} and all(x["exitCode"] == "137" for x in exits.values())
    assert msgs[-1].op == "bye"
    for pid in pids + [m.pid]:
        assert wait_gone(pid), f"process {pid} survived shutdown"
    assert not any("sleep 999" in open(f"/proc/{p}/cmdline").read().replace("\0", " ")
                   for p in os.listdir("/proc") if p.isdigit() and os.path.exists(f"/proc/{p}/cmdline"))
    assert not (m.pod_dir / "monitor.sock").exists()
    assert not (m.pod_dir / "monitor.pid").exists()


def cgroup2_root():
    for line in open("/proc/self/mounts"):
        dev, path, fstype = line.split()[:3]
        if fstype == "cgroup2":
            return Path(path)
    return None


@pytest.fixture
def cgroup2_dir():
    """A fresh directory in the cgroup2 hierarchy for one test's pod; removed afterwards
    (once the kernel has let go of the processes that were in it)."""
    root = cgroup2_root()
    if root is None:
        pytest.skip("no cgroup2 hierarchy mounted")
    cg = root / f"podd-test-{os.getpid()}-{time.monotonic_ns()}"
    cg.mkdir()
    yield cg
    for sub in cg.iterdir():
        if sub.is_dir():
            sub.rmdir()
    deadline = time.monotonic() + TIMEOUT
    while cg.exists():
        try:
            cg.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_cgroups(pod, cgroup2_dir):
    cg, root = cgroup2_dir, cgroup2_dir.parent
    m = pod(cgroup=cg)
    rel = "/" + str(cg.relative_to(root))
    # The monitor joined the pod's cgroup, each container its own group below it.
    assert f"0::{rel}\n" in open(f"/proc/{m.pid}/cgroup").read()
    # Inside, its cgroup namespace is rooted at its own group; from the host, that group is
    # the container's name below the pod's.
    exited, out = m.run("where", ["cat", "/proc/self/cgroup"])
    assert "0::/" in out.splitlines() and rel not in out, out
    m.start("seen", ["sleep", "1000"])
    pid = (cg / "seen" / "cgroup.procs").read_text().split()[0]
    assert f"0::{rel}/seen\n" in open(f"/proc/{pid}/cgroup").read()
    m.send("signal", [("name", "seen"), ("signal", "9")])
    assert m.wait_for("exited", "seen")["exitCode"] == "137"

    # signal 9 kills the whole container cgroup, background children included.
    m.start("tree", ["sh", "-c", "sleep 1000 & sleep 1001 & wait"])
    procs = cg / "tree" / "cgroup.procs"
    deadline = time.monotonic() + TIMEOUT
    while len(procs.read_text().split()) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(procs.read_text().split()) == 3
    m.send("signal", [("name", "tree"), ("signal", "9")])
    assert m.wait_for("exited", "tree")["exitCode"] == "137"
    m.shutdown()
    # The monitor removes its containers' groups once they are empty.
    assert [p.name for p in cg.iterdir() if p.is_dir()] == []


def test_cgroup_set_writes_limits_into_the_fresh_group_or_fails_the_start(pod, cgroup2_dir):
    """spawn's cgroup.set: the monitor makes the container's group anew at every start, so a
    container's v2 limits are its to write, after that and before the first process."""
    cg = cgroup2_dir
    m = pod(cgroup=cg)
    # Refused before anything is made: a file outside the limit controllers, a path.
    for bad in ("cgroup.procs=1", "memory.max", "memory/../cgroup.procs=1", "memory.max=1;rm", "devices.allow=a"):
        failed = m.spawn("bad", ["true"], extra=[("cgroup.set", bad)])
        assert failed.op == "failed" and "cgroup.set" in failed["message"], (bad, failed)
    assert not (cg / "bad").exists()
    # A file the group lacks (no memory controller given to it): the start fails and names
    # the file; no process ran.
    controllers = (cg / "cgroup.controllers").read_text().split()
    if "memory" not in controllers:
        failed = m.spawn("nolimit", ["sh", "-c", "echo ran"], extra=[("cgroup.set", "memory.max=1048576")])
        assert failed.op == "failed" and failed["stage"] == "cgroup(memory.max)", failed
        assert not m.log_path("nolimit").exists() or "ran" not in m.log_path("nolimit").read_text()
    # Where the machine delegates memory to the group, the value is there, also after a
    # restart of the same name (the group made anew keeps no value from before).
    if "memory" in controllers:
        (cg / "cgroup.subtree_control").write_text("+memory")
        for run in range(2):
            m.start("limited", ["sleep", "1000"], extra=[("cgroup.set", "memory.max=8388608")])
            assert (cg / "limited" / "memory.max").read_text().strip() == "8388608"
            m.send("signal", [("name", "limited"), ("signal", "9")])
            m.wait_for("exited", "limited")
    else:
        print("the machine's cgroup v2 root delegates no memory controller: cgroup.set's write "
              "was checked through its failure only")
    m.shutdown()


# --- cost --------------------------------------------------------------------------------

def test_memory_and_start_time(pod):
    m = pod(share_pid=True)
    timings = []
    for i in range(10):
        t0 = time.perf_counter()
        m.spawn(f"t{i}", ["true"])
        timings.append(time.perf_counter() - t0)
        m.wait_for("exited", f"t{i}")
        m.send("forget", [("name", f"t{i}")])
    timings.sort()
    for i in range(3):
        m.start(f"busy{i}", ["sh", "-c", "seq 1 5000; head -c 40000 /dev/zero | tr '\\0' x; echo; exec sleep 1000"])
    for i in range(3):
        m.wait_log(f"busy{i}", "5000")
    time.sleep(0.2)
    rss = m.rss_anon_kb()
    print(f"\npodd-monitor: RssAnon {rss} kB with 3 running containers; "
          f"spawn->started median {timings[len(timings) // 2] * 1000:.2f} ms, "
          f"min {timings[0] * 1000:.2f} ms, max {timings[-1] * 1000:.2f} ms")
    assert rss < 1024, f"RssAnon {rss} kB"


# --- exec and attach sessions ------------------------------------------------------------

class Session:
    """podd's end of an exec or attach session: the socket the monitor answers on, and the
    pipes (or pty master) of its stdio."""

    def __init__(self, monitor, op, fields, fds, keep):
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(TIMEOUT)
        monitor.sock.sendmsg([encode(op, fields)],
                             [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array_of([theirs.fileno(), *fds]))])
        theirs.close()
        for fd in fds:
            os.close(fd)
        self.keep = keep  # our ends: name -> fd
        self.passed = []

    def recv(self):
        data, ancdata, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(4 * 8))
        if not data:
            raise EOFError("the monitor closed the session")
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                self.passed += list(memoryview(payload).cast("i"))
        return Msg(data)

    def read_all(self, name, timeout=TIMEOUT):
        fd, out = self.keep[name], b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 65536)
            except OSError as e:  # a pty master reads EIO once its terminal is closed
                if e.errno == errno.EIO:
                    break
                raise
            if not chunk:
                break
            out += chunk
        return out.decode(errors="replace")

    def close(self):
        self.sock.close()
        for fd in list(self.keep.values()) + self.passed:
            try:
                os.close(fd)
            except OSError:
                pass


def array_of(fds):
    import array
    return array.array("i", fds)


def exec_session(m, container, args, tty=False, stdin=None, session_id="1", env=("PATH=/bin",), cwd=None):
    fields = [("id", session_id), ("name", container), ("tty", "1" if tty else "0")]
    fields += [("env", e) for e in env] + [("arg", a) for a in args]
    if cwd:
        fields.append(("cwd", cwd))
    if tty:
        return Session(m, "exec", fields, [], {})
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    s = Session(m, "exec", fields, [in_r, out_w, err_w], {"stdin": in_w, "stdout": out_r, "stderr": err_r})
    if stdin is not None:
        os.write(in_w, stdin)
        os.close(in_w)
        del s.keep["stdin"]
    return s


def session_processes(needle, only=None):
    """Host PIDs whose command line contains NEEDLE (and starts with ONLY, when given)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
                    if needle.encode() in cmdline and (only is None or cmdline.startswith(only.encode())):
                        found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.parametrize("share_pid", [False, True])
def test_exec_runs_in_the_container_with_its_root_env_and_cwd(pod, share_pid):
    m = pod(share_pid=share_pid, hostname="exec-pod")
    app = m.start("app", ["sh", "-c", "echo secret > /app-file; exec sleep 1000"])
    time.sleep(0.2)
    s = exec_session(m, "app", ["sh", "-c", "cat /app-file; hostname; echo $GREETING; pwd; "
                                "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo oops >&2; exit 5"],
                     env=("PATH=/bin", "GREETING=hello"), cwd="/tmp")
    started = s.recv()
    assert started.op == "exec-started" and started["id"] == "1", started
    assert int(started["pid"]) > 0 and int(started["pid"]) != int(app["pid"])
    exited = s.recv()
    assert exited.op == "exec-exited" and exited["exitCode"] == "5" and exited["signal"] == "0", exited
    out = s.read_all("stdout").splitlines()
    assert out[:4] == ["secret", "exec-pod", "hello", "/tmp"], out
    # Its PID namespace is the container's: PID 1 is the app (own namespace) or the monitor.
    if not share_pid:
        assert out[4].strip() == "sleep 1000", out
    assert s.read_all("stderr") == "oops\n"
    s.close()
    # The app is untouched, and exec output is not in the container's log.
    assert m.status()["app"]["state"] == "running"
    assert "oops" not in "".join(m.output("app"))


def test_exec_stdin_and_failures(pod):
    m = pod()
    m.start("app", ["sleep", "1000"])
    s = exec_session(m, "app", ["tr", "a-z", "A-Z"], stdin=b"shout\n", env=("PATH=/bin:/usr/bin",))
    started = s.recv()
    assert started.op == "exec-started", started
    assert s.recv()["exitCode"] == "0"
    assert s.read_all("stdout") == "SHOUT\n"
    s.close()

    s = exec_session(m, "app", ["no-such-command"], session_id="2")
    failed = s.recv()
    assert failed.op == "exec-failed" and failed["stage"] == "exec" and failed["id"] == "2", failed
    assert "no-such-command" in failed["message"] and "not found" in failed["message"]
    s.close()
    s = exec_session(m, "nobody", ["true"], session_id="3")
    failed = s.recv()
    assert failed.op == "exec-failed" and "nobody is not running" in failed["message"], failed
    s.close()
    s = exec_session(m, "app", ["true"], session_id="4", cwd="/no/such/dir")
    failed = s.recv()
    assert failed.op == "exec-failed" and failed["stage"] == "chdir(/no/such/dir)", failed
    s.close()
    # Without its session socket, the request is refused on the control connection.
    m.send("exec", [("id", "5"), ("name", "app"), ("arg", "true")])
    assert "session's socket" in m.wait_for("error")["message"]


def test_exec_with_a_tty_from_the_containers_devpts(pod):
    m = pod()
    m.start("app", ["sleep", "1000"])
    s = exec_session(m, "app", ["sh", "-c", "tty; stty size; ls /dev/pts; exit 4"], tty=True)
    started = s.recv()
    assert started.op == "exec-started" and len(s.passed) == 1, (started, s.passed)
    master = s.passed[0]
    import fcntl, struct, termios
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
    exited = s.recv()
    assert exited["exitCode"] == "4"
    s.keep["tty"] = master
    s.passed = []
    out = s.read_all("tty").replace("\r", "").splitlines()
    # /dev/pts/0 of the container's own devpts instance (the host has others).
    assert out[0] == "/dev/pts/0", out
    assert out[2].split() == ["0", "ptmx"], out
    s.close()


def test_closing_the_session_kills_the_command_and_its_jobs(pod):
    m = pod()
    m.start("app", ["sleep", "1000"])
    tag = f"{random.randint(10**6, 10**7)}"
    s = exec_session(m, "app", ["sh", "-c", f"sleep 2{tag} & setsid=no sleep 3{tag} & sleep 1{tag}"])
    assert s.recv().op == "exec-started"
    wait_for_pids = time.monotonic() + TIMEOUT
    # The three sleeps, once all have exec'd: a process in the middle of it (a child sh has
    # forked, or sh itself exec'ing the last sleep) shows sh's command line or none, so a
    # count of every match was 2 when it had just been 3 (twice in about 300 runs).
    while len(session_processes(tag, only="sleep")) < 3 and time.monotonic() < wait_for_pids:
        time.sleep(0.02)
    assert len(session_processes(tag, only="sleep")) == 3, session_processes(tag)
    s.sock.close()  # the client went away
    deadline = time.monotonic() + TIMEOUT
    while session_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert session_processes(tag) == []
    s.close()
    assert m.status()["app"]["state"] == "running"
    # The monitor carries on: another session works.
    s = exec_session(m, "app", ["echo", "still here"], session_id="9")
    assert s.recv().op == "exec-started" and s.recv().op == "exec-exited"
    assert s.read_all("stdout") == "still here\n"
    s.close()


def attach_session(m, container, stdin=False, stdout=True, stderr=True, session_id="a1"):
    fields = [("id", session_id), ("name", container), ("stdin", "1" if stdin else "0"),
              ("stdout", "1" if stdout else "0"), ("stderr", "1" if stderr else "0")]
    fds, keep = [], {}
    for name, wanted in (("stdout", stdout), ("stderr", stderr)):
        if wanted:
            r, w = os.pipe()
            fds.append(w)
            keep[name] = r
    return Session(m, "attach", fields, fds, keep)


def test_attach_to_a_container_with_stdin(pod):
    m = pod()
    m.start("app", ["sh", "-c", "while read line; do echo got $line; echo err $line >&2; done; echo bye; exit 6"],
            extra=[("stdin", "1"), ("stdinOnce", "1")])
    s = attach_session(m, "app", stdin=True)
    started = s.recv()
    assert started.op == "attach-started" and started["tty"] == "0" and len(s.passed) == 1, started
    stdin = s.passed.pop()
    os.write(stdin, b"one\ntwo\n")
    os.close(stdin)
    m.wait_log("app", "got two")
    # stdinOnce: closing stdin (v5) closes the container's stdin, and it ends; the session
    # sees all of its output and its exit.
    s.sock.send(encode("close-stdin"))
    exited = s.recv()
    assert exited.op == "attach-exited" and exited["exitCode"] == "6", exited
    assert s.read_all("stdout") == "got one\ngot two\nbye\n"
    assert s.read_all("stderr") == "err one\nerr two\n"
    assert m.wait_for("exited", "app")["exitCode"] == "6"
    assert m.output("app", "stdout") == ["got one", "got two", "bye"]
    s.close()
    # Without stdinOnce, a session's end leaves the container running.
    m.start("cat", ["cat"], extra=[("stdin", "1")])
    s = attach_session(m, "cat", stdin=True, session_id="a2")
    assert s.recv().op == "attach-started"
    os.write(s.passed[0], b"meow\n")
    m.wait_log("cat", "meow")
    s.close()
    time.sleep(0.2)
    assert m.status()["cat"]["state"] == "running"
    # stdinOnce, and the client goes: the container's stdin closes with the session.
    m.start("once", ["sh", "-c", "cat; echo done"], extra=[("stdin", "1"), ("stdinOnce", "1")])
    s = attach_session(m, "once", stdin=True, session_id="a3")
    assert s.recv().op == "attach-started"
    s.close()
    assert m.wait_for("exited", "once")["exitCode"] == "0"
    assert m.output("once") == ["done"]


def test_attach_to_a_tty_container_and_its_exit(pod):
    m = pod()
    m.start("app", ["sh"], extra=[("stdin", "1"), ("tty", "1")])
    s = attach_session(m, "app", stdin=True, stderr=False)
    started = s.recv()
    assert started.op == "attach-started" and started["tty"] == "1"
    master = s.passed.pop()
    os.write(master, b"tty; exit 7\n")
    exited = s.recv()
    assert exited.op == "attach-exited" and exited["exitCode"] == "7", exited
    out = s.read_all("stdout").replace("\r", "")
    assert "/dev/pts/0\n" in out, out
    os.close(master)
    assert m.wait_for("exited", "app")["exitCode"] == "7"
    assert any("/dev/pts/0" in line for line in m.output("app"))
    # Attach to a container without stdin, with stdin: refused.
    m.start("plain", ["sleep", "1000"])
    s2 = attach_session(m, "plain", stdin=True, session_id="a2")
    failed = s2.recv()
    assert failed.op == "attach-failed" and "stdin: true" in failed["message"], failed
    s.close()
    s2.close()


def test_tty_container_hangs_up_when_its_stdin_once_session_ends(pod):
    m = pod()
    m.start("app", ["sh"], extra=[("stdin", "1"), ("stdinOnce", "1"), ("tty", "1")])
    s = attach_session(m, "app", stdin=True, stderr=False)
    assert s.recv().op == "attach-started"
    master = s.passed.pop()
    os.write(master, b"echo hi\n")
    m.wait_log("app", "hi")
    os.close(master)
    s.sock.close()
    exited = m.wait_for("exited", "app")
    assert exited["signal"] in ("0", "1"), exited  # SIGHUP, or the shell's exit on EOF
    s.close()
