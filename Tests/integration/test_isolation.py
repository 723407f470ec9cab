"""What a default pod may not reach: host devices (runc's device allowlist, enforced by a BPF
device program on the container's cgroup v2 group, or by the v1 devices controller), new
namespaces (a seccomp filter), and descriptors of podd or the monitor (issue 9, items 2 and 15)."""
import glob
import os
import shutil
import socket
import tempfile

import pytest

from harness import Podd, pod_manifest, wait_for

# Each line: a device the workload makes with mknod and then opens. All must fail to open
# (EPERM from the device program), though mknod itself is allowed as runc allows it.
FORBIDDEN = [("loop0", "b", 7, 0), ("tun", "c", 10, 200), ("kvm", "c", 10, 232), ("vcs", "c", 7, 0),
             ("mem", "c", 1, 1), ("sda", "b", 8, 0)]
UNIFIED = next((line.split()[4] for line in open("/proc/self/mountinfo") if " - cgroup2 " in line), None)
ALLOWED = [("null", "c", 1, 3), ("zero", "c", 1, 5), ("urandom", "c", 1, 9), ("full", "c", 1, 7)]


def probe_script():
    lines = []
    for name, kind, major, minor in FORBIDDEN + ALLOWED:
        lines.append(f"mknod /tmp/d-{name} {kind} {major} {minor} 2>/dev/null; "
                     f"if head -c 1 /tmp/d-{name} >/dev/null 2>/tmp/err-{name}; then echo {name}=open; "
                     f"else echo {name}=$(cat /tmp/err-{name}); fi")
    return "; ".join(lines)


def check_devices(out):
    results = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    for name, *_ in FORBIDDEN:
        assert "Operation not permitted" in results.get(name, ""), (name, out)
    for name, *_ in ALLOWED:
        assert results.get(name) == "open", (name, out)


