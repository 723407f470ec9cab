"""Pod lifecycle against the real daemon: init containers, restarts with backoff, sidecars,
termination. The daemon's backoff is shortened to 1s/4s (harness config)."""
import json
import time

from harness import UnixHTTPConnection, pod_manifest, wait_for


def statuses(p, kind="containerStatuses"):
    return {s["name"]: s for s in p["status"].get(kind, [])}


def condition(p, t):
    return next(c for c in p["status"]["conditions"] if c["type"] == t)


def mount_everywhere(m, volume, path):
    """Mounts VOLUME at PATH in every container of manifest M."""
    for c in m["spec"]["initContainers"] + m["spec"]["containers"]:
        c["volumeMounts"] = [{"name": volume, "mountPath": path}]


def init_pod(name, inits, apps, policy, volumes=None):
    m = pod_manifest(name, apps, restartPolicy=policy)
    m["spec"]["initContainers"] = [{"name": n, "image": "busybox", "command": ["sh", "-c", c]} for n, c in inits]
    if volumes:
        m["spec"]["volumes"] = volumes
    return m


# --- Kubernetes' four init-container conformance cases --------------------------------------

def test_restart_never_all_inits_succeed_pod_succeeds(podd):
    podd.create(init_pod("c1", [("init1", "true"), ("init2", "true")], [("run1", "true")], "Never"))
    p = podd.wait_phase("c1", "Succeeded")
    inits = statuses(p, "initContainerStatuses")
    assert all(s["state"]["terminated"]["reason"] == "Completed" for s in inits.values())
    assert condition(p, "Initialized")["status"] == "True"


def test_restart_always_inits_then_running(podd):
    podd.create(init_pod("c2", [("init1", "true"), ("init2", "true")], [("run1", "sleep 3600")], "Always"))
    p = podd.wait_running("c2")
    assert p["status"]["phase"] == "Running"
    assert condition(p, "Initialized")["status"] == "True"
    assert condition(p, "Ready")["status"] == "True"
    assert all(s["state"]["terminated"]["exitCode"] == 0 for s in statuses(p, "initContainerStatuses").values())


def test_restart_always_failing_init_keeps_pod_pending(podd):
    podd.create(init_pod("c3", [("init1", "false"), ("init2", "true")], [("run1", "sleep 3600")], "Always"))
    p = wait_for(lambda: (p := podd.pod("c3")) and statuses(p, "initContainerStatuses")["init1"]["restartCount"] >= 3 and p,
                 timeout=40, what="init1 restarted 3 times")
    assert p["status"]["phase"] == "Pending"
    c = condition(p, "Initialized")
    assert c["status"] == "False" and c["reason"] == "ContainersNotInitialized"
    assert c["message"] == "containers with incomplete status: [init1 init2]"
    run1 = statuses(p)["run1"]
    assert run1["state"]["waiting"]["reason"] == "PodInitializing" and run1["restartCount"] == 0
    assert "terminated" not in run1.get("lastState", {})
    table = podd.podctl("get", "pods").stdout
    assert "Init:" in table


def test_restart_never_failing_init2_fails_pod(podd):
    podd.create(init_pod("c4", [("init1", "true"), ("init2", "false")], [("run1", "sleep 3600")], "Never"))
    p = podd.wait_phase("c4", "Failed")
    inits = statuses(p, "initContainerStatuses")
    assert inits["init2"]["state"]["terminated"]["exitCode"] == 1
    assert "running" not in statuses(p)["run1"]["state"]
    assert "Init:Error" in podd.podctl("get", "pods").stdout


# --- ordering -------------------------------------------------------------------------------

