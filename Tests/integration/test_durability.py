"""Pods outlive podd: after podd stops, is upgraded or is killed (kill -9), the next podd
re-adopts the running containers through their monitors (same processes, same start times,
restart counts and logs continuing) instead of restarting them; a container that exited
while podd was away is seen with its exit code and handled by the restart policy."""
import http.client
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import BIN, pod_manifest, wait_for


def proc_start(pid):
    """Field 22 of /proc/PID/stat: with the pid, a process's identity."""
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def container_procs(podd, name, container):
    """{pid: start time} of a container's main process (the first one started in its
    cgroup): the children it starts and ends on its own (a `sleep` of a loop) come and go."""
    uid = podd.pod(name)["metadata"]["uid"]
    for base in ("/sys/fs/cgroup/unified/podd", "/sys/fs/cgroup/podd"):
        procs = Path(base) / uid / container / "cgroup.procs"
        if procs.exists():
            started = {}
            for p in procs.read_text().split():
                try:
                    started[int(p)] = proc_start(int(p))
                except FileNotFoundError:   # ended between the listing and the read
                    pass
            if not started:
                return {}
            main = min(started, key=lambda pid: (started[pid], pid))
            return {main: started[main]}
    pytest.skip("needs a cgroup v2 hierarchy to find a container's processes")


def alive(pid, start):
    """The process PID with that start time still runs (a zombie does not count: it is dead,
    and reaping it is its new parent's job)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z" and int(fields[19]) == start


def monitors(podd):
    """pids of the monitors of this podd's pods (found by their --pod-dir under its run dir)."""
    out = subprocess.run(["pgrep", "-f", f"podd-monitor --pod-dir {podd.run_dir}/"], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def statuses(podd, name):
    return {s["name"]: s for s in podd.pod(name)["status"]["containerStatuses"]}


def restart(podd, sig=signal.SIGTERM):
    podd.stop(sig)
    podd.start()


def test_restart_keeps_the_same_processes_counts_and_logs(podd):
    m = pod_manifest("keep", [("a", "i=0; while true; do echo a-$i; i=$((i+1)); sleep 0.2; done"),
                              ("b", "exec sleep 3600")])
    podd.create(m)
    before = podd.wait_running("keep")
    wait_for(lambda: "a-3" in podd.log("keep", "a"), what="some output")
    procs = {c: container_procs(podd, "keep", c) for c in ("a", "b")}
    ids = {n: s["containerID"] for n, s in statuses(podd, "keep").items()}
    mons = monitors(podd)

    restart(podd)
    after = podd.wait_running("keep")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert {c: container_procs(podd, "keep", c) for c in ("a", "b")} == procs
    assert monitors(podd) == mons
    st = statuses(podd, "keep")
    assert {n: s["containerID"] for n, s in st.items()} == ids
    assert all(s["restartCount"] == 0 and s["ready"] for s in st.values())
    assert st["b"]["state"]["running"]["startedAt"] == before["status"]["containerStatuses"][1]["state"]["running"]["startedAt"]
    # The log goes on: lines from before the restart, and new ones after it.
    n = int(podd.log("keep", "a").split()[-1].split("-")[1])
    wait_for(lambda: f"a-{n + 3}" in podd.log("keep", "a"), what="new output after the restart")
    assert "a-0" in podd.log("keep", "a")
    # logs -f follows the adopted run.
    p = subprocess.Popen([str(BIN / "podctl"), "logs", "-f", "keep", "-c", "a"], stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, PODD_SOCKET=podd.socket))
    try:
        seen = []
        threading.Thread(target=lambda: [seen.append(l) for l in p.stdout], daemon=True).start()
        wait_for(lambda: any(l.startswith(f"a-{n + 8}") for l in seen), timeout=15, what="logs -f to follow")
    finally:
        p.kill()
        p.wait()


