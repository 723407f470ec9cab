"""securityContext, seccomp and the host namespaces (issue 12): each field's effect observed
from inside the container (its /proc/self/status, what it can write, ping, the clock), and
the bad input Kubernetes refuses (unknown capability, unsafe sysctl) or reports as a waiting
reason (runAsNonRoot with a root image, a missing Localhost profile)."""
import json
import os
import shutil
import subprocess
import tarfile

import pytest

import cbpf
from harness import pod_manifest, processes_with, wait_for

# A dry way to test CAP_SYS_TIME: settimeofday(NULL, NULL) checks the capability (and the
# seccomp filter's rule for it) and changes nothing, so the host's clock never moves.
SETTIME_CHECK = r"""
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    /* The raw call: glibc's wrapper reads *tv even when it is NULL. */
    if (syscall(SYS_settimeofday, NULL, NULL) == 0) { puts("SETTIME_ALLOWED"); return 0; }
    printf("SETTIME_REFUSED %s\n", strerror(errno));
    return 1;
}
"""


@pytest.fixture(scope="module")
def app_image_tar(busybox_rootfs, tmp_path_factory):
    """The busybox image plus a user `app` (1000) that /etc/group lists in `devs` (2500), and
    the settimeofday checker: what containerd reads for groups, and a dry clock test."""
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler (cc) to build the settimeofday checker")
    root = tmp_path_factory.mktemp("app-image") / "rootfs"
    shutil.copytree(busybox_rootfs, root, symlinks=True)
    with open(root / "etc/passwd", "a") as f:
        f.write("app:x:1000:1000:app:/home/app:/bin/sh\n")
    with open(root / "etc/group", "a") as f:
        f.write("app:x:1000:\ndevs:x:2500:app,other\n")
    src = root.parent / "settime.c"
    src.write_text(SETTIME_CHECK)
    subprocess.run(["cc", "-static", "-O2", "-o", str(root / "bin/settime-check"), str(src)], check=True)
    tar = root.parent / "app.tar"
    subprocess.run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(tar), "."], check=True)
    return tar


@pytest.fixture
def sc_podd(podd, app_image_tar):
    podd.podctl("image", "import", "app", str(app_image_tar))
    return podd


