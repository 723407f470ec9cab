"""metadata.finalizers, as the API server keeps them: a deleted object that has some is marked
(deletionTimestamp) and stays until an update removes the last of them; a pod's containers
stop as for any deletion, and only its object is left, terminal, also across a podd restart.
No new finalizer may be added to an object being deleted; the garbage collector's own
(orphan, foregroundDeletion) are done at once, podd's objects having no dependents."""
import json
import os

from harness import pod_manifest, processes_with, wait_for

PODS = "/api/v1/namespaces/default/pods"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


def held_pod(name, finalizers, tag):
    m = pod_manifest(name, [("c", f"sleep 3600; : {tag}")], terminationGracePeriodSeconds=1)
    m["metadata"]["finalizers"] = finalizers
    return m


def test_a_deleted_pod_stays_until_its_last_finalizer_is_removed(podd):
    d = podd
    tag = "held-by-finalizer"
    r = d.create(held_pod("held", ["example.com/block"], tag))
    assert r.status == 201, r.text
    uid = r.json()["metadata"]["uid"]
    d.wait_running("held")
    r = d.request("DELETE", f"{PODS}/held")
    assert r.status == 200 and r.json()["metadata"]["deletionTimestamp"], r.text
    # Its containers stop as for any deletion; the object stays, terminal.
    wait_for(lambda: not processes_with(tag), what="the container to stop")
    p = wait_for(lambda: (p := d.pod("held")) and p["status"]["phase"] == "Failed" and p, what="the pod terminal")
    assert p["metadata"]["finalizers"] == ["example.com/block"]
    assert p["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] in (137, 143), p["status"]
    # A name held by it is not free, as on Kubernetes.
    assert d.create(held_pod("held", [], tag)).status == 409
    # Metadata may change, but no finalizer may be added to an object being deleted.
    r = d.request("PATCH", f"{PODS}/held", {"metadata": {"finalizers": ["example.com/block", "x.io/more"]}},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 422, r.text
    assert ('metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, '
            'found new finalizers []string{"x.io/more"}') in r.json()["message"], r.text
    r = d.request("PATCH", f"{PODS}/held", {"metadata": {"labels": {"seen": "yes"}}},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["metadata"]["deletionTimestamp"] == p["metadata"]["deletionTimestamp"], r.text
    # Stored: a restarted podd still holds it, and runs nothing of it.
    d.stop()
    d.start()
    again = d.pod("held")
    assert again and again["metadata"]["uid"] == uid and again["metadata"]["finalizers"] == ["example.com/block"]
    assert again["status"]["phase"] == "Failed" and not processes_with(tag)
    # The last finalizer removed: the pod goes, its stored state with it.
    version = d.get(PODS).json()["metadata"]["resourceVersion"]
    r = d.request("PATCH", f"{PODS}/held", [{"op": "remove", "path": "/metadata/finalizers"}],
                  headers={"Content-Type": "application/json-patch+json"})
    assert r.status == 200, r.text
    wait_for(lambda: d.pod("held") is None, what="the pod gone")
    assert not os.path.exists(d.state_dir / "pods" / uid)
    lines = d.get(f"{PODS}?watch=true&timeoutSeconds=1&resourceVersion={version}").body.splitlines()
    assert json.loads(lines[-1])["type"] == "DELETED", lines


def test_finalizer_names_are_validated_and_the_collectors_are_done_at_once(podd):
    d = podd
    r = d.create(held_pod("bad", ["block"], "x"))
    assert r.status == 422, r.text
    assert ('metadata.finalizers: Invalid value: "block": name is neither a standard finalizer name nor is it fully qualified'
            in r.json()["message"]), r.text
    r = d.create(held_pod("both", ["orphan", "foregroundDeletion"], "x"))
    assert r.status == 422 and "finalizer orphan and foregroundDeletion cannot be both set" in r.json()["message"], r.text
    tag = "collected-at-once"
    assert d.create(held_pod("fg", ["foregroundDeletion"], tag)).status == 201
    d.wait_running("fg")
    assert d.request("DELETE", f"{PODS}/fg").status == 200
    d.wait_gone("fg", timeout=30)
    assert not processes_with(tag)


def test_a_deleted_configmap_stays_until_its_last_finalizer_is_removed(podd):
    d = podd
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kept", "finalizers": ["example.com/keep"]},
            "data": {"k": "v"}}
    assert d.request("POST", CONFIGMAPS, body).status == 201
    r = d.request("DELETE", f"{CONFIGMAPS}/kept")
    assert r.status == 200 and r.json()["metadata"]["deletionTimestamp"] and r.json()["metadata"]["deletionGracePeriodSeconds"] == 0, r.text
    assert d.get(f"{CONFIGMAPS}/kept").json()["data"] == {"k": "v"}
    # Stored as marked: a restarted podd still has it.
    d.stop()
    d.start()
    assert d.get(f"{CONFIGMAPS}/kept").json()["metadata"]["deletionTimestamp"]
    r = d.request("PATCH", f"{CONFIGMAPS}/kept", {"metadata": {"finalizers": ["example.com/keep", "x.io/y"]}},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 422 and "no new finalizers can be added" in r.json()["message"], r.text
    r = d.request("PATCH", f"{CONFIGMAPS}/kept", {"metadata": {"finalizers": None}},
                  headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r.text
    assert d.get(f"{CONFIGMAPS}/kept").status == 404
