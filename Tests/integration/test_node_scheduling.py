"""spec.nodeSelector, spec.nodeName and spec.tolerations on podd's one node, as a one-node
cluster treats them: a pod that fits is bound (spec.nodeName) and runs; one whose selector no
label of the node matches stays Pending, PodScheduled False / Unschedulable, with the
scheduler's FailedScheduling event; one bound here by its own nodeName that does not fit is
Failed as kubelet's admission rejects it; another node's name is refused. A manifest exported
from a cluster (its not-ready/unreachable tolerations, nodeSelector kubernetes.io/os) runs as it
is. Both fields were refused before ("not supported by podd")."""
import socket

import yaml

from harness import pod_manifest, wait_for
from kubectl_fixture import kubectl  # noqa: F401  (fixture)
from test_api_limits import make_podd  # noqa: F401  (fixture)


def test_node_selector_node_name_and_tolerations(make_podd, busybox_tar):
    d = make_podd("nodeLabels: {disktype: ssd, example.com/tier: gold}\n")
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    cluster_tolerations = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                           {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    fits = pod_manifest("fits", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                        nodeSelector={"kubernetes.io/os": "linux", "disktype": "ssd", "example.com/tier": "gold"},
                        tolerations=cluster_tolerations)
    assert d.create(fits).status == 201, d.create(fits).text
    pod = d.wait_running("fits")
    assert pod["spec"]["nodeName"] == host
    assert pod["spec"]["tolerations"] == cluster_tolerations
    assert [p["metadata"]["name"] for p in d.get(f"/api/v1/pods?fieldSelector=spec.nodeName%3D{host}").json()["items"]] == ["fits"]
    # The fields the API server fills in select as they would on a cluster.
    selected = d.get(f"/api/v1/pods?fieldSelector=spec.nodeName%3D{host},spec.schedulerName%3Ddefault-scheduler,"
                     "spec.serviceAccountName%3Ddefault,spec.hostNetwork%3Dfalse").json()["items"]
    assert [p["metadata"]["name"] for p in selected] == ["fits"]

    misses = pod_manifest("misses", [("app", "sleep 3600")], nodeSelector={"disktype": "hdd"})
    assert d.create(misses).status == 201
    pending = wait_for(lambda: (p := d.pod("misses")) and p["status"].get("conditions") and p)
    assert pending["status"]["phase"] == "Pending" and "nodeName" not in pending["spec"]
    assert "containerStatuses" not in pending["status"]
    [condition] = pending["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == ("PodScheduled", "False", "Unschedulable")
    assert "didn't match Pod's node affinity/selector" in condition["message"]
    events = wait_for(lambda: [e for e in d.get("/api/v1/namespaces/default/events").json()["items"]
                               if e["involvedObject"]["name"] == "misses" and e["reason"] == "FailedScheduling"])
    assert events[0]["type"] == "Warning"
    # Nothing of it runs: no monitor, no run dir.
    assert not (d.run_dir / "pods" / pending["metadata"]["uid"]).exists()

    rejected = pod_manifest("rejected", [("app", "sleep 3600")], nodeName=host, nodeSelector={"disktype": "hdd"})
    assert d.create(rejected).status == 201
    failed = d.wait_phase("rejected", "Failed")
    # The scheduler tells of the pods it places, first; a pod bound by its own nodeName never met it.
    def reasons(name):
        return [e["reason"] for e in d.get("/api/v1/namespaces/default/events").json()["items"] if e["involvedObject"]["name"] == name]
    assert reasons("fits")[0] == "Scheduled", reasons("fits")
    assert "Scheduled" not in reasons("rejected") and "Scheduled" not in reasons("misses")
    assert failed["status"]["reason"] == "NodeAffinity"
    assert failed["status"]["message"] == "Pod was rejected: Predicate NodeAffinity failed"

    # Required node affinity: one of its terms must match the node's labels (or its name).
    def affinity(*expressions):
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": list(expressions)}]},
                                 "preferredDuringSchedulingIgnoredDuringExecution": [
                                     {"weight": 10, "preference": {"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}}]}}
    near = pod_manifest("near", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                        affinity=affinity({"key": "example.com/tier", "operator": "In", "values": ["gold", "silver"]}))
    assert d.create(near).status == 201
    assert d.wait_running("near")["spec"]["nodeName"] == host
    far = pod_manifest("far", [("app", "sleep 3600")], affinity=affinity({"key": "disktype", "operator": "NotIn", "values": ["ssd"]}))
    assert d.create(far).status == 201
    assert wait_for(lambda: (p := d.pod("far")) and p["status"].get("conditions")
                    and p["status"]["conditions"][0]["reason"] == "Unschedulable")
    r = d.create(pod_manifest("anti", [("app", "sleep 3600")],
                              affinity={"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": ""}]}}))
    assert r.status == 422, r.text
    assert r.json()["details"]["causes"][0]["field"] == "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"

    windows = pod_manifest("windows", [("app", "sleep 3600")], os={"name": "windows"})
    assert d.create(windows).status == 201
    assert d.wait_phase("windows", "Failed")["status"]["reason"] == "PodOSNotSupported"
    assert d.create(pod_manifest("linux", [("app", "sleep 3600")], os={"name": "linux"}, terminationGracePeriodSeconds=0)).status == 201
    d.wait_running("linux")

    r = d.create(pod_manifest("elsewhere", [("app", "sleep 3600")], nodeName="node-7"))
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "spec.nodeName", r.text
    r = d.create(pod_manifest("badtol", [("app", "sleep 3600")], tolerations=[{"key": "a", "operator": "Sometimes"}]))
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "spec.tolerations[0].operator", r.text
    assert d.pod("elsewhere") is None and d.pod("badtol") is None

    # A PUT of the spec as first sent (no nodeName) is no change: the pod is not restarted.
    started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    current = d.pod("fits")
    del current["spec"]["nodeName"]
    assert d.request("PUT", "/api/v1/namespaces/default/pods/fits", current).status == 200
    again = d.pod("fits")
    assert again["spec"]["nodeName"] == host
    assert again["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] == started
    assert again["status"]["containerStatuses"][0]["restartCount"] == 0

    # A restarted podd whose node now has the label runs the pod it could not place.
    d.stop()
    d.config_path.write_text(d.config_path.read_text().replace("disktype: ssd", "disktype: hdd"))
    d.start()
    placed = d.wait_running("misses")
    assert placed["spec"]["nodeName"] == host
    assert d.wait_running("far")["spec"]["nodeName"] == host
    assert d.pod("rejected")["status"]["phase"] == "Failed"
    # Both pods deleted go; the unscheduled one never had a sandbox to tear down.
    for name in ("misses", "rejected"):
        assert d.request("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0").status == 200
        d.wait_gone(name)


def test_scheduling_gates_hold_a_pod_until_the_last_is_removed(make_podd, busybox_tar):
    """spec.schedulingGates (refused before): a gated pod is Pending, PodScheduled False /
    SchedulingGated, with no event and no sandbox; gates may be removed, never added; once
    the last goes the pod is bound (a Scheduled event) and runs."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    gated = pod_manifest("gated", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                         schedulingGates=[{"name": "example.com/quota"}, {"name": "review"}])
    assert d.create(gated).status == 201
    pending = wait_for(lambda: (p := d.pod("gated")) and p["status"].get("conditions") and p)
    assert pending["status"]["phase"] == "Pending" and "nodeName" not in pending["spec"]
    [condition] = pending["status"]["conditions"]
    assert (condition["type"], condition["status"], condition["reason"], condition["message"]) == (
        "PodScheduled", "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates")
    assert not (d.run_dir / "pods" / pending["metadata"]["uid"]).exists()
    assert "SchedulingGated" in d.podctl("get", "pods").stdout
    path = "/api/v1/namespaces/default/pods/gated"
    json_patch = {"Content-Type": "application/json-patch+json"}
    r = d.request("PATCH", path, [{"op": "add", "path": "/spec/schedulingGates/-", "value": {"name": "more"}}], headers=json_patch)
    assert r.status == 422 and "only deletion is allowed, but found new scheduling gate 'more'" in r.json()["message"], r.text
    assert d.request("PATCH", path, [{"op": "remove", "path": "/spec/schedulingGates/0"}], headers=json_patch).status == 200
    assert d.pod("gated")["status"]["conditions"][0]["reason"] == "SchedulingGated"
    assert d.request("PATCH", path, [{"op": "remove", "path": "/spec/schedulingGates"}], headers=json_patch).status == 200
    assert d.wait_running("gated")["spec"]["nodeName"] == host
    reasons = [e["reason"] for e in d.get("/api/v1/namespaces/default/events").json()["items"] if e["involvedObject"]["name"] == "gated"]
    assert reasons[0] == "Scheduled" and "FailedScheduling" not in reasons, reasons

    r = d.create(pod_manifest("both", [("app", "sleep 3600")], nodeName=host, schedulingGates=[{"name": "x"}, {"name": "x"}]))
    assert r.status == 422, r.text
    assert {c["field"] for c in r.json()["details"]["causes"]} == {"spec.nodeName", "spec.schedulingGates[1].name"}


def test_requests_must_fit_what_the_node_has_left(make_podd, busybox_tar):
    """NodeResourcesFit: a pod whose requests do not fit the node's allocatable, less what the
    placed pods request, stays Pending (Insufficient cpu) until a pod goes; one bound here by
    its own nodeName is Failed with kubelet's OutOfcpu; one asking more than the machine has
    is told preemption would not help. Finished pods hold nothing."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    cpus = int(d.get(f"/api/v1/nodes/{host}").json()["status"]["allocatable"]["cpu"])

    def asking(name, cpu, **spec):
        manifest = pod_manifest(name, [("app", spec.pop("command", "sleep 3600"))], terminationGracePeriodSeconds=0, **spec)
        manifest["spec"]["containers"][0]["resources"] = {"requests": {"cpu": cpu}}
        return manifest

    # A finished pod's request is free again.
    assert d.create(asking("done", f"{cpus * 1000 - 100}m", command="true", restartPolicy="Never")).status == 201
    d.wait_phase("done", "Succeeded")
    assert d.create(asking("most", f"{cpus * 1000 - 500}m")).status == 201
    d.wait_running("most")
    assert d.create(asking("more", "1")).status == 201
    pending = wait_for(lambda: (p := d.pod("more")) and p["status"].get("conditions") and p)
    assert "nodeName" not in pending["spec"]
    assert pending["status"]["conditions"][0]["message"] == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.")
    assert d.create(asking("pinned", "1", nodeName=host)).status == 201
    failed = d.wait_phase("pinned", "Failed")
    assert failed["status"]["reason"] == "OutOfcpu"
    assert failed["status"]["message"] == (f"Pod was rejected: Node didn't have enough resource: cpu, requested: 1000, "
                                           f"used: {cpus * 1000 - 500}, capacity: {cpus * 1000}")
    assert d.create(asking("enormous", str(cpus * 100))).status == 201
    assert wait_for(lambda: (p := d.pod("enormous")) and p["status"].get("conditions")
                    and "Preemption is not helpful" in p["status"]["conditions"][0]["message"])
    # A waiting pod whose reason changes says the new one: "more" now also wants a label.
    assert d.request("PATCH", "/api/v1/namespaces/default/pods/more", {"spec": {"nodeSelector": {"disk": "ssd"}}},
                     headers={"Content-Type": "application/merge-patch+json"}).status == 200
    assert wait_for(lambda: "node affinity/selector" in d.pod("more")["status"]["conditions"][0]["message"])
    assert d.request("PATCH", f"/api/v1/nodes/{host}", {"metadata": {"labels": {"disk": "ssd"}}},
                     headers={"Content-Type": "application/merge-patch+json"}).status == 200
    assert wait_for(lambda: "Insufficient cpu" in d.pod("more")["status"]["conditions"][0]["message"])
    # "most" goes: "more" is placed and runs; "enormous" still waits.
    assert d.request("DELETE", "/api/v1/namespaces/default/pods/most").status == 200
    assert d.wait_running("more")["spec"]["nodeName"] == host
    assert d.pod("enormous")["status"]["phase"] == "Pending"


def test_priority_classes_are_the_built_in_ones(make_podd, busybox_tar):
    """priorityClassName (refused before): system-node-critical and system-cluster-critical
    give spec.priority as the API server's Priority admission does; another class is 403 as a
    missing PriorityClass is, and so is a priority written by hand that the class does not
    give. Applying the manifest again changes nothing."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    critical = pod_manifest("critical", [("app", "sleep 3600")], terminationGracePeriodSeconds=0, priorityClassName="system-cluster-critical")
    assert d.create(critical).status == 201
    pod = d.wait_running("critical")
    assert (pod["spec"]["priorityClassName"], pod["spec"]["priority"]) == ("system-cluster-critical", 2000000000)
    started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    assert d.request("PUT", "/api/v1/namespaces/default/pods/critical", critical).status == 200
    assert d.pod("critical")["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] == started
    described = d.podctl("describe", "pod", "critical").stdout
    assert "Priority:             2000000000" in described and "Priority Class Name:  system-cluster-critical" in described, described

    r = d.create(pod_manifest("gold", [("app", "sleep 3600")], priorityClassName="gold"))
    assert r.status == 403, r.text
    assert r.json()["message"] == 'pods "gold" is forbidden: no PriorityClass with name gold was found'
    r = d.create(pod_manifest("seven", [("app", "sleep 3600")], priority=7))
    assert r.status == 403 and "the integer value of priority (7) must not be provided in pod spec" in r.json()["message"], r.text
    assert d.pod("gold") is None and d.pod("seven") is None


CLASSES = "/apis/scheduling.k8s.io/v1/priorityclasses"


def priority_class(name, value, **fields):
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name}, "value": value, **fields}


def test_priority_classes_of_the_api_and_the_global_default(make_podd, busybox_tar):
    """scheduling.k8s.io/v1 PriorityClasses (cluster-scoped): created, validated, listed with
    the two built-in ones, watched and stored; a pod naming one gets its priority and
    preemption policy, a pod naming none the globalDefault class's, as the Priority admission
    gives them. The built-in classes are neither changed nor deleted."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    names = [c["metadata"]["name"] for c in d.get(CLASSES).json()["items"]]
    assert names == ["system-cluster-critical", "system-node-critical"], names
    r = d.request("POST", CLASSES, priority_class("gold", 1000, description="the important ones", metadata={"name": "gold", "namespace": "x"}))
    assert r.status == 201, r.text
    gold = r.json()
    assert gold["preemptionPolicy"] == "PreemptLowerPriority" and "namespace" not in gold["metadata"], gold
    assert d.request("POST", CLASSES, priority_class("polite", 500, preemptionPolicy="Never")).status == 201
    assert d.request("POST", CLASSES, priority_class("base", 10, globalDefault=True)).status == 201
    for body, status, words in [
        (priority_class("base2", 5, globalDefault=True), 403, "PriorityClass base is already marked as default. Only one default can exist"),
        (priority_class("system-mine", 5), 422, "priority class names with 'system-' prefix are reserved"),
        (priority_class("huge", 1000000001), 422, "maximum allowed value of a user defined priority is 1000000000"),
        (priority_class("odd", 5, preemptionPolicy="Sometimes"), 422, 'Unsupported value: "Sometimes"'),
        (priority_class("gold", 5), 409, "already exists"),
    ]:
        r = d.request("POST", CLASSES, body)
        assert r.status == status and words in r.json()["message"], (body, r.text)
    merge = {"Content-Type": "application/merge-patch+json"}
    r = d.request("PATCH", f"{CLASSES}/gold", {"value": 7}, headers=merge)
    assert r.status == 422 and "value: Forbidden: may not be changed in an update." in r.json()["message"], r.text
    assert d.request("PATCH", f"{CLASSES}/gold", {"description": "still important"}, headers=merge).status == 200
    r = d.request("DELETE", f"{CLASSES}/system-node-critical")
    assert r.status == 403, r.text
    assert d.request("PATCH", f"{CLASSES}/system-node-critical", {"description": "x"}, headers=merge).status == 403

    for name, extra in [("named", {"priorityClassName": "gold"}), ("unnamed", {}), ("never", {"priorityClassName": "polite"})]:
        assert d.create(pod_manifest(name, [("app", "sleep 3600")], terminationGracePeriodSeconds=0, **extra)).status == 201
    given = {n: d.pod(n)["spec"] for n in ("named", "unnamed", "never")}
    assert [(g["priorityClassName"], g["priority"], g["preemptionPolicy"]) for g in given.values()] == [
        ("gold", 1000, "PreemptLowerPriority"), ("base", 10, "PreemptLowerPriority"), ("polite", 500, "Never")]
    r = d.create(pod_manifest("pushy", [("app", "sleep 3600")], priorityClassName="polite", preemptionPolicy="PreemptLowerPriority"))
    assert r.status == 403 and "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided" in r.json()["message"], r.text
    d.wait_running("named")

    # Stored: the classes come back after a restart, the built-in ones with them.
    d.stop()
    d.start()
    names = [c["metadata"]["name"] for c in d.get(CLASSES).json()["items"]]
    assert names == ["base", "gold", "polite", "system-cluster-critical", "system-node-critical"], names
    assert d.get(f"{CLASSES}/gold").json()["description"] == "still important"
    rows = [line.split() for line in d.podctl("get", "pc").stdout.splitlines()]
    assert rows[0] == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"] and rows[1][:3] == ["base", "10", "true"], rows
    assert d.podctl("get", "pc", "gold", "-o", "name").stdout.strip() == "priorityclass.scheduling.k8s.io/gold"
    assert d.podctl("delete", "pc", "base").stdout.strip() == 'priorityclass.scheduling.k8s.io "base" deleted'
    assert d.create(pod_manifest("after", [("app", "sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    assert d.pod("after")["spec"].get("priority") is None and d.pod("unnamed")["spec"]["priority"] == 10
    # The admission ran at the create: a replacement keeps what the pod was given, its class
    # gone or not, and a priority written by hand is refused.
    assert d.request("DELETE", f"{CLASSES}/gold").status == 200
    for name in ("unnamed", "named"):
        manifest = pod_manifest(name, [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                                **({"priorityClassName": "gold"} if name == "named" else {}))
        r = d.request("PUT", f"/api/v1/namespaces/default/pods/{name}", manifest)
        assert r.status == 200 and r.json()["spec"]["priority"] == {"unnamed": 10, "named": 1000}[name], r.text
    r = d.request("PATCH", "/api/v1/namespaces/default/pods/named", {"spec": {"priority": 5}}, headers=merge)
    assert r.status == 403 and "computed 1000 from the given PriorityClass name" in r.json()["message"], r.text


def test_a_pod_of_higher_priority_preempts_what_keeps_it_out(make_podd, busybox_tar):
    """Preemption: a pod that lacks only resources has pods of lower priority deleted
    (DisruptionTarget PreemptionByScheduler, a Preempted event), waits nominated to the node
    while they terminate, then runs. A pod of the same priority, or one whose class says
    preemptionPolicy Never, waits instead."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    cpus = int(d.get("/api/v1/nodes").json()["items"][0]["status"]["allocatable"]["cpu"])
    for body in (priority_class("low", 10), priority_class("high", 1000), priority_class("polite", 1000, preemptionPolicy="Never")):
        assert d.request("POST", CLASSES, body).status == 201

    def hungry(name, cls, millis, grace=1):
        return pod_manifest(name, [{"name": "app", "command": ["sleep", "3600"], "resources": {"requests": {"cpu": f"{millis}m"}}}],
                            terminationGracePeriodSeconds=grace, priorityClassName=cls)

    total = cpus * 1000
    assert d.create(hungry("victim", "low", total - 200)).status == 201
    d.wait_running("victim")
    # The same priority, and a class that never preempts: both wait, the victim stays.
    assert d.create(hungry("peer", "low", 500)).status == 201
    assert d.create(hungry("polite", "polite", 500)).status == 201
    for name in ("peer", "polite"):
        waiting = wait_for(lambda n=name: (p := d.pod(n)) and p["status"].get("conditions") and p)
        assert "No preemption victims found for incoming pod" in waiting["status"]["conditions"][0]["message"], waiting["status"]
    assert d.pod("victim")["metadata"].get("deletionTimestamp") is None
    assert d.request("DELETE", "/api/v1/namespaces/default/pods/peer?gracePeriodSeconds=0").status == 200
    assert d.request("DELETE", "/api/v1/namespaces/default/pods/polite?gracePeriodSeconds=0").status == 200
    wait_for(lambda: d.pod("peer") is None and d.pod("polite") is None, what="the waiting pods gone")

    assert d.create(hungry("vip", "high", 500)).status == 201
    marked = wait_for(lambda: (p := d.pod("victim")) and p["metadata"].get("deletionTimestamp") and p, what="the victim preempted")
    target = next(c for c in marked["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (target["reason"], target["message"]) == ("PreemptionByScheduler", "default-scheduler: preempting to accommodate a higher priority pod")
    vip = d.pod("vip")
    assert vip["spec"].get("nodeName") is None or vip["status"]["phase"] == "Running"
    running = d.wait_running("vip", timeout=30)
    assert running["spec"]["nodeName"] == d.get("/api/v1/nodes").json()["items"][0]["metadata"]["name"]
    wait_for(lambda: d.pod("victim") is None, what="the victim gone")
    events = d.get("/api/v1/namespaces/default/events").json()["items"]
    preempted = [e for e in events if e["reason"] == "Preempted"]
    assert [(e["involvedObject"]["name"], e["message"]) for e in preempted] == [("victim", f"Preempted by pod {vip['metadata']['uid']} on node {running['spec']['nodeName']}")]
    failed = [e["message"] for e in events if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "vip"]
    assert failed and failed[0] == "0/1 nodes are available: 1 Insufficient cpu.", failed


def test_kubectl_creates_and_lists_priority_classes(kubectl, podd, tmp_path):
    kubectl.run("create", "priorityclass", "gold", "--value=1000", "--description=important")
    rows = [line.split() for line in kubectl.run("get", "priorityclasses").stdout.splitlines()]
    assert rows[0] == ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"], rows
    assert [r[:3] for r in rows[1:]] == [["gold", "1000", "false"], ["system-cluster-critical", "2000000000", "false"],
                                         ["system-node-critical", "2000001000", "false"]], rows
    r = kubectl.run("create", "priorityclass", "system-x", "--value=5", check=False)
    assert r.returncode != 0 and "priority class names with 'system-' prefix are reserved" in r.stderr, r.stderr
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(yaml.safe_dump(pod_manifest("vip", [("app", "sleep 3600")], priorityClassName="gold")))
    kubectl.run("apply", "-f", str(manifest))
    assert podd.pod("vip")["spec"]["priority"] == 1000
    kubectl.run("annotate", "pc", "gold", "team=payments")
    # podctl describes a class as kubectl does, to the byte.
    for name in ("gold", "system-node-critical"):
        assert podd.podctl("describe", "pc", name).stdout == kubectl.run("describe", "pc", name).stdout
    described = podd.podctl("describe", "priorityclass/gold").stdout.splitlines()
    assert described[:6] == ["Name:              gold", "Value:             1000", "GlobalDefault:     false",
                             "PreemptionPolicy:  PreemptLowerPriority", "Description:       important",
                             "Annotations:       team=payments"], described
    assert kubectl.run("delete", "pc", "gold").stdout.strip() == 'priorityclass.scheduling.k8s.io "gold" deleted'
    r = podd.podctl("describe", "pc", "gold", check=False)
    assert r.returncode == 1 and "not found" in r.stderr, r.stderr


def test_readiness_gates_and_the_status_subresource(make_podd, busybox_tar):
    """spec.readinessGates (refused before) and PUT/PATCH of .../pods/NAME/status (405
    before): a pod is Ready once its containers are and every gate's condition, set through
    its status, is True. Conditions other than kubelet's are kept, after kubelet's, across a
    restart of podd; kubelet's own in an update are not taken."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    gated = pod_manifest("lb", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                         readinessGates=[{"conditionType": "example.com/lb-ready"}])
    assert d.create(gated).status == 201
    d.wait_running("lb")

    def conditions():
        return {c["type"]: c for c in d.pod("lb")["status"]["conditions"]}
    ready = wait_for(lambda: (c := conditions()) and c["ContainersReady"]["status"] == "True" and c)["Ready"]
    assert (ready["status"], ready["reason"]) == ("False", "ReadinessGatesNotReady")
    assert ready["message"] == 'corresponding condition of pod readiness gate "example.com/lb-ready" does not exist.'
    status = "/api/v1/namespaces/default/pods/lb/status"
    strategic = {"Content-Type": "application/strategic-merge-patch+json"}
    r = d.request("PATCH", status, {"status": {"conditions": [{"type": "example.com/lb-ready", "status": "False"},
                                                              {"type": "Ready", "status": "True"}]}}, headers=strategic)
    assert r.status == 200, r.text
    by_type = {c["type"]: c for c in r.json()["status"]["conditions"]}
    assert by_type["Ready"]["message"] == 'the status of pod readiness gate "example.com/lb-ready" is not "True", but False'
    assert d.request("PATCH", status, {"status": {"conditions": [{"type": "example.com/lb-ready", "status": "True"}]}},
                     headers=strategic).status == 200
    assert conditions()["Ready"]["status"] == "True"
    assert [c["type"] for c in d.pod("lb")["status"]["conditions"]][-1] == "example.com/lb-ready"
    assert "1/1" in d.request("GET", "/api/v1/namespaces/default/pods?fieldSelector=metadata.name%3Dlb",
                              headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).text
    # Refused: a status that is not one, a type that is not a name, an old resourceVersion.
    r = d.request("PATCH", status, {"status": {"conditions": [{"type": "example.com/x", "status": "Maybe"}]}}, headers=strategic)
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "status.conditions[0].status", r.text
    r = d.request("PATCH", status, {"metadata": {"resourceVersion": "1"}, "status": {"conditions": []}},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 409, r.text
    # Kept across a restart of podd.
    d.stop()
    d.start()
    d.wait_running("lb")
    assert wait_for(lambda: conditions()["Ready"]["status"] == "True")
    assert conditions()["example.com/lb-ready"]["status"] == "True"


def test_preemption_removes_the_pods_an_anti_affinity_rule_meets(make_podd, busybox_tar):
    """Preemption is not only for resources: a pod of higher priority kept out by its own
    anti-affinity, or by a placed pod's, has the pods of lower priority that cause it deleted,
    as the scheduler's DefaultPreemption runs every filter again without them. Other pods of
    lower priority stay; pods of its own priority are never taken."""
    d = make_podd()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    for body in (priority_class("low", 10), priority_class("high", 1000)):
        assert d.request("POST", CLASSES, body).status == 201
    hostname = {"topologyKey": "kubernetes.io/hostname"}

    def pod(name, cls, labels, **affinity):
        m = pod_manifest(name, [{"name": "app", "command": ["sleep", "3600"]}], terminationGracePeriodSeconds=1,
                         priorityClassName=cls, **({"affinity": affinity} if affinity else {}))
        m["metadata"]["labels"] = labels
        return m

    def avoids(app):
        return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": app}}, **hostname}]}}

    assert d.create(pod("db", "low", {"app": "db"})).status == 201
    assert d.create(pod("cache", "low", {"app": "cache"})).status == 201
    assert d.create(pod("guard", "low", {"app": "guard"}, **avoids("web"))).status == 201
    assert d.create(pod("peer", "high", {"app": "peer"})).status == 201
    for name in ("db", "cache", "guard", "peer"):
        d.wait_running(name)

    # Its own anti-affinity selects db (and peer, of its own priority: then nothing helps).
    assert d.create(pod("picky", "high", {"app": "picky"}, **avoids("peer"))).status == 201
    waiting = wait_for(lambda: (p := d.pod("picky")) and p["status"].get("conditions") and p)
    assert waiting["status"]["conditions"][0]["message"] == (
        "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod."), waiting["status"]
    assert d.request("DELETE", "/api/v1/namespaces/default/pods/picky?gracePeriodSeconds=0").status == 200
    wait_for(lambda: d.pod("picky") is None, what="picky gone")

    assert d.create(pod("vip", "high", {"app": "vip"}, **avoids("db"))).status == 201
    wait_for(lambda: (p := d.pod("db")) and p["metadata"].get("deletionTimestamp"), what="db preempted")
    d.wait_running("vip", timeout=30)
    wait_for(lambda: d.pod("db") is None, what="db gone")

    # guard's anti-affinity keeps web out: guard goes for it.
    assert d.create(pod("web", "high", {"app": "web"})).status == 201
    marked = wait_for(lambda: (p := d.pod("guard")) and p["metadata"].get("deletionTimestamp") and p, what="guard preempted")
    assert any(c["type"] == "DisruptionTarget" and c["reason"] == "PreemptionByScheduler" for c in marked["status"]["conditions"])
    d.wait_running("web", timeout=30)

    assert d.pod("cache")["metadata"].get("deletionTimestamp") is None
    assert d.pod("peer")["metadata"].get("deletionTimestamp") is None
    events = d.get("/api/v1/namespaces/default/events").json()["items"]
    assert sorted(e["involvedObject"]["name"] for e in events if e["reason"] == "Preempted") == ["db", "guard"]
    failed = [e["message"] for e in events if e["reason"] == "FailedScheduling" and e["involvedObject"]["name"] == "vip"]
    assert failed and failed[0] == "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.", failed
