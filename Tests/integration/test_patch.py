"""PATCH of a pod, as Kubernetes does it: merge patch, strategic merge patch and JSON patch
applied to the pod as stored, the result going through the same path as PUT (metadata changed
in place, a changed spec restarting the pod); and podctl label / annotate on top of it."""
import json
import threading

from harness import pod_manifest, wait_for

NS = "/api/v1/namespaces/default"
MERGE = {"Content-Type": "application/merge-patch+json"}
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def patch(podd, name, body, headers):
    return podd.request("PATCH", f"{NS}/pods/{name}", json.dumps(body), headers)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def container_ids(pod):
    return {s["name"]: s.get("containerID") for s in pod["status"].get("containerStatuses", [])}


def two_containers(name="web"):
    return pod_manifest(name, [("app", "echo app-v1; sleep 3600"), ("side", "echo side; sleep 3600")],
                        terminationGracePeriodSeconds=0)


def test_merge_patch_of_labels_changes_them_in_place(podd):
    podd.create({**two_containers(), "metadata": {"name": "web", "labels": {"app": "web", "old": "x"}}})
    before = podd.wait_running("web")
    r = patch(podd, "web", {"metadata": {"labels": {"tier": "front", "old": None}, "annotations": {"note": "hi"}}}, MERGE)
    assert r.status == 200, r.body
    pod = r.json()
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert pod["metadata"]["annotations"] == {"note": "hi"}
    assert pod["metadata"]["uid"] == before["metadata"]["uid"]
    assert int(pod["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    # Not restarted: the same containers, still running.
    now = podd.wait_running("web")
    assert container_ids(now) == container_ids(before)
    assert all(s["restartCount"] == 0 for s in now["status"]["containerStatuses"])
    assert podd.pod("web")["metadata"]["labels"] == {"app": "web", "tier": "front"}
    # A patch that changes nothing answers the pod as it is.
    same = patch(podd, "web", {}, MERGE)
    assert same.status == 200 and same.json()["metadata"]["resourceVersion"] == podd.pod("web")["metadata"]["resourceVersion"]
    # A merge patch replaces lists whole: one container left, the pod restarts with it.
    r = patch(podd, "web", {"spec": {"containers": [{"name": "solo", "image": "busybox", "command": ["sleep", "3600"]}]}}, MERGE)
    assert r.status == 200, r.body
    assert [c["name"] for c in r.json()["spec"]["containers"]] == ["solo"]
    podd.wait_running("web", containers=["solo"])


def test_strategic_merge_of_a_container_restarts_the_pod(podd, busybox_tar):
    podd.podctl("image", "import", "busybox:v2", str(busybox_tar))
    podd.create(two_containers())
    before = podd.wait_running("web")
    wait_for(lambda: "app-v1" in podd.log("web", "app"), what="the first app's output")
    r = patch(podd, "web", {"spec": {"containers": [
        {"name": "app", "image": "busybox:v2", "command": ["sh", "-c", "echo app-v2; sleep 3600"]}]}}, STRATEGIC)
    assert r.status == 200, r.body
    spec = r.json()["spec"]
    # Merged by name: side is kept as it was, app has the new image and command.
    assert [c["name"] for c in spec["containers"]] == ["app", "side"]
    assert spec["containers"][0]["image"] == "busybox:v2"
    assert spec["containers"][0]["command"] == ["sh", "-c", "echo app-v2; sleep 3600"]
    assert spec["containers"][1]["command"] == ["sh", "-c", "echo side; sleep 3600"]
    # The pod restarts with the new spec, keeping its uid.
    wait_for(lambda: "app-v2" in podd.log("web", "app"), what="the new app's output")
    after = podd.wait_running("web")
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert container_ids(after)["app"] != container_ids(before)["app"]
    assert [s["image"] for s in after["status"]["containerStatuses"] if s["name"] == "app"] == ["localhost/busybox:v2"]   # normalised, as kubelet shows it

    # $patch: delete removes a container by name; env merges by name.
    r = patch(podd, "web", {"spec": {"containers": [
        {"name": "side", "$patch": "delete"},
        {"name": "app", "env": [{"name": "A", "value": "1"}]}]}}, STRATEGIC)
    assert r.status == 200, r.body
    assert [c["name"] for c in r.json()["spec"]["containers"]] == ["app"]
    assert r.json()["spec"]["containers"][0]["env"] == [{"name": "A", "value": "1"}]
    podd.wait_running("web", containers=["app"])


def test_json_patch(podd):
    podd.create(two_containers())
    podd.wait_running("web")
    rv = podd.pod("web")["metadata"]["resourceVersion"]
    r = patch(podd, "web", [
        {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "add", "path": "/metadata/labels", "value": {"a/b": "1"}},
        {"op": "add", "path": "/metadata/labels/c", "value": "2"},
        {"op": "move", "from": "/metadata/labels/a~1b", "path": "/metadata/labels/d"},
    ], JSON_PATCH)
    assert r.status == 200, r.body
    assert r.json()["metadata"]["labels"] == {"c": "2", "d": "1"}

    # A failed test, a missing path: 422, nothing changed.
    for ops, text in (([{"op": "test", "path": "/metadata/labels/c", "value": "3"}], "test failed"),
                      ([{"op": "add", "path": "/metadata/labels/e", "value": "5"},
                        {"op": "remove", "path": "/metadata/annotations/nope"}], "/metadata/annotations does not exist"),
                      ([{"op": "replace", "path": "/spec/containers/5/image", "value": "x"}], "does not exist")):
        r = patch(podd, "web", ops, JSON_PATCH)
        assert r.status == 422, r.body
        status = r.json()
        assert status["reason"] == "Invalid" and text in status["message"], status
    assert podd.pod("web")["metadata"]["labels"] == {"c": "2", "d": "1"}
    # A malformed patch: 400.
    for body, text in (({"op": "add"}, "must be a JSON array"), ([{"op": "frob", "path": "/a"}], "unknown op"),
                       ([{"op": "add", "path": "metadata", "value": 1}], "not a JSON pointer")):
        r = patch(podd, "web", body, JSON_PATCH)
        assert r.status == 400, r.body
        assert r.json()["reason"] == "BadRequest" and text in r.json()["message"], r.json()
    r = podd.request("PATCH", f"{NS}/pods/web", "[{", JSON_PATCH)
    assert r.status == 400 and "not valid JSON" in r.json()["message"], r.body
    # The API server's limit on operations.
    r = patch(podd, "web", [{"op": "test", "path": "/kind", "value": "Pod"}] * 10001, JSON_PATCH)
    assert r.status == 413 and "10000" in r.json()["message"], r.body
    assert patch(podd, "web", [{"op": "test", "path": "/kind", "value": "Pod"}] * 10000, JSON_PATCH).status == 200
    # A spec change by JSON patch restarts the pod too.
    r = patch(podd, "web", [{"op": "replace", "path": "/spec/containers/1/command", "value": ["sh", "-c", "echo side-v2; sleep 3600"]}],
              JSON_PATCH)
    assert r.status == 200, r.body
    wait_for(lambda: "side-v2" in podd.log("web", "side"), what="the patched side's output")


def test_other_content_types_are_415(podd):
    podd.create(two_containers())
    # (application/apply-patch+yaml is server-side apply: test_kubectl.py.)
    for content_type in ("application/json", "application/yaml", "text/plain", None):
        r = podd.request("PATCH", f"{NS}/pods/web", json.dumps({"metadata": {"labels": {"a": "b"}}}),
                         {"Content-Type": content_type} if content_type else {})
        assert r.status == 415, (content_type, r.body)
        status = r.json()
        assert status["reason"] == "UnsupportedMediaType" and "application/strategic-merge-patch+json" in status["message"], status
    assert not podd.pod("web")["metadata"].get("labels")


def test_an_invalid_result_is_422_and_a_missing_pod_404(podd):
    podd.create(two_containers())
    podd.wait_running("web")
    before = podd.pod("web")
    cases = (
        ({"metadata": {"labels": {"bad key!": "x"}}}, MERGE, "metadata.labels"),
        ({"spec": {"containers": [{"name": "app", "$patch": "delete"}, {"name": "side", "$patch": "delete"}]}}, STRATEGIC,
         "spec.containers"),
        ([{"op": "add", "path": "/spec/containers/-", "value": {"name": "app", "image": "busybox", "command": ["true"]}}],
         JSON_PATCH, "spec.containers[2].name"),
    )
    for body, headers, text in cases:
        r = patch(podd, "web", body, headers)
        assert r.status == 422, (body, r.body)
        status = r.json()
        assert status["reason"] == "Invalid" and text in json.dumps(status), status
    after = podd.pod("web")
    assert after["spec"] == before["spec"] and after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    # The name and namespace stay those of the URL; the uid is the pod's.
    r = patch(podd, "web", {"metadata": {"name": "other"}}, MERGE)
    assert r.status == 400 and "does not match the name" in r.json()["message"], r.body
    r = patch(podd, "web", {"metadata": {"uid": "00000000-0000-0000-0000-000000000000"}}, MERGE)
    assert r.status == 409, r.body
    # A resourceVersion in the patch is a precondition, as in Kubernetes.
    r = patch(podd, "web", {"metadata": {"resourceVersion": "1", "labels": {"a": "b"}}}, MERGE)
    assert r.status == 409 and r.json()["reason"] == "Conflict", r.body
    r = patch(podd, "web", {"metadata": {"resourceVersion": before["metadata"]["resourceVersion"], "labels": {"a": "b"}}}, MERGE)
    assert r.status == 200, r.body
    # A bad strategic merge directive is the patch's fault: 400.
    r = patch(podd, "web", {"spec": {"containers": [{"image": "busybox"}]}}, STRATEGIC)
    assert r.status == 400 and 'merge key "name"' in r.json()["message"], r.body
    r = patch(podd, "web", [1], MERGE)
    assert r.status == 400, r.body
    # 404.
    for headers in (MERGE, STRATEGIC):
        r = patch(podd, "ghost", {"metadata": {"labels": {"a": "b"}}}, headers)
        assert r.status == 404 and r.json()["reason"] == "NotFound" and "ghost" in r.json()["message"], r.body
    r = patch(podd, "ghost", [{"op": "add", "path": "/metadata/labels", "value": {}}], JSON_PATCH)
    assert r.status == 404, r.body


def test_a_json_patch_whose_copies_double_the_pod_is_refused_and_podd_stays_small(podd):
    # Each copy nests the annotations in themselves: 40 copies of a 1 KiB pod would be
    # 2^40 KiB. podd stops at the API server's bound of 3 MiB copied, changes nothing, and
    # does not grow by what the copies would have been.
    podd.create({**two_containers(), "metadata": {"name": "web", "annotations": {"a": "x" * 1024}}})
    podd.wait_running("web")
    before = podd.pod("web")
    peak_before = peak_rss_kib(podd.proc.pid)
    bomb = [{"op": "copy", "from": "/metadata", "path": f"/metadata/annotations/c{i}"} for i in range(40)]
    r = patch(podd, "web", bomb, JSON_PATCH)
    assert r.status == 422, r.body[:300]
    assert "accumulated size increase of copy" in r.json()["message"], r.json()["message"][:300]
    assert podd.pod("web")["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert peak_rss_kib(podd.proc.pid) - peak_before < 64 << 10, "podd's peak grew by more than 64 MiB"
    assert podd.get("/healthz").status == 200


def test_concurrent_patches_all_apply(podd):
    podd.create(two_containers())
    results = []

    def label(i):
        results.append(patch(podd, "web", {"metadata": {"labels": {f"k{i}": str(i)}}}, MERGE).status)

    threads = [threading.Thread(target=label, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 12
    assert podd.pod("web")["metadata"]["labels"] == {f"k{i}": str(i) for i in range(12)}


def test_podctl_label_and_annotate(podd):
    podd.create(two_containers())
    before = podd.wait_running("web")
    r = podd.podctl("label", "pod", "web", "tier=front", "app=shop")
    assert r.stdout == "pod/web labeled\n"
    assert podd.pod("web")["metadata"]["labels"] == {"tier": "front", "app": "shop"}
    # Another value needs --overwrite; the same one does not.
    r = podd.podctl("label", "pod", "web", "tier=back", check=False)
    assert r.returncode == 1 and "'tier' already has a value (front), and --overwrite is false" in r.stderr, r
    assert podd.podctl("label", "pod/web", "tier=front").stdout == "pod/web not labeled\n"
    assert podd.podctl("label", "pod", "web", "tier=back", "--overwrite").stdout == "pod/web labeled\n"
    # k- removes.
    assert podd.podctl("label", "pod", "web", "tier-").stdout == "pod/web unlabeled\n"
    assert podd.pod("web")["metadata"]["labels"] == {"app": "shop"}
    r = podd.podctl("label", "pod", "web", "--list")
    assert r.stdout == "Listing labels for Pod.v1/web:\n app=shop\n", r.stdout
    r = podd.podctl("label", "pod", "web", "a=b", "a-", check=False)
    assert r.returncode == 1 and "can not both modify and remove" in r.stderr
    r = podd.podctl("label", "pod", "web", "bad key=x", check=False)
    assert r.returncode == 1 and "Error from server (Invalid)" in r.stderr and "metadata.labels" in r.stderr, r.stderr
    # By selector; with a stale resourceVersion.
    podd.create(pod_manifest("db", [("a", "sleep 3600")], terminationGracePeriodSeconds=0))
    r = podd.podctl("label", "pods", "-l", "app=shop", "team=a")
    assert r.stdout == "pod/web labeled\n"
    r = podd.podctl("label", "pod", "web", "x=y", "--resource-version", "1", check=False)
    assert r.returncode == 1 and "Conflict" in r.stderr, r.stderr
    r = podd.podctl("label", "pod", "ghost", "x=y", check=False)
    assert r.returncode == 1 and "NotFound" in r.stderr and "ghost" in r.stderr

    r = podd.podctl("annotate", "pod", "web", "note=hello world", "owner=me")
    assert r.stdout == "pod/web annotated\n"
    r = podd.podctl("annotate", "pod", "web", "note=again", check=False)
    assert r.returncode == 1 and "--overwrite is false but found the following declared annotation(s): 'note' already has a value (hello world)" in r.stderr
    podd.podctl("annotate", "pod", "web", "note=again", "--overwrite")
    podd.podctl("annotate", "pod", "web", "owner-")
    r = podd.podctl("annotate", "pods", "--all", "all=yes", "-o", "name")
    assert r.stdout == "pod/db\npod/web\n", r.stdout
    assert podd.pod("web")["metadata"]["annotations"] == {"note": "again", "all": "yes"}
    assert podd.pod("db")["metadata"]["annotations"] == {"all": "yes"}
    # None of it restarted the pod.
    assert container_ids(podd.wait_running("web")) == container_ids(before)
