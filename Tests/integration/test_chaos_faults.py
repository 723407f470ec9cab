"""The faults the stress suite's chaos case found (issue 9): a container killed and, a moment
later, its monitor must not leave the pod in CrashLoopBackOff for good (the new monitor cloned
each start into a container cgroup the old one had cgroup.kill'ed, and Linux 6.x killed every
process cloned there at birth); and a deleted pod's cgroup must go, whatever kill of podd or
of the monitor came in between."""
import os
import signal
import sys
import time

import pytest

from harness import REPO, pod_manifest, wait_for

sys.path.insert(0, str(REPO / "scripts" / "stress"))
from inventory import cgroup_base  # noqa: E402  (podd's cgroup dir, as the stress cases find it)


def monitor_pid(podd, uid):
    try:
        return int(open(podd.run_dir / "pods" / uid / "monitor.pid").read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def running_and_ready(podd, name):
    pod = podd.pod(name)
    st = (pod or {}).get("status", {}).get("containerStatuses", [])
    return bool(st) and all("running" in s.get("state", {}) and s.get("ready") for s in st) and pod


def test_monitor_killed_before_podd_forgets_an_exit_the_pod_runs_again(podd):
    """The chaos fault made deterministic. A container exits: its monitor writes cgroup.kill
    to the container's cgroup (to end what the container left behind) and removes the group
    only when podd, having read the exit, forgets the container. Here the monitor dies in
    between (podd is stopped meanwhile): the next monitor must not clone the new process
    into that group, which Linux 6.x kills at birth, for good (the group's kill count
    differs from the monitor's): every start was SIGKILLed (exit 137, startedAt ==
    finishedAt) and the pod stayed in CrashLoopBackOff."""
    r = podd.create(pod_manifest("stale", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    uid = podd.wait_running("stale")["metadata"]["uid"]
    monitor = monitor_pid(podd, uid)
    container = children(monitor)[0]
    with podd.paused():
        os.kill(container, signal.SIGKILL)
        # Reaped by the monitor (which then writes cgroup.kill), not yet forgotten by podd.
        wait_for(lambda: not os.path.exists(f"/proc/{container}"), timeout=10, what="the container reaped")
        time.sleep(0.1)
        os.kill(monitor, signal.SIGKILL)
    wait_for(lambda: monitor_pid(podd, uid) not in (None, monitor), timeout=30, what="a new monitor")
    pod = wait_for(lambda: running_and_ready(podd, "stale"), timeout=60,
                   what=f"the pod running and ready ({podd.pod('stale')['status']})")
    assert pod["status"]["containerStatuses"][0]["restartCount"] >= 1


def test_container_then_monitor_killed_the_pod_runs_again(podd):
    r = podd.create(pod_manifest("flap", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    uid = podd.wait_running("flap")["metadata"]["uid"]
    # The monitor dies at different moments of the restart that follows the container's end
    # (the exit report, the spawn sent, the new process set up).
    for round_, pause in enumerate((0.02, 0.005, 0.01, 0.02, 0.03, 0.04, 0.02, 0.015, 0.025, 0.02)):
        wait_for(lambda: running_and_ready(podd, "flap") and children(monitor_pid(podd, uid) or 0), timeout=60,
                 what=f"round {round_}: the pod running and ready ({podd.pod('flap')['status']})")
        monitor = monitor_pid(podd, uid)
        container = children(monitor)[0]
        os.kill(container, signal.SIGKILL)
        time.sleep(pause)
        os.kill(monitor, signal.SIGKILL)
        wait_for(lambda: monitor_pid(podd, uid) not in (None, monitor), timeout=30,
                 what=f"round {round_}: a new monitor")
    wait_for(lambda: running_and_ready(podd, "flap"), timeout=60,
             what=f"the pod running and ready at the end ({podd.pod('flap')['status']})")


def test_pod_deleted_after_its_monitor_died_leaves_no_cgroup(podd):
    base = cgroup_base()
    if base is None:
        pytest.skip("no writable cgroup2 mount")
    # A long grace period: the delete is still under way when the monitor dies.
    r = podd.create(pod_manifest("gone", [("c", "trap '' TERM; exec sleep 3600")], terminationGracePeriodSeconds=30))
    assert r.status == 201, r.text
    uid = podd.wait_running("gone")["metadata"]["uid"]
    assert (base / uid).is_dir()
    monitor = monitor_pid(podd, uid)
    podd.request("DELETE", "/api/v1/namespaces/default/pods/gone")
    time.sleep(0.3)
    os.kill(monitor, signal.SIGKILL)
    podd.wait_gone("gone", timeout=30)
    wait_for(lambda: not (base / uid).exists(), timeout=10, what=f"cgroup {base / uid} removed")


def test_pod_deleted_around_a_kill_9_of_podd_leaves_no_cgroup(podd):
    base = cgroup_base()
    if base is None:
        pytest.skip("no writable cgroup2 mount")
    uids = []
    for i, pause in enumerate((0.0, 0.005, 0.02, 0.05, 0.2)):
        name = f"del-{i}"
        r = podd.create(pod_manifest(name, [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0))
        assert r.status == 201, r.text
        uids.append(podd.wait_running(name)["metadata"]["uid"])
        import threading
        t = threading.Thread(target=lambda n=name: _delete_quietly(podd, n), daemon=True)
        t.start()
        time.sleep(pause)
        podd.stop(signal.SIGKILL)
        t.join(5)
        podd.start()
        wait_for(lambda n=name: podd.pod(n) is None or _delete_quietly(podd, n), timeout=30,
                 what=f"{name} deleted after the restart")
        podd.wait_gone(name, timeout=30)
    for uid in uids:
        wait_for(lambda u=uid: not (base / u).exists(), timeout=10, what=f"cgroup {base / uid} removed")


def _delete_quietly(podd, name):
    try:
        podd.request("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0", timeout=10)
    except Exception:  # noqa: BLE001 - podd killed mid-answer
        pass
    return False
