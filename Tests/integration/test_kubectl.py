"""The real kubectl against podd (through a TCP relay to its socket): what a new user would
try. Skipped, loudly, when kubectl is not installed."""
import json
from concurrent.futures import ThreadPoolExecutor
import os
import socket
import pty
import select
import subprocess
import time

import pytest

from harness import wait_for
from kubectl_fixture import kubectl  # noqa: F401 (the fixture)

POD = """apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox
    command: [sh, -c, "rm -f /tmp/stop; echo started; while [ ! -e /tmp/stop ]; do sleep 0.2; done"]
{extra}"""


def manifest(tmp_path, name, extra=""):
    path = tmp_path / f"{name}.yaml"
    path.write_text(POD.format(name=name, extra=extra))
    return str(path)


def running(podd, name):
    podd.wait_running(name)


def test_get_table_wide_and_outputs(kubectl, podd, tmp_path):
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    running(podd, "web")
    out = kubectl.run("get", "pods").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], out
    assert out[1].split()[:4] == ["web", "1/1", "Running", "0"], out
    wide = kubectl.run("get", "pods", "-o", "wide").stdout.splitlines()
    assert wide[0].split()[:9] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE"], wide
    # The same strings podctl prints.
    podctl = podd.podctl("get", "pods").stdout.splitlines()
    assert [l.split()[:4] for l in podctl] == [l.split()[:4] for l in out]
    assert kubectl.run("get", "pods", "-A").stdout.splitlines()[0].split()[0] == "NAMESPACE"
    assert "app=web" in kubectl.run("get", "pods", "--show-labels").stdout
    assert json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)["metadata"]["name"] == "web"
    assert "name: web" in kubectl.run("get", "pod", "web", "-o", "yaml").stdout
    assert kubectl.run("get", "pod", "web", "-o", "jsonpath={.status.phase}").stdout == "Running"
    assert kubectl.run("get", "pods", "-o", "name").stdout.strip() == "pod/web"
    # Pods are in the `all` category, as on a cluster.
    assert kubectl.run("get", "all", "-o", "name").stdout.strip() == "pod/web"
    events = kubectl.run("get", "events").stdout.splitlines()
    assert events[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"], events
    assert any("pod/web" in l and "Started" in l for l in events), events
    assert "Started" in kubectl.run("events").stdout
    # Chunked lists: kubectl follows the continue tokens, a page of one at a time.
    kubectl.run("apply", "-f", manifest(tmp_path, "web2"))
    chunked = kubectl.run("get", "pods", "--chunk-size=1", "-v=6").stderr
    assert "continue=" in chunked, chunked
    assert [l.split()[0] for l in kubectl.run("get", "pods", "--chunk-size=1").stdout.splitlines()[1:]] == ["web", "web2"]


def test_get_watch_prints_rows(kubectl, podd, tmp_path):
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    running(podd, "web")
    watch = kubectl.popen("get", "pods", "-w", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        kubectl.run("label", "pod", "web", "seen=yes")
        kubectl.run("delete", "pod", "web", "--wait=false")
        wait_for(lambda: podd.pod("web") is None, what="web to go")
        time.sleep(0.5)
    finally:
        watch.terminate()
        out, err = watch.communicate(timeout=10)
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"], (out, err)
    # The header once; then a row per change, no repeat of the list's row first.
    assert sum(1 for l in lines if l.startswith("NAME")) == 1, out
    assert len(lines) >= 3 and all(l.split()[0] == "web" for l in lines[1:]), out
    assert any("Terminating" in l for l in lines), out


def test_apply_validates_and_configures(kubectl, podd, tmp_path):
    path = manifest(tmp_path, "web")
    assert kubectl.run("apply", "-f", path).stdout.strip() == "pod/web created"
    running(podd, "web")
    # Validation is on by default: an unknown field is refused, and nothing is created.
    bad = manifest(tmp_path, "typo", extra="    colour: blue\n")
    r = kubectl.run("apply", "-f", bad, check=False)
    assert r.returncode != 0 and 'unknown field "spec.containers[0].colour"' in r.stderr, r.stderr
    assert "openapi" not in r.stderr, r.stderr
    assert podd.pod("typo") is None
    # --validate=warn: dropped with a warning.
    r = kubectl.run("apply", "--validate=warn", "-f", bad)
    assert 'Warning: unknown field "spec.containers[0].colour"' in r.stderr, r.stderr
    # A second apply is a strategic merge patch computed from podd's OpenAPI (no fallback warning).
    labelled = tmp_path / "web2.yaml"
    labelled.write_text(open(path).read().replace("labels: {app: web}", "labels: {app: web, tier: front}"))
    r = kubectl.run("apply", "-f", str(labelled))
    assert r.stdout.strip() == "pod/web configured" and "warning" not in r.stderr.lower(), r
    assert podd.pod("web")["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert kubectl.run("apply", "-f", str(labelled)).stdout.strip() == "pod/web unchanged"


def test_apply_of_a_list_and_of_a_kind_podd_lacks(kubectl, podd, tmp_path):
    """kubectl validates a `kind: List` (what `get -o yaml` writes of several objects) and a
    kind podd does not serve from /openapi/v2 in protobuf; with it, the list applies and the
    unknown kind gets kubectl's own message, as against an API server without it."""
    path = manifest(tmp_path, "web")
    kubectl.run("apply", "-f", path)
    running(podd, "web")
    listed = tmp_path / "list.yaml"
    listed.write_text(kubectl.run("get", "pods", "-o", "yaml").stdout)
    assert "kind: List" in listed.read_text()
    kubectl.run("delete", "pod", "web", "--wait=true")
    r = kubectl.run("apply", "-f", str(listed))
    assert r.stdout.strip() == "pod/web created", r
    deployment = tmp_path / "deployment.yaml"
    deployment.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n"
                          "spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, "
                          "spec: {containers: [{name: c, image: busybox}]}}}\n")
    r = kubectl.run("apply", "-f", str(deployment), check=False)
    assert r.returncode != 0 and 'no matches for kind "Deployment" in version "apps/v1"' in r.stderr, r.stderr
    # A List's item with a field podd does not know is refused, and nothing is created.
    bad = tmp_path / "bad-list.json"
    item = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
            "spec": {"containers": [{"name": "app", "image": "busybox", "colour": "blue"}]}}
    bad.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [item]}))
    r = kubectl.run("apply", "-f", str(bad), check=False)
    assert r.returncode != 0 and "colour" in r.stderr, r.stderr
    assert podd.pod("typo") is None


