"""`/api/v1/nodes`: podd's one node, the machine, as kubelet registers it, so that `kubectl get
nodes` and `kubectl describe node` work (the server had no such resource). Its name, labels,
capacity and conditions are the machine's, read when asked: DiskPressure goes True when the
state dir's disk is nearly full, as kubelet's default threshold (nodefs.available < 10%) says."""
import json
import os
import socket

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
    assert d.get("/api/v1/nodes/node-7").status == 404
    # A watch: the node as ADDED from "now", nothing from the list's version, then its end.
    [added] = [json.loads(l) for l in d.get("/api/v1/nodes?watch=true&timeoutSeconds=1").body.splitlines()]
    assert added["type"] == "ADDED" and added["object"]["metadata"]["name"] == host
    version = d.get("/api/v1/nodes").json()["metadata"]["resourceVersion"]
    assert d.get(f"/api/v1/nodes?watch=true&timeoutSeconds=1&resourceVersion={version}").body == b""
    r = d.request("DELETE", f"/api/v1/nodes/{host}")
    assert r.status == 405 and "read-only" in r.json()["message"]


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
