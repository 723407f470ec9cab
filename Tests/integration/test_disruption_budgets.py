"""policy/v1 PodDisruptionBudgets and the pods/eviction subresource, as the API server and its
disruption controller serve them: a budget's status follows the pods it covers (healthy,
desired, expected, disruptions allowed); an eviction deletes a pod only when the budget
allows it (429 otherwise, which `kubectl drain` retries), spends a disruption, and marks the
pod DisruptionTarget. Budgets are stored, validated and watched like ConfigMaps."""
import json
from concurrent.futures import ThreadPoolExecutor

import yaml

from harness import pod_manifest, wait_for
from kubectl_fixture import kubectl  # noqa: F401  (fixture)

BUDGETS = "/apis/policy/v1/namespaces/default/poddisruptionbudgets"


def web_pod(name, **extra):
    manifest = pod_manifest(name, [("app", "sleep 3600")], terminationGracePeriodSeconds=0, **extra)
    manifest["metadata"]["labels"] = {"app": "web"}
    return manifest


def budget(name="web", **spec):
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec}}


def evict(d, name, body=None, query=""):
    body = body or {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    return d.request("POST", f"/api/v1/namespaces/default/pods/{name}/eviction{query}", body)


def status_of(d, name="web"):
    return d.get(f"{BUDGETS}/{name}").json()["status"]


def ready(d, name):
    pod = d.pod(name)
    return pod and any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))