def test_create_replace_patch_label_annotate_dry_run(kubectl, podd, tmp_path):
    path = manifest(tmp_path, "web")
    kubectl.run("create", "-f", path)
    assert "AlreadyExists" in kubectl.run("create", "-f", path, check=False).stderr
    kubectl.run("label", "pod", "web", "a=1")
    kubectl.run("annotate", "pod", "web", "note=hi")
    kubectl.run("patch", "pod", "web", "-p", '{"metadata":{"labels":{"b":"2"}}}')
    kubectl.run("patch", "pod", "web", "--type=json", "-p", '[{"op":"add","path":"/metadata/labels/c","value":"3"}]')
    pod = podd.pod("web")
    assert pod["metadata"]["labels"] == {"app": "web", "a": "1", "b": "2", "c": "3"}
    assert pod["metadata"]["annotations"]["note"] == "hi"
    current = json.loads(kubectl.run("get", "pod", "web", "-o", "json").stdout)
    current["metadata"]["labels"]["d"] = "4"
    kubectl.run("replace", "-f", "-", input=json.dumps(current))
    assert podd.pod("web")["metadata"]["labels"]["d"] == "4"
    # Server-side dry runs change nothing.
    assert "(server dry run)" in kubectl.run("delete", "pod", "web", "--dry-run=server").stdout
    assert podd.pod("web") is not None
    kubectl.run("create", "-f", manifest(tmp_path, "ghost"), "--dry-run=server")
    assert podd.pod("ghost") is None
    # generateName: kubectl create prints the name podd made.
    generated = tmp_path / "gen.yaml"
    generated.write_text(open(manifest(tmp_path, "gen")).read().replace("name: gen", "generateName: gen-"))
    made = kubectl.run("create", "-f", str(generated)).stdout.strip()
    assert made.startswith("pod/gen-") and made.endswith(" created") and len(made.split()[0]) == len("pod/gen-") + 5, made
    assert podd.pod(made.split()[0].removeprefix("pod/"))["metadata"]["generateName"] == "gen-"


