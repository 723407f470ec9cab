"""Bad input gets a clear error, changes nothing, and podd keeps serving."""
import os
import pwd
import socket
import subprocess

import pytest

from harness import pod_manifest


def assert_nothing_created(podd, name="bad"):
    assert podd.pod(name) is None
    assert podd.get("/api/v1/pods").json()["items"] == []
    assert podd.get("/healthz").status == 200
    uids = list((podd.state_dir / "pods").glob("*")) if (podd.state_dir / "pods").exists() else []
    assert uids == []


def status_of(r):
    body = r.json()
    assert body["kind"] == "Status" and body["status"] == "Failure"
    return body


def test_invalid_yaml(podd, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: bad\nspec: [\n")
    r = podd.podctl("apply", "-f", str(f), check=False)
    assert r.returncode == 1 and r.stderr.strip()
    assert len(r.stderr.strip().splitlines()) == 1
    r = podd.request("POST", "/api/v1/namespaces/default/pods", "{not json", {"Content-Type": "application/json"})
    assert r.status == 400 and status_of(r)["reason"] == "BadRequest"
    assert_nothing_created(podd)


def test_unknown_field_named_with_its_path(podd):
    # Refused with fieldValidation=Strict (what kubectl and podctl apply send); the API
    # server's default, Warn, is tested in test_table.py.
    m = pod_manifest("bad", [("a", "true")])
    m["spec"]["containers"][0]["colour"] = "blue"
    r = podd.request("POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", m)
    assert r.status == 400
    assert "spec.containers[0].colour" in status_of(r)["message"]
    assert_nothing_created(podd)


def test_unsupported_field_is_refused_not_ignored(podd):
    m = pod_manifest("bad", [("a", "true")])
    m["spec"]["containers"][0]["volumeDevices"] = [{"name": "disk", "devicePath": "/dev/xvda"}]
    r = podd.create(m)
    assert r.status in (400, 422)
    assert "spec.containers[0].volumeDevices" in status_of(r)["message"]
    assert_nothing_created(podd)


def test_a_pod_needs_a_name_or_a_name_to_generate_it_from(podd):
    # An empty generateName is no name at all: 422, not a pod with a random name.
    for metadata in ({}, {"name": ""}, {"generateName": ""}, {"name": "", "generateName": ""}):
        m = {**pod_manifest("bad", [("a", "true")]), "metadata": metadata}
        r = podd.create(m)
        assert r.status == 422, (metadata, r.body)
        assert "metadata.name: Required value: name or generateName is required" in status_of(r)["message"], r.body
    r = podd.create({**pod_manifest("bad", [("a", "true")]), "metadata": {"generateName": "Bad_"}})
    assert r.status == 422 and "metadata.generateName" in status_of(r)["message"], r.body
    assert_nothing_created(podd)
    # generateName: the prefix and five of the API server's characters, kept in metadata.
    made = set()
    for _ in range(3):
        r = podd.create({**pod_manifest("bad", [("a", "sleep 3600")]), "metadata": {"generateName": "web-"}})
        assert r.status == 201, r.body
        meta = r.json()["metadata"]
        assert meta["generateName"] == "web-" and len(meta["name"]) == 9 and meta["name"].startswith("web-"), meta
        assert set(meta["name"][4:]) <= set("bcdfghjklmnpqrstvwxz2456789"), meta
        made.add(meta["name"])
        assert podd.pod(meta["name"])["metadata"]["generateName"] == "web-"
    assert len(made) == 3
    # A long prefix is cut so that the name stays a 63-character label.
    r = podd.create({**pod_manifest("bad", [("a", "sleep 3600")]), "metadata": {"generateName": "x" * 100}})
    assert r.status == 201 and r.json()["metadata"]["name"].startswith("x" * 58) and len(r.json()["metadata"]["name"]) == 63


def test_duplicate_container_names(podd):
    r = podd.create(pod_manifest("bad", [("a", "true"), ("a", "true")]))
    assert r.status == 422
    body = status_of(r)
    assert body["reason"] == "Invalid"
    assert any(c.get("field") == "spec.containers[1].name" and c["reason"] == "FieldValueDuplicate"
               for c in body["details"]["causes"])
    assert_nothing_created(podd)


def test_mount_of_undefined_volume(podd):
    m = pod_manifest("bad", [{"name": "a", "command": ["true"], "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}])
    r = podd.create(m)
    assert r.status == 422
    assert any(c.get("field") == "spec.containers[0].volumeMounts[0].name" for c in status_of(r)["details"]["causes"])
    assert_nothing_created(podd)


def test_relative_mount_path(podd):
    m = pod_manifest("bad", [{"name": "a", "command": ["true"], "volumeMounts": [{"name": "v", "mountPath": "rel/path"}]}],
                     volumes=[{"name": "v", "emptyDir": {}}])
    r = podd.create(m)
    assert r.status == 422
    assert any(c.get("field") == "spec.containers[0].volumeMounts[0].mountPath" for c in status_of(r)["details"]["causes"])
    assert_nothing_created(podd)


def test_bad_name(podd):
    r = podd.create(pod_manifest("Bad_Name", [("a", "true")]))
    assert r.status == 422
    assert "metadata.name" in status_of(r)["message"]
    assert_nothing_created(podd, "Bad_Name")


def test_missing_image_is_accepted_and_waits_as_kubelet_shows_it(podd):
    """As the Kubernetes API: a pod is accepted whatever its image's state; its container
    then waits with the pull's failure (issue 10)."""
    m = pod_manifest("bad", [{"name": "a", "image": "nginx:1.25", "command": ["true"]}])
    assert podd.create(m).status == 201
    from harness import wait_for
    waiting = wait_for(lambda: podd.pod("bad")["status"]["containerStatuses"][0]["state"].get("waiting", {})
                       if podd.pod("bad")["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason")
                       in ("ErrImagePull", "ImagePullBackOff") else None, timeout=30, what="ErrImagePull")
    assert waiting["message"]


def test_post_existing_pod_conflicts(podd):
    m = pod_manifest("dup", [("a", "sleep 3600")])
    assert podd.create(m).status == 201
    uid = podd.pod("dup")["metadata"]["uid"]
    r = podd.create(m)
    assert r.status == 409 and status_of(r)["reason"] == "AlreadyExists"
    assert podd.pod("dup")["metadata"]["uid"] == uid


def test_get_and_delete_missing_pod(podd):
    for method in ("GET", "DELETE"):
        r = podd.request(method, "/api/v1/namespaces/default/pods/ghost")
        assert r.status == 404 and status_of(r)["reason"] == "NotFound"
        assert 'pods "ghost" not found' in status_of(r)["message"]
    r = podd.podctl("delete", "pod", "ghost", check=False)
    assert r.returncode == 1 and "not found" in r.stderr


def test_request_body_over_limit(podd):
    big = b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"bad","annotations":{"x":"' + b"a" * (4 << 20) + b'"}}}'
    r = podd.request("POST", "/api/v1/namespaces/default/pods", big, {"Content-Type": "application/json"})
    assert r.status == 413
    assert_nothing_created(podd)


def test_path_traversal_refused(podd):
    r = podd.request("GET", "/api/v1/namespaces/default/pods/..%2F..%2Fetc")
    assert r.status in (400, 404)
    assert podd.get("/healthz").status == 200


def test_caller_not_root_nor_in_group_is_refused(podd):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs the user nobody")
    os.chmod(podd.root, 0o755)
    os.chmod(podd.socket, 0o666)   # let nobody reach the socket file: podd itself must refuse
    script = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
        "s.sendall(b'GET /api/v1/pods HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
        "print(s.recv(65536).decode().split('\\r\\n')[0])\n")
    r = subprocess.run(["python3", "-c", script, podd.socket], capture_output=True, text=True,
                       preexec_fn=lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid)))
    assert "403" in r.stdout, r.stdout + r.stderr
    assert podd.get("/healthz").status == 200