def test_strict_ordering_shown_with_timestamps(podd):
    vol = [{"name": "t", "emptyDir": {}}]
    stamp = "read u x < /proc/uptime; echo $u > /t/{0}.start; sleep 0.3; read u x < /proc/uptime; echo $u > /t/{0}.end"
    m = init_pod("order", [("i1", stamp.format("i1")), ("i2", stamp.format("i2")), ("i3", stamp.format("i3"))],
                 [("app", "read u x < /proc/uptime; echo $u > /t/app.start; cat /t/i1.start /t/i1.end /t/i2.start /t/i2.end /t/i3.start /t/i3.end /t/app.start; sleep 3600")],
                 "Always", vol)
    mount_everywhere(m, "t", "/t")
    podd.create(m)
    out = wait_for(lambda: (t := podd.log("order", "app")) and len(t.split()) == 7 and t, timeout=30)
    times = [float(x) for x in out.split()]
    assert times == sorted(times), f"not in order: {times}"


def monitor_children(podd, uid):
    """The processes the pod's monitor has as children (its containers, held or running);
    None without a monitor."""
    try:
        pid = int(open(podd.run_dir / "pods" / uid / "monitor.pid").read().split()[0])
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except (OSError, ValueError, IndexError):
        return None


def test_containers_set_up_ahead_run_only_at_their_turn(podd):
    """podd sets up what follows an init container while it runs (held by the monitor): each
    still runs only after the one before it succeeded, and sees what that one wrote."""
    vol = [{"name": "t", "emptyDir": {}}]
    m = init_pod("ahead", [("i1", "sleep 1; echo one > /t/i1"), ("i2", "cat /t/i1 > /t/i2; echo two >> /t/i2")],
                 [("app", "cat /t/i2; sleep 3600")], "Always", vol)
    mount_everywhere(m, "t", "/t")
    uid = podd.create(m).json()["metadata"]["uid"]
    # While i1 sleeps, i2 and app are set up and held: not running, not reported.
    wait_for(lambda: len(monitor_children(podd, uid) or []) == 3, timeout=10, what="i1 running, i2 and app held")
    p = podd.pod("ahead")
    assert statuses(p, "initContainerStatuses")["i2"]["state"] == {"waiting": {"reason": "PodInitializing"}}
    assert statuses(p)["app"]["state"]["waiting"]["reason"] == "PodInitializing"
    podd.wait_running("ahead")
    assert wait_for(lambda: podd.log("ahead", "app"), timeout=10) == "one\ntwo\n"


def shared_directory(tmp_path):
    """A host directory the test reads, and the volume `t` that mounts it in a pod."""
    shared = tmp_path / "shared"
    shared.mkdir()
    return shared, [{"name": "t", "hostPath": {"path": str(shared)}}]


def create_with_three_processes(podd, m, what):
    """Creates pod M with volume `t` at /t in every container, and waits until its monitor
    has three containers (running or held)."""
    mount_everywhere(m, "t", "/t")
    uid = podd.create(m).json()["metadata"]["uid"]
    wait_for(lambda: len(monitor_children(podd, uid) or []) == 3, timeout=10, what=what)


def test_chained_starts_run_at_their_predecessors_success_without_waiting_for_podd(podd, tmp_path):
    """An init container that follows another one is started by the pod's monitor the moment
    the one before it succeeds (a decision the machine took ahead), and so is the app
    container at the last one's success (the pod has no sidecar): all of it runs even while
    podd itself is stopped. podd then reports every run in order, as it would have had it
    released the containers itself."""
    shared, vol = shared_directory(tmp_path)
    m = init_pod("chained", [("i1", "sleep 1; echo one > /t/i1"), ("i2", "cat /t/i1 > /t/i2")],
                 [("app", "cat /t/i2 > /t/app; sleep 3600")], "Always", vol)
    create_with_three_processes(podd, m, "i1 running, i2 and app held")
    with podd.paused():
        assert wait_for(lambda: (shared / "app").exists(), timeout=10, what="i2 and app run while podd is stopped")
    assert (shared / "i2").read_text() == "one\n"
    assert wait_for(lambda: (shared / "app").read_text(), timeout=5) == "one\n"
    p = podd.wait_running("chained")
    i1, i2 = statuses(p, "initContainerStatuses")["i1"], statuses(p, "initContainerStatuses")["i2"]
    assert i1["state"]["terminated"]["reason"] == i2["state"]["terminated"]["reason"] == "Completed"
    assert i1["state"]["terminated"]["finishedAt"] <= i2["state"]["terminated"]["startedAt"]
    app = statuses(p)["app"]
    assert i2["state"]["terminated"]["finishedAt"] <= app["state"]["running"]["startedAt"]
    assert i2["restartCount"] == 0 and app["restartCount"] == 0
    events = podd.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dchained").json()["items"]
    started = [e["involvedObject"].get("fieldPath") for e in events if e["reason"] == "Started"]
    assert started == ["spec.initContainers{i1}", "spec.initContainers{i2}", "spec.containers{app}"], started