def test_describe_explain_wait_delete(kubectl, podd, tmp_path):
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    kubectl.run("wait", "--for=condition=Ready", "pod/web", "--timeout=30s")
    described = kubectl.run("describe", "pod", "web").stdout
    assert "Name:" in described and "web" in described and "Started" in described, described
    explained = kubectl.run("explain", "pod.spec.containers").stdout
    assert "KIND:       Pod" in explained and "FIELD: containers <[]Container>" in explained, explained
    assert "image" in explained
    # kubectl delete waits for the pod to go by watching from the list's resourceVersion:
    # it must never hang.
    for i in range(5):
        name = f"del{i}"
        kubectl.run("apply", "-f", manifest(tmp_path, name))
        running(podd, name)
        r = kubectl.run("delete", "pod", name, timeout=30)
        assert r.stdout.strip() == f'pod "{name}" deleted'
        assert podd.pod(name) is None


def test_logs_exec_cp_attach(kubectl, podd, tmp_path):
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    running(podd, "web")
    wait_for(lambda: "started" in kubectl.run("logs", "web").stdout, what="the first log line")
    assert "started" in kubectl.run("logs", "web", "-c", "app").stdout
    follow = kubectl.popen("logs", "-f", "web", stdout=subprocess.PIPE, text=True)
    try:
        assert follow.stdout.readline().strip() == "started"
    finally:
        follow.terminate()
        follow.wait(10)
    r = kubectl.run("exec", "web", "--", "sh", "-c", "echo out; exit 3", check=False)
    assert r.returncode == 3 and r.stdout.strip() == "out", r
    src = tmp_path / "in.txt"
    src.write_text("hello podd\n")
    kubectl.run("cp", str(src), "web:/tmp/in.txt")
    assert kubectl.run("exec", "web", "--", "cat", "/tmp/in.txt").stdout == "hello podd\n"
    back = tmp_path / "back.txt"
    kubectl.run("cp", "web:/tmp/in.txt", str(back))
    assert back.read_text() == "hello podd\n"
    # --previous: the run before a restart.
    kubectl.run("exec", "web", "--", "touch", "/tmp/stop")
    wait_for(lambda: podd.pod("web")["status"]["containerStatuses"][0]["restartCount"] >= 1, what="a restart")
    assert "started" in kubectl.run("logs", "web", "--previous").stdout


def test_debug_copy_to_sends_a_protobuf_pod_that_podd_reads(kubectl, podd, tmp_path):
    """`kubectl debug POD --copy-to` and `kubectl debug node/NODE` POST a Pod in protobuf, which
    podd refused (415, no fallback in kubectl). The copy runs; the node debugger is refused for
    what it asks (the host's / as a hostPath volume), no longer for its encoding."""
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    running(podd, "web")
    kubectl.run("debug", "web", "--copy-to=web-copy", "--container=app", "--", "sh", "-c", "echo copied; sleep 3600")
    copy = podd.wait_running("web-copy")
    assert copy["spec"]["containers"][0]["command"] == ["sh", "-c", "echo copied; sleep 3600"]
    assert copy["spec"]["terminationGracePeriodSeconds"] == 1 and copy["spec"]["restartPolicy"] == "Always"
    assert wait_for(lambda: kubectl.run("logs", "web-copy").stdout == "copied\n")
    r = kubectl.run("debug", f"node/{socket.gethostname()}", "--image=busybox", "--profile=general", "--", "true", check=False)
    assert r.returncode != 0 and "/ is the host's root directory" in r.stderr, r.stderr
    assert "protobuf" not in r.stderr


