"""Numbers and strings podd cannot carry are refused at the door (issue 9, items 1 and 12).

A grace period of Int64.max used to kill podd when the pod was deleted (and again after every
restart); a NUL byte in a path was silently cut (`/tmp\\0/etc` mounted /tmp). Each is now a
422 naming the field, with nothing created, and a huge grace on DELETE never kills podd.
"""
import json

import pytest

from harness import pod_manifest, wait_for

# A container that ends at once on SIGTERM, so that a deletion completes whatever its grace.
QUICK_TO_STOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done"


def refused(podd, manifest, field):
    """POSTs `manifest`: 422 Invalid with a cause at `field`, and no pod, files or events."""
    r = podd.create(manifest)
    assert r.status == 422, r.text
    body = r.json()
    assert body["kind"] == "Status" and body["reason"] == "Invalid"
    fields = [c.get("field") for c in body["details"]["causes"]]
    assert field in fields, body
    assert field in body["message"]
    assert podd.pod(manifest["metadata"]["name"]) is None
    assert podd.get("/api/v1/pods").json()["items"] == []
    pods_dir = podd.state_dir / "pods"
    assert not pods_dir.exists() or list(pods_dir.iterdir()) == []
    return body


@pytest.mark.parametrize("grace", [9223372036854775807, 10**12, 2147483648])
def test_grace_period_beyond_int32_is_refused(podd, grace):
    m = pod_manifest("bounds", [("app", "sleep 60")], terminationGracePeriodSeconds=grace)
    body = refused(podd, m, "spec.terminationGracePeriodSeconds")
    assert "must be between 0 and 2147483647, inclusive" in body["message"]
    assert podd.get("/healthz").status == 200


def test_grace_period_bound_is_accepted(podd):
    m = pod_manifest("bounds", [("app", QUICK_TO_STOP)], terminationGracePeriodSeconds=2147483647)
    assert podd.create(m).status == 201
    podd.wait_running("bounds")
    r = podd.request("DELETE", "/api/v1/namespaces/default/pods/bounds")
    assert r.status == 200
    # The deadline is 68 years away, a time podd can write and read back.
    assert r.json()["metadata"]["deletionTimestamp"] < "2100"
    podd.wait_gone("bounds")
    assert podd.get("/healthz").status == 200


@pytest.mark.parametrize("where,field", [
    ("hostPath", "spec.volumes[0].hostPath.path"),
    ("mountPath", "spec.containers[0].volumeMounts[0].mountPath"),
    ("workingDir", "spec.containers[0].workingDir"),
    ("command", "spec.containers[0].command[1]"),
    ("args", "spec.containers[0].args[0]"),
    ("env", "spec.containers[0].env[0].value"),
])
def test_nul_bytes_are_refused(podd, tmp_path, where, field):
    host = tmp_path / "host"
    host.mkdir()
    container = {"name": "app", "image": "busybox", "command": ["sh", "-c", "sleep 60"],
                 "volumeMounts": [{"name": "h", "mountPath": "/mnt"}]}
    volume = {"name": "h", "hostPath": {"path": str(host)}}
    if where == "hostPath":
        volume["hostPath"]["path"] = f"{host}\0/etc"
    elif where == "mountPath":
        container["volumeMounts"][0]["mountPath"] = "/mnt\0/etc"
    elif where == "workingDir":
        container["workingDir"] = "/tmp\0/etc"
    elif where == "command":
        container["command"] = ["sh", "-c\0x", "sleep 60"]
    elif where == "args":
        container["args"] = ["a\0b"]
    elif where == "env":
        container["env"] = [{"name": "X", "value": "a\0b"}]
    m = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nul"},
         "spec": {"volumes": [volume], "containers": [container]}}
    body = refused(podd, m, field)
    assert "must not contain a NUL byte" in body["message"]
    # The NUL reached podd: the JSON carried it as \u0000.
    assert "\\u0000" in json.dumps(m)


