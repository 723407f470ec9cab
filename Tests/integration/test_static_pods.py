"""Static pods: every *.yaml/*.yml/*.json in manifestsDir is a pod, kept in step with its file
(inotify): create, edit, remove, and a broken file reported without changing anything."""
import json
import os
import time

import pytest

from harness import wait_for

SOURCE = "podd.io/source"


def manifest(name, command, namespace=None):
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"""apiVersion: v1
kind: Pod
metadata:
  name: {name}{ns}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: busybox
    command: [sh, -c, "{command}"]
"""


def write(path, text):
    # As an editor does: a temporary file renamed over the old one.
    tmp = path.parent / ("." + path.name + ".tmp")
    tmp.write_text(text)
    os.rename(tmp, path)


def events(podd, reason):
    items = podd.get("/api/v1/namespaces/default/events").json()["items"]
    return [e for e in items if e["reason"] == reason]


@pytest.fixture
def manifests(podd):
    podd.manifests_dir.mkdir(exist_ok=True)
    return podd.manifests_dir


def test_file_creates_edit_replaces_removal_deletes(podd, manifests):
    f = manifests / "web.yaml"
    write(f, manifest("web", "echo v1; sleep 3600"))
    pod = podd.wait_running("web")
    assert pod["metadata"]["annotations"][SOURCE] == str(f)
    uid = pod["metadata"]["uid"]
    wait_for(lambda: "v1" in podd.log("web", "app"), what="v1 output")

    write(f, manifest("web", "echo v2; sleep 3600"))
    wait_for(lambda: "v2" in podd.log("web", "app"), timeout=30, what="the edited pod's output")
    pod = podd.wait_running("web")
    assert pod["metadata"]["uid"] == uid   # replaced in place, as a PUT does
    assert pod["spec"]["containers"][0]["command"][2] == "echo v2; sleep 3600"

    f.unlink()
    podd.wait_gone("web", timeout=30)


def test_static_pod_cannot_be_deleted_or_replaced_through_the_api(podd, manifests):
    f = manifests / "fixed.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fixed"},
                             "spec": {"terminationGracePeriodSeconds": 0,
                                      "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}]}}))
    podd.wait_running("fixed")
    r = podd.request("DELETE", "/api/v1/namespaces/default/pods/fixed")
    assert r.status == 403
    assert str(f) in r.json()["message"]
    r = podd.podctl("delete", "pod", "fixed", check=False)
    assert r.returncode == 1 and str(f) in r.stderr
    pod = podd.pod("fixed")
    pod["metadata"]["annotations"].pop(SOURCE)
    pod["spec"]["containers"][0]["command"] = ["sleep", "1"]
    r = podd.request("PUT", "/api/v1/namespaces/default/pods/fixed", pod)
    assert r.status == 403 and str(f) in r.json()["message"]
    still = podd.pod("fixed")
    assert "deletionTimestamp" not in still["metadata"] and still["status"]["phase"] == "Running"


def test_api_cannot_claim_a_static_source(podd, manifests):
    m = json.loads(json.dumps({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": "claim", "annotations": {SOURCE: "/etc/passwd"}},
                               "spec": {"containers": [{"name": "app", "image": "busybox", "command": ["sleep", "1"]}]}}))
    r = podd.create(m)
    assert r.status in (403, 422), r.text
    assert SOURCE in r.text


def test_broken_files_are_reported_and_change_nothing(podd, manifests):
    good = manifests / "good.yaml"
    write(good, manifest("good", "echo fine; sleep 3600"))
    before = podd.wait_running("good")

    # Not YAML at all: an event and a log line naming the file; no pod.
    bad = manifests / "bad.yaml"
    write(bad, "apiVersion: v1\nkind: Pod\nmetadata: {name: bad\n")
    ev = wait_for(lambda: [e for e in events(podd, "FailedStaticPod") if str(bad) in e["message"]],
                  what="an event about bad.yaml")
    assert ev[0]["type"] == "Warning"
    wait_for(lambda: str(bad) in podd.log_text(), what="a log line naming bad.yaml")

    # A field podd refuses: the event names the file and the field path.
    invalid = manifests / "invalid.yaml"
    write(invalid, manifest("invalid", "true").replace("image: busybox", "image: busybox\n    hostIP: x"))
    ev = wait_for(lambda: [e for e in events(podd, "FailedStaticPod") if str(invalid) in e["message"]],
                  what="an event about invalid.yaml")
    assert "spec.containers[0].hostIP" in ev[0]["message"], ev[0]["message"]
    assert podd.pod("invalid") is None and podd.pod("bad") is None

    # A broken edit of a good file: the pod runs on as it was.
    write(good, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: good\nspec:\n  containers: []\n")
    wait_for(lambda: [e for e in events(podd, "FailedStaticPod") if str(good) in e["message"]],
             what="an event about the broken edit")
    time.sleep(0.5)
    after = podd.pod("good")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["status"]["containerStatuses"][0]["restartCount"] == 0
    assert after["status"]["phase"] == "Running"

    # Fixing it is picked up again.
    write(good, manifest("good", "echo fixed; sleep 3600"))
    wait_for(lambda: "fixed" in podd.log("good", "app"), timeout=30, what="the fixed pod")


def test_other_files_are_ignored_and_names_cannot_collide(podd, manifests):
    (manifests / "README").write_text("not a pod")
    write(manifests / ".hidden.yaml", manifest("hidden", "sleep 3600"))
    write(manifests / "a.yaml", manifest("same", "sleep 3600"))
    podd.wait_running("same")
    write(manifests / "b.yml", manifest("same", "sleep 3600"))
    wait_for(lambda: [e for e in events(podd, "FailedStaticPod") if "b.yml" in e["message"] and "already exists" in e["message"]],
             what="the collision reported")
    assert podd.pod("same")["metadata"]["annotations"][SOURCE].endswith("a.yaml")
    assert podd.pod("hidden") is None


def test_static_pods_across_a_podd_restart(podd, manifests):
    keep = manifests / "keep.yaml"
    gone = manifests / "gone.yaml"
    write(keep, manifest("keep", "sleep 3600"))
    write(gone, manifest("gone", "sleep 3600"))
    k = podd.wait_running("keep")
    podd.wait_running("gone")
    podd.stop()
    gone.unlink()              # removed while podd was away
    podd.start()
    podd.wait_gone("gone", timeout=30)
    k2 = podd.wait_running("keep")
    assert k2["metadata"]["uid"] == k["metadata"]["uid"]
    assert len([p for p in podd.get("/api/v1/pods").json()["items"] if p["metadata"]["name"] == "keep"]) == 1


def test_a_static_pod_is_bound_to_the_node_and_judged_by_kubelets_admission(podd, manifests):
    """kubelet runs its static pods on its own node, whatever they ask: one whose nodeSelector
    the node does not match is not left Unschedulable (no scheduler places static pods) but
    Failed by kubelet's admission (NodeAffinity)."""
    write(manifests / "fits.yaml", manifest("fits", "sleep 3600").replace("spec:\n", "spec:\n  nodeSelector: {kubernetes.io/os: linux}\n"))
    write(manifests / "misses.yaml", manifest("misses", "sleep 3600").replace("spec:\n", "spec:\n  nodeSelector: {disktype: none}\n"))
    fits = podd.wait_running("fits")
    assert fits["spec"]["nodeName"]
    failed = podd.wait_phase("misses", "Failed")
    assert failed["status"]["reason"] == "NodeAffinity" and failed["spec"]["nodeName"] == fits["spec"]["nodeName"]
