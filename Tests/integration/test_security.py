"""What a hostile workload or image tries, and how it fails (issue 9): host devices (mknod
and open), a user namespace made inside a container, hostPath and mountPath symlink
escapes, podd's API socket and state dir seen from inside a pod, and image tarballs whose
entries escape the image directory."""
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from pathlib import Path

import pytest

from harness import pod_manifest, wait_for

# Devices a default pod must not reach (issue 9 item 2): (host node, type, major, minor). vda
# is this machine's root disk.
HOST_DEVICES = [("/dev/loop0", "b", 7, 0), ("/dev/kvm", "c", 10, 232), ("/dev/net/tun", "c", 10, 200),
                ("/dev/vcs", "c", 7, 0), ("/dev/vda", "b", 254, 0), ("/dev/sda", "b", 8, 0), ("/dev/mem", "c", 1, 1)]


def sh(podd, pod, script, container=None):
    """Runs `sh -c script` in the pod; (exit status, stdout + stderr)."""
    args = ["exec", pod] + (["-c", container] if container else []) + ["--", "sh", "-c", script]
    r = podd.podctl(*args, check=False)
    return r.returncode, r.stdout + r.stderr


def running_pod(podd, name="sec", **spec):
    m = pod_manifest(name, [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0, **spec)
    r = podd.create(m)
    assert r.status == 201, r.text
    podd.wait_running(name)
    return m


# --- host devices ----------------------------------------------------------------------

@pytest.mark.parametrize("node,kind,major,minor", HOST_DEVICES, ids=[d[0].rsplit("/", 1)[1] for d in HOST_DEVICES])
def test_host_device_cannot_be_made_and_opened(podd, node, kind, major, minor):
    try:
        st = os.stat(node)
    except OSError:
        pytest.skip(f"this machine has no {node}: opening it would fail in any case")
    if os.major(st.st_rdev) != major or os.minor(st.st_rdev) != minor:
        pytest.skip(f"{node} is not {major}:{minor} here")
    name = node.rsplit("/", 1)[1]
    running_pod(podd)
    # Made with mknod (refused without CAP_MKNOD) or, if made, not openable (device filter).
    # Opening is the test (a read or write may fail for other reasons: kvm takes only ioctls).
    status, out = sh(podd, "sec", f"mknod /tmp/{name} {kind} {major} {minor} && echo MADE; "
                                  f"(exec 3</tmp/{name}) && echo OPENED; (exec 3<>/tmp/{name}) && echo WROTE; true")
    assert status == 0, out
    assert "OPENED" not in out and "WROTE" not in out, f"/dev/{name} ({kind} {major}:{minor}) reachable from a pod:\n{out}"


def test_allowed_devices_still_work(podd):
    running_pod(podd)
    status, out = sh(podd, "sec", "head -c 8 /dev/zero | wc -c; head -c 8 /dev/urandom | wc -c; "
                                  "echo x > /dev/null && echo NULL_OK; ls /dev")
    assert status == 0, out
    assert out.split()[:2] == ["8", "8"] and "NULL_OK" in out, out


def test_no_user_namespace_inside_a_container(podd):
    """`unshare -Urm` inside a container (issue 9 item 2: the default seccomp profile refuses
    new user namespaces, as Docker's does)."""
    running_pod(podd)
    status, out = sh(podd, "sec", "unshare -Urm true && echo UNSHARED; true")
    assert "UNSHARED" not in out, out


def test_devices_of_the_pod_come_from_the_allowlist(podd):
    running_pod(podd)
    status, out = sh(podd, "sec", "ls /dev")
    names = set(out.split())
    allowed = {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue", "fd", "stdin",
               "stdout", "stderr", "console", "core", "termination-log"}
    assert names <= allowed, f"devices beyond runc's allowlist in /dev: {sorted(names - allowed)}"


# --- hostPath and mountPath symlink escapes --------------------------------------------

def _refused_or_not_running(podd, m):
    """The pod is refused (4xx), or it never runs its container (the mount failed)."""
    r = podd.create(m)
    if 400 <= r.status < 500:
        return r
    assert r.status == 201, r.text
    try:
        podd.wait_running(m["metadata"]["name"], timeout=8)
    except AssertionError:
        return r
    return None


def test_hostpath_of_root_is_refused(podd):
    m = pod_manifest("root", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                     volumes=[{"name": "h", "hostPath": {"path": "/"}}])
    m["spec"]["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/host"}]
    assert _refused_or_not_running(podd, m) is not None, "a pod mounting the host's / runs"