@pytest.fixture
def box(podd):
    r = podd.create(pod_manifest("box", [("app", "exec sleep 100000")], terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    podd.wait_running("box")
    return podd


def test_host_devices_cannot_be_opened(box):
    out = box.podctl("exec", "box", "--", "sh", "-c", probe_script()).stdout
    check_devices(out)
    # The devices of the minimal /dev keep working, and so do ptys.
    out = box.podctl("exec", "box", "--", "sh", "-c",
                     "echo x > /dev/null && head -c 4 /dev/urandom | wc -c && head -c 3 /dev/zero | wc -c "
                     "&& ls /dev/pts/ptmx && echo ok").stdout
    assert out.split() == ["4", "3", "/dev/pts/ptmx", "ok"], out


def test_default_devices_are_nodes_of_the_containers_own_dev(box):
    """The six default devices are character devices made in the container's /dev tmpfs
    (read-write for all, as the host's are), not bind mounts of the host's nodes: none of
    them is a mount point of the container's namespace."""
    out = box.podctl("exec", "box", "--", "sh", "-c",
                     "for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a' /dev/$d; done; "
                     "cat /proc/self/mountinfo").stdout
    nodes = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("/dev/")}
    expected = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8", "urandom": "1:9", "tty": "5:0"}
    for name, numbers in expected.items():
        kind, major_minor, mode = " ".join(nodes[f"/dev/{name}"][:-2]), nodes[f"/dev/{name}"][-2], nodes[f"/dev/{name}"][-1]
        assert kind == "character special file", (name, out)
        assert major_minor == numbers, (name, out)  # stat prints hex; these are single digits
        assert mode == "666", (name, out)
    mount_points = {line.split()[4] for line in out.splitlines() if " - " in line}
    assert not mount_points & {f"/dev/{name}" for name in expected}, out


def test_a_container_cannot_change_the_hosts_device_nodes(box):
    """Root in a container may chmod its /dev/null (CAP_FOWNER is in the default set): that
    changes its own node only. Were the host's node bound in, the host's /dev/null would
    become unusable for every other process on the machine."""
    before = {name: os.stat(f"/dev/{name}").st_mode for name in ("null", "zero", "urandom")}
    try:
        out = box.podctl("exec", "box", "--", "sh", "-c",
                         "chmod 000 /dev/null /dev/zero /dev/urandom && stat -c '%a' /dev/null").stdout
        assert out.split() == ["0"], out
        assert {name: os.stat(f"/dev/{name}").st_mode for name in before} == before
    finally:
        for name, mode in before.items():
            os.chmod(f"/dev/{name}", mode & 0o7777)


def test_a_terminal_still_works(podd):
    r = podd.create(pod_manifest("tty", [{"name": "app", "tty": True, "stdin": True,
                                          "command": ["sh", "-c", "tty; exec sleep 100000"]}],
                                 terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    podd.wait_running("tty")
    wait_for(lambda: "/dev/pts/" in podd.log("tty"), what="the container's tty")


def test_no_new_user_namespace(box):
    r = box.podctl("exec", "box", "--", "sh", "-c", "unshare -Urm true; echo rc=$?", check=False)
    assert "rc=0" not in r.stdout and "rc=" in r.stdout, r.stdout + r.stderr
    r = box.podctl("exec", "box", "--", "sh", "-c", "unshare -n true; echo rc=$?", check=False)
    assert "rc=0" not in r.stdout, r.stdout + r.stderr
    # Ordinary process creation (fork, threads through clone) is untouched.
    out = box.podctl("exec", "box", "--", "sh", "-c", "(echo child) && sleep 0 && echo done").stdout
    assert out.split() == ["child", "done"]


def test_debug_container_is_covered_too(box):
    r = box.podctl("debug", "box", "--image", "busybox", "--", "sh", "-c", probe_script(), check=False, timeout=60)
    check_devices(r.stdout)


def bpf_program_ids(pid):
    """The ids of the BPF programs process `pid` holds an fd of."""
    ids = []
    for fd, target in fds_of(pid).items():
        if target == "anon_inode:bpf-prog":
            info = open(f"/proc/{pid}/fdinfo/{fd}").read()
            ids += [int(line.split()[1]) for line in info.splitlines() if line.startswith("prog_id:")]
    return ids


def test_monitors_after_the_first_attach_the_program_it_loaded(podd):
    """The allowlist is loaded once per podd, not once per pod: the first monitor hands the
    program it loaded to podd, which gives it to every monitor after it (the kernel's
    verifier is about 0.5 ms of CPU on each pod's start). Each pod's containers are still
    held to the list."""
    names = ["bpf1", "bpf2", "bpf3"]
    for n in names:
        r = podd.create(pod_manifest(n, [("app", "exec sleep 100000")], terminationGracePeriodSeconds=0))
        assert r.status == 201, r.text
        podd.wait_running(n)
    monitors = [int(open(podd.run_dir / "pods" / podd.pod(n)["metadata"]["uid"] / "monitor.pid").read().split()[0])
                for n in names]
    ids = [bpf_program_ids(m) for m in monitors]
    if not ids[0]:
        pytest.skip("the kernel refuses bpf(2) to the monitors here: no device program to share")
    assert all(len(i) == 1 for i in ids), ids
    assert ids[1] == ids[0] and ids[2] == ids[0], ids
    for n in names[1:]:
        check_devices(podd.podctl("exec", n, "--", "sh", "-c", probe_script()).stdout)


def test_without_a_cgroup_v2_group_the_v1_devices_controller_holds_the_list(busybox_tar):
    """A pod whose cgroup cannot be made still runs (and says why: FailedCgroup), and the v1
    devices controller enforces the same allowlist."""
    unified = UNIFIED
    if unified is None or not os.path.isdir("/sys/fs/cgroup/devices"):
        pytest.skip("needs a cgroup2 mount and a v1 devices hierarchy")
    parent = f"podd-test-nocg-{os.getpid()}"
    os.mkdir(f"{unified}/{parent}")
    try:
        # No group may be made below it: creating the pod's group fails with EAGAIN.
        with open(f"{unified}/{parent}/cgroup.max.descendants", "w") as f:
            f.write("0")
        root = tempfile.mkdtemp(prefix="podd-", dir="/tmp")  # short: socket paths
        d = Podd(root, extra_config=f"cgroupParent: {parent}\n").start()
        try:
            d.podctl("image", "import", "busybox", str(busybox_tar))
            r = d.create(pod_manifest("nocg", [("app", "exec sleep 100000")], terminationGracePeriodSeconds=0))
            assert r.status == 201, r.text
            d.wait_running("nocg")
            events = wait_for(lambda: [e for e in d.get("/api/v1/namespaces/default/events").json()["items"]
                                       if e["reason"] == "FailedCgroup"], what="a FailedCgroup event")
            assert events[0]["type"] == "Warning" and parent in events[0]["message"], events
            assert "error" in d.log_text() and "no cgroup of its own" in d.log_text(), d.log_text()
            out = d.podctl("exec", "nocg", "--", "sh", "-c", probe_script()).stdout
            check_devices(out)
        finally:
            d.cleanup()
            shutil.rmtree(root, ignore_errors=True)
    finally:
        os.rmdir(f"{unified}/{parent}")
        # podd made its base group of that name on each v1 hierarchy it uses too.
        for base in glob.glob(f"/sys/fs/cgroup/*/{parent}"):
            os.rmdir(base)


def fds_of(pid):
    """fd number -> what it points to."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return out


def test_no_descriptor_of_podd_reaches_a_monitor_or_container(podd):
    """API connections open while pods start must not be inherited by the monitors podd
    spawns (they would outlive podd) nor by containers."""
    idle = []
    for _ in range(8):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(podd.socket)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request: the connection stays open
        idle.append(s)
    try:
        names = [f"fd{i}" for i in range(3)]
        for n in names:
            assert podd.create(pod_manifest(n, [("app", "exec sleep 100000")], terminationGracePeriodSeconds=0)).status == 201
        for n in names:
            podd.wait_running(n)
        for n in names:
            pod = podd.pod(n)
            uid = pod["metadata"]["uid"]
            monitor = int(open(podd.run_dir / "pods" / uid / "monitor.pid").read().split()[0])
            mfds = fds_of(monitor)
            # The monitor's own: stdio (/dev/null), its control connection and listening
            # socket, signalfd, epoll, the BPF program, the container's pipes and log.
            sockets = [t for fd, t in mfds.items() if t.startswith("socket:")]
            assert len(sockets) <= 3, mfds
            for fd, target in mfds.items():
                assert (target.startswith(("socket:", "pipe:", "anon_inode:", "/dev/null"))
                        or target.endswith(".log")), (fd, target, mfds)
            # The container's process: only 0, 1, 2.
            procs = open(f"{UNIFIED}/podd/{uid}/app/cgroup.procs").read().split()
            assert procs
            for pid in procs:
                assert sorted(fds_of(int(pid))) == [0, 1, 2], fds_of(int(pid))
    finally:
        for s in idle:
            s.close()


def test_api_clients_see_the_close_when_podd_is_killed(podd):
    """Connections open while monitors are spawned are podd's alone: once podd dies (kill -9),
    each client sees its connection end, instead of hanging until its own timeout."""
    import signal as _signal
    clients = []
    for _ in range(8):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(podd.socket)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request: in flight
        clients.append(s)
    for i in range(3):
        assert podd.create(pod_manifest(f"k{i}", [("app", "exec sleep 100000")], terminationGracePeriodSeconds=0)).status == 201
    for i in range(3):
        podd.wait_running(f"k{i}")
    podd.proc.send_signal(_signal.SIGKILL)
    podd.proc.wait(10)
    for s in clients:
        s.settimeout(10)
        assert s.recv(100) == b"", "the connection must end with podd"
        s.close()
    podd.start()  # so that cleanup deletes the pods
