"""What a podd holds and what its pods left behind: a sample of podd's own resources (RSS, fds,
threads, zombie children, monitors), and the leak inventory taken once every pod is gone:
processes, mounts, cgroups, files, fds, zombies, and API sockets inherited by a pod's
processes (issue 9 item 15). Everything is scoped to one podd (its run dir, its state dir,
the cgroups of the uids it held), so cases can run side by side."""
import os
import re
from dataclasses import dataclass
from pathlib import Path


def cgroup_base():
    """podd's cgroup directory (`<cgroup2 mount>/podd`), as Sources/PodOS/Cgroup.swift finds it."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        parts = line.split()
        if "-" in parts:
            dash = parts.index("-")
            if parts[dash + 1] == "cgroup2" and os.access(parts[4], os.W_OK):
                return Path(parts[4]) / "podd"
    return None


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _stat(pid):
    """(state, ppid) of a process, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], int(fields[1])


def _pids():
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def processes_under(run_dir):
    """Monitors of this podd: `podd-monitor --pod-dir RUN_DIR/pods/UID`. A monitor's child
    between its fork and the container's exec still carries that command line: not counted.
    Nor is one that ended before its exec and is being reaped as the sample is taken: its
    stat then says X (dead) with parent 0, which made a churn sample count 3 monitors for 2
    pods under load."""
    tag = f"--pod-dir\0{run_dir}/".encode()
    found = [p for p in _pids() if tag in _cmdline(p)]
    return [p for p in found if (s := _stat(p)) and s[0] != "X" and s[1] not in found]


def monitors_of(podd):
    return processes_under(podd.run_dir)


def zombie_children(pid):
    """Children of `pid` that ended and were never reaped."""
    return [p for p in _pids() if (s := _stat(p)) and s[1] == pid and s[0] == "Z"]


def fd_targets(pid):
    out = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                pass
    except OSError:
        pass
    return out


def cgroup_processes(uid):
    base = cgroup_base()
    if not base or not (base / uid).is_dir():
        return []
    pids = []
    for procs in (base / uid).rglob("cgroup.procs"):
        try:
            pids += [int(p) for p in procs.read_text().split()]
        except OSError:
            pass
    return pids


def api_socket_inodes(socket_path):
    """Inodes of the API socket: the listener and every connection it accepted (an accepted
    Unix socket carries the listener's path in /proc/net/unix)."""
    inodes = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 8 and parts[7] == socket_path:
            inodes.add(parts[6])
    return inodes


@dataclass
class Sample:
    """podd's own resources at one moment."""
    rss: int          # bytes
    fds: int
    threads: int
    zombies: int      # children of podd that ended unreaped
    monitors: int

    @staticmethod
    def of(podd):
        pid = podd.proc.pid
        rss = threads = 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
        return Sample(rss=rss, fds=len(os.listdir(f"/proc/{pid}/fd")), threads=threads,
                      zombies=len(zombie_children(pid)), monitors=len(monitors_of(podd)))


def pod_uids(podd):
    """The uids a podd held: those seen in its answers (a StressPodd counts them) and those on
    disk (state and run dirs)."""
    uids = set(getattr(podd, "uids", set()))
    for d in (podd.state_dir / "pods", podd.run_dir / "pods"):
        if d.is_dir():
            uids.update(p.name for p in d.iterdir() if not p.name.startswith("."))
    if hasattr(podd, "uids"):
        podd.uids.update(uids)
    return uids


def leaks(podd, fd_baseline=None, ignore_mounts=()):
    """Everything a podd with no pods should not hold or have left: a list of sentences, empty
    when clean. `fd_baseline`: podd's fd count when it started with no pod (a few fds of slack
    for NIO's lazily made ones)."""
    found = []
    uids = pod_uids(podd)
    mons = monitors_of(podd)
    if mons:
        found.append(f"{len(mons)} monitor process(es) left: {mons[:5]}")
    base = cgroup_base()
    for uid in sorted(uids):
        pids = cgroup_processes(uid)
        if pids:
            found.append(f"{len(pids)} process(es) left in cgroup of pod {uid}: {pids[:5]}")
        if base and (base / uid).exists():
            found.append(f"cgroup {base / uid} left")
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if line.split()[4].startswith(str(podd.root)) and line.split()[4] not in ignore_mounts]
    if mounts:
        found.append(f"{len(mounts)} mount(s) left under {podd.root}: {mounts[:3]}")
    for d, what in ((podd.state_dir / "pods", "stored pod dir"), (podd.state_dir / "logs", "log dir"),
                    (podd.run_dir / "pods", "run dir"), (podd.state_dir / "images" / ".incoming", "incoming file")):
        if d.is_dir():
            left = sorted(p.name for p in d.iterdir())
            if left:
                found.append(f"{len(left)} {what}(s) left in {d}: {left[:3]}")
    tmp = [str(p) for p in podd.state_dir.rglob("*.tmp")] if podd.state_dir.is_dir() else []
    if tmp:
        found.append(f"{len(tmp)} half-written file(s): {tmp[:3]}")
    if podd.alive():
        zombies = zombie_children(podd.proc.pid)
        if zombies:
            found.append(f"{len(zombies)} zombie child(ren) of podd: {zombies[:5]} (issue 9 item 5)")
        if fd_baseline is not None:
            fds = len(os.listdir(f"/proc/{podd.proc.pid}/fd"))
            if fds > fd_baseline + 4:
                found.append(f"podd holds {fds} fds with no pod, {fd_baseline} when it started")
    return found


def leaks_after(podd, fd_baseline=None, ignore_mounts=(), wait=10.0):
    """leaks(), given `wait` seconds for what podd removes after a pod is gone (cgroups,
    dirs) to go: only what is still there then counts."""
    import time
    deadline = time.monotonic() + wait
    while True:
        found = leaks(podd, fd_baseline, ignore_mounts)
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def inherited_api_sockets(podd):
    """Processes of this podd's pods (monitors, containers) holding a socket of podd's API
    (issue 9 item 15: fds podd opens must be close-on-exec), or an fd into podd's state dir."""
    found = []
    inodes = api_socket_inodes(podd.socket)
    pids = set(monitors_of(podd))
    for uid in pod_uids(podd):
        pids.update(cgroup_processes(uid))
    for pid in sorted(pids):
        for target in fd_targets(pid):
            m = re.fullmatch(r"socket:\[(\d+)\]", target)
            if m and m.group(1) in inodes:
                found.append(f"process {pid} ({_cmdline(pid)[:40]!r}) holds an API socket (issue 9 item 15)")
            elif target.startswith(str(podd.state_dir) + "/pods") or target == str(podd.socket):
                found.append(f"process {pid} holds {target}")
    return found


def expect_no_errors_nor_leaks(out, podd, fd_baseline):
    """The end of every case: no 5xx was answered, and nothing of the pods is left behind."""
    out.figure("5xx", len(podd.server_errors))
    out.expect(not podd.server_errors, f"{len(podd.server_errors)} 5xx: {podd.server_errors[:3]}")
    found = leaks_after(podd, fd_baseline)
    out.figure("leaks", len(found))
    for f in found:
        out.expect(False, f"leak: {f}")