def test_hostpath_through_a_symlink_to_root_is_refused(podd, tmp_path):
    link = tmp_path / "innocent"
    link.symlink_to("/")
    m = pod_manifest("link", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                     volumes=[{"name": "h", "hostPath": {"path": str(link)}}])
    m["spec"]["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/host"}]
    if _refused_or_not_running(podd, m) is None:
        _, out = sh(podd, "link", "ls /host")
        pytest.fail(f"a hostPath through a symlink to / mounts the host's root:\n{out}")


def test_hostpath_of_podds_own_dirs_is_refused(podd, tmp_path):
    link = tmp_path / "state-link"
    link.symlink_to(podd.state_dir)
    for i, path in enumerate([str(podd.state_dir), str(podd.run_dir), str(link), str(podd.state_dir / "pods")]):
        m = pod_manifest(f"own{i}", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                         volumes=[{"name": "h", "hostPath": {"path": path}}])
        m["spec"]["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/host"}]
        if _refused_or_not_running(podd, m) is None:
            _, out = sh(podd, f"own{i}", "ls /host")
            pytest.fail(f"a hostPath of podd's own dir {path} is mounted in a pod:\n{out}")


def test_a_hostpath_made_after_a_symlink_swap_is_refused_before_anything_is_made(busybox_tar, tmp_path):
    """hostPathAllow holds only `allowed`. A pod mounts allowed/x/made (DirectoryOrCreate);
    then allowed/x is swapped for a symlink to a directory outside, as a pod writing into a
    directory it mounts could, and the pod's monitor dies, so podd makes the pod's sandbox
    again. podd must refuse the volume before it makes anything: it used to mkdir -p through
    the symlink first (a directory made where the policy allows none), then refuse."""
    from harness import Podd
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "x").mkdir(parents=True)
    outside.mkdir()
    root = tempfile.mkdtemp(prefix="podd-", dir="/tmp")   # short: monitor sockets live below it
    d = Podd(Path(root), extra_config=f"hostPathAllow: [{allowed}]\n").start()
    try:
        d.podctl("image", "import", "busybox", str(busybox_tar))
        m = pod_manifest("hp", [{"name": "c", "image": "busybox", "command": ["sleep", "3600"],
                                 "volumeMounts": [{"name": "h", "mountPath": "/h"}]}], terminationGracePeriodSeconds=0,
                         volumes=[{"name": "h", "hostPath": {"path": str(allowed / "x" / "made"), "type": "DirectoryOrCreate"}}])
        assert d.create(m).status == 201
        uid = d.wait_running("hp")["metadata"]["uid"]
        assert (allowed / "x" / "made").is_dir()
        (allowed / "x").rename(allowed / "x.old")
        (allowed / "x").symlink_to(outside)
        os.kill(int((d.run_dir / "pods" / uid / "monitor.pid").read_text().split()[0]), 9)

        def refused():
            events = d.get("/api/v1/namespaces/default/events").json()["items"]
            return [e["message"] for e in events if "refused" in e["message"] and "hostPath" in e["message"]]
        wait_for(refused, timeout=30, what="the hostPath refused when the sandbox is made again")
        assert not (outside / "made").exists(), "podd made a directory through the symlink, outside hostPathAllow"
    finally:
        d.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _image_with_symlink(podd, busybox_rootfs, tmp_path, name, link, target):
    root = tmp_path / name
    shutil.copytree(busybox_rootfs, root, symlinks=True)
    (root / link).symlink_to(target)
    podd.podctl("image", "import", name, str(root))