def status_fields(text):
    """The `Key:\tvalue` lines of /proc/self/status as a dict."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def run_pod(podd, name, script, image="busybox", container_sc=None, **spec):
    """A running pod whose one container `c` runs SCRIPT then sleeps."""
    c = {"name": "c", "image": image, "command": ["sh", "-c", script + "; exec sleep 3600"]}
    if container_sc is not None:
        c["securityContext"] = container_sc
    m = pod_manifest(name, [c], terminationGracePeriodSeconds=0, **spec)
    r = podd.create(m)
    assert r.status == 201, r.text
    podd.wait_running(name)
    return m


def sh(podd, pod, script):
    r = podd.podctl("exec", pod, "--", "sh", "-c", script, check=False)
    return r.returncode, r.stdout + r.stderr


def waiting(podd, name, reason, timeout=30):
    def check():
        pod = podd.pod(name)
        st = (pod or {}).get("status", {}).get("containerStatuses") or []
        w = st[0].get("state", {}).get("waiting") if st else None
        return w if w and w.get("reason") == reason else None
    return wait_for(check, timeout=timeout, what=f"waiting reason {reason}")


# --- user, groups ---------------------------------------------------------------------

def test_run_as_user_group_and_groups(sc_podd):
    run_pod(sc_podd, "ids", "true", securityContext={"runAsUser": 1000, "runAsGroup": 3000,
                                                      "supplementalGroups": [4000], "fsGroup": 2000})
    status, out = sh(sc_podd, "ids", "cat /proc/self/status; id")
    assert status == 0, out
    f = status_fields(out)
    assert f["Uid"].split() == ["1000"] * 4 and f["Gid"].split() == ["3000"] * 4, out
    assert set(f["Groups"].split()) == {"2000", "4000"}, out
    # The container's own process too, not only the exec.
    status, out = sh(sc_podd, "ids", "cat /proc/1/status")
    assert status_fields(out)["Uid"].split()[0] == "1000", out


def test_image_group_memberships_are_added_as_containerd_does(sc_podd):
    run_pod(sc_podd, "grp", "true", image="app", securityContext={"runAsUser": 1000})
    status, out = sh(sc_podd, "grp", "cat /proc/self/status")
    f = status_fields(out)
    # No runAsGroup: the primary group of uid 1000 in the image's /etc/passwd.
    assert f["Gid"].split()[0] == "1000", out
    assert "2500" in f["Groups"].split(), out
    run_pod(sc_podd, "strict", "true", image="app",
            securityContext={"runAsUser": 1000, "supplementalGroupsPolicy": "Strict"})
    status, out = sh(sc_podd, "strict", "cat /proc/self/status")
    assert "2500" not in status_fields(out)["Groups"].split(), out


def test_non_root_cannot_write_root_owned_files(sc_podd):
    run_pod(sc_podd, "nonroot", "true", container_sc={"runAsUser": 1000, "runAsNonRoot": True})
    status, out = sh(sc_podd, "nonroot", "echo x >> /etc/passwd && echo WROTE_PASSWD; "
                                         "touch /root/x && echo WROTE_ROOT; touch /tmp/ok && echo TMP_OK")
    assert "WROTE_PASSWD" not in out and "WROTE_ROOT" not in out, out
    assert "TMP_OK" in out, out


def test_fs_group_owns_the_empty_dirs(sc_podd):
    volumes = [{"name": "disk", "emptyDir": {}}, {"name": "mem", "emptyDir": {"medium": "Memory"}}]
    c = {"name": "c", "image": "busybox", "command": ["sh", "-c", "exec sleep 3600"],
         "volumeMounts": [{"name": "disk", "mountPath": "/disk"}, {"name": "mem", "mountPath": "/mem"}]}
    m = pod_manifest("fsg", [c], terminationGracePeriodSeconds=0, volumes=volumes,
                     securityContext={"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000})
    r = sc_podd.create(m)
    assert r.status == 201, r.text
    sc_podd.wait_running("fsg")
    status, out = sh(sc_podd, "fsg", "for d in /disk /mem; do stat -c '%n %g %A' $d; touch $d/f && stat -c '%n %g' $d/f; done")
    assert status == 0, out
    lines = out.split("\n")
    assert "/disk 2000 " in out and "/mem 2000 " in out, out
    for line in lines:
        if line.startswith(("/disk ", "/mem ")):
            mode = line.split()[2]
            assert mode[6] in "sS", f"no setgid bit: {line}"
    # Files made inside inherit the group (setgid directory), as on kubelet.
    assert "/disk/f 2000" in out and "/mem/f 2000" in out, out


# --- capabilities -----------------------------------------------------------------------

def test_dropping_net_raw_makes_ping_fail(sc_podd):
    run_pod(sc_podd, "ping-ok", "true")
    status, out = sh(sc_podd, "ping-ok", "ping -c 1 -W 2 127.0.0.1 && echo PING_OK")
    assert "PING_OK" in out, out
    run_pod(sc_podd, "ping-no", "true", container_sc={"capabilities": {"drop": ["NET_RAW"]}})
    status, out = sh(sc_podd, "ping-no", "ping -c 1 -W 2 127.0.0.1 && echo PING_OK")
    assert "PING_OK" not in out, out


def test_sys_time_allows_setting_the_clock_only_with_the_capability(sc_podd):
    run_pod(sc_podd, "clock-no", "true", image="app")
    status, out = sh(sc_podd, "clock-no", "settime-check")
    assert "SETTIME_REFUSED" in out, out
    run_pod(sc_podd, "clock-yes", "true", image="app", container_sc={"capabilities": {"add": ["SYS_TIME"]}})
    status, out = sh(sc_podd, "clock-yes", "settime-check")
    assert "SETTIME_ALLOWED" in out, out


def test_capability_sets_in_status(sc_podd):
    run_pod(sc_podd, "caps", "true", container_sc={"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}})
    status, out = sh(sc_podd, "caps", "cat /proc/self/status")
    f = status_fields(out)
    assert int(f["CapBnd"], 16) == 1 << 10 and int(f["CapEff"], 16) == 1 << 10, out


def test_privileged_has_every_capability_and_host_devices(sc_podd):
    run_pod(sc_podd, "priv", "true", container_sc={"privileged": True})
    status, out = sh(sc_podd, "priv", "cat /proc/self/status; ls /dev; grep ' /sys ' /proc/mounts")
    f = status_fields(out)
    with open("/proc/self/status") as s:
        host_bnd = status_fields(s.read())["CapBnd"]
    assert f["CapBnd"] == host_bnd and f["Seccomp"] == "0", out
    host_devs = [d for d in ("loop0", "vda", "sda", "kvm", "mem") if os.path.exists("/dev/" + d)]
    if host_devs:
        assert host_devs[0] in out.split(), out
    assert " rw," in out.split("/sys ", 1)[1].split("\n")[0] + ",", out


# --- no_new_privs, seccomp ---------------------------------------------------------------

def test_no_new_privs_and_seccomp_mode_in_status(sc_podd):
    run_pod(sc_podd, "nnp", "true", container_sc={"allowPrivilegeEscalation": False})
    status, out = sh(sc_podd, "nnp", "cat /proc/1/status")
    f = status_fields(out)
    assert f["NoNewPrivs"] == "1" and f["Seccomp"] == "2", out
    # podd's seccompDefault is on: a pod that sets nothing gets RuntimeDefault, no NNP.
    run_pod(sc_podd, "plain", "true")
    f = status_fields(sh(sc_podd, "plain", "cat /proc/1/status")[1])
    assert f["NoNewPrivs"] == "0" and f["Seccomp"] == "2", f
    run_pod(sc_podd, "unconf", "true", securityContext={"seccompProfile": {"type": "Unconfined"}})
    f = status_fields(sh(sc_podd, "unconf", "cat /proc/1/status")[1])
    assert f["Seccomp"] == "0", f


def test_runtime_default_refuses_what_containerd_refuses(sc_podd):
    run_pod(sc_podd, "rd", "true", container_sc={"seccompProfile": {"type": "RuntimeDefault"}})
    status, out = sh(sc_podd, "rd", "unshare -U true && echo UNSHARED; true")
    assert "UNSHARED" not in out, out


def test_runtime_default_program_is_short_and_decides_as_containerd(sc_podd):
    """The monitor installs RuntimeDefault as a binary search over ranges of call numbers
    (the kernel JIT-compiles every instruction at every container start and exec: libseccomp's
    one comparison per call and ABI is 1,237 instructions), used only when it decides as
    libseccomp's program does. The program a container got, read back from the shared cache
    and evaluated here by a BPF evaluator of the test's own."""
    run_pod(sc_podd, "short", "true")
    default_caps = sum(1 << c for c in (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31))
    [path] = (sc_podd.run_dir / "seccomp").glob(f"runtime-default-*-{default_caps:016x}.bpf")
    program = cbpf.load(path)
    assert len(program) < 700, f"{len(program)} instructions: libseccomp's program, not the short one"
    assert "decides differently" not in sc_podd.log_text() and "could not be checked" not in sc_podd.log_text()
    X64, I386, X32 = cbpf.AUDIT_ARCH_X86_64, cbpf.AUDIT_ARCH_I386, cbpf.X32_BIT
    allow, eperm = cbpf.SECCOMP_RET_ALLOW, cbpf.errno(1)
    expected = [
        # (arch, number, first argument, action)
        (X64, 0, 0, allow),                      # read
        (X64, 59, 0, allow),                     # execve
        (X64, 101, 0, allow),                    # ptrace (kernel >= 4.8: allowed)
        (X64, 165, 0, eperm),                    # mount: SYS_ADMIN only
        (X64, 272, 0, eperm),                    # unshare
        (X64, 308, 0, eperm),                    # setns
        (X64, 169, 0, eperm),                    # reboot
        (X64, 250, 0, eperm),                    # keyctl: not in the list
        (X64, 435, 0, cbpf.errno(38)),           # clone3: ENOSYS, libc falls back to clone
        (X64, 56, 0x01200011, allow),            # clone as fork does
        (X64, 56, 0x20000 | 0x11, eperm),        # clone(CLONE_NEWNS)
        (X64, 56, 0x10000000, eperm),            # clone(CLONE_NEWUSER)
        (X64, 41, 2, allow),                     # socket(AF_INET)
        (X64, 41, 40, eperm),                    # socket(AF_VSOCK)
        (X64, 41, (1 << 32) | 40, allow),        # not AF_VSOCK in 64 bits
        (X64, 135, 0, allow),                    # personality(PER_LINUX)
        (X64, 135, 0xFFFFFFFF, allow),           # personality query
        (X64, 135, 1, eperm),
        (X64, 1000, 0, eperm),                   # no such call
        (X64, X32 | 0, 0, allow),                # x32 read
        (X64, X32 | 165, 0, eperm),              # x32 mount
        (I386, 3, 0, allow),                     # i386 read
        (I386, 21, 0, eperm),                    # i386 mount
        (I386, 102, 0, allow),                   # socketcall
        (I386, 359, 40, eperm),                  # i386 socket(AF_VSOCK)
        (I386, 359, 1, allow),
        (0xC00000B7, 0, 0, cbpf.SECCOMP_RET_KILL_THREAD),  # another architecture (aarch64)
    ]
    wrong = [(hex(arch), nr, arg, hex(cbpf.decide(program, nr, arch, arg)), hex(action))
             for arch, nr, arg, action in expected if cbpf.decide(program, nr, arch, arg) != action]
    assert not wrong, wrong
    # And in the container: what the filter refuses fails, the rest works.
    status, out = sh(sc_podd, "short", "unshare -U true && echo UNSHARED; mkdir /tmp/d && echo MADE")
    assert "UNSHARED" not in out and "MADE" in out, out


