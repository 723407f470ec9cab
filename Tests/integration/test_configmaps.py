"""ConfigMaps: the API (every verb, selectors, watch, Kubernetes' errors), persistence, and
their use by pods (volumes with atomic updates, env, envFrom, the downward API, subPath,
CreateContainerConfigError until the ConfigMap exists)."""
import base64
import json
import os
import socket
import stat
import time

import pytest

from harness import Podd, UnixHTTPConnection, pod_manifest, wait_for

NS = "/api/v1/namespaces/default"


def configmap(name, data=None, **fields):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data or {}, **fields}


def create_cm(d, name, data=None, **fields):
    r = d.request("POST", f"{NS}/configmaps", configmap(name, data, **fields))
    assert r.status == 201, r.text
    return r.json()


def waiting(d, pod, container):
    p = d.pod(pod)
    for s in (p or {}).get("status", {}).get("containerStatuses", []):
        if s["name"] == container and "waiting" in s["state"]:
            return s["state"]["waiting"]
    return None


def exec_out(d, pod, *cmd, container=None):
    args = ["exec", pod] + (["-c", container] if container else []) + ["--", *cmd]
    return d.podctl(*args).stdout


# --- the API --------------------------------------------------------------------------

def test_create_get_list_replace_delete(daemon):
    created = create_cm(daemon, "app", {"mode": "fast", "level": "3"}, binaryData={"blob": base64.b64encode(b"\x00\x01\xff").decode()})
    assert created["kind"] == "ConfigMap" and created["apiVersion"] == "v1"
    meta = created["metadata"]
    assert meta["namespace"] == "default" and meta["uid"] and meta["resourceVersion"] and meta["creationTimestamp"]
    assert created["data"] == {"level": "3", "mode": "fast"}
    assert base64.b64decode(created["binaryData"]["blob"]) == b"\x00\x01\xff"

    got = daemon.get(f"{NS}/configmaps/app").json()
    assert got == created
    lst = daemon.get(f"{NS}/configmaps").json()
    assert lst["kind"] == "ConfigMapList" and [i["metadata"]["name"] for i in lst["items"]] == ["app"]
    assert lst["metadata"]["resourceVersion"]
    assert [i["metadata"]["name"] for i in daemon.get("/api/v1/configmaps").json()["items"]] == ["app"]

    # A second create is a conflict, as the API server answers.
    r = daemon.request("POST", f"{NS}/configmaps", configmap("app"))
    assert r.status == 409 and r.json()["reason"] == "AlreadyExists"
    assert r.json()["message"] == 'configmaps "app" already exists'

    # PUT replaces; a stale resourceVersion is refused with 409.
    got["data"]["mode"] = "slow"
    r = daemon.request("PUT", f"{NS}/configmaps/app", got)
    assert r.status == 200, r.text
    replaced = r.json()
    assert replaced["data"]["mode"] == "slow"
    assert int(replaced["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert replaced["metadata"]["uid"] == meta["uid"]
    r = daemon.request("PUT", f"{NS}/configmaps/app", got)
    assert r.status == 409 and "the object has been modified" in r.json()["message"]

    r = daemon.request("DELETE", f"{NS}/configmaps/app")
    assert r.status == 200 and r.json()["status"] == "Success"
    assert r.json()["details"]["name"] == "app" and r.json()["details"]["kind"] == "configmaps"
    r = daemon.get(f"{NS}/configmaps/app")
    assert r.status == 404 and r.json()["message"] == 'configmaps "app" not found'
    assert daemon.request("DELETE", f"{NS}/configmaps/app").status == 404


def test_podctl_get_several_types_at_once(podd):
    """`podctl get cm,secrets` and `podctl get pod/p1 configmap/cm1`, as kubectl: a table per
    type, a blank line between them, names as TYPE/NAME when more than one type is shown;
    names in each comma-separated type; one List for -o json; -w one type at a time."""
    podd.podctl("create", "configmap", "cm1", "--from-literal", "a=1")
    podd.podctl("create", "secret", "generic", "s1", "--from-literal", "p=x")
    podd.create(pod_manifest("p1", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    podd.wait_running("p1")

    def rows(text):
        return [line.split()[:2] for line in text.splitlines()]

    out = podd.podctl("get", "cm,secrets").stdout
    sections = out.split("\n\n")
    assert len(sections) == 2, out
    assert rows(sections[0]) == [["NAME", "DATA"], ["configmap/cm1", "1"]], out
    assert rows(sections[1]) == [["NAME", "TYPE"], ["secret/s1", "Opaque"]], out
    out = podd.podctl("get", "pod/p1", "configmap/cm1").stdout
    first, second = out.split("\n\n")
    assert first.split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] and rows(first)[1] == ["pod/p1", "1/1"], out
    assert rows(second) == [["NAME", "DATA"], ["configmap/cm1", "1"]], out
    assert podd.podctl("get", "po,cm,secrets", "-o", "name").stdout == "pod/p1\nconfigmap/cm1\nsecret/s1\n"
    listed = json.loads(podd.podctl("get", "pod/p1", "secret/s1", "-o", "json").stdout)
    assert listed["kind"] == "List" and [(i["kind"], i["metadata"]["name"]) for i in listed["items"]] == [("Pod", "p1"), ("Secret", "s1")]
    # A name in each type: what is found prints (one type: no prefix), what is not fails.
    r = podd.podctl("get", "cm,secrets", "cm1", check=False)
    assert r.returncode == 1 and rows(r.stdout) == [["NAME", "DATA"], ["cm1", "1"]], r.stdout
    assert r.stderr == 'Error from server (NotFound): secrets "cm1" not found\n', r.stderr
    r = podd.podctl("get", "cm,secrets", "-w", check=False)
    assert r.returncode == 1 and "watch" in r.stderr and r.stderr.startswith("error: "), r.stderr
    r = podd.podctl("get", "cm,deployments", check=False)
    assert r.returncode == 1 and "doesn't have a resource type \"deployments\"" in r.stderr, r.stderr
    # One type, as before: no prefix, no blank line.
    assert rows(podd.podctl("get", "cm").stdout) == [["NAME", "DATA"], ["cm1", "1"]]


def test_watch_from_a_list_misses_nothing_and_an_old_version_expires(podd):
    """As informers use it: list, then watch from the list's resourceVersion: the changes
    after the list come, none before; a version older than podd keeps is 410 Expired."""
    create_cm(podd, "before", {"a": "1"})
    listed = podd.get(f"{NS}/configmaps")
    assert listed.status == 200
    version = listed.json()["metadata"]["resourceVersion"]
    assert int(version) >= int(podd.get(f"{NS}/configmaps/before").json()["metadata"]["resourceVersion"])
    create_cm(podd, "after", {"b": "2"})
    conn = UnixHTTPConnection(podd.socket, timeout=10)
    conn.request("GET", f"{NS}/configmaps?watch=true&resourceVersion={version}")
    resp = conn.getresponse()
    event = json.loads(resp.readline())
    assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "after", event
    assert int(event["object"]["metadata"]["resourceVersion"]) > int(version)
    conn.close()
    conn = UnixHTTPConnection(podd.socket, timeout=10)
    conn.request("GET", f"{NS}/configmaps?watch=true&resourceVersion=1")
    event = json.loads(conn.getresponse().readline())
    assert event["type"] == "ERROR" and event["object"]["code"] == 410, event
    conn.close()


@pytest.mark.parametrize("content_type,patch", [
    ("application/merge-patch+json", {"data": {"b": "2", "a": None}}),
    ("application/strategic-merge-patch+json", {"data": {"b": "2", "a": None}}),
    ("application/json-patch+json", [{"op": "remove", "path": "/data/a"}, {"op": "add", "path": "/data/b", "value": "2"}]),
])
def test_patch(daemon, content_type, patch):
    create_cm(daemon, "p", {"a": "1"})
    r = daemon.request("PATCH", f"{NS}/configmaps/p", json.dumps(patch), headers={"Content-Type": content_type})
    assert r.status == 200, r.text
    assert r.json()["data"] == {"b": "2"}
    r = daemon.request("PATCH", f"{NS}/configmaps/p", "{}", headers={"Content-Type": "text/plain"})
    assert r.status == 415


def test_label_selector_and_watch(daemon):
    for name, tier in (("front", "web"), ("back", "db")):
        body = configmap(name)
        body["metadata"]["labels"] = {"tier": tier}
        assert daemon.request("POST", f"{NS}/configmaps", body).status == 201
    names = [i["metadata"]["name"] for i in daemon.get(f"{NS}/configmaps?labelSelector=tier%3Dweb").json()["items"]]
    assert names == ["front"]
    names = [i["metadata"]["name"] for i in daemon.get(f"{NS}/configmaps?fieldSelector=metadata.name%3Dback").json()["items"]]
    assert names == ["back"]
    # A ConfigMap selects on its name and namespace only, as the API server's.
    r = daemon.get(f"{NS}/configmaps?fieldSelector=status.phase%3DRunning")
    assert r.status == 400 and r.json()["message"] == "field label not supported: status.phase"

    conn = UnixHTTPConnection(daemon.socket, timeout=10)
    conn.request("GET", f"{NS}/configmaps?watch=true&labelSelector=tier%3Dweb")
    resp = conn.getresponse()
    first = json.loads(resp.readline())
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "front"
    daemon.request("PATCH", f"{NS}/configmaps/back", json.dumps({"data": {"x": "1"}}),
                   headers={"Content-Type": "application/merge-patch+json"})
    daemon.request("PATCH", f"{NS}/configmaps/front", json.dumps({"data": {"x": "1"}}),
                   headers={"Content-Type": "application/merge-patch+json"})
    event = json.loads(resp.readline())
    assert event["type"] == "MODIFIED" and event["object"]["metadata"]["name"] == "front"
    daemon.request("DELETE", f"{NS}/configmaps/front")
    event = json.loads(resp.readline())
    assert event["type"] == "DELETED" and event["object"]["metadata"]["name"] == "front"
    conn.close()


def test_dry_run_changes_nothing(daemon):
    r = daemon.request("POST", f"{NS}/configmaps?dryRun=All", configmap("dry", {"a": "1"}))
    assert r.status == 201 and r.json()["data"] == {"a": "1"}
    assert daemon.get(f"{NS}/configmaps/dry").status == 404
    create_cm(daemon, "dry", {"a": "1"})
    r = daemon.request("PATCH", f"{NS}/configmaps/dry?dryRun=All", json.dumps({"data": {"a": "2"}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["data"] == {"a": "2"}
    assert daemon.get(f"{NS}/configmaps/dry").json()["data"] == {"a": "1"}
    assert daemon.request("DELETE", f"{NS}/configmaps/dry?dryRun=All").status == 200
    assert daemon.get(f"{NS}/configmaps/dry").status == 200
    assert daemon.request("POST", f"{NS}/configmaps?dryRun=Some", configmap("x")).status == 400
    r = daemon.podctl("create", "configmap", "srv", "--from-literal", "a=1", "--dry-run=server")
    assert r.stdout == "configmap/srv created (server dry run)\n"
    assert daemon.get(f"{NS}/configmaps/srv").status == 404


def test_discovery_lists_configmaps(daemon):
    resources = {r["name"]: r for r in daemon.get("/api/v1").json()["resources"]}
    assert resources["configmaps"]["shortNames"] == ["cm"]
    assert set(resources["configmaps"]["verbs"]) >= {"create", "delete", "get", "list", "patch", "update", "watch"}
    assert "secrets" in resources


# --- bad input ------------------------------------------------------------------------

def test_bad_key_names(daemon):
    r = daemon.request("POST", f"{NS}/configmaps", configmap("bad", {"a b": "1", "..x": "2"}))
    assert r.status == 422, r.text
    body = r.json()
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('ConfigMap "bad" is invalid: [')
    assert "data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.'" in body["message"]
    assert "regex used for validation is '[-._a-zA-Z0-9]+'" in body["message"]
    assert "data[..x]: Invalid value: \"..x\": must not start with '..'" in body["message"]
    assert {c["field"] for c in body["details"]["causes"]} == {"data[a b]", "data[..x]"}
    r = daemon.request("POST", f"{NS}/configmaps", configmap("dup", {"k": "1"}, binaryData={"k": "AA=="}))
    assert r.status == 422 and "duplicate of key present in binaryData" in r.json()["message"]
    r = daemon.request("POST", f"{NS}/configmaps", configmap("Bad_Name"))
    assert r.status == 422 and "metadata.name" in r.json()["message"]
    assert daemon.get(f"{NS}/configmaps").json()["items"] == []


def test_too_large(daemon):
    r = daemon.request("POST", f"{NS}/configmaps", configmap("big", {"a": "x" * (1024 * 1024), "b": "y"}))
    assert r.status == 422, r.text
    assert r.json()["message"] == 'ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes'
    assert daemon.get(f"{NS}/configmaps/big").status == 404
    # Exactly 1 MiB is allowed.
    assert daemon.request("POST", f"{NS}/configmaps", configmap("max", {"a": "x" * (1024 * 1024)})).status == 201


def test_bad_base64_binary_data(daemon):
    r = daemon.request("POST", f"{NS}/configmaps", configmap("b64", binaryData={"k": "!!!!"}))
    assert r.status == 400
    assert r.json()["message"] == 'ConfigMap in version "v1" cannot be handled as a ConfigMap: illegal base64 data at input byte 0'


def test_unknown_field_and_wrong_kind(daemon):
    body = configmap("u")
    body["spec"] = {}
    r = daemon.request("POST", f"{NS}/configmaps", body)
    assert r.status == 400 and 'unknown field "spec"' in r.json()["message"]
    body = configmap("k")
    body["kind"] = "Secret"
    r = daemon.request("POST", f"{NS}/configmaps", body)
    assert r.status == 400


def test_immutable(daemon):
    create_cm(daemon, "frozen", {"a": "1"}, immutable=True)
    r = daemon.request("PATCH", f"{NS}/configmaps/frozen", json.dumps({"data": {"a": "2"}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 422, r.text
    assert r.json()["message"] == 'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    r = daemon.request("PATCH", f"{NS}/configmaps/frozen", json.dumps({"immutable": False}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 422 and "immutable: Forbidden: field is immutable when `immutable` is set" in r.json()["message"]
    # Labels may still change.
    r = daemon.request("PATCH", f"{NS}/configmaps/frozen", json.dumps({"metadata": {"labels": {"x": "y"}}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["data"] == {"a": "1"}


def test_survives_restart(daemon):
    create_cm(daemon, "kept", {"a": "1"})
    daemon.stop()
    daemon.start()
    got = daemon.get(f"{NS}/configmaps/kept")
    assert got.status == 200 and got.json()["data"] == {"a": "1"}
    stored = daemon.state_dir / "configdata" / "configmaps" / "default" / "kept.json"
    assert stored.exists()


# --- in pods --------------------------------------------------------------------------

def volume_pod(name, volumes, mounts, command="sleep 3600", **container):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": name}},
            "spec": {"volumes": volumes, "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", command],
                                                         "volumeMounts": mounts, **container}]}}


def test_volume_files_modes_and_update(podd):
    create_cm(podd, "conf", {"app.conf": "v1", "other": "o"})
    pod = volume_pod("vol", [{"name": "c", "configMap": {"name": "conf"}},
                             {"name": "items", "configMap": {"name": "conf", "items": [{"key": "other", "path": "sub/renamed", "mode": 0o600}], "defaultMode": 0o440}}],
                     [{"name": "c", "mountPath": "/etc/conf"}, {"name": "items", "mountPath": "/etc/items"}])
    r = podd.create(pod)
    assert r.status == 201, r.text
    assert r.json()["spec"]["volumes"][0]["configMap"]["defaultMode"] == 420
    podd.wait_running("vol")
    assert exec_out(podd, "vol", "cat", "/etc/conf/app.conf") == "v1"
    # kubelet's layout: files are links into ..data, itself a link to a timestamped directory.
    listing = exec_out(podd, "vol", "ls", "-la", "/etc/conf")
    assert "..data -> ..20" in listing and "app.conf -> ..data/app.conf" in listing
    assert exec_out(podd, "vol", "stat", "-L", "-c", "%a", "/etc/conf/app.conf").strip() == "644"
    assert exec_out(podd, "vol", "stat", "-L", "-c", "%a", "/etc/items/sub/renamed").strip() == "600"
    assert exec_out(podd, "vol", "cat", "/etc/items/sub/renamed") == "o"
    assert podd.podctl("exec", "vol", "--", "ls", "/etc/items/other", check=False).returncode != 0
    # Read-only, as kubelet mounts it.
    assert podd.podctl("exec", "vol", "--", "sh", "-c", "echo x > /etc/conf/new", check=False).returncode != 0

    # An update reaches the running container (a swap of ..data); a new key appears, a removed one goes.
    r = podd.request("PUT", f"{NS}/configmaps/conf", configmap("conf", {"app.conf": "v2", "added": "new"}))
    assert r.status == 200, r.text
    wait_for(lambda: exec_out(podd, "vol", "cat", "/etc/conf/app.conf") == "v2", timeout=20, what="the update in the volume")
    assert exec_out(podd, "vol", "cat", "/etc/conf/added") == "new"
    assert podd.podctl("exec", "vol", "--", "cat", "/etc/conf/other", check=False).returncode != 0


def test_missing_configmap_waits_then_starts(podd):
    pod = volume_pod("waits", [{"name": "c", "configMap": {"name": "later"}}], [{"name": "c", "mountPath": "/etc/later"}],
                     command="cat /etc/later/k; echo; sleep 3600")
    assert podd.create(pod).status == 201
    w = wait_for(lambda: waiting(podd, "waits", "app") if (waiting(podd, "waits", "app") or {}).get("reason") == "CreateContainerConfigError" else None,
                 timeout=20, what="CreateContainerConfigError")
    assert w["message"] == 'configmap "later" not found'
    assert podd.pod("waits")["status"]["phase"] == "Pending"
    create_cm(podd, "later", {"k": "here"})
    p = podd.wait_running("waits", timeout=20)
    assert p["status"]["containerStatuses"][0]["restartCount"] == 0
    wait_for(lambda: "here" in podd.log("waits", "app"), timeout=10, what="the container to read the file")


def test_missing_key_in_env(podd):
    create_cm(podd, "partial", {"a": "1"})
    pod = pod_manifest("envkey", [{"name": "app", "command": ["sh", "-c", "sleep 3600"],
                                    "env": [{"name": "B", "valueFrom": {"configMapKeyRef": {"name": "partial", "key": "b"}}}]}])
    assert podd.create(pod).status == 201
    w = wait_for(lambda: (x := waiting(podd, "envkey", "app")) and x.get("reason") == "CreateContainerConfigError" and x,
                 timeout=20, what="CreateContainerConfigError")
    assert w["message"] == "couldn't find key b in ConfigMap default/partial"
    r = podd.request("PATCH", f"{NS}/configmaps/partial", json.dumps({"data": {"b": "2"}}),
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200
    podd.wait_running("envkey", timeout=20)
    assert "B=2" in exec_out(podd, "envkey", "env")


def test_optional_missing_configmap(podd):
    pod = volume_pod("opt", [{"name": "c", "configMap": {"name": "nothere", "optional": True}}], [{"name": "c", "mountPath": "/etc/opt"}],
                     env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nothere", "key": "x", "optional": True}}}],
                     envFrom=[{"configMapRef": {"name": "nothere", "optional": True}}])
    assert podd.create(pod).status == 201
    podd.wait_running("opt")
    assert exec_out(podd, "opt", "ls", "/etc/opt").strip() == ""
    assert "X=" not in exec_out(podd, "opt", "env")


def test_env_envfrom_expansion_and_downward_api(podd):
    create_cm(podd, "envs", {"HOST": "db", "PORT": "5432", "1bad": "x", "also-bad": "y"})
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "envs", "labels": {"tier": "web"}, "annotations": {"note": "hello"}},
           "spec": {"containers": [{
               "name": "app", "image": "busybox", "command": ["sh", "-c", "echo $(POD_NS) $$(POD_NS); sleep 3600"],
               "envFrom": [{"configMapRef": {"name": "envs"}}, {"prefix": "CM_", "configMapRef": {"name": "envs"}}],
               "env": [
                   {"name": "URL", "value": "postgres://$(HOST):$(PORT)/$(UNDEFINED)$$(HOST)"},
                   {"name": "GREETING", "value": "hi-$(POD_NAME)"},
                   {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                   {"name": "POD_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                   {"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
                   {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
                   {"name": "NOTE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['note']"}}},
                   {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                   {"name": "CPUS", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
                   {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                   {"name": "CPU_M", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m"}}},
               ]}]}}
    r = podd.create(pod)
    assert r.status == 201, r.text
    p = podd.wait_running("envs")
    env = dict(line.split("=", 1) for line in exec_out(podd, "envs", "env").splitlines() if "=" in line)
    assert env["HOST"] == "db" and env["PORT"] == "5432" and env["CM_HOST"] == "db"
    # podd checks names with Kubernetes' relaxed rule (printable ASCII but '='), as at admission.
    assert env["1bad"] == "x" and env["also-bad"] == "y"
    assert env["URL"] == "postgres://db:5432/$(UNDEFINED)$(HOST)"
    # GREETING comes before POD_NAME: $(POD_NAME) is not yet defined and stays as written.
    assert env["GREETING"] == "hi-$(POD_NAME)"
    assert env["POD_NAME"] == "envs" and env["POD_NS"] == "default" and env["POD_UID"] == p["metadata"]["uid"]
    assert env["TIER"] == "web" and env["NOTE"] == "hello"
    assert env["NODE"] == socket.gethostname()
    assert int(env["CPUS"]) == os.cpu_count()
    assert int(env["CPU_M"]) == os.cpu_count() * 1000
    mem = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert int(env["MEM_MI"]) == -(-mem // (1024 * 1024))
    # $(VAR) in command is expanded from the environment, as kubelet does.
    # ($$ keeps it for the shell, which runs POD_NS as a command: nothing.)
    wait_for(lambda: "default\n" in podd.log("envs", "app"), timeout=10, what="the echo")


def test_downward_api_volume(podd):
    pod = volume_pod("dapi", [{"name": "info", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}},
        {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu", "divisor": "1m"}, "mode": 0o400},
    ]}}], [{"name": "info", "mountPath": "/etc/podinfo"}])
    r = podd.create(pod)
    assert r.status == 201, r.text
    podd.wait_running("dapi")
    assert exec_out(podd, "dapi", "cat", "/etc/podinfo/labels") == 'app="dapi"'
    assert exec_out(podd, "dapi", "cat", "/etc/podinfo/name") == "dapi"
    assert exec_out(podd, "dapi", "cat", "/etc/podinfo/cpu") == str(os.cpu_count() * 1000)
    assert exec_out(podd, "dapi", "stat", "-L", "-c", "%a", "/etc/podinfo/cpu").strip() == "400"


def test_downward_api_labels_follow(podd):
    pod = volume_pod("dlab", [{"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}],
                     [{"name": "info", "mountPath": "/etc/podinfo"}])
    assert podd.create(pod).status == 201
    podd.wait_running("dlab")
    r = podd.request("PATCH", f"{NS}/pods/dlab", json.dumps({"metadata": {"labels": {"tier": "web"}}}),
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r.text
    wait_for(lambda: exec_out(podd, "dlab", "cat", "/etc/podinfo/labels") == 'app="dlab"\ntier="web"', timeout=20,
             what="the new label in the file")


def test_static_pod_uses_a_configmap(podd):
    podd.manifests_dir.mkdir(exist_ok=True)
    (podd.manifests_dir / "static.yaml").write_text("""
apiVersion: v1
kind: Pod
metadata: {name: static-cm}
spec:
  # A static pod goes with its file, with its own grace period (no API delete can shorten
  # it): sh, PID 1 of its namespace, ignores SIGTERM, and the harness's cleanup waits 30 s.
  terminationGracePeriodSeconds: 0
  volumes: [{name: c, configMap: {name: static-cfg}}]
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'cat /c/k; echo; sleep 3600'], volumeMounts: [{name: c, mountPath: /c}]}
""")
    wait_for(lambda: (waiting(podd, "static-cm", "app") or {}).get("reason") == "CreateContainerConfigError", timeout=30,
             what="the static pod to wait for its ConfigMap")
    create_cm(podd, "static-cfg", {"k": "from-api"})
    podd.wait_running("static-cm", timeout=20)
    wait_for(lambda: "from-api" in podd.log("static-cm", "app"), timeout=10, what="the static pod to read it")


def test_projected_volume(podd):
    create_cm(podd, "pa", {"a": "from-cm"})
    r = podd.request("POST", f"{NS}/secrets", {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ps"},
                                              "stringData": {"s": "from-secret"}})
    assert r.status == 201, r.text
    pod = volume_pod("proj", [{"name": "all", "projected": {"defaultMode": 0o440, "sources": [
        {"configMap": {"name": "pa"}},
        {"secret": {"name": "ps", "items": [{"key": "s", "path": "nested/s"}]}},
        {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
    ]}}], [{"name": "all", "mountPath": "/p"}])
    r = podd.create(pod)
    assert r.status == 201, r.text
    podd.wait_running("proj")
    assert exec_out(podd, "proj", "cat", "/p/a") == "from-cm"
    assert exec_out(podd, "proj", "cat", "/p/nested/s") == "from-secret"
    assert exec_out(podd, "proj", "cat", "/p/ns") == "default"
    assert exec_out(podd, "proj", "stat", "-L", "-c", "%a", "/p/a").strip() == "440"


def test_service_account_token_projection_refused(podd):
    pod = volume_pod("sat", [{"name": "t", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
                     [{"name": "t", "mountPath": "/t"}])
    r = podd.create(pod)
    assert r.status == 422
    assert "spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: not supported by podd" in r.json()["message"]


def test_bad_pod_references(podd):
    pod = volume_pod("badref", [{"name": "c", "configMap": {"name": "", "items": [{"key": "a", "path": "../x", "mode": 0o1777}]}}],
                     [{"name": "c", "mountPath": "/c", "subPath": "../up"}],
                     env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}])
    r = podd.create(pod)
    assert r.status == 422, r.text
    msg = r.json()["message"]
    assert "spec.volumes[0].configMap.name: Required value" in msg
    assert "spec.volumes[0].configMap.items[0].path: Invalid value: \"../x\": must not contain '..'" in msg
    assert "spec.volumes[0].configMap.items[0].mode: Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive" in msg
    assert "spec.containers[0].volumeMounts[0].subPath: Invalid value: \"../up\": must not contain '..'" in msg
    assert "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"spec.bogus\"" in msg


def test_subpath_and_subpathexpr(podd):
    create_cm(podd, "sp", {"app.conf": "one"})
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sp"},
           "spec": {"volumes": [{"name": "c", "configMap": {"name": "sp"}}, {"name": "scratch", "emptyDir": {}}],
                    "initContainers": [{"name": "prep", "image": "busybox", "command": ["sh", "-c", "mkdir -p /s/sp && echo mine > /s/sp/f"],
                                        "volumeMounts": [{"name": "scratch", "mountPath": "/s"}]}],
                    "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 3600"],
                                    "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                                    "volumeMounts": [{"name": "c", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
                                                     {"name": "scratch", "mountPath": "/mine", "subPathExpr": "$(POD)"}]}]}}
    r = podd.create(pod)
    assert r.status == 201, r.text
    podd.wait_running("sp")
    assert exec_out(podd, "sp", "cat", "/etc/app.conf") == "one"
    assert exec_out(podd, "sp", "cat", "/mine/f") == "mine\n"
    # A subPath mount does not follow updates, as in Kubernetes.
    podd.request("PUT", f"{NS}/configmaps/sp", configmap("sp", {"app.conf": "two"}))
    time.sleep(0.5)
    assert exec_out(podd, "sp", "cat", "/etc/app.conf") == "one"


def test_subpath_symlink_escape_refused(podd, tmp_path):
    secret_file = tmp_path / "outside"
    secret_file.write_text("host secret")
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "esc"},
           "spec": {"restartPolicy": "Never",
                    "volumes": [{"name": "scratch", "emptyDir": {}}],
                    "initContainers": [{"name": "plant", "image": "busybox",
                                        "command": ["sh", "-c", f"ln -s {tmp_path} /s/abs; ln -s ../../../../../../../../ /s/up"],
                                        "volumeMounts": [{"name": "scratch", "mountPath": "/s"}]}],
                    "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", "cat /x/outside; sleep 3600"],
                                    "volumeMounts": [{"name": "scratch", "mountPath": "/x", "subPath": "abs"}]}]}}
    assert podd.create(pod).status == 201, "created"

    def failed():
        p = podd.pod("esc")
        for s in p["status"].get("containerStatuses", []):
            t = s["state"].get("terminated") or s.get("lastState", {}).get("terminated")
            if t:
                return t
        return None
    t = wait_for(failed, timeout=30, what="the escaping subPath to be refused")
    assert t["exitCode"] != 0
    assert "host secret" not in podd.log("esc", "app")
    events = json.dumps(podd.get(f"{NS}/events?fieldSelector=involvedObject.name%3Desc").json())
    assert "leads outside the volume" in events


def test_exec_env_after_podd_restart(podd):
    create_cm(podd, "readopt", {"v": "kept"})
    pod = pod_manifest("readopt", [{"name": "app", "command": ["sh", "-c", "sleep 3600"],
                                    "env": [{"name": "V", "valueFrom": {"configMapKeyRef": {"name": "readopt", "key": "v"}}}],
                                    "volumeMounts": [{"name": "c", "mountPath": "/c"}]}],
                       volumes=[{"name": "c", "configMap": {"name": "readopt"}}])
    assert podd.create(pod).status == 201
    podd.wait_running("readopt")
    podd.stop()
    podd.start()
    podd.wait_running("readopt")
    # The pod was re-adopted, not restarted; an exec still gets the ConfigMap's value.
    assert podd.pod("readopt")["status"]["containerStatuses"][0]["restartCount"] == 0
    assert "V=kept" in exec_out(podd, "readopt", "env")
    # And the volume of a re-adopted pod still follows updates.
    assert podd.request("PUT", f"{NS}/configmaps/readopt", configmap("readopt", {"v": "new"})).status == 200
    wait_for(lambda: exec_out(podd, "readopt", "cat", "/c/v") == "new", timeout=20, what="the update after a restart")


def run_with_key_changed_while_waiting(podd, cm, pod):
    """ConfigMap CM with k=old; POD created, whose first init container sleeps 2 s; k set
    to new 0.5 s later, while the containers after it wait (set up ahead); then POD running."""
    create_cm(podd, cm, {"k": "old"})
    r = podd.create(pod)
    assert r.status == 201, r.text
    time.sleep(0.5)
    r = podd.request("PUT", f"{NS}/configmaps/{cm}", configmap(cm, {"k": "new"}))
    assert r.status == 200, r.text
    podd.wait_running(pod["metadata"]["name"], timeout=30)


def test_a_chained_init_container_reads_the_env_changed_while_the_one_before_ran(podd):
    """The second init container is set up ahead to start the moment the first succeeds; a
    ConfigMap its environment comes from changed meanwhile: it starts with the new value,
    as kubelet reads the environment at the start."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "chain-env"},
           "spec": {"terminationGracePeriodSeconds": 0,
                    "initContainers": [{"name": "wait", "image": "busybox", "command": ["sleep", "2"]},
                                       {"name": "read", "image": "busybox", "command": ["sh", "-c", "echo K=$K"],
                                        "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "chain-cfg", "key": "k"}}}]}],
                    "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}]}}
    run_with_key_changed_while_waiting(podd, "chain-cfg", pod)
    assert podd.log("chain-env", "read") == "K=new\n"


def test_env_is_read_when_the_container_starts_even_when_it_was_set_up_ahead(podd):
    """The app container is set up (and held) while the init container runs; a ConfigMap
    changed meanwhile gives it the new value, as kubelet reads the environment at the start."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ahead-env"},
           "spec": {"terminationGracePeriodSeconds": 0,
                    "initContainers": [{"name": "wait", "image": "busybox", "command": ["sleep", "2"]}],
                    "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", "echo K=$K; sleep 3600"],
                                    "env": [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "ahead-cfg", "key": "k"}}}]}]}}
    run_with_key_changed_while_waiting(podd, "ahead-cfg", pod)
    assert wait_for(lambda: podd.log("ahead-env", "app"), timeout=10) == "K=new\n"