def _monitor_mounts(podd, uid):
    from inventory import monitors_of
    for pid in monitors_of(podd):
        if uid.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            return [line.split()[4] for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines()]
    return []


@pytest.fixture
def stress_path():
    import sys
    from harness import REPO
    sys.path.insert(0, str(REPO / "scripts" / "stress"))


def test_mount_path_that_is_a_symlink_to_host_etc_lands_inside_the_root(podd, busybox_rootfs, tmp_path, stress_path):
    """The image's /data is a symlink to /etc: a volume mounted at /data lands in the
    container's /etc (or is refused), never on the host's /etc as the monitor sees it."""
    _image_with_symlink(podd, busybox_rootfs, tmp_path, "evil-etc", "data", "/etc")
    hp = tmp_path / "vol"
    hp.mkdir()
    (hp / "marker").write_text("from the volume\n")
    m = pod_manifest("etc", [{"name": "c", "image": "evil-etc", "command": ["sleep", "3600"],
                              "volumeMounts": [{"name": "h", "mountPath": "/data"}]}],
                     terminationGracePeriodSeconds=0, volumes=[{"name": "h", "hostPath": {"path": str(hp)}}])
    r = podd.create(m)
    if 400 <= r.status < 500:
        return
    assert r.status == 201, r.text
    try:
        pod = podd.wait_running("etc", timeout=10)
    except AssertionError:
        return  # refused at start: contained
    uid = pod["metadata"]["uid"]
    mounts = _monitor_mounts(podd, uid)
    assert "/etc" not in mounts, f"the volume was mounted on the host's /etc (seen from the pod's monitor): {mounts}"
    status, out = sh(podd, "etc", "cat /data/marker; cat /etc/marker")
    assert out.count("from the volume") == 2, f"the volume is not at the container's /etc:\n{out}"
    # The host's /etc is untouched.
    assert not Path("/etc/marker").exists()


def test_mount_path_through_a_relative_symlink_out_of_the_root(podd, busybox_rootfs, tmp_path, stress_path):
    _image_with_symlink(podd, busybox_rootfs, tmp_path, "evil-up", "up", "../../../../../../../../tmp")
    m = pod_manifest("up", [{"name": "c", "image": "evil-up", "command": ["sleep", "3600"],
                             "volumeMounts": [{"name": "e", "mountPath": "/up/escaped"}]}],
                     terminationGracePeriodSeconds=0, volumes=[{"name": "e", "emptyDir": {}}])
    r = podd.create(m)
    if 400 <= r.status < 500:
        return
    try:
        pod = podd.wait_running("up", timeout=10)
    except AssertionError:
        return
    mounts = _monitor_mounts(podd, pod["metadata"]["uid"])
    assert "/tmp/escaped" not in mounts, f"the volume was mounted at the host's /tmp: {mounts}"
    assert not Path("/tmp/escaped").exists(), "an emptyDir's mount point was made on the host"