def test_localhost_profile_from_the_profiles_dir(sc_podd):
    root = sc_podd.state_dir / "seccomp" / "profiles"
    root.mkdir(parents=True, exist_ok=True)
    (root / "no-mkdir.json").write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
    }))
    run_pod(sc_podd, "local", "true", container_sc={
        "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/no-mkdir.json"}})
    status, out = sh(sc_podd, "local", "mkdir /tmp/d && echo MADE; touch /tmp/f && echo TOUCHED")
    assert "MADE" not in out and "Permission denied" in out and "TOUCHED" in out, out


def test_missing_localhost_profile_is_a_waiting_reason(sc_podd):
    m = pod_manifest("noprof", [{"name": "c", "command": ["sleep", "3600"],
                                 "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "nope.json"}}}],
                     terminationGracePeriodSeconds=0)
    assert sc_podd.create(m).status == 201
    w = waiting(sc_podd, "noprof", "CreateContainerError")
    assert "nope.json" in w["message"] and "seccomp" in w["message"], w


# --- filesystems --------------------------------------------------------------------------

def test_read_only_root_filesystem_keeps_volumes_writable(sc_podd):
    c = {"name": "c", "image": "busybox", "command": ["sleep", "3600"], "securityContext": {"readOnlyRootFilesystem": True},
         "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}
    m = pod_manifest("ro", [c], terminationGracePeriodSeconds=0, volumes=[{"name": "scratch", "emptyDir": {}}])
    assert sc_podd.create(m).status == 201
    sc_podd.wait_running("ro")
    status, out = sh(sc_podd, "ro", "touch /x && echo ROOT_WRITTEN; touch /scratch/y && echo VOLUME_OK; "
                                    "echo z > /dev/shm/z && echo SHM_OK")
    assert "ROOT_WRITTEN" not in out and "Read-only file system" in out, out
    assert "VOLUME_OK" in out and "SHM_OK" in out, out


def test_proc_paths_are_masked_and_read_only(sc_podd):
    run_pod(sc_podd, "masks", "true")
    status, out = sh(sc_podd, "masks", "wc -c < /proc/kcore; cat /proc/keys | wc -l; "
                                       "echo 1 > /proc/sys/kernel/panic_on_oops && echo SYS_WRITTEN; "
                                       "grep -E ' /proc/(sys|kcore|keys) ' /proc/mounts")
    assert out.split("\n")[0].strip() == "0", out
    assert "SYS_WRITTEN" not in out, out
    assert "/proc/sys proc ro," in out, out


def test_a_volume_at_dev_starts_and_the_proc_paths_stay_masked(sc_podd):
    """An emptyDir at /dev (Kubernetes allows it; runc then skips its device nodes) leaves the
    container no /dev/null to mask /proc files with: podd masks them with copies of the
    host's, made before pivot_root, instead of failing the start (or, as runc, leaving them
    visible)."""
    c = {"name": "c", "image": "busybox", "command": ["sh", "-c", "echo made > /dev/mine; exec sleep 3600"],
         "volumeMounts": [{"name": "dev", "mountPath": "/dev"}]}
    m = pod_manifest("devvol", [c], terminationGracePeriodSeconds=0, volumes=[{"name": "dev", "emptyDir": {}}])
    assert sc_podd.create(m).status == 201
    sc_podd.wait_running("devvol")
    files = [f for f in ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug") if os.path.isfile(f)]
    if not files:
        pytest.skip("this kernel has none of the /proc files podd masks")
    status, out = sh(sc_podd, "devvol", "ls /dev; for f in " + " ".join(files) + "; do "
                                        "[ -c $f ] && echo MASKED || echo VISIBLE; wc -c < $f; done")
    assert status == 0, out
    lines = out.split()
    assert lines[0] == "mine", out            # the volume's /dev, not podd's
    # Each file is /dev/null now: a character device that reads empty.
    assert lines[1:] == ["MASKED", "0"] * len(files), out


# --- sysctls, host namespaces ---------------------------------------------------------------

def test_safe_sysctls_are_set_in_the_pod_and_others_refused(sc_podd):
    run_pod(sc_podd, "sysctl", "true", securityContext={"sysctls": [
        {"name": "net.ipv4.ip_local_port_range", "value": "20000 30000"},
        {"name": "kernel.shm_rmid_forced", "value": "1"}]})
    status, out = sh(sc_podd, "sysctl", "cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/kernel/shm_rmid_forced")
    assert out.split() == ["20000", "30000", "1"], out
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        assert f.read().split() != ["20000", "30000"], "the pod's sysctl changed the host's"
    m = pod_manifest("unsafe", [("c", "sleep 1")], securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]})
    r = sc_podd.create(m)
    assert r.status == 422, r.text
    cause = r.json()["details"]["causes"][0]
    assert cause["field"] == "spec.securityContext.sysctls[0].name" and "not allowlisted" in cause["message"], cause
    assert sc_podd.pod("unsafe") is None


def test_host_pid_and_host_ipc(sc_podd):
    run_pod(sc_podd, "hostns", "true", hostPID=True, hostIPC=True)
    status, out = sh(sc_podd, "hostns", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; cat /proc/1/comm")
    lines = out.split()
    assert lines[0] == os.readlink("/proc/self/ns/pid") and lines[1] == os.readlink("/proc/self/ns/ipc"), out
    with open("/proc/1/comm") as f:
        assert lines[2] == f.read().strip(), out
    run_pod(sc_podd, "ownns", "true")
    status, out = sh(sc_podd, "ownns", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc")
    assert os.readlink("/proc/self/ns/pid") not in out and os.readlink("/proc/self/ns/ipc") not in out, out


def test_host_users_false_runs_the_pod_in_its_own_user_namespace(sc_podd):
    volumes = [{"name": "disk", "emptyDir": {}}, {"name": "mem", "emptyDir": {"medium": "Memory"}}]
    c = {"name": "c", "image": "busybox", "command": ["sh", "-c", "exec sleep 3601"],
         "volumeMounts": [{"name": "disk", "mountPath": "/disk"}, {"name": "mem", "mountPath": "/mem"},
                          {"name": "disk", "mountPath": "/ro", "readOnly": True}]}
    m = pod_manifest("userns", [c], terminationGracePeriodSeconds=0, volumes=volumes, hostUsers=False)
    r = sc_podd.create(m)
    assert r.status == 201, r.text
    sc_podd.wait_running("userns")
    status, out = sh(sc_podd, "userns", "cat /proc/self/uid_map /proc/self/gid_map; id -u; "
                                        "stat -c '%u %g' /etc/passwd /disk /mem; touch /x /disk/f /mem/f && echo WROTE")
    assert status == 0, out
    lines = out.split("\n")
    uid_map, gid_map = lines[0].split(), lines[1].split()
    assert uid_map[0] == "0" and uid_map[2] == "65536" and int(uid_map[1]) >= 65536, out
    assert gid_map == uid_map, out
    # Root inside, its image and volumes its own (idmapped mounts), and it can write them.
    assert lines[2] == "0" and lines[3:6] == ["0 0", "0 0", "0 0"] and "WROTE" in out, out
    # A readOnly mount of a volume is idmapped too, and read-only.
    status, out = sh(sc_podd, "userns", "stat -c '%u %g' /ro; cat /ro/f && echo SEEN; touch /ro/g 2>/dev/null || echo REFUSED; "
                                        "grep ' /ro ' /proc/mounts")
    assert out.split("\n")[:3] == ["0 0", "SEEN", "REFUSED"] and " ro," in out, out
    # From the host, the same process is an unprivileged ID of the pod's range.
    pids = processes_with("sleep\x003601")
    assert pids, "the container's process is not visible from the host"
    with open(f"/proc/{pids[0]}/status") as f:
        assert status_fields(f.read())["Uid"].split()[0] == uid_map[1]
    # Its network namespace is the host user namespace's: low ports and ICMP sockets are
    # opened to every ID instead, so that a web server on port 80 still starts (busybox's
    # ping wants a raw socket whatever ping_group_range says: only the setting is checked).
    status, out = sh(sc_podd, "userns", "nc -l -p 80 & sleep 0.3; netstat -ltn | grep -q ':80 ' && echo BOUND; kill %1")
    assert "BOUND" in out, out
    # Read from the host's user namespace (inside, unmapped IDs show as 65534).
    r = subprocess.run(["nsenter", "-t", str(pids[0]), "-n", "cat", "/proc/sys/net/ipv4/ping_group_range"],
                       capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["0", "2147483647"], r.stdout
    # The default seccomp filter applies in the namespace as outside it.
    status, out = sh(sc_podd, "userns", "cat /proc/self/status")
    assert status_fields(out)["Seccomp"] == "2", out


# --- bad input ----------------------------------------------------------------------------

def test_unknown_capability_is_refused(sc_podd):
    m = pod_manifest("badcap", [{"name": "c", "command": ["true"], "securityContext": {"capabilities": {"add": ["FLY"]}}}])
    r = sc_podd.create(m)
    assert r.status == 422, r.text
    assert r.json()["details"]["causes"][0]["field"] == "spec.containers[0].securityContext.capabilities.add[0]"
    assert sc_podd.pod("badcap") is None


def test_run_as_non_root_with_a_root_image_starts_nothing(sc_podd):
    m = pod_manifest("rootimg", [("c", "touch /tmp/started; sleep 3600")], terminationGracePeriodSeconds=0,
                     securityContext={"runAsNonRoot": True})
    assert sc_podd.create(m).status == 201
    w = waiting(sc_podd, "rootimg", "CreateContainerConfigError")
    assert w["message"].startswith('container has runAsNonRoot and image will run as root (pod: "rootimg_default('), w
    assert w["message"].endswith(')", container: c)'), w
    m = pod_manifest("rootuid", [("c", "sleep 3600")], terminationGracePeriodSeconds=0,
                     securityContext={"runAsNonRoot": True, "runAsUser": 0})
    assert sc_podd.create(m).status == 201
    w = waiting(sc_podd, "rootuid", "CreateContainerConfigError")
    assert w["message"].startswith("container's runAsUser breaks non-root policy"), w
    # With a non-root runAsUser it runs.
    run_pod(sc_podd, "nonrootuid", "true", securityContext={"runAsNonRoot": True, "runAsUser": 1000})


# --- config -----------------------------------------------------------------------------------

def check_config(text, tmp_path):
    from harness import BIN
    cfg = tmp_path / "podd.yaml"
    cfg.write_text(text)
    return subprocess.run([str(BIN / "podd"), "--config", str(cfg), "--check-config"], capture_output=True, text=True, timeout=30)


def test_security_config_keys(tmp_path):
    r = check_config("seccompDefault: false\nseccompProfileRoot: /etc/podd/seccomp\n"
                     "userNamespaces: {firstID: 2000000, maxPods: 8}\n", tmp_path)
    assert r.returncode == 0, r.stderr
    for shown in ("seccompDefault false", "seccompProfileRoot /etc/podd/seccomp", "userNamespaces {firstID 2000000, maxPods 8}"):
        assert shown in r.stdout, (shown, r.stdout)
    for text, named in (("seccompDefault: maybe\n", "seccompDefault: expected true or false"),
                        ("seccompProfileRoot: seccomp\n", "seccompProfileRoot: must be an absolute path"),
                        ("userNamespaces: {firstID: 4294000000, maxPods: 100}\n", "userNamespaces: firstID + maxPods"),
                        ("userNamespaces: {base: 1}\n", "userNamespaces.base: unknown key")):
        r = check_config(text, tmp_path)
        assert r.returncode != 0 and named in r.stderr, (text, r.stderr)


def test_seccomp_default_off_means_unconfined(busybox_tar, tmp_path):
    import tempfile
    from harness import Podd
    root = tempfile.mkdtemp(prefix="podd-", dir="/tmp")
    d = Podd(root, extra_config="seccompDefault: false\n").start()
    try:
        d.podctl("image", "import", "busybox", str(busybox_tar))
        run_pod(d, "unset", "true")
        f = status_fields(sh(d, "unset", "cat /proc/1/status")[1])
        assert f["Seccomp"] == "0", f
        run_pod(d, "rd", "true", securityContext={"seccompProfile": {"type": "RuntimeDefault"}})
        f = status_fields(sh(d, "rd", "cat /proc/1/status")[1])
        assert f["Seccomp"] == "2", f
    finally:
        d.cleanup()
        shutil.rmtree(root, ignore_errors=True)