def test_nul_byte_in_a_yaml_manifest_is_refused_through_podctl(podd, tmp_path):
    f = tmp_path / "nul.yaml"
    f.write_text('apiVersion: v1\nkind: Pod\nmetadata: {name: nul}\n'
                 'spec:\n  containers:\n  - {name: app, image: busybox, workingDir: "/tmp\\0/etc", command: [sleep, "60"]}\n')
    r = podd.podctl("apply", "-f", str(f), check=False)
    assert r.returncode == 1
    assert "spec.containers[0].workingDir" in r.stderr and "NUL" in r.stderr
    assert podd.pod("nul") is None


@pytest.mark.parametrize("how", ["query", "body"])
def test_delete_with_a_huge_grace_never_kills_podd(podd, how):
    """As the API server, any int64 grace is taken; podd saturates it at 2147483647 s, so the
    deletion deadline stays a time it can write: podd lives, the pod reads back and goes, and
    podd still serves after a restart."""
    m = pod_manifest("huge", [("app", QUICK_TO_STOP)])
    assert podd.create(m).status == 201
    podd.wait_running("huge")
    huge = 9223372036854775807
    if how == "query":
        r = podd.request("DELETE", f"/api/v1/namespaces/default/pods/huge?gracePeriodSeconds={huge}")
    else:
        r = podd.request("DELETE", "/api/v1/namespaces/default/pods/huge",
                         {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": huge})
    assert r.status == 200, r.text
    assert podd.proc.poll() is None, podd.log_text()[-2000:]
    assert podd.get("/healthz").status == 200
    assert r.json()["metadata"]["deletionGracePeriodSeconds"] == 2147483647
    stamp = r.json()["metadata"]["deletionTimestamp"]
    assert stamp[:4].isdigit() and stamp <= "9999-12-31T23:59:59Z"
    podd.wait_gone("huge")
    podd.stop()
    podd.start()
    assert podd.get("/healthz").status == 200
    wait_for(lambda: podd.get("/api/v1/pods").status == 200, what="the pod list after a restart")
    assert podd.proc.poll() is None


def test_delete_grace_values_as_the_api_server_reads_them(podd):
    """A DELETE's gracePeriodSeconds as k8s.io/apiserver takes it: what is not an int64 is 400
    BadRequest (nothing deleted); a negative value is 1 s (rest.BeforeDelete); a value beyond
    podd's bound is the bound (2147483647 s); podd lives through all of them."""
    path = "/api/v1/namespaces/default/pods/g"
    assert podd.create(pod_manifest("g", [("app", QUICK_TO_STOP)])).status == 201
    podd.wait_running("g")
    for query in ("abc", "1.5", "99999999999999999999", "-9223372036854775809"):
        r = podd.request("DELETE", f"{path}?gracePeriodSeconds={query}")
        assert r.status == 400 and r.json()["reason"] == "BadRequest" and "gracePeriodSeconds" in r.json()["message"], (query, r.text)
    for body in ({"gracePeriodSeconds": "abc"}, {"gracePeriodSeconds": 1e30}, {"gracePeriodSeconds": 1.5}):
        r = podd.request("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1", **body})
        assert r.status == 400 and "gracePeriodSeconds" in r.json()["message"], (body, r.text)
    assert podd.pod("g")["metadata"].get("deletionTimestamp") is None
    # Each deletion answers the pod with the grace taken.
    for i, (given, taken) in enumerate((("-5", 1), ("2147483648", 2147483647), ("-9223372036854775808", 1),
                                        ("9223372036854775807", 2147483647))):
        name = "g" if i == 0 else f"g{i}"
        if i:
            assert podd.create(pod_manifest(name, [("app", QUICK_TO_STOP)])).status == 201
            podd.wait_running(name)
        r = podd.request("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds={given}")
        assert r.status == 200, (given, r.text)
        assert r.json()["metadata"]["deletionGracePeriodSeconds"] == taken, (given, r.json()["metadata"])
        assert podd.proc.poll() is None, podd.log_text()[-2000:]
        podd.wait_gone(name)
    assert podd.get("/healthz").status == 200