def test_caller_not_root_nor_in_group_gets_no_upgrade(podd):
    """The credentials are read when the connection is accepted: an exec's WebSocket upgrade
    from a caller the socket does not admit is refused (403), not switched."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs the user nobody")
    os.chmod(podd.root, 0o755)
    os.chmod(podd.socket, 0o666)
    script = (
        "import socket,sys\n"
        "s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
        "s.sendall(b'GET /api/v1/namespaces/default/pods/x/exec?command=true&stdout=true HTTP/1.1\\r\\nHost: x\\r\\n'\n"
        "          b'Connection: Upgrade\\r\\nUpgrade: websocket\\r\\nSec-WebSocket-Version: 13\\r\\n'\n"
        "          b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Protocol: v4.channel.k8s.io\\r\\n\\r\\n')\n"
        "print(s.recv(65536).decode().split('\\r\\n')[0])\n")
    r = subprocess.run(["python3", "-c", script, podd.socket], capture_output=True, text=True,
                       preexec_fn=lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid)))
    assert "403" in r.stdout, r.stdout + r.stderr
    assert podd.get("/healthz").status == 200


def test_socket_mode_is_0660(daemon):
    mode = os.stat(daemon.socket).st_mode & 0o777
    assert mode == 0o660


def test_bad_config_stops_podd_with_a_message(tmp_path):
    from harness import BIN
    cfg = tmp_path / "podd.yaml"
    cfg.write_text("socket: /tmp/x.sock\ncolour: blue\n")
    r = subprocess.run([str(BIN / "podd"), "--config", str(cfg), "--check-config"], capture_output=True, text=True)
    assert r.returncode != 0 and "colour" in r.stderr
    cfg.write_text("restartBackoff: {initial: soon}\n")
    r = subprocess.run([str(BIN / "podd"), "--config", str(cfg), "--check-config"], capture_output=True, text=True)
    assert r.returncode != 0 and "restartBackoff.initial" in r.stderr
    cfg.write_text('nodeLabels: {"bad key": x}\n')
    r = subprocess.run([str(BIN / "podd"), "--config", str(cfg), "--check-config"], capture_output=True, text=True)
    assert r.returncode != 0 and 'nodeLabels.bad key: key "bad key"' in r.stderr, r.stderr
    cfg.write_text("nodeLabels: {disktype: ssd}\n")
    r = subprocess.run([str(BIN / "podd"), "--config", str(cfg), "--check-config"], capture_output=True, text=True)
    assert r.returncode == 0 and "nodeLabels {disktype: ssd}" in r.stdout, r.stdout + r.stderr
