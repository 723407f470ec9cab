"""Pod-level resources (spec.resources, Kubernetes' PodLevelResources): the API server's
defaulting and QoS class, the pod's cgroup carrying the pod's limits (v2 where the machine
has the controller, else its v1 hierarchy) while containers keep their own, a container
without a limit of its own OOM-killed at the pod's, and Kubernetes' 422s, nothing started."""
import pytest

from harness import pod_manifest, processes_with, wait_for
from test_resources import UNIFIED, controller_dir, read


def memory_limit(directory):
    """The memory limit of a group, in bytes, whichever hierarchy it is on."""
    if directory.startswith(UNIFIED or "-"):
        return int(read(f"{directory}/memory.max"))
    return int(read(f"{directory}/memory.limit_in_bytes"))


def test_the_pod_group_holds_the_pod_limits_and_containers_keep_theirs(podd):
    manifest = pod_manifest("plr", [
        {"name": "free", "command": ["sh", "-c", "exec sleep 100000"]},
        {"name": "capped", "command": ["sh", "-c", "exec sleep 100000"], "resources": {"limits": {"memory": "16Mi"}}}],
        terminationGracePeriodSeconds=0,
        resources={"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "250m"}})
    r = podd.create(manifest)
    assert r.status == 201, r.text
    podd.wait_running("plr")
    pod = podd.pod("plr")
    uid = pod["metadata"]["uid"]
    # The API server's defaulting: the memory request is what the containers request
    # together (16Mi, the capped one's request defaulted from its limit), not the pod's limit.
    assert pod["spec"]["resources"] == {"limits": {"cpu": "500m", "memory": "64Mi"},
                                        "requests": {"cpu": "250m", "memory": "16Mi"}}
    assert pod["status"]["qosClass"] == "Burstable"
    memory, cpu = controller_dir("memory", uid), controller_dir("cpu", uid)
    if memory is None or cpu is None:
        pytest.skip("this machine has no memory or cpu controller podd can use")
    assert memory_limit(memory) == 64 << 20
    if cpu.startswith(UNIFIED or "-"):
        assert read(f"{cpu}/cpu.max") == "50000 100000"
        assert read(f"{cpu}/cpu.weight") == str(1 + (256 - 2) * 9999 // 262142)
    else:
        assert read(f"{cpu}/cpu.cfs_quota_us") == "50000"
        assert read(f"{cpu}/cpu.shares") == "256"
    # The capped container's own limit stays; the other one's group is the pod's size
    # (kubelet gives a container without a limit the pod's, for what reads its own cgroup).
    assert memory_limit(controller_dir("memory", uid, "capped")) == 16 << 20
    assert memory_limit(controller_dir("memory", uid, "free")) == 64 << 20
    podd.request("DELETE", "/api/v1/namespaces/default/pods/plr?gracePeriodSeconds=0")
    podd.wait_gone("plr")


def test_pod_limits_alone_make_a_guaranteed_pod(podd):
    manifest = pod_manifest("plg", [("app", "exec sleep 100000")], terminationGracePeriodSeconds=0,
                            resources={"limits": {"cpu": "1", "memory": "32Mi"}})
    assert podd.create(manifest).status == 201
    pod = wait_for(lambda: (p := podd.pod("plg")) and p["status"].get("qosClass") and p, what="a qosClass")
    assert pod["status"]["qosClass"] == "Guaranteed"
    assert pod["spec"]["resources"]["requests"] == {"cpu": "1", "memory": "32Mi"}


def test_a_container_without_a_limit_is_oom_killed_at_the_pod_limit(podd):
    if controller_dir("memory", "x") is None:
        pytest.skip("no memory controller")

    def oom_status():
        cs = podd.pod("plhog")["status"]["containerStatuses"][0]
        term = cs.get("lastState", {}).get("terminated") or cs.get("state", {}).get("terminated")
        return cs if term and term.get("reason") == "OOMKilled" else None

    # The container sets nothing: only the pod's 32Mi holds tail (which keeps all of
    # /dev/zero's newline-less bytes in memory).
    manifest = pod_manifest("plhog", [("app", "head -c 200m /dev/zero | exec tail")], terminationGracePeriodSeconds=0,
                            resources={"limits": {"memory": "32Mi"}})
    r = podd.create(manifest)
    assert r.status == 201, r.text
    uid = podd.pod("plhog")["metadata"]["uid"]
    cs = wait_for(oom_status, timeout=60, what="an OOMKilled termination")
    term = cs.get("lastState", {}).get("terminated") or cs["state"]["terminated"]
    assert term["exitCode"] == 137
    assert memory_limit(controller_dir("memory", uid)) == 32 << 20
    wait_for(lambda: podd.pod("plhog")["status"]["containerStatuses"][0]["restartCount"] >= 1, timeout=60,
             what="a restart after the OOM kill")
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    assert any(e["reason"] == "OOMKilling" and e["involvedObject"]["name"] == "plhog" for e in events)


@pytest.mark.parametrize("resources,containers,message", [
    ({"limits": {"ephemeral-storage": "1Gi", "memory": "64Mi"}}, {},
     'spec.resources.limits[ephemeral-storage]: Unsupported value: "ephemeral-storage": '
     'supported values: "cpu", "hugepages-", "memory"'),
    ({"limits": {"memory": "64Mi"}, "requests": {"memory": "32Mi"}}, {"limits": {"memory": "128Mi"}, "requests": {"memory": "8Mi"}},
     'spec.resources.containers[0][memory].limits: Invalid value: "128Mi": must be less than or equal to pod limits of 64Mi'),
    ({"requests": {"cpu": "100m"}}, {"requests": {"cpu": "200m"}},
     'spec.resources.requests[cpu]: Invalid value: "100m": must be greater than or equal to aggregate container requests of 200m'),
    ({"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}, {},
     'spec.resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'),
    ({"claims": [{"name": "gpu"}]}, {},
     'spec.resources.claims: Forbidden: claims cannot be set for Resources at pod-level'),
])
def test_bad_pod_resources_are_refused_and_nothing_starts(podd, resources, containers, message):
    tag = "pod-resources-refused-tag"
    manifest = pod_manifest("plbad", [{"name": "app", "command": ["sh", "-c", f"exec sleep 1000 {tag}"],
                                       "resources": containers}], resources=resources)
    r = podd.create(manifest)
    assert r.status == 422, r.text
    assert message in r.json()["message"], r.json()["message"]
    assert podd.pod("plbad") is None
    assert not processes_with(tag)


def test_the_downward_api_gives_a_container_without_limits_the_pods(podd):
    # kubelet's defaultPodLimitsForDownwardAPI: the pod's limits, not the machine's.
    manifest = pod_manifest("pldown", [{
        "name": "app", "command": ["sh", "-c", 'echo "mem=$MEM cpu=$CPU"; exec sleep 100000'],
        "env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}},
                {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}}]}],
        terminationGracePeriodSeconds=0, resources={"limits": {"cpu": "500m", "memory": "64Mi"}})
    assert podd.create(manifest).status == 201
    wait_for(lambda: "mem=" in podd.log("pldown"), what="the values printed")
    assert f"mem={64 << 20} cpu=500" in podd.log("pldown")


def test_kubectl_applies_explains_and_shows_pod_level_resources(podd, tmp_path):
    from kubectl_fixture import Kubectl, kubectl_binary
    kubectl_binary()
    k = Kubectl(podd, tmp_path)
    try:
        path = tmp_path / "plk.yaml"
        path.write_text("""apiVersion: v1
kind: Pod
metadata: {name: plk}
spec:
  terminationGracePeriodSeconds: 0
  resources:
    limits: {cpu: 250m, memory: 48Mi}
  containers:
  - {name: app, image: busybox, command: [sh, -c, exec sleep 100000]}
""")
        # Server-side validation (Strict) and the strategic merge patch both know the field.
        assert k.run("apply", "-f", str(path)).stdout.strip() == "pod/plk created"
        assert k.run("apply", "-f", str(path)).stdout.strip() == "pod/plk unchanged"
        podd.wait_running("plk")
        assert k.run("get", "pod", "plk", "-o", "jsonpath={.status.qosClass}").stdout == "Guaranteed"
        assert k.run("get", "pod", "plk", "-o", "jsonpath={.spec.resources.requests.memory}").stdout == "48Mi"
        explained = k.run("explain", "pod.spec.resources").stdout
        assert "resources" in explained and "limits" in explained, explained
    finally:
        k.relay.close()