@pytest.mark.parametrize("redirect", ["into-a-volume", "elsewhere-in-the-image"])
def test_an_image_whose_proc_is_a_symlink_gets_no_unmasked_proc(podd, busybox_rootfs, tmp_path, redirect):
    """The image's /proc is a symlink (through one into a volume mounted later, or straight to
    another directory of the image): proc must not land where no mask covers it, which gave
    a default container a writable host /proc/sys (core_pattern: host root). Refused at
    start, as runc refuses proc on anything but a plain directory."""
    root = tmp_path / "evilproc"
    shutil.copytree(busybox_rootfs, root, symlinks=True)
    (root / "proc").rmdir()
    (root / "realproc").mkdir()
    (root / "v").mkdir()
    if redirect == "into-a-volume":
        (root / "v" / "x").symlink_to("/realproc")
        (root / "proc").symlink_to("/v/x")
    else:
        (root / "proc").symlink_to("/realproc")
    podd.podctl("image", "import", "evilproc", str(root))
    m = pod_manifest("p5", [{"name": "a", "image": "evilproc", "command": ["sleep", "3600"],
                             "volumeMounts": [{"name": "v", "mountPath": "/v"}]}],
                     terminationGracePeriodSeconds=0, volumes=[{"name": "v", "emptyDir": {}}])
    assert podd.create(m).status == 201

    def refused():
        st = (podd.pod("p5")["status"].get("containerStatuses") or [{}])[0]
        if "running" in st.get("state", {}):
            return "running"
        last = st.get("lastState", {}).get("terminated") or st.get("state", {}).get("waiting") or {}
        return last.get("message") if "symlink" in (last.get("message") or "") else None

    outcome = wait_for(refused, timeout=30, what="the container refused for its /proc symlink")
    if outcome == "running":
        status, out = sh(podd, "p5", "cat /proc/self/mounts; touch /realproc/sys/kernel/core_pattern && echo WRITABLE")
        pytest.fail(f"the container runs with proc at its image's redirect:\n{out}")
    assert "/proc" in outcome and "proc is mounted on a plain directory only" in outcome, outcome


def test_subpath_escape_is_refused(podd):
    m = pod_manifest("sub", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                     volumes=[{"name": "e", "emptyDir": {}}])
    m["spec"]["containers"][0]["volumeMounts"] = [{"name": "e", "mountPath": "/x", "subPath": "../../../../etc"}]
    r = podd.create(m)
    assert 400 <= r.status < 500, f"a subPath with '..' answered {r.status}"


# --- the API socket and the state dir, seen from a pod ---------------------------------

def _exposes(mountinfo_line, paths):
    """Whether a mount (a /proc/self/mountinfo line seen in the pod) shows one of `paths`:
    mounted at or under it, or a bind of it or of a directory holding it. Overlay, proc,
    sysfs and the pod's tmpfs mounts have roots of their own: their options name podd's
    dirs, which shows names, not contents."""
    fields = mountinfo_line.split()
    root, point = fields[3], fields[4]
    fstype = fields[fields.index("-") + 1]
    for p in paths:
        if point == p or point.startswith(p + "/"):
            return True
        if fstype not in ("overlay", "proc", "sysfs", "tmpfs", "devtmpfs", "devpts", "mqueue", "cgroup2", "cgroup") \
                and (root == p or p.startswith(root.rstrip("/") + "/")):
            return True
    return False


def test_api_socket_and_state_dir_not_visible_in_a_pod(podd, stress_path):
    running_pod(podd)
    status, mountinfo = sh(podd, "sec", "cat /proc/self/mountinfo")
    assert status == 0, mountinfo
    private = [podd.socket, str(podd.state_dir), str(podd.run_dir), str(podd.root)]
    exposed = [line for line in mountinfo.splitlines() if line.strip() and _exposes(line, private)]
    assert exposed == [], "mounts in the pod that show podd's socket or dirs:\n" + "\n".join(exposed)
    for path in (podd.socket, str(podd.state_dir), str(podd.run_dir), str(podd.state_dir / "pods")):
        status, out = sh(podd, "sec", f"ls -d {path} && echo VISIBLE; true")
        assert "VISIBLE" not in out, f"{path} is visible from inside a pod:\n{out}"
    status, out = sh(podd, "sec", "find / -xdev \\( -name podd.sock -o -name pod.json \\) 2>/dev/null; true")
    assert "podd.sock" not in out and "pod.json" not in out, out
    # And no process of the pod holds one of them open.
    from inventory import inherited_api_sockets
    assert inherited_api_sockets(podd) == []