def test_debug_through_a_pty(kubectl, podd, tmp_path):
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    running(podd, "web")
    r = kubectl.run("debug", "web", "--image=busybox", "--target=app", "--", "sh", "-c", "echo debugged")
    assert "debugger" in r.stderr or "debugger" in r.stdout, r
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(kubectl.binary, [kubectl.binary, "debug", "web", "-it", "--image=busybox", "--", "sh"], kubectl.env)
    out = b""
    try:
        deadline = time.monotonic() + 30
        sent = False
        while time.monotonic() < deadline and b"pty-ok" not in out.replace(b"echo pty-ok", b""):
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    break
            if not sent and (b"#" in out or b"If you don't see a command prompt" in out):
                os.write(fd, b"echo pty-ok; exit\r")
                sent = True
        assert b"pty-ok" in out.replace(b"echo pty-ok", b""), out[-2000:]
    finally:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(fd)


def test_attach(kubectl, podd, tmp_path):
    path = tmp_path / "talker.yaml"
    path.write_text("""apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: app
    image: busybox
    stdin: true
    command: [sh, -c, "while read line; do echo got:$line; done"]
""")
    kubectl.run("apply", "-f", str(path))
    running(podd, "talker")
    attach = kubectl.popen("attach", "-i", "talker", "-c", "app", stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        line = ""
        while time.monotonic() < deadline and not line.startswith("got:"):
            attach.stdin.write("hello\n")
            attach.stdin.flush()
            ready, _, _ = select.select([attach.stdout], [], [], 1)
            if ready:
                line = attach.stdout.readline().strip()
        assert line == "got:hello", (line, attach.poll())
    finally:
        attach.kill()
        attach.wait(10)


def test_get_namespaces_as_the_api_server_prints_them(kubectl, podd, tmp_path):
    """`kubectl get ns`: NAME STATUS AGE. A namespace exists while a pod, ConfigMap or Secret
    lives in it, created when its oldest object was."""
    kubectl.run("create", "configmap", "settings", "-n", "cfg", "--from-literal", "k=v")
    kubectl.run("apply", "-n", "apps", "-f", manifest(tmp_path, "web"))
    pod = podd.pod("web", namespace="apps")
    assert pod is not None
    rows = [line.split() for line in kubectl.run("get", "ns").stdout.splitlines()]
    assert rows[0] == ["NAME", "STATUS", "AGE"], rows
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"apps", "cfg", "default"}, rows
    assert by_name["apps"][1] == by_name["cfg"][1] == "Active", rows
    assert by_name["apps"][2] != "<unknown>" and by_name["cfg"][2] != "<unknown>", rows
    namespace = json.loads(kubectl.run("get", "ns", "apps", "-o", "json").stdout)
    assert namespace["metadata"]["creationTimestamp"] == pod["metadata"]["creationTimestamp"], namespace
    assert kubectl.run("get", "ns", "cfg", "-o", "jsonpath={.status.phase}").stdout == "Active"
    missing = kubectl.run("get", "ns", "nowhere", check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr, missing.stderr
    # The namespace goes with its last object.
    kubectl.run("delete", "configmap", "settings", "-n", "cfg")
    assert "cfg" not in {line.split()[0] for line in kubectl.run("get", "ns").stdout.splitlines()}


def test_create_configmap_and_secrets_send_protobuf_and_are_read(kubectl, podd, tmp_path):
    """kubectl's typed `create configmap|secret` POST Kubernetes protobuf, unasked: podd reads
    it into the same objects JSON would make; a kind podd does not read in protobuf is 415."""
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\xff\x10")
    kubectl.run("create", "configmap", "settings", "--from-literal", "k=v", "--from-file", f"b={blob}")
    settings = podd.get("/api/v1/namespaces/default/configmaps/settings").json()
    assert settings["data"] == {"k": "v"} and settings["binaryData"] == {"b": "AP8Q"}, settings
    assert settings["metadata"]["uid"] and settings["metadata"]["creationTimestamp"], settings
    kubectl.run("create", "secret", "generic", "creds", "-n", "team", "--from-literal", "password=s3cret")
    creds = podd.get("/api/v1/namespaces/team/secrets/creds").json()
    assert creds["type"] == "Opaque" and creds["data"] == {"password": "czNjcmV0"}, creds
    kubectl.run("create", "secret", "docker-registry", "regcred", "--docker-server", "registry.local:5000",
                "--docker-username", "u", "--docker-password", "p")
    regcred = podd.get("/api/v1/namespaces/default/secrets/regcred").json()
    assert regcred["type"] == "kubernetes.io/dockerconfigjson" and ".dockerconfigjson" in regcred["data"], regcred
    # The API server's answers to the same requests: a name taken, a name refused.
    taken = kubectl.run("create", "configmap", "settings", "--from-literal", "k=w", check=False)
    assert taken.returncode != 0 and "already exists" in taken.stderr, taken.stderr
    invalid = kubectl.run("create", "configmap", "Bad_Name", "--from-literal", "k=v", check=False)
    assert invalid.returncode != 0 and "Invalid value" in invalid.stderr, invalid.stderr
    assert podd.get("/api/v1/namespaces/default/configmaps/settings").json()["data"] == {"k": "v"}
    # A Service in protobuf is not read: 415, saying what to send. A Pod is read (kubectl
    # debug sends one), and one without containers is refused as its JSON would be.
    def envelope(kind, raw):
        type_meta = b"\x0a\x02v1\x12" + bytes([len(kind)]) + kind
        return b"k8s\x00" + b"\x0a" + bytes([len(type_meta)]) + type_meta + b"\x12" + bytes([len(raw)]) + raw
    raw = b"\x0a\x03\x0a\x01p"   # metadata { name: "p" }
    protobuf = {"Content-Type": "application/vnd.kubernetes.protobuf"}
    refused = podd.request("POST", "/api/v1/namespaces/default/pods", envelope(b"Service", raw), headers=protobuf)
    assert refused.status == 415 and "send application/json or application/yaml" in refused.json()["message"], refused.text
    invalid = podd.request("POST", "/api/v1/namespaces/default/pods", envelope(b"Pod", raw), headers=protobuf)
    assert invalid.status == 422 and invalid.json()["details"]["causes"][0]["field"] == "spec.containers", invalid.text
    assert podd.get("/api/v1/namespaces/default/pods").json()["items"] == []


def test_apply_configmap_and_secret_files(kubectl, podd, tmp_path):
    """`kubectl apply -f` of a ConfigMap or Secret: kubectl finds `fieldValidation` on their
    PATCH in /openapi/v3 and leaves validation to podd (without it, it wanted /openapi/v2 in
    protobuf, and refused every such file)."""
    cm = tmp_path / "cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: '1'}\n")
    assert kubectl.run("apply", "-f", str(cm)).stdout.strip() == "configmap/conf created"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: '2'}\n")
    assert kubectl.run("apply", "-f", str(cm)).stdout.strip() == "configmap/conf configured"
    assert podd.get("/api/v1/namespaces/default/configmaps/conf").json()["data"] == {"a": "2"}
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {password: x}\n")
    assert kubectl.run("apply", "-f", str(secret)).stdout.strip() == "secret/creds created"
    assert podd.get("/api/v1/namespaces/default/secrets/creds").json()["data"] == {"password": "eA=="}
    # podd validates: an unknown field is refused by the server, and nothing changes.
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: '3'}\nbogus: 1\n")
    bad = kubectl.run("apply", "-f", str(cm), check=False)
    assert bad.returncode != 0 and 'unknown field "bogus"' in bad.stderr, bad.stderr
    assert podd.get("/api/v1/namespaces/default/configmaps/conf").json()["data"] == {"a": "2"}