def test_an_eviction_spends_the_budget_and_is_refused_when_none_is_left(podd):
    d = podd
    for name in ("web-1", "web-2"):
        assert d.create(web_pod(name)).status == 201
    wait_for(lambda: ready(d, "web-1") and ready(d, "web-2"), what="both pods ready")
    r = d.request("POST", BUDGETS, budget(minAvailable=1))
    assert r.status == 201, r.text
    created = r.json()
    assert created["metadata"]["generation"] == 1 and created["apiVersion"] == "policy/v1"
    s = wait_for(lambda: (s := status_of(d)) and s.get("currentHealthy") == 2 and s, what="the budget's status")
    assert (s["desiredHealthy"], s["expectedPods"], s["disruptionsAllowed"], s["observedGeneration"]) == (1, 2, 1, 1)
    [allowed] = s["conditions"]
    assert (allowed["type"], allowed["status"], allowed["reason"]) == ("DisruptionAllowed", "True", "SufficientPods")

    # One disruption: granted. The pod is marked and deleted; the budget is spent.
    r = evict(d, "web-1")
    assert r.status == 201, r.text
    assert r.json()["status"] == "Success" and r.json()["kind"] == "Status"
    wait_for(lambda: d.pod("web-1") is None, what="web-1 gone")
    s = wait_for(lambda: (s := status_of(d)) and s["currentHealthy"] == 1 and s, what="the budget spent")
    assert (s["disruptionsAllowed"], s["expectedPods"]) == (0, 1)
    assert (s["conditions"][0]["status"], s["conditions"][0]["reason"]) == ("False", "InsufficientPods")

    # None left: 429 with the budget's cause; the pod runs on, even for a dry run.
    for query in ("", "?dryRun=All"):
        r = evict(d, "web-2", query=query)
        assert r.status == 429, r.text
        body = r.json()
        assert body["reason"] == "TooManyRequests"
        assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
        assert body["details"]["causes"] == [{"reason": "DisruptionBudget",
                                              "message": "The disruption budget web needs 1 healthy pods and has 1 currently"}]
    pod = d.pod("web-2")
    assert pod["metadata"].get("deletionTimestamp") is None and pod["status"]["phase"] == "Running"

    # The spec changes: a new generation, observed at once; a dry run spends nothing.
    r = d.request("PATCH", f"{BUDGETS}/web", {"spec": {"minAvailable": 0}}, headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r.text
    assert r.json()["metadata"]["generation"] == 2
    s = wait_for(lambda: (s := status_of(d)) and s["observedGeneration"] == 2 and s, what="generation 2 observed")
    assert s["disruptionsAllowed"] == 1
    assert evict(d, "web-2", query="?dryRun=All").status == 201
    assert d.pod("web-2")["metadata"].get("deletionTimestamp") is None and status_of(d).get("disruptedPods") is None
    # A granted eviction marks the pod before it goes (a grace period keeps it visible).
    r = evict(d, "web-2", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-2"},
                           "deleteOptions": {"gracePeriodSeconds": 30}})
    assert r.status == 201, r.text
    pod = d.pod("web-2")
    assert pod["metadata"]["deletionTimestamp"] and pod["metadata"]["deletionGracePeriodSeconds"] == 30
    target = next(c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (target["status"], target["reason"], target["message"]) == ("True", "EvictionByEvictionAPI", "Eviction API: evicting")


def test_unready_pending_and_doubly_covered_pods(podd):
    d = podd
    assert d.create(web_pod("healthy")).status == 201
    unready = web_pod("unready")
    unready["spec"]["containers"][0]["readinessProbe"] = {"exec": {"command": ["false"]}, "periodSeconds": 1}
    assert d.create(unready).status == 201
    pending = web_pod("pending")
    pending["spec"]["containers"][0].update(image="no-such-image:1", imagePullPolicy="Never")
    assert d.create(pending).status == 201
    wait_for(lambda: ready(d, "healthy") and d.pod("unready")["status"]["phase"] == "Running", what="pods running")
    assert d.request("POST", BUDGETS, budget(minAvailable=1)).status == 201
    s = wait_for(lambda: (s := status_of(d)) and s["expectedPods"] == 3 and s, what="the budget's status")
    assert (s["currentHealthy"], s["desiredHealthy"], s["disruptionsAllowed"]) == (1, 1, 0)
    # The healthy pod is what the budget keeps.
    assert evict(d, "healthy").status == 429
    # An unready pod counts for nothing: evicting it spends nothing while the budget is met.
    assert evict(d, "unready").status == 201
    wait_for(lambda: d.pod("unready") is None, what="the unready pod gone")
    # A pending pod disrupts nothing either.
    assert evict(d, "pending").status == 201
    wait_for(lambda: d.pod("pending") is None, what="the pending pod gone")
    assert d.pod("healthy")["metadata"].get("deletionTimestamp") is None
    # Two budgets over one pod: the API server's 500, nothing deleted.
    assert d.request("POST", BUDGETS, budget("second", maxUnavailable="50%")).status == 201
    r = evict(d, "healthy")
    assert r.status == 500 and r.json()["message"] == "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
    assert d.pod("healthy")["metadata"].get("deletionTimestamp") is None
    # Unmanaged pods and a percentage: nothing to scale by, no disruption allowed, and the
    # controller's warning says why.
    s = wait_for(lambda: (s := status_of(d, "second")) and s["currentHealthy"] == 1 and s, what="second's status")
    assert (s["expectedPods"], s["desiredHealthy"], s["disruptionsAllowed"]) == (0, 0, 0)
    events = d.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DPodDisruptionBudget").json()["items"]
    warning = next(e for e in events if e["reason"] == "UnmanagedPods")
    assert (warning["type"], warning["involvedObject"]["name"], warning["involvedObject"]["apiVersion"]) == ("Warning", "second", "policy/v1")
    assert "To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value." in warning["message"]


def test_bad_evictions_change_nothing(podd):
    d = podd
    assert d.create(web_pod("web-1")).status == 201
    r = evict(d, "web-1", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}})
    assert r.status == 400 and r.json()["message"] == "name in URL does not match name in Eviction object"
    r = evict(d, "web-1", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1"}})
    assert r.status == 400 and "Eviction" in r.json()["message"]
    r = evict(d, "web-1", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1"}, "spec": {}})
    assert r.status == 400 and "unknown field \"spec\"" in r.json()["message"]
    r = evict(d, "web-1", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1", "namespace": "other"}})
    assert r.status == 400
    r = evict(d, "web-1", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1"},
                           "deleteOptions": {"preconditions": {"uid": "not-the-uid"}}})
    assert r.status == 409
    r = evict(d, "web-1", {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "web-1"},
                           "deleteOptions": {"propagationPolicy": "Sideways"}})
    assert r.status == 422
    assert evict(d, "nobody").status == 404
    assert d.get("/api/v1/namespaces/default/pods/web-1/eviction").status == 405
    assert d.pod("web-1")["metadata"].get("deletionTimestamp") is None
    # policy/v1beta1 Evictions are taken too, as the API server takes them.
    r = evict(d, "web-1", {"apiVersion": "policy/v1beta1", "kind": "Eviction", "metadata": {"name": "web-1"}})
    assert r.status == 201, r.text


def test_budgets_are_validated_stored_and_watched(podd):
    d = podd
    cases = [
        ({"minAvailable": 1, "maxUnavailable": 1}, "spec: Invalid value:", "minAvailable and maxUnavailable cannot be both set"),
        ({"minAvailable": "150%"}, "spec.minAvailable", "must not be greater than 100%"),
        ({"maxUnavailable": -1}, "spec.maxUnavailable", "must be greater than or equal to 0"),
        ({"minAvailable": "half"}, "spec.minAvailable", "must be an integer or percentage (e.g '5%')"),
        ({"minAvailable": 1, "unhealthyPodEvictionPolicy": "Never"}, "spec.unhealthyPodEvictionPolicy",
         'Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"'),
    ]
    for spec, field, words in cases:
        r = d.request("POST", BUDGETS, budget("bad", **spec))
        assert r.status == 422, (spec, r.text)
        assert r.json()["message"].startswith('PodDisruptionBudget "bad" is invalid: ') and words in r.json()["message"], r.text
        assert field.split(":")[0] in r.json()["message"]
    r = d.request("POST", BUDGETS, {**budget("bad", minAvailable=1), "apiVersion": "v1"})
    assert r.status == 400
    assert d.get(f"{BUDGETS}/bad").status == 404

    # A client's status is not taken, on create or update: it is the controller's.
    body = budget(minAvailable=1)
    body["status"] = {"disruptionsAllowed": 99, "currentHealthy": 99, "desiredHealthy": 0, "expectedPods": 99}
    r = d.request("POST", BUDGETS, body)
    assert r.status == 201 and r.json()["status"]["disruptionsAllowed"] == 0
    version = d.get(BUDGETS).json()["metadata"]["resourceVersion"]
    assert d.create(web_pod("web-1")).status == 201
    wait_for(lambda: status_of(d)["currentHealthy"] == 1, what="the pod counted")
    current = d.get(f"{BUDGETS}/web").json()
    current["status"]["disruptionsAllowed"] = 99
    current["metadata"]["labels"] = {"team": "a"}
    r = d.request("PUT", f"{BUDGETS}/web", current)
    assert r.status == 200, r.text
    assert r.json()["status"]["disruptionsAllowed"] == 0 and r.json()["metadata"]["generation"] == 1
    # A watch from the list's version sees the controller's status change as MODIFIED.
    lines = d.get(f"{BUDGETS}?watch=true&timeoutSeconds=1&resourceVersion={version}").body.splitlines()
    events = [json.loads(line) for line in lines]
    assert any(e["type"] == "MODIFIED" and e["object"]["status"]["currentHealthy"] == 1 for e in events), events
    # Lists, the all-namespaces path, selectors, a Table, and discovery.
    assert [b["metadata"]["name"] for b in d.get("/apis/policy/v1/poddisruptionbudgets").json()["items"]] == ["web"]
    assert d.get(f"{BUDGETS}?labelSelector=team%3Da").json()["items"][0]["metadata"]["name"] == "web"
    assert d.get(f"{BUDGETS}?labelSelector=team%3Db").json()["items"] == []
    assert d.get(BUDGETS).json()["kind"] == "PodDisruptionBudgetList"
    table = d.request("GET", BUDGETS, headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"]
    assert table["rows"][0]["cells"][:4] == ["web", "1", "N/A", 0]
    groups = [g["name"] for g in d.get("/apis").json()["groups"]]
    assert "policy" in groups
    resources = {r["name"]: r for r in d.get("/apis/policy/v1").json()["resources"]}
    assert resources["poddisruptionbudgets"]["shortNames"] == ["pdb"]
    eviction = next(r for r in d.get("/api/v1").json()["resources"] if r["name"] == "pods/eviction")
    assert (eviction["group"], eviction["version"], eviction["kind"]) == ("policy", "v1", "Eviction")

    # Stored: a restarted podd has the budget, its status computed again from the pods.
    d.stop()
    d.start()
    s = wait_for(lambda: (s := status_of(d)) and s["currentHealthy"] == 1 and s, what="the status after a restart")
    assert s["expectedPods"] == 1 and d.get(f"{BUDGETS}/web").json()["metadata"]["labels"] == {"team": "a"}
    r = d.request("DELETE", f"{BUDGETS}/web")
    assert r.status == 200 and r.json()["status"] == "Success"
    assert d.get(f"{BUDGETS}/web").status == 404


def test_kubectl_drain_waits_for_the_budget(podd, kubectl, tmp_path):
    d = podd
    manifests = tmp_path / "web.yaml"
    documents = [web_pod("web-1"), web_pod("web-2"), budget(minAvailable=1)]
    manifests.write_text(yaml.safe_dump_all(documents))
    kubectl.run("apply", "-f", str(manifests))
    wait_for(lambda: ready(d, "web-1") and ready(d, "web-2"), what="both pods ready")
    wait_for(lambda: status_of(d)["disruptionsAllowed"] == 1, what="the budget's status")
    out = kubectl.run("get", "pdb").stdout.splitlines()
    assert out[0].split() == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert out[1].split()[:4] == ["web", "1", "N/A", "1"]
    node = kubectl.run("get", "nodes", "-o", "name").stdout.strip().removeprefix("node/")
    # One pod may go; the other is kept, and drain gives up when its time is out.
    r = kubectl.run("drain", node, "--force", "--timeout=8s", check=False, timeout=60)
    assert r.returncode != 0
    assert "Cannot evict pod as it would violate the pod's disruption budget." in r.stderr + r.stdout
    left = [p["metadata"]["name"] for p in d.get("/api/v1/namespaces/default/pods").json()["items"]]
    assert len(left) == 1, left
    # Once the budget allows it, the drain completes.
    kubectl.run("patch", "pdb", "web", "--type=merge", "-p", '{"spec":{"minAvailable":0}}')
    r = kubectl.run("drain", node, "--force", "--timeout=20s", timeout=60)
    assert "drained" in r.stdout, r.stdout
    wait_for(lambda: d.get("/api/v1/namespaces/default/pods").json()["items"] == [], what="no pods left")
    kubectl.run("uncordon", node)
    # kubectl create pdb sends protobuf; its validation is the API server's.
    kubectl.run("create", "pdb", "other", "--selector=app=other", "--max-unavailable=1")
    assert d.get(f"{BUDGETS}/other").json()["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "other"}}}
    r = kubectl.run("create", "pdb", "bad", "--selector=app=x", "--min-available=150%", check=False)
    assert r.returncode != 0 and "must not be greater than 100%" in r.stderr
    described = kubectl.run("describe", "pdb", "other").stdout
    assert "Max unavailable:  1" in described and "Selector:         app=other" in described, described
    assert "NoPods" in described and "No matching pods found" in described, described
    # podctl describes a budget as kubectl does: the same lines, its events' ages aside.
    def without_ages(text):
        lines = text.splitlines()
        table = lines.index("Events:") if "Events:" in lines else len(lines)
        return lines[:table] + [" ".join(line.split()[:2] + line.split()[3:]) for line in lines[table:]]
    assert without_ages(d.podctl("describe", "pdb", "other").stdout) == without_ages(described)
    kubectl.run("create", "pdb", "spread", "--selector=app=spread,tier notin (b,a)", "--min-available=50%")
    spread = d.podctl("describe", "pdb/spread").stdout
    assert without_ages(spread) == without_ages(kubectl.run("describe", "pdb", "spread").stdout)
    assert spread.splitlines()[:9] == ["Name:           spread", "Namespace:      default", "Min available:  50%",
                                "Selector:       app=spread,tier notin (a,b)", "Status:", "    Allowed disruptions:  0",
                                "    Current:              0", "    Desired:              0", "    Total:                0"], spread


def test_podctl_applies_lists_and_deletes_budgets(podd, tmp_path):
    d = podd
    manifests = tmp_path / "web.yaml"
    manifests.write_text(yaml.safe_dump_all([web_pod("web-1"), budget(minAvailable=1)]))
    assert d.podctl("apply", "-f", str(manifests)).stdout.splitlines() == ["pod/web-1 created", "poddisruptionbudget.policy/web created"]
    assert d.podctl("apply", "-f", str(manifests)).stdout.splitlines()[1] == "poddisruptionbudget.policy/web unchanged"
    wait_for(lambda: status_of(d)["currentHealthy"] == 1, what="the pod counted")
    rows = [line.split() for line in d.podctl("get", "pdb").stdout.splitlines()]
    assert rows[0] == ["NAME", "MIN", "AVAILABLE", "MAX", "UNAVAILABLE", "ALLOWED", "DISRUPTIONS", "AGE"]
    assert rows[1][:4] == ["web", "1", "N/A", "0"]
    assert d.podctl("get", "poddisruptionbudgets", "web", "-o", "name").stdout.strip() == "poddisruptionbudget.policy/web"
    assert json.loads(d.podctl("get", "pdb/web", "-o", "json").stdout)["spec"]["minAvailable"] == 1
    manifests.write_text(yaml.safe_dump(budget(minAvailable=0)))
    assert d.podctl("apply", "-f", str(manifests)).stdout.strip() == "poddisruptionbudget.policy/web configured"
    assert d.get(f"{BUDGETS}/web").json()["metadata"]["generation"] == 2
    manifests.write_text(yaml.safe_dump({**budget(minAvailable=0), "apiVersion": "policy/v1beta1"}))
    r = d.podctl("apply", "-f", str(manifests), check=False)
    assert r.returncode == 1 and "not policy/v1beta1 PodDisruptionBudget" in r.stderr
    assert d.podctl("delete", "pdb", "web").stdout.strip() == 'poddisruptionbudget.policy "web" deleted'
    assert d.get(f"{BUDGETS}/web").status == 404


def test_evictions_at_once_spend_the_last_disruption_once(podd):
    """Evictions racing for a budget's last disruption: one is granted, the others are 429,
    as the API server's check-and-decrement on the budget's version decides."""
    d = podd
    names = [f"web-{i}" for i in range(4)]
    for name in names:
        assert d.create(web_pod(name)).status == 201
    wait_for(lambda: all(ready(d, n) for n in names), what="all pods ready")
    assert d.request("POST", BUDGETS, budget(minAvailable=3)).status == 201
    wait_for(lambda: status_of(d)["disruptionsAllowed"] == 1, what="one disruption allowed")
    with ThreadPoolExecutor(len(names)) as pool:
        codes = sorted(pool.map(lambda n: evict(d, n).status, names))
    assert codes == [201, 429, 429, 429], codes
    wait_for(lambda: len(d.get("/api/v1/namespaces/default/pods").json()["items"]) == 3, what="one pod gone")
    s = wait_for(lambda: (s := status_of(d)) and s["currentHealthy"] == 3 and s, what="the budget after")
    assert s["disruptionsAllowed"] == 0
