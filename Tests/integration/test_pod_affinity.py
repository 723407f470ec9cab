"""podAffinity and podAntiAffinity on podd's one node, as a one-node cluster's scheduler
treats them: a pod whose required anti-affinity selects a pod on the node (or whom a placed
pod's anti-affinity selects), or whose required affinity no pod there satisfies, stays
Pending and unbound with the scheduler's message, and is bound and started, with a Scheduled
event, once the pods it depends on change (one deleted, created, relabelled or finished).
The binding is stored: a restarted podd keeps it, and places what still waits. Preferred
terms are accepted and decide nothing. Both fields were refused before."""
import socket

from harness import pod_manifest, wait_for
from test_api_limits import make_podd  # noqa: F401  (fixture)

HOSTNAME = "kubernetes.io/hostname"


def labelled(name, labels, **spec):
    manifest = pod_manifest(name, [("app", spec.pop("command", "sleep 3600"))], **spec)
    manifest["metadata"]["labels"] = labels
    return manifest


def term(labels, **extra):
    return {"labelSelector": {"matchLabels": labels}, "topologyKey": HOSTNAME, **extra}


def anti(*terms):
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}}


def near(*terms):
    return {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": list(terms),
                            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "podAffinityTerm": term({"app": "nowhere"})}]}}


def scheduled_condition(d, name):
    pod = d.pod(name)
    conditions = {c["type"]: c for c in pod["status"].get("conditions", [])}
    return conditions.get("PodScheduled")


def wait_unschedulable(d, name, why):
    wait_for(lambda: (c := scheduled_condition(d, name)) and c["status"] == "False", what=f"{name} unschedulable")
    pod = d.pod(name)
    condition = scheduled_condition(d, name)
    assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"], pod
    assert condition["reason"] == "Unschedulable" and why in condition["message"], condition
    assert not (d.run_dir / "pods" / pod["metadata"]["uid"]).exists()
    return pod


def events(d, name):
    return [(e["reason"], e["message"]) for e in d.get("/api/v1/namespaces/default/events").json()["items"]
            if e["involvedObject"]["name"] == name]


def test_anti_affinity_waits_for_the_pod_it_avoids_to_go(make_podd, busybox_tar):
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    db = {"app": "db"}
    assert d.create(labelled("db-1", db, terminationGracePeriodSeconds=0,
                                 affinity=anti(term(db)))).status == 201
    assert d.wait_running("db-1")["spec"]["nodeName"] == host
    assert d.create(labelled("db-2", db, terminationGracePeriodSeconds=0,
                                 affinity=anti(term(db)))).status == 201
    wait_unschedulable(d, "db-2", "1 node(s) didn't match pod anti-affinity rules")
    assert any(r == "FailedScheduling" and "No preemption victims found for incoming pod" in m for r, m in events(d, "db-2"))
    # db-1's own anti-affinity keeps off a pod it selects that has no rule of its own.
    assert d.create(labelled("plain-db", db)).status == 201
    wait_unschedulable(d, "plain-db", "1 node(s) didn't satisfy existing pods anti-affinity rules")
    # A pod in another namespace is not selected; one relabelled away leaves room.
    assert d.create(labelled("db-elsewhere", db, terminationGracePeriodSeconds=0), namespace="other").status == 201
    d.wait_running("db-elsewhere", namespace="other")
    assert d.request("PATCH", "/api/v1/namespaces/default/pods/plain-db", {"metadata": {"labels": {"app": "cache"}}},
                     headers={"Content-Type": "application/merge-patch+json"}).status == 200
    assert d.wait_running("plain-db")["spec"]["nodeName"] == host
    assert ("Scheduled", f"Successfully assigned default/plain-db to {host}") in events(d, "plain-db")

    # db-1 goes: db-2, the oldest waiting, is bound, stored bound, and runs.
    assert d.request("DELETE", "/api/v1/namespaces/default/pods/db-1?gracePeriodSeconds=0").status == 200
    d.wait_gone("db-1")
    placed = d.wait_running("db-2")
    assert placed["spec"]["nodeName"] == host
    assert scheduled_condition(d, "db-2")["status"] == "True"
    assert '"nodeName"' in (d.state_dir / "pods" / placed["metadata"]["uid"] / "pod.json").read_text()

    # A third replica waits for db-2 now, across a restart of podd, and db-2 stays bound.
    assert d.create(labelled("db-3", db, affinity=anti(term(db)))).status == 201
    wait_unschedulable(d, "db-3", "anti-affinity")
    d.stop()
    d.start()
    assert d.wait_running("db-2")["spec"]["nodeName"] == host
    wait_unschedulable(d, "db-3", "anti-affinity")
    # A waiting pod deleted goes at once: it never had a sandbox.
    assert d.request("DELETE", "/api/v1/namespaces/default/pods/db-3").status == 200
    d.wait_gone("db-3")


