"""A pod's monitor killed with SIGKILL (issue 9, item 5): the processes it leaves are killed
and reaped (podd is their subreaper), and none remains, as zombie or otherwise, after the pod
is restarted or deleted."""
import os
import signal

from harness import pod_manifest, wait_for


def zombies_of(parent):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(int(entry))
    return found


def zombie(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] == "Z"


def exists(pid):
    return os.path.exists(f"/proc/{pid}")


def monitor_pid(podd, uid):
    return int(open(podd.run_dir / "pods" / uid / "monitor.pid").read().split()[0])


def test_killed_monitor_leaves_no_zombie_and_no_process(podd):
    # Two processes per container: the main one and a child it started.
    r = podd.create(pod_manifest("lost", [("app", "sleep 100001 & exec sleep 100002")],
                                 terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    pod = podd.wait_running("lost")
    uid = pod["metadata"]["uid"]
    old_monitor = monitor_pid(podd, uid)
    old = [int(p) for p in open(f"/proc/{old_monitor}/task/{old_monitor}/children").read().split()]
    assert old, "the container's process"
    old_all = set(old)
    for p in old:
        old_all |= {int(c) for c in open(f"/proc/{p}/task/{p}/children").read().split()}

    os.kill(old_monitor, signal.SIGKILL)
    # The pod comes back with a new monitor.
    wait_for(lambda: (podd.run_dir / "pods" / uid / "monitor.pid").exists()
             and monitor_pid(podd, uid) != old_monitor and podd.wait_running("lost"), timeout=60,
             what="the pod running again under a new monitor")
    wait_for(lambda: not zombies_of(podd.proc.pid), timeout=20,
             what=f"podd to reap the orphans (zombies: {zombies_of(podd.proc.pid)})")
    for p in old_all | {old_monitor}:
        wait_for(lambda: not exists(p), timeout=20, what=f"process {p} of the lost monitor to be gone")

    # The new run's processes, then the pod deleted: nothing of it stays.
    new_monitor = monitor_pid(podd, uid)
    new = {int(p) for p in open(f"/proc/{new_monitor}/task/{new_monitor}/children").read().split()}
    for p in list(new):
        new |= {int(c) for c in open(f"/proc/{p}/task/{p}/children").read().split()}
    podd.request("DELETE", "/api/v1/namespaces/default/pods/lost?gracePeriodSeconds=0")
    podd.wait_gone("lost")
    wait_for(lambda: not zombies_of(podd.proc.pid), timeout=20, what="no zombie of podd after delete")
    for p in new | {new_monitor}:
        wait_for(lambda: not exists(p), timeout=20, what=f"process {p} of the deleted pod to be gone")