def test_server_side_apply_creates_then_merges(kubectl, podd, tmp_path):
    """`kubectl apply --server-side`: PATCH application/apply-patch+yaml creates what is not
    there and merges the configuration into what is (podd keeps no managedFields)."""
    path = manifest(tmp_path, "web")
    assert kubectl.run("apply", "--server-side", "-f", path).stdout.strip() == "pod/web serverside-applied"
    running(podd, "web")
    uid = podd.pod("web")["metadata"]["uid"]
    labelled = tmp_path / "web2.yaml"
    labelled.write_text(open(path).read().replace("labels: {app: web}", "labels: {app: web, tier: front}"))
    kubectl.run("apply", "--server-side", "-f", str(labelled))
    pod = podd.pod("web")
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"} and pod["metadata"]["uid"] == uid, pod["metadata"]
    cm = tmp_path / "cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: '1'}\n")
    kubectl.run("apply", "--server-side", "-f", str(cm))
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf}\ndata: {a: '2', b: '3'}\n")
    kubectl.run("apply", "--server-side", "-f", str(cm))
    assert podd.get("/api/v1/namespaces/default/configmaps/conf").json()["data"] == {"a": "2", "b": "3"}
    # The API server's answers: 201 for a create, 422 without a field manager, 400 for
    # another kind or name on the path, 415 for what is not an apply or a patch.
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {k: v}\n"
    apply = {"Content-Type": "application/apply-patch+yaml"}
    r = podd.request("PATCH", "/api/v1/namespaces/default/configmaps/fresh?fieldManager=test", body, headers=apply)
    assert r.status == 201 and r.json()["data"] == {"k": "v"}, r.text
    r = podd.request("PATCH", "/api/v1/namespaces/default/configmaps/other", body, headers=apply)
    assert r.status == 422 and "fieldManager: Required value" in r.json()["message"], r.text
    r = podd.request("PATCH", "/api/v1/namespaces/default/configmaps/other?fieldManager=test", body, headers=apply)
    assert r.status == 400 and "does not match the name on the URL" in r.json()["message"], r.text
    r = podd.request("PATCH", "/api/v1/namespaces/default/pods/web?fieldManager=test", body.replace("fresh", "web"), headers=apply)
    assert r.status == 400 and "applies v1 Pod objects" in r.json()["message"], r.text
    r = podd.request("PATCH", "/api/v1/namespaces/default/configmaps/other?fieldManager=test&force=maybe",
                     body.replace("fresh", "other"), headers=apply)
    assert r.status == 400 and "force: invalid value" in r.json()["message"], r.text
    r = podd.request("PATCH", "/api/v1/namespaces/default/configmaps/other?fieldManager=test",
                     body.replace("fresh", "other") + "---\n" + body, headers=apply)
    assert r.status == 400 and "one YAML or JSON object" in r.json()["message"], r.text
    r = podd.request("PATCH", "/api/v1/namespaces/default/configmaps/other?fieldManager=test", "", headers=apply)
    assert r.status == 400 and "body is empty" in r.json()["message"], r.text
    assert podd.request("GET", "/healthz").status == 200
    assert podd.get("/api/v1/namespaces/default/configmaps/other").status == 404


def test_exec_output_and_status_reach_kubectl_however_fast_the_command_ends(kubectl, podd, tmp_path):
    """client-go reads the WebSocket before it has made its streams, and drops (`Unknown
    stream id 1, discarding message`) a frame for a stream not made yet. A command started
    before the upgrade was answered could have written its output, and ended, by then:
    kubectl lost both and exited 1 (`error: closed all streams`), 1 to 4 times in 80. podd
    starts kubectl's commands once the WebSocket is up, as the API server can only do."""
    kubectl.run("apply", "-f", manifest(tmp_path, "web"))
    running(podd, "web")

    def once(i):
        # -it with stdin at its end, as a script runs it: no terminal, stdin closed at once.
        r = subprocess.run([kubectl.binary, "exec", "-it", "web", "--", "sh", "-c", f"echo out{i}; exit 2"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=kubectl.env, timeout=60)
        return r.returncode, r.stdout, r.stderr

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(once, range(160)))
    bad = [(i, r) for i, r in enumerate(results) if r[:2] != (2, f"out{i}\n")]
    assert not bad, f"{len(bad)} of 160 execs lost their output or status: {bad[:3]}"