def test_app_containers_of_a_pod_with_a_sidecar_wait_for_podd(podd, tmp_path):
    """With a sidecar (an init container with restartPolicy Always) the app containers start
    once the sidecars have started, which the machine decides: they are not chained to the
    last init container, and do not run while podd is stopped."""
    shared, vol = shared_directory(tmp_path)
    m = init_pod("sidecar-apps", [("i1", "sleep 1; touch /t/i1")], [("app", "touch /t/app; sleep 3600")], "Always", vol)
    m["spec"]["initContainers"].insert(0, {"name": "side", "image": "busybox", "restartPolicy": "Always",
                                           "command": ["sh", "-c", "exec sleep 3600"]})
    create_with_three_processes(podd, m, "side and i1 running, app held")
    with podd.paused():
        assert wait_for(lambda: (shared / "i1").exists(), timeout=30, what="i1 done while podd is stopped")
        time.sleep(0.5)
        assert not (shared / "app").exists(), "the app container started without podd"
    podd.wait_running("sidecar-apps")
    assert wait_for(lambda: (shared / "app").exists(), timeout=10, what="the app container started by podd")


def test_held_containers_are_given_up_when_an_init_container_fails_the_pod(podd):
    m = init_pod("given-up", [("i1", "sleep 1; exit 3"), ("i2", "true")], [("app", "sleep 3600")], "Never")
    uid = podd.create(m).json()["metadata"]["uid"]
    wait_for(lambda: len(monitor_children(podd, uid) or []) == 3, timeout=10, what="i1 running, i2 and app held")
    p = podd.wait_phase("given-up", "Failed")
    assert statuses(p, "initContainerStatuses")["i1"]["state"]["terminated"]["exitCode"] == 3
    assert "waiting" in statuses(p, "initContainerStatuses")["i2"]["state"]
    # Neither held container ran, and neither is left behind (the ended pod's monitor stays,
    # as its sandbox does until the pod is deleted).
    wait_for(lambda: monitor_children(podd, uid) == [], timeout=10, what="the held containers gone")
    assert statuses(podd.pod("given-up"))["app"]["restartCount"] == 0
    events = podd.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dgiven-up").json()["items"]
    started = {e["involvedObject"].get("fieldPath") for e in events if e["reason"] in ("Created", "Started")}
    assert started == {"spec.initContainers{i1}"}, started


# --- restart scope ----------------------------------------------------------------------------

def count_init_runs(podd, name):
    return statuses(podd.pod(name), "initContainerStatuses")["init"]["restartCount"]


def test_pod_scope_app_failure_reruns_init(podd):
    m = init_pod("scope-pod", [("init", "true")], [("app", "sleep 1; exit 1"), ("other", "sleep 3600")], "OnFailure")
    m["spec"]["terminationGracePeriodSeconds"] = 1   # `other` is PID 1 of its namespace: TERM is ignored
    podd.create(m)
    wait_for(lambda: count_init_runs(podd, "scope-pod") >= 1, timeout=30, what="init re-run after app failure")
    # The pod restarted: `other` was stopped, and starts again after the init container.
    wait_for(lambda: statuses(podd.pod("scope-pod"))["other"]["restartCount"] >= 1, timeout=15, what="other restarted")


