"""`/api/v1/nodes`: podd's one node, the machine, as kubelet registers it, so that `kubectl get
nodes` and `kubectl describe node` work (the server had no such resource). Its name, labels,
capacity and conditions are the machine's, read when asked: DiskPressure goes True when the
state dir's disk is nearly full, as kubelet's default threshold (nodefs.available < 10%) says."""
import calendar
import json
import os
import socket
import time

from harness import pod_manifest, wait_for
from kubectl_fixture import kubectl  # noqa: F401  (fixture)
from test_api_limits import fill, make_podd, on_small_tmpfs  # noqa: F401  (fixture)


def condition(node, kind):
    return next(c for c in node["status"]["conditions"] if c["type"] == kind)


def test_the_node_is_the_machine_with_its_labels_capacity_and_conditions(make_podd):
    d = make_podd("nodeLabels: {disktype: ssd}\n", before_start=on_small_tmpfs("64m"))
    host = socket.gethostname()
    [node] = d.get("/api/v1/nodes").json()["items"]
    assert node["metadata"]["name"] == host == d.get(f"/api/v1/nodes/{host}").json()["metadata"]["name"]
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == host.lower() and labels["kubernetes.io/os"] == "linux"
    assert labels["kubernetes.io/arch"] == {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
    assert labels["disktype"] == "ssd"
    capacity = node["status"]["capacity"]
    assert capacity["cpu"] == str(os.cpu_count())
    mem_total_kib = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal:")).split()[1])
    assert abs(int(capacity["memory"].removesuffix("Ki")) - mem_total_kib) < mem_total_kib // 20
    st = os.statvfs(d.state_dir)
    assert capacity["ephemeral-storage"] == f"{st.f_blocks * st.f_frsize // 1024}Ki"
    assert node["status"]["allocatable"] == capacity
    info = node["status"]["nodeInfo"]
    assert info["kernelVersion"] == os.uname().release and info["operatingSystem"] == "linux"
    assert info["bootID"] == open("/proc/sys/kernel/random/boot_id").read().strip()
    assert info["containerRuntimeVersion"].startswith("podd://")
    assert condition(node, "Ready")["status"] == "True"
    assert condition(node, "DiskPressure")["status"] == "False"
    # The state dir's disk nearly full: kubelet's nodefs.available < 10% is disk pressure.
    filler = fill(d.state_dir)
    try:
        pressed = d.get(f"/api/v1/nodes/{host}").json()
        assert (condition(pressed, "DiskPressure")["status"], condition(pressed, "DiskPressure")["reason"]) == ("True", "KubeletHasDiskPressure")
    finally:
        filler.unlink()
    assert condition(d.get(f"/api/v1/nodes/{host}").json(), "DiskPressure")["status"] == "False"
    # Selectors, another name, and verbs a read-only node does not take.
    assert [n["metadata"]["name"] for n in d.get("/api/v1/nodes?labelSelector=disktype%3Dssd").json()["items"]] == [host]
    assert d.get("/api/v1/nodes?labelSelector=disktype%3Dhdd").json()["items"] == []
    assert d.get(f"/api/v1/nodes?fieldSelector=metadata.name%3D{host}").json()["items"][0]["metadata"]["name"] == host
    assert d.get(f"/api/v1/nodes?fieldSelector=metadata.name!%3D{host}").json()["items"] == []
    assert d.get("/api/v1/nodes?fieldSelector=spec.podCIDR%3Dx").status == 400
    assert [n["metadata"]["name"] for n in d.get("/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse").json()["items"]] == [host]
    assert d.get("/api/v1/nodes/node-7").status == 404
    # A watch: the node as ADDED from "now", nothing from the list's version, then its end.
    [added] = [json.loads(l) for l in d.get("/api/v1/nodes?watch=true&timeoutSeconds=1").body.splitlines()]
    assert added["type"] == "ADDED" and added["object"]["metadata"]["name"] == host
    version = d.get("/api/v1/nodes").json()["metadata"]["resourceVersion"]
    assert d.get(f"/api/v1/nodes?watch=true&timeoutSeconds=1&resourceVersion={version}").body == b""
    r = d.request("DELETE", f"/api/v1/nodes/{host}")
    assert r.status == 405 and "neither created nor deleted" in r.json()["message"]


def test_labels_and_cordon_change_the_node_and_place_what_waited(make_podd, busybox_tar):
    """PATCH and PUT of the node take its labels and spec.unschedulable (kubectl label node,
    cordon, uncordon): a pod whose nodeSelector waited for a label is placed when it comes; a
    cordoned node takes no new pod but those that tolerate its taint or name it; both are
    stored and outlive a restart of podd. What podd's node cannot take is 422."""
    d = make_podd("nodeLabels: {zone: a}\n")
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    path = f"/api/v1/nodes/{host}"
    merge = {"Content-Type": "application/merge-patch+json"}
    strategic = {"Content-Type": "application/strategic-merge-patch+json"}
    assert d.create(pod_manifest("wants-ssd", [("app", "sleep 3600")], terminationGracePeriodSeconds=0, nodeSelector={"disk": "ssd"})).status == 201
    assert wait_for(lambda: (p := d.pod("wants-ssd")) and p["status"].get("conditions") and p)["status"]["phase"] == "Pending"
    before = d.get(path).json()["metadata"]["resourceVersion"]
    r = d.request("PATCH", path, {"metadata": {"labels": {"disk": "ssd", "kubernetes.io/hostname": "other"}}}, headers=merge)
    assert r.status == 200, r.text
    labels = r.json()["metadata"]["labels"]
    # kubelet's own labels stay as they are.
    assert labels["disk"] == "ssd" and labels["zone"] == "a" and labels["kubernetes.io/hostname"] == host.lower()
    assert int(r.json()["metadata"]["resourceVersion"]) > int(before)
    assert d.wait_running("wants-ssd")["spec"]["nodeName"] == host
    # A watch from the version before sees the change.
    [changed] = [json.loads(l) for l in d.get(f"/api/v1/nodes?watch=true&timeoutSeconds=1&resourceVersion={before}").body.splitlines()]
    assert changed["type"] == "MODIFIED" and changed["object"]["metadata"]["labels"]["disk"] == "ssd"

    # A dry run answers the node as it would be, and changes nothing.
    r = d.request("PATCH", path + "?dryRun=All", {"spec": {"unschedulable": True}}, headers=strategic)
    assert r.status == 200 and r.json()["spec"]["unschedulable"] is True, r.text
    assert "unschedulable" not in d.get(path).json()["spec"]
    r = d.request("PATCH", path, {"spec": {"unschedulable": True}}, headers=strategic)
    assert r.status == 200, r.text
    node = r.json()
    assert node["spec"]["unschedulable"] is True
    assert [(t["key"], t["effect"]) for t in node["spec"]["taints"]] == [("node.kubernetes.io/unschedulable", "NoSchedule")]
    assert "SchedulingDisabled" in d.request("GET", "/api/v1/nodes", headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).text
    assert d.create(pod_manifest("later", [("app", "sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    pending = wait_for(lambda: (p := d.pod("later")) and p["status"].get("conditions") and p)
    assert "1 node(s) were unschedulable" in pending["status"]["conditions"][0]["message"]
    tolerant = pod_manifest("tolerant", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                            tolerations=[{"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}])
    assert d.create(tolerant).status == 201
    d.wait_running("tolerant")
    assert d.create(pod_manifest("pinned", [("app", "sleep 3600")], terminationGracePeriodSeconds=0, nodeName=host)).status == 201
    d.wait_running("pinned")
    assert d.pod("wants-ssd")["status"]["phase"] == "Running"  # a cordon moves nothing

    # What the node cannot take.
    r = d.request("PATCH", path, {"spec": {"taints": [{"key": "dedicated", "value": "x", "effect": "Sometimes"}]}}, headers=strategic)
    assert r.status == 422 and r.json()["details"]["kind"] == "Node" and r.json()["details"]["causes"][0]["field"] == "spec.taints[0].effect", r.text
    r = d.request("PATCH", path, {"metadata": {"annotations": {"bad key": "b"}}}, headers=merge)
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "metadata.annotations", r.text
    r = d.request("PATCH", path, {"metadata": {"labels": {"bad key": "x"}}}, headers=merge)
    assert r.status == 422 and "bad key" in r.json()["message"], r.text
    r = d.request("PATCH", path, {"metadata": {"resourceVersion": "1", "labels": {"x": "y"}}}, headers=merge)
    assert r.status == 409, r.text
    json_patch = {"Content-Type": "application/json-patch+json"}
    r = d.request("PATCH", path, [{"op": "test", "path": "/metadata/labels/disk", "value": "hdd"}], headers=json_patch)
    assert r.status == 422 and r.json()["message"].startswith(f'the patch does not apply to node "{host}"'), r.text
    r = d.request("PATCH", path, [{"op": "jump", "path": "/spec"}], headers=json_patch)
    assert r.status == 400 and r.json()["details"]["kind"] == "nodes", r.text
    r = d.request("PATCH", path, {"spec": {"podCIDR": "10.0.0.0/24"}}, headers=merge)
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "spec.podCIDR", r.text
    r = d.request("PATCH", path, {"metadata": {"name": "other"}}, headers=merge)
    assert r.status == 400, r.text
    r = d.request("PATCH", path, {"spec": {"unschedulable": False}}, headers={"Content-Type": "text/plain"})
    assert r.status == 415, r.text
    assert d.get("/healthz").status == 200
    assert "x" not in d.get(path).json()["metadata"]["labels"]

    # Kept across a restart; then a PUT (kubectl edit) uncordons, and the waiting pod runs.
    d.stop()
    d.start()
    node = d.get(path).json()
    assert node["spec"]["unschedulable"] is True and node["metadata"]["labels"]["disk"] == "ssd"
    assert d.pod("later")["status"]["phase"] == "Pending"
    del node["spec"]["unschedulable"]
    r = d.request("PUT", path, node)
    assert r.status == 200 and "unschedulable" not in r.json()["spec"], r.text
    assert d.wait_running("later")["spec"]["nodeName"] == host


def test_kubectl_gets_and_describes_the_node(kubectl, podd, tmp_path):
    host = socket.gethostname()
    rows = kubectl.run("get", "nodes").stdout.splitlines()
    assert rows[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"], rows
    assert rows[1].split()[:3] == [host, "Ready", "<none>"], rows
    # -w lists, then watches from the list's version: the node once.
    watched = kubectl.run("get", "nodes", "-w", "--request-timeout=2s", check=False).stdout.splitlines()
    assert [l.split()[0] for l in watched] == ["NAME", host], watched
    wide = kubectl.run("get", "nodes", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[5:] == ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"], wide
    assert os.uname().release in wide[1]
    podd.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "on-node"},
                 "spec": {"containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                                          "resources": {"requests": {"cpu": "250m"}}}]}})
    podd.wait_running("on-node")
    described = kubectl.run("describe", "node", host).stdout
    assert "KubeletReady" in described and "kubernetes.io/hostname=" + host.lower() in described
    # kubectl finds the node's pods by spec.nodeName, and adds up their requests.
    assert "on-node" in described and "250m" in described, described
    # kubectl top node: the machine's usage (NodeMetrics) against the node's allocatable.
    top = kubectl.run("top", "node").stdout.splitlines()
    assert top[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"], top
    name, cpu, cpu_percent, memory, memory_percent = top[1].split()
    assert name == host and cpu.endswith("m") and memory.endswith("Mi")
    used_kib = (lambda f: f["MemTotal:"] - f["MemFree:"] - f["Inactive(file):"])(
        {l.split()[0]: int(l.split()[1]) for l in open("/proc/meminfo")})
    assert abs(int(memory.removesuffix("Mi")) - used_kib // 1024) < max(256, used_kib // 1024 // 4), (memory, used_kib)
    assert int(cpu.removesuffix("m")) <= os.cpu_count() * 1000 + 50
    # kubectl label, cordon and uncordon change the node.
    kubectl.run("label", "node", host, "tier=gold")
    assert podd.get(f"/api/v1/nodes/{host}").json()["metadata"]["labels"]["tier"] == "gold"
    assert "cordoned" in kubectl.run("cordon", host).stdout
    assert kubectl.run("get", "nodes").stdout.splitlines()[1].split()[1] == "Ready,SchedulingDisabled"
    assert "uncordoned" in kubectl.run("uncordon", host).stdout
    assert kubectl.run("get", "nodes").stdout.splitlines()[1].split()[1] == "Ready"


def test_a_full_state_dir_refuses_node_and_status_changes_and_changes_nothing(make_podd, busybox_tar):
    """The node's labels and a pod's conditions are stored before the API answers: with the
    state dir full both are 507, nothing changes, and both go through once there is room."""
    d = make_podd(before_start=on_small_tmpfs("64m"))
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    merge = {"Content-Type": "application/merge-patch+json"}
    assert d.create(pod_manifest("web", [("app", "sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    d.wait_running("web")
    status = "/api/v1/namespaces/default/pods/web/status"
    condition = {"status": {"conditions": [{"type": "example.com/ok", "status": "True"}]}}
    filler = fill(d.state_dir)
    try:
        r = d.request("PATCH", f"/api/v1/nodes/{host}", {"metadata": {"labels": {"disk": "ssd"}}}, headers=merge)
        assert r.status == 507, r.text
        assert "disk" not in d.get(f"/api/v1/nodes/{host}").json()["metadata"]["labels"]
        r = d.request("PATCH", status, condition, headers={"Content-Type": "application/strategic-merge-patch+json"})
        assert r.status == 507, r.text
        assert "example.com/ok" not in [c["type"] for c in d.pod("web")["status"]["conditions"]]
    finally:
        filler.unlink()
    assert d.request("PATCH", f"/api/v1/nodes/{host}", {"metadata": {"labels": {"disk": "ssd"}}}, headers=merge).status == 200
    assert d.request("PATCH", status, condition, headers={"Content-Type": "application/strategic-merge-patch+json"}).status == 200
    assert "example.com/ok" in [c["type"] for c in d.pod("web")["status"]["conditions"]]


def test_taints_keep_pods_off_and_noexecute_evicts_them(make_podd, busybox_tar):
    """`kubectl taint node`: a NoSchedule taint keeps new pods that do not tolerate it
    Pending (the scheduler's message) until it goes; a NoExecute taint evicts the pods that do
    not tolerate it at once and those that tolerate it for tolerationSeconds once those have
    passed, as the taint eviction controller does (DisruptionTarget, TaintManagerEviction
    events). Taints and annotations are stored and kept across a restart."""
    d = make_podd("")
    d.podctl("image", "import", "busybox", str(busybox_tar))
    host = socket.gethostname()
    path = f"/api/v1/nodes/{host}"
    merge = {"Content-Type": "application/merge-patch+json"}
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    r = d.request("PATCH", path, {"spec": {"taints": [taint]}, "metadata": {"annotations": {"team": "infra"}}}, headers=merge)
    assert r.status == 200, r.text
    assert r.json()["spec"]["taints"] == [taint] and r.json()["metadata"]["annotations"] == {"team": "infra"}
    assert d.create(pod_manifest("plain", [("app", "sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    pending = wait_for(lambda: (p := d.pod("plain")) and p["status"].get("conditions") and p)
    assert pending["status"]["conditions"][0]["message"].startswith("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.")
    tolerant = pod_manifest("gpu-job", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                            tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}])
    assert d.create(tolerant).status == 201
    d.wait_running("gpu-job")
    # Gone: the waiting pod is placed.
    assert d.request("PATCH", path, {"spec": {"taints": None}}, headers=merge).status == 200
    d.wait_running("plain")

    # NoExecute: at once for what does not tolerate it; after tolerationSeconds for the rest.
    brief = pod_manifest("brief", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                         tolerations=[{"key": "maintenance", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 2}])
    forever = pod_manifest("forever", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                           tolerations=[{"key": "maintenance", "operator": "Exists", "effect": "NoExecute"}])
    for m in (brief, forever):
        assert d.create(m).status == 201
        d.wait_running(m["metadata"]["name"])
    r = d.request("PATCH", path, {"spec": {"taints": [{"key": "maintenance", "value": "now", "effect": "NoExecute"}]}}, headers=merge)
    assert r.status == 200, r.text
    [added] = r.json()["spec"]["taints"]
    assert added["timeAdded"]  # set by the server for a NoExecute taint
    marked = wait_for(lambda: (p := d.pod("plain")) and p["metadata"].get("deletionTimestamp") and p, what="plain evicted")
    target = next(c for c in marked["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (target["reason"], target["message"]) == ("DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint")
    wait_for(lambda: d.pod("plain") is None and d.pod("gpu-job") is None, what="the intolerant pods gone")
    wait_for(lambda: d.pod("brief") is None, timeout=15, what="brief gone after its tolerationSeconds")
    assert d.pod("forever")["metadata"].get("deletionTimestamp") is None
    events = d.get("/api/v1/namespaces/default/events").json()["items"]
    marking = {e["involvedObject"]["name"]: e for e in events
               if e["reason"] == "TaintManagerEviction" and e["message"].startswith("Marking for deletion Pod default/")}
    assert set(marking) == {"plain", "gpu-job", "brief"}, marking
    # brief was marked once its 2 s of toleration had passed since the taint came, not at once
    # (read from the times, not from a race with the other pods' deletion).
    def seconds(text):
        whole, _, fraction = text.rstrip("Z").partition(".")
        return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (fraction or "0"))
    def marked_at(e):
        return seconds(e.get("eventTime") or e["firstTimestamp"])
    assert marked_at(marking["brief"]) - seconds(added["timeAdded"]) >= 2, (marking["brief"], added)
    assert marked_at(marking["plain"]) - seconds(added["timeAdded"]) < 2, (marking["plain"], added)

    # A pod tolerating it for a while, then the taint goes first: the deletion is cancelled.
    slow = pod_manifest("slow", [("app", "sleep 3600")], terminationGracePeriodSeconds=0,
                        tolerations=[{"key": "maintenance", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60}])
    assert d.create(slow).status == 201
    d.wait_running("slow")
    # A pod created on a NoExecute node that does not tolerate it goes too (bound by nodeName).
    assert d.create(pod_manifest("pinned", [("app", "sleep 3600")], terminationGracePeriodSeconds=0, nodeName=host)).status == 201
    wait_for(lambda: d.pod("pinned") is None, what="the pinned pod evicted")
    assert d.request("PATCH", path, {"spec": {"taints": None}}, headers=merge).status == 200
    wait_for(lambda: any(e["reason"] == "TaintManagerEviction" and e["message"] == "Cancelling deletion of Pod default/slow"
                         for e in d.get("/api/v1/namespaces/default/events").json()["items"]), what="the cancel event")
    assert d.pod("slow")["metadata"].get("deletionTimestamp") is None

    # Stored: the annotations and a taint are there after a restart.
    assert d.request("PATCH", path, {"spec": {"taints": [taint]}}, headers=merge).status == 200
    d.stop()
    d.start()
    node = d.get(path).json()
    assert node["spec"]["taints"] == [taint] and node["metadata"]["annotations"] == {"team": "infra"}
    r = d.request("PATCH", path, {"spec": {"taints": [taint, dict(taint, value="other")]}}, headers=merge)
    assert r.status == 422 and "taints must be unique by key and effect pair" in r.json()["message"], r.text


def test_kubectl_taints_and_annotates_the_node(kubectl, podd, tmp_path):
    host = socket.gethostname()
    assert kubectl.run("taint", "node", host, "dedicated=gpu:NoSchedule").stdout.strip() == f"node/{host} tainted"
    assert kubectl.run("annotate", "node", host, "team=infra").stdout.strip() == f"node/{host} annotated"
    described = kubectl.run("describe", "node", host).stdout
    assert "Taints:             dedicated=gpu:NoSchedule" in described and "team: infra" in described, described
    r = kubectl.run("taint", "node", host, "bad=x:Sometimes", check=False)
    assert r.returncode != 0
    assert kubectl.run("taint", "node", host, "dedicated=gpu:NoSchedule-").stdout.strip() == f"node/{host} untainted"
    assert "taints" not in podd.get(f"/api/v1/nodes/{host}").json()["spec"]
