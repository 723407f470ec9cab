"""Secrets: the API (base64 data, stringData, types, immutability, Kubernetes' errors),
storage (0600, never in logs or events), their use by pods, and podctl's create, get,
describe, delete and apply of ConfigMaps and Secrets."""
import base64
import json
import os
import stat
import subprocess

import pytest

from harness import pod_manifest, wait_for

NS = "/api/v1/namespaces/default"
SECRET_VALUE = "s3cr3t-value-that-must-not-leak"


def secret(name, data=None, string_data=None, type_=None, **fields):
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, **fields}
    if data is not None:
        body["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    if string_data is not None:
        body["stringData"] = string_data
    if type_:
        body["type"] = type_
    return body


def exec_out(d, pod, *cmd):
    return d.podctl("exec", pod, "--", *cmd).stdout


def test_create_get_string_data_and_delete(daemon):
    r = daemon.request("POST", f"{NS}/secrets", secret("db", data={"user": "admin", "password": "old"}, string_data={"password": "new"}))
    assert r.status == 201, r.text
    s = r.json()
    assert s["type"] == "Opaque" and "stringData" not in s
    assert {k: base64.b64decode(v).decode() for k, v in s["data"].items()} == {"user": "admin", "password": "new"}
    assert daemon.get(f"{NS}/secrets/db").json() == s
    assert [i["metadata"]["name"] for i in daemon.get("/api/v1/secrets").json()["items"]] == ["db"]
    assert daemon.get(f"{NS}/secrets").json()["kind"] == "SecretList"
    r = daemon.request("PATCH", f"{NS}/secrets/db", json.dumps({"stringData": {"extra": "x"}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200, r.text
    assert set(r.json()["data"]) == {"user", "password", "extra"}
    r = daemon.request("DELETE", f"{NS}/secrets/db")
    assert r.status == 200 and r.json()["details"]["kind"] == "secrets"
    assert daemon.get(f"{NS}/secrets/db").status == 404


def test_bad_base64(daemon):
    body = secret("b64")
    body["data"] = {"k": "not base64!"}
    r = daemon.request("POST", f"{NS}/secrets", body)
    assert r.status == 400
    assert r.json()["reason"] == "BadRequest"
    assert r.json()["message"] == 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3'
    body["data"] = {"k": "YWJj"}
    assert daemon.request("POST", f"{NS}/secrets", body).status == 201


def test_types(daemon):
    r = daemon.request("POST", f"{NS}/secrets", secret("tls", data={"tls.crt": "c"}, type_="kubernetes.io/tls"))
    assert r.status == 422
    assert r.json()["message"] == 'Secret "tls" is invalid: data[tls.key]: Required value'
    r = daemon.request("POST", f"{NS}/secrets", secret("dc", data={".dockerconfigjson": "{not json"}, type_="kubernetes.io/dockerconfigjson"))
    assert r.status == 422 and "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\"" in r.json()["message"]
    assert "{not json" not in r.text
    r = daemon.request("POST", f"{NS}/secrets", secret("dc", data={}, type_="kubernetes.io/dockerconfigjson"))
    assert r.status == 422 and "data[.dockerconfigjson]: Required value" in r.json()["message"]
    ok = daemon.request("POST", f"{NS}/secrets", secret("dc", data={".dockerconfigjson": '{"auths": {}}'}, type_="kubernetes.io/dockerconfigjson"))
    assert ok.status == 201
    r = daemon.request("POST", f"{NS}/secrets", secret("ba", data={}, type_="kubernetes.io/basic-auth"))
    assert r.status == 422 and "data[username]: Required value" in r.json()["message"]
    r = daemon.request("POST", f"{NS}/secrets", secret("sa", type_="kubernetes.io/service-account-token"))
    assert r.status == 422 and "metadata.annotations[kubernetes.io/service-account.name]: Required value" in r.json()["message"]
    # The type cannot change.
    s = ok.json()
    s["type"] = "Opaque"
    r = daemon.request("PUT", f"{NS}/secrets/dc", s)
    assert r.status == 422 and "type: Invalid value: \"Opaque\": field is immutable" in r.json()["message"]


def test_immutable_and_too_large(daemon):
    assert daemon.request("POST", f"{NS}/secrets", secret("frozen", data={"a": "1"}, immutable=True)).status == 201
    r = daemon.request("PATCH", f"{NS}/secrets/frozen", json.dumps({"stringData": {"a": "2"}}),
                       headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 422
    assert r.json()["message"] == 'Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    r = daemon.request("POST", f"{NS}/secrets", secret("big", string_data={"a": "x" * (1024 * 1024 + 1)}))
    assert r.status == 422 and r.json()["message"] == 'Secret "big" is invalid: data: Too long: must have at most 1048576 bytes'


def test_stored_0600_and_never_logged(podd):
    r = podd.request("POST", f"{NS}/secrets", secret("hidden", string_data={"token": SECRET_VALUE}))
    assert r.status == 201
    stored = podd.state_dir / "configdata" / "secrets" / "default" / "hidden.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    # A pod that uses it, including a missing key (an error message) and an update.
    pod = pod_manifest("uses", [{"name": "app", "command": ["sh", "-c", "sleep 3600"],
                                 "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "hidden", "key": "token"}}},
                                         {"name": "OTHER", "valueFrom": {"secretKeyRef": {"name": "hidden", "key": "other"}}}],
                                 "volumeMounts": [{"name": "s", "mountPath": "/secret"}]}],
                       volumes=[{"name": "s", "secret": {"secretName": "hidden", "defaultMode": 0o400}}])
    assert podd.create(pod).status == 201
    w = wait_for(lambda: next((s["state"]["waiting"] for s in podd.pod("uses")["status"].get("containerStatuses", [])
                               if s["state"].get("waiting", {}).get("reason") == "CreateContainerConfigError"), None),
                 timeout=20, what="CreateContainerConfigError")
    assert w["message"] == "couldn't find key other in Secret default/hidden"
    r = podd.request("PATCH", f"{NS}/secrets/hidden", json.dumps({"stringData": {"other": SECRET_VALUE + "-2"}}),
                     headers={"Content-Type": "application/merge-patch+json"})
    assert r.status == 200
    podd.wait_running("uses", timeout=20)
    env = exec_out(podd, "uses", "env")
    assert f"TOKEN={SECRET_VALUE}" in env
    assert exec_out(podd, "uses", "cat", "/secret/token") == SECRET_VALUE
    assert exec_out(podd, "uses", "stat", "-L", "-c", "%a", "/secret/token").strip() == "400"
    # Nothing of the value in podd's log, its events or its error answers.
    events = podd.get(f"{NS}/events").text
    assert SECRET_VALUE not in events
    assert SECRET_VALUE not in podd.log_text()
    assert base64.b64encode(SECRET_VALUE.encode()).decode() not in podd.log_text()


def test_secret_volume_update(podd):
    assert podd.request("POST", f"{NS}/secrets", secret("rot", string_data={"k": "one"})).status == 201
    pod = pod_manifest("rot", [{"name": "app", "command": ["sh", "-c", "sleep 3600"],
                                "volumeMounts": [{"name": "s", "mountPath": "/s"}]}],
                       volumes=[{"name": "s", "secret": {"secretName": "rot"}}])
    assert podd.create(pod).status == 201
    podd.wait_running("rot")
    assert exec_out(podd, "rot", "cat", "/s/k") == "one"
    podd.request("PUT", f"{NS}/secrets/rot", secret("rot", string_data={"k": "two"}))
    wait_for(lambda: exec_out(podd, "rot", "cat", "/s/k") == "two", timeout=20, what="the rotated secret")


def test_missing_secret_message(podd):
    pod = pod_manifest("nosec", [{"name": "app", "command": ["sh", "-c", "sleep 3600"],
                                  "envFrom": [{"secretRef": {"name": "absent"}}]}])
    assert podd.create(pod).status == 201
    w = wait_for(lambda: next((s["state"]["waiting"] for s in podd.pod("nosec")["status"].get("containerStatuses", [])
                               if s["state"].get("waiting", {}).get("reason") == "CreateContainerConfigError"), None),
                 timeout=20, what="CreateContainerConfigError")
    assert w["message"] == 'secret "absent" not found'


# --- podctl ---------------------------------------------------------------------------

def test_podctl_create_get_describe_delete(daemon, tmp_path):
    conf = tmp_path / "app.conf"
    conf.write_text("listen 80\n")
    envfile = tmp_path / "app.env"
    envfile.write_text("# comment\nMODE=fast\n\nLEVEL=3\n")
    d = tmp_path / "dir"
    d.mkdir()
    (d / "one").write_text("1")
    (d / "two").write_text("2")
    (d / "bad name").write_text("skipped")

    r = daemon.podctl("create", "configmap", "app", "--from-literal", "k=v", "--from-file", str(conf),
                      "--from-file", f"renamed={conf}", "--from-env-file", str(envfile), "--from-file", str(d))
    assert r.stdout == "configmap/app created\n"
    cm = daemon.get(f"{NS}/configmaps/app").json()
    assert cm["data"] == {"k": "v", "app.conf": "listen 80\n", "renamed": "listen 80\n", "MODE": "fast", "LEVEL": "3",
                          "one": "1", "two": "2"}

    out = daemon.podctl("create", "configmap", "dry", "--from-literal", "a=1", "--dry-run=client", "-o", "yaml").stdout
    assert out == "apiVersion: v1\ndata:\n  a: \"1\"\nkind: ConfigMap\nmetadata:\n  creationTimestamp: null\n  name: dry\n"
    assert daemon.get(f"{NS}/configmaps/dry").status == 404

    r = daemon.podctl("create", "cm", "dup", "--from-literal", "a=1", "--from-literal", "a=2", check=False)
    assert r.returncode == 1
    assert r.stderr == 'error: cannot add key a, another key by that name already exists in Data for ConfigMap "dup"\n'

    assert daemon.podctl("create", "secret", "generic", "db", "--from-literal", f"password={SECRET_VALUE}").stdout == "secret/db created\n"
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    cert.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key.write_text("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    assert daemon.podctl("create", "secret", "tls", "web", "--cert", str(cert), "--key", str(key)).stdout == "secret/web created\n"
    web = daemon.get(f"{NS}/secrets/web").json()
    assert web["type"] == "kubernetes.io/tls" and set(web["data"]) == {"tls.crt", "tls.key"}
    assert daemon.podctl("create", "secret", "docker-registry", "pull", "--docker-server", "registry.example:5000",
                         "--docker-username", "u", "--docker-password", "p", "--docker-email", "u@example").stdout == "secret/pull created\n"
    pull = daemon.get(f"{NS}/secrets/pull").json()
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(pull["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example:5000"] == {"username": "u", "password": "p", "email": "u@example",
                                                        "auth": base64.b64encode(b"u:p").decode()}

    table = daemon.podctl("get", "configmaps").stdout.splitlines()
    assert table[0].split() == ["NAME", "DATA", "AGE"]
    assert table[1].split()[:2] == ["app", "7"]
    table = daemon.podctl("get", "secrets").stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    rows = {line.split()[0]: line.split() for line in table[1:]}
    assert rows["db"][1:3] == ["Opaque", "1"] and rows["web"][1:3] == ["kubernetes.io/tls", "2"]
    assert daemon.podctl("get", "cm", "app", "-o", "name").stdout == "configmap/app\n"
    assert json.loads(daemon.podctl("get", "secret/db", "-o", "json").stdout)["kind"] == "Secret"

    described = daemon.podctl("describe", "secret", "db").stdout
    assert "Type:  Opaque" in described and f"password:  {len(SECRET_VALUE)} bytes" in described
    assert SECRET_VALUE not in described
    described = daemon.podctl("describe", "configmap", "app").stdout
    assert "Name:         app" in described and "k:\n----\nv\n" in described

    assert daemon.podctl("delete", "configmap", "app").stdout == 'configmap "app" deleted\n'
    assert daemon.podctl("delete", "secret/db", "secret/web").stdout == 'secret "db" deleted\nsecret "web" deleted\n'
    r = daemon.podctl("get", "cm", "app", check=False)
    assert r.returncode == 1 and r.stderr == 'Error from server (NotFound): configmaps "app" not found\n'


def test_podctl_apply_multi_document_any_order(podd, tmp_path):
    manifest = tmp_path / "all.yaml"
    manifest.write_text("""
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'cat /etc/web/greeting; echo " $PASSWORD"; sleep 3600']
    env:
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: web-secret, key: password}}}
    volumeMounts: [{name: cfg, mountPath: /etc/web}]
  volumes:
  - {name: cfg, configMap: {name: web-config}}
---
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
stringData: {password: hunter2}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: hello}
""")
    out = podd.podctl("apply", "-f", str(manifest)).stdout.splitlines()
    assert out == ["secret/web-secret created", "configmap/web-config created", "pod/web created"]
    podd.wait_running("web")
    wait_for(lambda: "hello hunter2" in podd.log("web", "app"), timeout=15, what="the pod to read both")
    # The restart count stays 0: the objects existed before the pod's first start.
    assert podd.pod("web")["status"]["containerStatuses"][0]["restartCount"] == 0
    out = podd.podctl("apply", "-f", str(manifest)).stdout.splitlines()
    assert out == ["secret/web-secret unchanged", "configmap/web-config unchanged", "pod/web unchanged"]
    manifest.write_text(manifest.read_text().replace("greeting: hello", "greeting: bonjour"))
    out = podd.podctl("apply", "-f", str(manifest)).stdout.splitlines()
    assert out[1] == "configmap/web-config configured"
    wait_for(lambda: exec_out(podd, "web", "cat", "/etc/web/greeting") == "bonjour", timeout=20, what="the update")
    out = podd.podctl("delete", "-f", str(manifest), "--grace-period", "0").stdout.splitlines()
    assert 'configmap "web-config" deleted' in out and 'secret "web-secret" deleted' in out and 'pod "web" deleted' in out