def test_kill_9_with_20_pods_then_start_readopts_all(podd):
    names = [f"p{i:02d}" for i in range(20)]
    for n in names:
        assert podd.create(pod_manifest(n, [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    for n in names:
        podd.wait_running(n, timeout=60)
    uids = {n: podd.pod(n)["metadata"]["uid"] for n in names}
    procs = {n: container_procs(podd, n, "c") for n in names}
    mons = monitors(podd)
    assert len(mons) == 20

    restart(podd, signal.SIGKILL)
    for n in names:
        podd.wait_running(n, timeout=60)
    items = podd.get("/api/v1/pods").json()["items"]
    assert sorted(p["metadata"]["name"] for p in items) == names          # none lost, none duplicated
    assert {p["metadata"]["name"]: p["metadata"]["uid"] for p in items} == uids
    for p in items:
        s = p["status"]["containerStatuses"][0]
        assert s["restartCount"] == 0 and "lastState" not in s or not s.get("lastState"), s
    assert {n: container_procs(podd, n, "c") for n in names} == procs     # none restarted
    assert monitors(podd) == mons                                          # no second monitor, no orphan
    # Nothing of the pods is mounted in podd's own mount namespace (the monitors hold them).
    assert str(podd.root) not in Path("/proc/self/mountinfo").read_text()


def test_pod_accepted_is_on_disk_before_the_answer(podd):
    r = podd.create(pod_manifest("durable", [("c", "exec sleep 3600")]))
    assert r.status == 201
    podd.stop(signal.SIGKILL)   # at once: no chance to write anything after answering
    podd.start()
    assert podd.wait_running("durable")["metadata"]["uid"] == r.json()["metadata"]["uid"]


def test_exit_while_podd_was_away_goes_through_the_restart_policy(podd):
    gate = podd.root / "gate"
    m = pod_manifest("away", [{"name": "c", "command": ["sh", "-c", "while [ ! -e /gate/go ]; do sleep 0.1; done; echo bye; exit 3"],
                               "volumeMounts": [{"name": "g", "mountPath": "/gate"}]}],
                     restartPolicy="OnFailure", terminationGracePeriodSeconds=0,
                     volumes=[{"name": "g", "hostPath": {"path": str(gate), "type": "DirectoryOrCreate"}}])
    podd.create(m)
    podd.wait_running("away")
    podd.stop()
    (gate / "go").write_text("")        # the container exits 3 while no podd runs
    time.sleep(1)
    (gate / "go").unlink()              # its next run waits again
    podd.start()
    s = wait_for(lambda: (st := statuses(podd, "away")["c"]) and st["restartCount"] == 1 and "running" in st["state"] and st,
                 timeout=30, what="the container restarted by policy")
    assert s["lastState"]["terminated"]["exitCode"] == 3
    assert s["lastState"]["terminated"]["reason"] == "Error"
    assert "bye" in podd.log("away", "c", previous="true")


def test_exit_while_away_with_restart_never_fails_the_pod(podd):
    gate = podd.root / "gate2"
    m = pod_manifest("never", [{"name": "c", "command": ["sh", "-c", "while [ ! -e /gate/go ]; do sleep 0.1; done; exit 4"],
                                "volumeMounts": [{"name": "g", "mountPath": "/gate"}]}],
                     restartPolicy="Never", volumes=[{"name": "g", "hostPath": {"path": str(gate), "type": "DirectoryOrCreate"}}])
    podd.create(m)
    podd.wait_running("never")
    podd.stop(signal.SIGKILL)
    (gate / "go").write_text("")
    time.sleep(1)
    podd.start()
    p = podd.wait_phase("never", "Failed", timeout=30)
    s = p["status"]["containerStatuses"][0]
    assert s["state"]["terminated"]["exitCode"] == 4 and s["restartCount"] == 0


def test_finished_pod_stays_finished_across_restarts(podd):
    podd.create(pod_manifest("done", [("c", "echo once")], restartPolicy="Never"))
    podd.wait_phase("done", "Succeeded")
    restart(podd)
    time.sleep(1)
    p = podd.pod("done")
    assert p["status"]["phase"] == "Succeeded"
    assert p["status"]["containerStatuses"][0]["restartCount"] == 0
    assert podd.log("done", "c").count("once") == 1


def test_monitor_killed_while_podd_away_starts_afresh_without_leftovers(podd):
    podd.create(pod_manifest("lost", [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0))
    podd.wait_running("lost")
    old = container_procs(podd, "lost", "c")
    podd.stop()
    for m in monitors(podd):
        os.kill(m, signal.SIGKILL)
    podd.start()
    s = wait_for(lambda: (st := statuses(podd, "lost")["c"]) and "running" in st["state"] and st["restartCount"] == 1 and st,
                 timeout=30, what="the pod started afresh")
    assert s["lastState"]["terminated"]["reason"] == "ContainerStatusUnknown"
    new = container_procs(podd, "lost", "c")
    assert not set(new) & set(old)
    assert not any(alive(p, t) for p, t in old.items())
    assert len(monitors(podd)) == 1


def test_sandbox_of_a_pod_never_stored_is_removed_at_the_next_start(podd):
    # podd makes a pod's sandbox while its desired state is being stored; killed between
    # the two, it leaves a running monitor, a cgroup and directories for a pod it never
    # acknowledged. The same is made here for real: a running pod, podd killed, its stored
    # state removed. The next podd removes all of it, and answers for the pod nowhere.
    podd.create(pod_manifest("half", [("c", "exec sleep 3600")], volumes=[{"name": "d", "emptyDir": {}}]))
    podd.wait_running("half")
    uid = podd.pod("half")["metadata"]["uid"]
    procs = container_procs(podd, "half", "c")
    mons = monitors(podd)
    run_dir = podd.run_dir / "pods" / uid
    log_dirs = [d for d in (podd.state_dir / "logs").iterdir() if d.name.endswith("_" + uid)]
    assert run_dir.is_dir() and len(log_dirs) == 1 and len(mons) == 1
    podd.stop(signal.SIGKILL)
    subprocess.run(["rm", "-rf", str(podd.state_dir / "pods" / uid)], check=True)
    podd.start()
    assert podd.pod("half") is None
    wait_for(lambda: not monitors(podd), timeout=10, what="the monitor of the never-stored pod killed")
    assert not any(alive(p, t) for p, t in procs.items()), "a container of the never-stored pod still runs"
    assert not run_dir.exists()
    assert not log_dirs[0].exists()
    groups = [Path(b) / uid for b in ("/sys/fs/cgroup/unified/podd", "/sys/fs/cgroup/podd")]
    groups += [Path("/sys/fs/cgroup") / c / "podd" / uid for c in ("memory", "cpu", "cpuacct", "pids", "hugetlb")]
    assert not [g for g in groups if g.exists()]
    assert uid in podd.log_text(), "podd's log does not say what it removed"
    # A pod created now starts as usual.
    podd.create(pod_manifest("next", [("c", "exec sleep 3600")]))
    podd.wait_running("next")


def test_init_containers_and_sidecar_are_not_rerun_after_a_restart(podd):
    m = pod_manifest("seq", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                     initContainers=[{"name": "init", "image": "busybox", "command": ["sh", "-c", "echo init-ran"]},
                                     {"name": "side", "image": "busybox", "restartPolicy": "Always",
                                      "command": ["sh", "-c", "exec sleep 3600"]}])
    podd.create(m)
    podd.wait_running("seq")
    side = container_procs(podd, "seq", "side")
    restart(podd, signal.SIGKILL)
    p = podd.wait_running("seq")
    inits = {s["name"]: s for s in p["status"]["initContainerStatuses"]}
    assert inits["init"]["state"]["terminated"]["exitCode"] == 0 and inits["init"]["restartCount"] == 0
    assert "running" in inits["side"]["state"] and inits["side"]["restartCount"] == 0
    assert container_procs(podd, "seq", "side") == side
    assert podd.log("seq", "init").count("init-ran") == 1
    assert {c["type"]: c["status"] for c in p["status"]["conditions"]}["Ready"] == "True"


def test_app_failing_after_readoption_restarts_the_pod_with_counts_continuing(podd):
    gate = podd.root / "gate3"
    m = pod_manifest("flaky", [{"name": "c", "command": ["sh", "-c", "while [ ! -e /gate/go ]; do sleep 0.1; done; rm /gate/go; exit 1"],
                                "volumeMounts": [{"name": "g", "mountPath": "/gate"}]}],
                     terminationGracePeriodSeconds=0,
                     volumes=[{"name": "g", "hostPath": {"path": str(gate), "type": "DirectoryOrCreate"}}])
    podd.create(m)
    podd.wait_running("flaky")
    (gate / "go").write_text("")
    wait_for(lambda: statuses(podd, "flaky")["c"]["restartCount"] == 1, timeout=30, what="a first restart")
    podd.wait_running("flaky")
    restart(podd)
    podd.wait_running("flaky")
    assert statuses(podd, "flaky")["c"]["restartCount"] == 1
    (gate / "go").write_text("")
    s = wait_for(lambda: (st := statuses(podd, "flaky")["c"]) and st["restartCount"] == 2 and st, timeout=30,
                 what="the second restart, counted on from the first")
    assert s["lastState"]["terminated"]["exitCode"] == 1


def test_containers_the_stored_spec_lacks_are_stopped_on_readoption(podd):
    # As if podd died while replacing the pod's spec: the stored spec names container b, the
    # surviving monitor runs container a.
    import json
    podd.create(pod_manifest("swap", [("a", "exec sleep 3600")], terminationGracePeriodSeconds=0))
    p = podd.wait_running("swap")
    old = container_procs(podd, "swap", "a")
    podd.stop()
    stored = podd.state_dir / "pods" / p["metadata"]["uid"] / "pod.json"
    spec = json.loads(stored.read_text())
    spec["spec"]["containers"][0]["name"] = "b"
    stored.write_text(json.dumps(spec))
    podd.start()
    podd.wait_running("swap", ["b"])
    wait_for(lambda: not any(alive(pid, t) for pid, t in old.items()), timeout=15, what="container a stopped")
    assert len(monitors(podd)) == 1


def _ready_1_of_1(podd, name):
    """The pod runs with its one container running, started and ready (READY 1/1)."""
    p = podd.pod(name)
    if not p or p["status"].get("phase") != "Running":
        return None
    ss = p["status"].get("containerStatuses", [])
    return p if len(ss) == 1 and "running" in ss[0].get("state", {}) and ss[0].get("started") is True \
        and ss[0].get("ready") is True else None


def test_kill_9_during_parallel_creates_readopts_every_pod_running_and_ready(podd):
    """podd is killed while 30 creates are in flight (some pods stored, some with their spawn
    sent but not reported, some running): after a restart every pod it acknowledged runs
    with READY 1/1, one monitor each, and stays so across a second restart."""
    names = [f"r{i:02d}" for i in range(30)]
    acknowledged = []
    lock = threading.Lock()

    def create(n):
        try:
            r = podd.create(pod_manifest(n, [("c", "exec sleep 3600")], terminationGracePeriodSeconds=0))
        except (OSError, http.client.HTTPException):
            return   # podd died before answering (or in the middle of its answer)
        if r.status == 201:
            with lock:
                acknowledged.append(n)

    threads = [threading.Thread(target=create, args=(n,)) for n in names]
    for t in threads:
        t.start()
    # Kill podd once some creates are answered and others are still in flight.
    wait_for(lambda: len(acknowledged) >= 8, timeout=60, what="some creates answered")
    podd.stop(signal.SIGKILL)
    for t in threads:
        t.join(60)
    podd.start()

    stored = {p["metadata"]["name"] for p in podd.get("/api/v1/pods").json()["items"]}
    assert set(acknowledged) <= stored                                     # none acknowledged lost
    for n in sorted(stored):
        wait_for(lambda: _ready_1_of_1(podd, n), timeout=90, what=f"pod {n} running with READY 1/1")
    assert len(monitors(podd)) == len(stored)                              # one monitor per pod, no orphan
    procs = {n: container_procs(podd, n, "c") for n in stored}
    assert all(len(p) == 1 for p in procs.values())

    restart(podd, signal.SIGKILL)
    for n in sorted(stored):
        wait_for(lambda: _ready_1_of_1(podd, n), timeout=90, what=f"pod {n} READY 1/1 after a second restart")
    items = podd.get("/api/v1/pods").json()["items"]
    assert sorted(p["metadata"]["name"] for p in items) == sorted(stored)  # none doubled
    for p in items:
        s = p["status"]["containerStatuses"][0]
        assert s["restartCount"] == 0, s
    assert {n: container_procs(podd, n, "c") for n in stored} == procs     # none restarted
    assert len(monitors(podd)) == len(stored)


def test_prestop_runs_once_when_podd_is_killed_during_a_deletion(podd):
    """The preStop hook of a pod being deleted ran (and still runs) when podd is killed: the
    next podd resumes the deletion with SIGTERM instead of running the hook a second time."""
    out = podd.root / "prestop-once"
    out.mkdir()
    m = pod_manifest("once", [{
        "name": "c",
        "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"],
        "lifecycle": {"preStop": {"exec": {"command": ["sh", "-c", "echo ran >> /t/prestop; sleep 3"]}}},
        "volumeMounts": [{"name": "t", "mountPath": "/t"}],
    }], terminationGracePeriodSeconds=30, volumes=[{"name": "t", "hostPath": {"path": str(out)}}])
    podd.create(m)
    podd.wait_running("once")
    podd.request("DELETE", "/api/v1/namespaces/default/pods/once")
    # Its line written, not just its file made: killed between the two, the hook's shell
    # would leave an empty file, which the next podd rightly does not fill.
    wait_for(lambda: (out / "prestop").exists() and (out / "prestop").read_text() == "ran\n", timeout=20,
             what="the preStop hook to run")
    restart(podd, signal.SIGKILL)
    podd.wait_gone("once", timeout=40)
    assert (out / "prestop").read_text() == "ran\n"


@pytest.mark.parametrize("scope", ["pod", "container"])
def test_pending_backoff_is_not_cut_short_by_a_restart(podd, scope):
    """A container waiting out a 30 s restart backoff (of the pod, or of the container alone)
    is not restarted at once by a restarted podd: it keeps waiting (restartCount stays)."""
    podd.stop()
    podd.config_path.write_text("network: none\nrestartBackoff: {initial: 30s, max: 60s, resetAfter: 300s}\n")
    podd.start()
    containers = [("c", "exit 1")] + ([("keep", "exec sleep 3600")] if scope == "container" else [])
    m = pod_manifest("crash", containers, terminationGracePeriodSeconds=0)
    if scope == "container":
        m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    podd.create(m)
    # The first restart comes at once, the next one after 30 s.
    wait_for(lambda: (s := statuses(podd, "crash")["c"]) and s["restartCount"] == 1
             and s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff",
             timeout=30, what="c waiting out its backoff")
    restart(podd, signal.SIGKILL)
    # Were the backoff lost, c would run (and fail) again at once: restartCount 2.
    for _ in range(20):
        s = statuses(podd, "crash")["c"]
        assert s["restartCount"] == 1, s
        time.sleep(0.1)
    assert s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff", s


def test_a_start_after_a_backoff_shows_crashloopbackoff_and_survives_a_kill_9(podd):
    """A start made after a backoff goes on showing CrashLoopBackOff until its run has begun
    (kubelet's reason cache; ContainerCreating is a first start's), and it is still a start
    to a podd killed meanwhile: the run it made, ended while podd was away, is counted and
    goes through the restart policy (not taken for an exit already handled, which restarted
    the container at once with the earlier run as its last state)."""
    m = pod_manifest("loop", [{"name": "c", "command": ["sh", "-c", "sleep 3; exit 1"],
                               "lifecycle": {"postStart": {"sleep": {"seconds": 2}}}}],
                     terminationGracePeriodSeconds=5)
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    r = podd.create(m)
    assert r.status == 201, r.text
    shown = []

    def status():
        p = podd.pod("loop")
        return {c["name"]: c for c in (p or {}).get("status", {}).get("containerStatuses", [])}["c"]

    def starting_after_backoff():
        s = status()
        shown.append((s["restartCount"], next(iter(s["state"]))))
        return s["restartCount"] == 2 and s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff"
    # Runs 1 and 2 (the first restart comes at once), then a backoff of 1 s, then run 3 whose
    # postStart hook takes 2 s: shown as CrashLoopBackOff with restartCount 2 meanwhile.
    wait_for(starting_after_backoff, timeout=40, what="the third start, shown as CrashLoopBackOff")
    killed_at = int(time.time())
    podd.stop(signal.SIGKILL)
    assert ("ContainerCreating" not in [r for c, r in shown if c == 2]), shown
    time.sleep(4)   # run 3 ends (exit 1) while podd is away
    podd.start()

    def run_3_counted():
        s = status()
        last = s.get("lastState", {}).get("terminated")
        if last and time.mktime(time.strptime(last["finishedAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone >= killed_at:
            return s
        return None
    s = wait_for(run_3_counted, timeout=30, what="run 3's exit as the last state")
    assert s["restartCount"] == 2, s
    assert s["lastState"]["terminated"]["exitCode"] == 1, s