def test_container_scope_app_failure_does_not_rerun_init(podd):
    m = init_pod("scope-ctr", [("init", "true")], [("app", "sleep 0.5; exit 1"), ("other", "sleep 3600")], "OnFailure")
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    podd.create(m)
    wait_for(lambda: statuses(podd.pod("scope-ctr"))["app"]["restartCount"] >= 2, timeout=30, what="app restarts")
    p = podd.pod("scope-ctr")
    assert count_init_runs(podd, "scope-ctr") == 0
    assert statuses(p)["other"]["restartCount"] == 0


# --- backoff ----------------------------------------------------------------------------------

def test_backoff_schedule_and_crashloop_status(podd):
    m = pod_manifest("crash", [("app", "read u x < /proc/uptime; echo $u >> /data/starts; exit 1")], restartPolicy="Always")
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    m["spec"]["volumes"] = [{"name": "d", "emptyDir": {}}]
    m["spec"]["containers"][0]["volumeMounts"] = [{"name": "d", "mountPath": "/data"}]
    created = podd.create(m).json()
    seen_backoff = wait_for(lambda: (s := statuses(podd.pod("crash"))["app"]) and s["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff" and s,
                            timeout=20, what="CrashLoopBackOff")
    assert seen_backoff["state"]["waiting"]["message"].startswith("back-off ")
    assert "restarting failed container=app pod=crash_default(" + created["metadata"]["uid"] + ")" in seen_backoff["state"]["waiting"]["message"]
    assert seen_backoff["lastState"]["terminated"]["exitCode"] == 1
    wait_for(lambda: statuses(podd.pod("crash"))["app"]["restartCount"] >= 5, timeout=40, what="5 restarts")
    vol = next(podd.state_dir.glob(f"pods/{created['metadata']['uid']}/volumes/d"))
    starts = [float(x) for x in (vol / "starts").read_text().split()]
    gaps = [b - a for a, b in zip(starts, starts[1:])][:5]
    expected = [0, 1, 2, 4, 4]
    for g, e in zip(gaps, expected):
        assert e - 0.05 <= g <= e + 0.8, f"gaps {gaps} vs {expected}"
    table = podd.podctl("get", "pods").stdout
    assert "CrashLoopBackOff" in table or "Error" in table


# --- sidecars ---------------------------------------------------------------------------------

def sidecar_pod(name, policy, app_cmd, sidecar_cmd="sleep 3600"):
    m = pod_manifest(name, [("app", app_cmd)], restartPolicy=policy)
    m["spec"]["initContainers"] = [{"name": "log", "image": "busybox", "command": ["sh", "-c", sidecar_cmd],
                                    "restartPolicy": "Always"}]
    return m


def test_never_pod_with_sidecar_succeeds(podd):
    podd.create(sidecar_pod("sc-done", "Never", "sleep 1; exit 0"))
    p = podd.wait_phase("sc-done", "Succeeded", timeout=40)
    assert statuses(p)["app"]["state"]["terminated"]["exitCode"] == 0
    assert "running" not in statuses(p, "initContainerStatuses")["log"]["state"]


def test_crashing_sidecar_is_restarted(podd):
    podd.create(sidecar_pod("sc-crash", "Never", "sleep 3600", "sleep 0.5; exit 1"))
    wait_for(lambda: statuses(podd.pod("sc-crash"), "initContainerStatuses")["log"]["restartCount"] >= 2,
             timeout=30, what="sidecar restarts")
    p = podd.pod("sc-crash")
    assert "running" in statuses(p)["app"]["state"]
    assert statuses(p)["app"]["restartCount"] == 0


def test_sidecar_stops_after_app_in_reverse_order(podd):
    # A hostPath volume: the record must outlive the pod (an emptyDir goes with it). Each
    # container appends its name when it is told to stop: a sidecar is told only after the
    # containers after it have exited, so the lines are the order (uptime's 10 ms ticks could
    # not tell stops closer than that apart).
    out = podd.root / "stops"
    out.mkdir()
    vol = [{"name": "t", "hostPath": {"path": str(out), "type": "Directory"}}]
    stop = "trap 'echo {0} >> /t/order; exit 0' TERM; while true; do sleep 0.1; done"
    m = pod_manifest("sc-order", [("app", stop.format("app"))], restartPolicy="Always", volumes=vol, shareProcessNamespace=True)
    m["spec"]["initContainers"] = [
        {"name": "s1", "image": "busybox", "restartPolicy": "Always", "command": ["sh", "-c", stop.format("s1")]},
        {"name": "s2", "image": "busybox", "restartPolicy": "Always", "command": ["sh", "-c", stop.format("s2")]},
    ]
    mount_everywhere(m, "t", "/t")
    assert podd.create(m).status == 201
    podd.wait_running("sc-order")
    podd.request("DELETE", "/api/v1/namespaces/default/pods/sc-order?gracePeriodSeconds=10")
    order = out / "order"
    wait_for(lambda: order.exists() and len(order.read_text().split()) == 3, timeout=20, what="all three stopped")
    assert order.read_text().split() == ["app", "s2", "s1"]


# --- termination ------------------------------------------------------------------------------

def test_delete_during_init_finishes_within_grace(podd):
    podd.create(init_pod("slow-init", [("init", "sleep 3600")], [("app", "sleep 3600")], "Always"))
    wait_for(lambda: "running" in statuses(podd.pod("slow-init"), "initContainerStatuses")["init"]["state"])
    start = time.monotonic()
    podd.request("DELETE", "/api/v1/namespaces/default/pods/slow-init?gracePeriodSeconds=2")
    # The init step (an hour of sleep, PID 1 of its namespace: SIGTERM does nothing) is
    # killed once the grace is over, not waited for. (No upper bound in seconds: a loaded CI
    # machine took 5.07 s for 2 s of grace.)
    podd.wait_gone("slow-init", timeout=30)
    assert time.monotonic() - start >= 1.5, "killed before its grace period was over"


def test_terminating_status_and_no_restart_while_terminating(podd):
    podd.create(pod_manifest("term", [("a", "trap '' TERM; sleep 3600")], restartPolicy="Always", shareProcessNamespace=True))
    podd.wait_running("term")
    podd.request("DELETE", "/api/v1/namespaces/default/pods/term?gracePeriodSeconds=3")
    assert "Terminating" in podd.podctl("get", "pods").stdout
    p = podd.pod("term")
    assert p["metadata"]["deletionTimestamp"] and statuses(p)["a"]["restartCount"] == 0
    podd.wait_gone("term", timeout=15)


# --- watch and events -----------------------------------------------------------------------

def test_watch_streams_added_modified_deleted(podd):
    conn = UnixHTTPConnection(podd.socket, timeout=30)
    conn.request("GET", "/api/v1/namespaces/default/pods?watch=true")
    resp = conn.getresponse()
    assert resp.status == 200
    podd.create(pod_manifest("w", [("a", "sleep 3600")], terminationGracePeriodSeconds=0))
    types = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        e = json.loads(resp.readline())
        if e["object"]["metadata"]["name"] != "w":
            continue
        types.append(e["type"])
        if e["type"] == "MODIFIED" and any("running" in s["state"] for s in e["object"]["status"].get("containerStatuses", [])):
            podd.request("DELETE", "/api/v1/namespaces/default/pods/w?gracePeriodSeconds=0")
        if e["type"] == "DELETED":
            break
    conn.close()
    assert types[0] == "ADDED" and "MODIFIED" in types and types[-1] == "DELETED"


def test_events_recorded_and_described(podd):
    podd.create(pod_manifest("ev", [("a", "sleep 3600")]))
    podd.wait_running("ev")
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    reasons = {e["reason"] for e in events if e["involvedObject"]["name"] == "ev"}
    assert {"Created", "Started"} <= reasons
    out = podd.podctl("describe", "pod", "ev").stdout
    assert "Started" in out and "Events:" in out
    assert "Started" in podd.podctl("events").stdout


def test_seed_manifest_init_that_cannot_start_keeps_restarting(podd):
    from harness import REPO
    podd.podctl("apply", "-f", str(REPO / "config/examples/init-clone.yaml"))
    p = wait_for(lambda: (p := podd.pod("myapp")) and statuses(p, "initContainerStatuses")["init-myservice"]["restartCount"] >= 2 and p,
                 timeout=30, what="init-myservice restarting")
    init = statuses(p, "initContainerStatuses")["init-myservice"]
    last = init.get("lastState", {}).get("terminated") or init["state"].get("terminated")
    assert last["reason"] == "StartError" and last["exitCode"] == 128
    assert "git" in last.get("message", "")
    app = statuses(p)["myapp-container"]
    assert app["restartCount"] == 0 and "running" not in app["state"]
    assert p["status"]["phase"] == "Pending"
    assert "Init:" in podd.podctl("get", "pods").stdout


def test_seed_manifest_with_a_working_init_runs_the_app(podd):
    from harness import REPO
    text = (REPO / "config/examples/init-clone.yaml").read_text().replace(
        '["git", "clone", "https://example.com/myservice.git", "/src"]', '["sh", "-c", "echo cloned > /src/README"]')
    podd.podctl("apply", "-f", "-", input=text)
    podd.wait_running("myapp")
    assert wait_for(lambda: podd.log("myapp", "myapp-container")) == "The app is running!\n"


def test_pod_restart_keeps_uid_emptydir_and_network(podd):
    # The app counts its runs in an emptyDir and notes its network namespace; it fails twice.
    m = pod_manifest("keep", [{"name": "app", "command": ["sh", "-c",
        "echo run >> /data/runs; readlink /proc/self/ns/net >> /data/net; "
        "[ $(wc -l < /data/runs) -ge 3 ] && exec sleep 3600; exit 1"],
        "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
        volumes=[{"name": "d", "emptyDir": {}}], restartPolicy="Always")
    m["spec"]["initContainers"] = [{"name": "init", "image": "busybox", "command": ["true"]}]
    uid = podd.create(m).json()["metadata"]["uid"]
    p = wait_for(lambda: (p := podd.pod("keep")) and statuses(p)["app"]["restartCount"] >= 2
                 and "running" in statuses(p)["app"]["state"] and p, timeout=40, what="two pod restarts")
    assert p["metadata"]["uid"] == uid
    assert statuses(p, "initContainerStatuses")["init"]["restartCount"] >= 2   # pod scope: init re-ran
    data = podd.state_dir / "pods" / uid / "volumes" / "d"
    # "running" means the third run's process has started, not that its shell has written yet.
    wait_for(lambda: (data / "runs").read_text().count("run") >= 3, timeout=10, what="the third run's line")
    wait_for(lambda: len((data / "net").read_text().split()) >= 3, timeout=10, what="the third run's netns line")
    nets = set((data / "net").read_text().split())
    assert len(nets) == 1, f"the pod's network namespace changed across restarts: {nets}"


def test_image_removed_after_admission_leaves_container_waiting(podd, busybox_tar):
    podd.podctl("image", "import", "tools", str(busybox_tar))
    m = pod_manifest("noimg", [{"name": "a", "image": "tools", "imagePullPolicy": "Never", "command": ["sh", "-c", "exit 1"]}],
                     restartPolicy="Always")
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    assert podd.create(m).status == 201
    podd.podctl("image", "rm", "--force", "tools")   # in use: refused without --force
    s = wait_for(lambda: (s := statuses(podd.pod("noimg"))["a"]) and s["state"].get("waiting", {}).get("reason") == "ErrImageNeverPull" and s,
                 timeout=30, what="ErrImageNeverPull")
    assert "tools" in s["state"]["waiting"]["message"]