def test_affinity_waits_for_a_pod_to_run_beside(make_podd, busybox_tar):
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    assert d.create(pod_manifest("cache", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                                 affinity=near(term({"app": "web"})))).status == 201
    wait_unschedulable(d, "cache", "1 node(s) didn't match pod affinity rules")
    assert any(r == "FailedScheduling" and "Preemption is not helpful for scheduling" in m for r, m in events(d, "cache"))
    # The first pod of a group that must run together matches its own term: it runs.
    assert d.create(labelled("web", {"app": "web"}, terminationGracePeriodSeconds=0,
                                 affinity=near(term({"app": "web"})))).status == 201
    assert d.wait_running("web")["spec"]["nodeName"] == host
    # ... and the cache that waited for it follows.
    assert d.wait_running("cache")["spec"]["nodeName"] == host

    # A pod that has finished does not count: a job's pod is no company.
    assert d.create(labelled("job", {"app": "job"}, command="true", restartPolicy="Never")).status == 201
    d.wait_phase("job", "Succeeded")
    assert d.create(pod_manifest("follower", [("app", "sleep 3600")], affinity=near(term({"app": "job"})))).status == 201
    wait_unschedulable(d, "follower", "pod affinity rules")
    # A pod bound by its own nodeName skips the scheduler, as on a cluster.
    assert d.create(pod_manifest("pinned", [("app", "sleep 3600")], nodeName=host, terminationGracePeriodSeconds=0,
                                 affinity=near(term({"app": "job"})))).status == 201
    d.wait_running("pinned")


def test_topology_spread_on_one_node(make_podd, busybox_tar):
    """topologySpreadConstraints (refused before): the node is the only domain, so a
    DoNotSchedule constraint holds a pod back when the node lacks its topology label, or when
    minDomains counts the missing domains as empty (at most maxSkew matching pods here);
    ScheduleAnyway never does. A waiting pod runs once a counted pod is deleted."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    web = {"app": "web"}

    def spread(**c):
        return [{"maxSkew": 1, "topologyKey": HOSTNAME, "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": web}, **c}]

    assert d.create(labelled("web-1", web, terminationGracePeriodSeconds=0, topologySpreadConstraints=spread(minDomains=2))).status == 201
    d.wait_running("web-1")
    assert d.create(labelled("web-2", web, terminationGracePeriodSeconds=0, topologySpreadConstraints=spread(minDomains=2))).status == 201
    wait_unschedulable(d, "web-2", "1 node(s) didn't match pod topology spread constraints.")
    # Without minDomains one domain is always even.
    assert d.create(labelled("web-3", web, terminationGracePeriodSeconds=0, topologySpreadConstraints=spread())).status == 201
    d.wait_running("web-3")
    zone = spread(topologyKey="topology.kubernetes.io/zone")
    assert d.create(labelled("zoned", web, topologySpreadConstraints=zone)).status == 201
    wait_unschedulable(d, "zoned", "didn't match pod topology spread constraints (missing required label)")
    zone[0]["whenUnsatisfiable"] = "ScheduleAnyway"
    assert d.create(labelled("anyway", {"app": "other"}, terminationGracePeriodSeconds=0, topologySpreadConstraints=zone)).status == 201
    d.wait_running("anyway")
    r = d.create(labelled("bad", web, topologySpreadConstraints=spread(maxSkew=0)))
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "spec.topologySpreadConstraints[0].maxSkew", r.text
    # web-1 and web-3 go (deleted pods stop counting at once): web-2 is placed.
    for name in ("web-1", "web-3"):
        assert d.request("DELETE", f"/api/v1/namespaces/default/pods/{name}").status == 200
    assert d.wait_running("web-2")["spec"]["nodeName"] == socket.gethostname()