# --- image tarballs that escape --------------------------------------------------------

def _tar(entries):
    """A tarball from (kind, name, data-or-target) entries, made byte by byte: tar(1) would
    refuse to write some of these."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for kind, name, data in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o755 if kind == "dir" else 0o644
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                t.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = data
                t.addfile(info)
    return buf.getvalue()


@pytest.fixture
def outside(tmp_path):
    """A directory outside podd's dirs that an escaping tarball aims at."""
    d = Path("/tmp") / f"podd-escape-{uuid.uuid4().hex[:8]}"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _import(podd, tmp_path, name, data):
    f = tmp_path / f"{name}.tar"
    f.write_bytes(data)
    return podd.podctl("image", "import", name, str(f), check=False)


def _written_outside(podd, outside, marker):
    hits = [str(p) for p in outside.rglob("*")]
    for base in (Path("/tmp"), podd.root, podd.state_dir, podd.state_dir / "images"):
        hits += [str(p) for p in base.glob(f"*{marker}*")]
    return hits


def test_tar_entry_with_dotdot_writes_nothing_outside(podd, tmp_path, outside):
    marker = f"dotdot-{uuid.uuid4().hex[:6]}"
    up = "../" * 12
    data = _tar([("dir", "bin", None), ("file", "bin/ok", b"ok"),
                 ("file", f"{up}{str(outside).lstrip('/')}/{marker}", b"escaped"),
                 ("file", f"../{marker}", b"escaped"), ("file", f"../../{marker}", b"escaped"),
                 ("file", f"../../../{marker}", b"escaped")])
    _import(podd, tmp_path, "dotdot", data)
    assert _written_outside(podd, outside, marker) == []


def test_tar_entry_with_absolute_path_writes_nothing_outside(podd, tmp_path, outside):
    marker = f"abs-{uuid.uuid4().hex[:6]}"
    data = _tar([("dir", "bin", None), ("file", f"{outside}/{marker}", b"escaped")])
    r = _import(podd, tmp_path, "absolute", data)
    assert _written_outside(podd, outside, marker) == []
    if r.returncode == 0:
        # Neutralised: the entry lands inside the image.
        images = podd.state_dir / "images"
        assert list(images.rglob(marker)), "an absolute entry was neither refused nor kept inside the image"


def test_tar_symlink_then_file_through_it_writes_nothing_outside(podd, tmp_path, outside):
    marker = f"through-{uuid.uuid4().hex[:6]}"
    for i, target in enumerate([str(outside), "../" * 12 + str(outside).lstrip("/")]):
        data = _tar([("dir", "bin", None), ("symlink", "evil", target), ("file", f"evil/{marker}", b"escaped"),
                     ("dir", "evil/sub", None)])
        _import(podd, tmp_path, f"through{i}", data)
        assert _written_outside(podd, outside, marker) == [], f"a file written through a symlink to {target}"


def test_tar_hardlink_to_a_host_file_does_not_change_it(podd, tmp_path, outside):
    victim = outside / "victim"
    victim.write_text("original\n")
    data = _tar([("dir", "bin", None), ("hardlink", "hl", str(victim)), ("file", "hl", b"overwritten\n"),
                 ("hardlink", "hl2", "../" * 12 + str(victim).lstrip("/"))])
    _import(podd, tmp_path, "hardlink", data)
    assert victim.read_text() == "original\n"
    # A hard link into the store would let a pod write the host file later.
    assert victim.stat().st_nlink == 1, "the image holds a hard link to a host file"


def test_refused_imports_leave_no_spool(podd, tmp_path):
    _import(podd, tmp_path, "garbage", b"this is not a tarball" * 100)
    incoming = podd.state_dir / "images" / ".incoming"
    wait_for(lambda: not incoming.is_dir() or not list(incoming.iterdir()), timeout=5,
             what="images/.incoming empty after a refused import")
