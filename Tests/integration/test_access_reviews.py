"""`kubectl auth can-i` and `kubectl auth whoami` against the real podd: the self reviews of
authorization.k8s.io/v1 and authentication.k8s.io/v1, which kubectl sends as protobuf, and the
same reviews in JSON on the raw socket. A caller the socket lets in may do all podd serves, so
the answer is whether podd serves the verb on the resource."""
import json

import pytest

from kubectl_fixture import kubectl  # noqa: F401 (the fixture)

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def review(**attributes):
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attributes}}


def test_kubectl_auth_can_i_answers_what_podd_serves(kubectl):
    for args in (["get", "pods"], ["create", "pods", "-n", "other"], ["create", "pods/exec"],
                 ["create", "pods", "--subresource=exec"], ["get", "pods", "--subresource=log"], ["watch", "events"],
                 ["delete", "configmaps"], ["list", "images.podd.io"], ["get", "/healthz"], ["get", "/api/v1"]):
        r = kubectl.run("auth", "can-i", *args, check=False)
        assert (r.returncode, r.stdout.strip()) == (0, "yes"), (args, r.stdout, r.stderr)
    # What podd does not serve is a no, with the reason, not a yes the next command refutes.
    for args, reason in ((["create", "deployments.apps"], "podd does not serve deployments.apps"),
                         (["delete", "events"], "podd serves events for list, watch, not delete"),
                         (["create", "namespaces"], "not create"),
                         (["post", "/healthz"], "podd serves only GET")):
        r = kubectl.run("auth", "can-i", *args, check=False)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stdout.startswith("no") and reason in r.stdout, (args, r.stdout)


def test_kubectl_auth_can_i_list_shows_every_served_resource(kubectl):
    out = kubectl.run("auth", "can-i", "--list").stdout
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line and not line.startswith(" ")}
    assert "create delete get list patch update watch" in rows["pods"]
    assert "[create get]" in rows["pods/exec"]
    assert "[list watch]" in rows["events"]
    assert "[get list]" in rows["namespaces"]
    assert "images.podd.io" in rows and "pods.metrics.k8s.io" in rows
    assert "[/healthz]" in out and "[/version]" in out


def test_kubectl_auth_whoami_names_the_caller(kubectl):
    out = kubectl.run("auth", "whoami").stdout
    fields = dict(line.split(None, 1) for line in out.splitlines()[1:] if line.strip())
    assert fields["Username"].strip() == "root"
    assert fields["UID"].strip() == "0"
    assert "system:authenticated" in fields["Groups"]


def test_kubectl_create_namespace_says_how_namespaces_work(kubectl):
    r = kubectl.run("create", "namespace", "team-a", check=False)
    assert r.returncode == 1
    assert "podd has no namespace objects to create" in r.stderr and "-n NAME" in r.stderr, r.stderr
    r = kubectl.run("delete", "namespace", "default", check=False)
    assert r.returncode == 1 and "no namespace objects to delete" in r.stderr, r.stderr
    # Nothing was made: a namespace still appears only with an object in it.
    assert "team-a" not in kubectl.run("get", "namespaces").stdout


def test_access_review_in_json_on_the_socket(podd):
    r = podd.request("POST", SSAR, review(namespace="default", verb="create", resource="pods", subresource="exec"))
    assert r.status == 201, r.text
    body = r.json()
    assert body["kind"] == "SelfSubjectAccessReview" and body["apiVersion"] == "authorization.k8s.io/v1"
    assert body["spec"]["resourceAttributes"]["subresource"] == "exec"
    assert body["status"]["allowed"] is True
    r = podd.request("POST", SSAR, review(verb="get", group="apps", resource="deployments"))
    assert r.status == 201 and r.json()["status"] == {"allowed": False, "reason": "podd does not serve deployments.apps"}
    r = podd.request("POST", SSAR, {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                                    "spec": {"nonResourceAttributes": {"path": "/metrics", "verb": "get"}}})
    assert r.status == 201 and r.json()["status"]["allowed"] is True
    rules = podd.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
                         {"kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1", "spec": {"namespace": "x"}})
    assert rules.status == 201
    served = {(g, res) for rule in rules.json()["status"]["resourceRules"] for g in rule["apiGroups"] for res in rule["resources"]}
    assert ("", "pods") in served and ("podd.io", "images") in served and ("", "pods/log") in served
    # Discovery lists the two groups, so that kubectl finds them.
    groups = {g["name"] for g in podd.get("/apis").json()["groups"]}
    assert {"authorization.k8s.io", "authentication.k8s.io"} <= groups
    names = {x["name"] for x in podd.get("/apis/authorization.k8s.io/v1").json()["resources"]}
    assert names == {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}


def test_bad_access_reviews_get_clear_errors(podd):
    cases = [
        (b"", 400, "empty"),
        (b"{not json", 400, "not valid JSON"),
        (json.dumps([1, 2]).encode(), 400, "not a SelfSubjectAccessReview object"),
        (json.dumps({"kind": "Pod", "apiVersion": "v1"}).encode(), 400, "is a Pod, not a SelfSubjectAccessReview"),
        (json.dumps({"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1beta1"}).encode(), 400,
         "apiVersion authorization.k8s.io/v1beta1"),
        (json.dumps({"kind": "SelfSubjectAccessReview", "spec": {}}).encode(), 422,
         "exactly one of resourceAttributes or nonResourceAttributes"),
        (b"k8s\x00\x0a\x02\x0a", 400, "not valid Kubernetes protobuf"),
    ]
    for body, code, message in cases:
        content_type = "application/vnd.kubernetes.protobuf" if body.startswith(b"k8s") else "application/json"
        r = podd.request("POST", SSAR, body, headers={"Content-Type": content_type})
        assert r.status == code, (body, r.status, r.text)
        assert message in r.json()["message"], (body, r.text)
    r = podd.request("GET", SSAR)
    assert r.status == 405
    # podd still answers.
    assert podd.get("/healthz").status == 200


def test_impersonation_is_refused_with_the_reason(kubectl, podd):
    """kubectl's --as: carried out as the caller, `can-i --as=nobody` would answer for root."""
    for args in (["auth", "can-i", "get", "pods", "--as=nobody"], ["get", "pods", "--as=nobody"],
                 ["run", "imp", "--image=busybox", "--as=nobody"], ["exec", "imp", "--as=nobody", "--", "true"]):
        r = kubectl.run(*args, check=False)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "Error from server (Forbidden): podd does not impersonate (Impersonate-User: nobody)" in r.stderr, (args, r.stderr)
    # whoami says a 403 its own way.
    r = kubectl.run("auth", "whoami", "--as=nobody", "--as-group=x", check=False)
    assert r.returncode == 1 and "you do not have permission" in r.stderr, r.stderr
    # Nothing was done for the request that was refused.
    assert podd.pod("imp") is None
    r = podd.request("GET", "/api/v1/pods", headers={"Impersonate-Group": "system:masters"})
    assert r.status == 403 and r.json()["reason"] == "Forbidden" and "Impersonate-Group" in r.json()["message"]
    # The documents that describe the API still answer (kubectl's discovery), and so does the
    # same request without the header.
    for path in ("/api", "/api/v1", "/apis", "/version", "/openapi/v2"):
        assert podd.request("GET", path, headers={"Impersonate-User": "nobody"}).status == 200, path
    assert podd.get("/api/v1/pods").status == 200
