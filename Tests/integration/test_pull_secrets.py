"""Image pull secrets and debug-container pulls against a real registry (issues 10 and 13).

Debian's `docker-registry` (distribution) runs on 127.0.0.1 behind htpasswd Basic auth, as in
test_registry.py; a busybox image is pushed to it with skopeo. Pods name Secrets of type
kubernetes.io/dockerconfigjson (made by `podctl create secret docker-registry`) or
kubernetes.io/dockercfg in `spec.imagePullSecrets`: the right one pulls, a wrong or missing one
ends in ErrImagePull / ImagePullBackOff with an auth error, a missing one also gives kubelet's
FailedToRetrieveImagePullSecret warning, and no password ever reaches podd's log, events or
statuses. Ephemeral debug containers pull their image the same way, and a failed pull shows
in their own status without disturbing the pod. The auth file is read again at each pull."""
import base64
import json
import shutil
import tempfile
import types
from pathlib import Path

import pytest

from harness import Podd, wait_for
from test_images import pod, statuses, waiting_reason, write_image
from test_registry import PASSWORD, USER, Registry

WRONG = "Wr0ng-pa55word-never-shown"


def events(d, name):
    items = d.get("/api/v1/namespaces/default/events").json()["items"]
    return [(e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == name]


def ephemeral_state(d, name, container):
    for s in d.pod(name)["status"].get("ephemeralContainerStatuses", []):
        if s["name"] == container:
            return s["state"]
    return {}


@pytest.fixture
def setup(busybox_tar, tmp_path):
    """A podd, an htpasswd registry holding test/bb:1 (busybox; Cmd echo hello), and busybox
    imported for the pods that only host debug containers."""
    from conftest import require_root, _require_binaries
    require_root()
    _require_binaries()
    if not shutil.which("docker-registry") or not shutil.which("skopeo") or not shutil.which("htpasswd"):
        pytest.skip("needs docker-registry, skopeo and htpasswd: scripts/install-deps.sh installs them")
    layout = tmp_path / "layout"
    write_image(layout, "bb", [Path(busybox_tar).read_bytes()], {"Cmd": ["echo", "hello"]})
    registry = Registry(tmp_path, "auth", auth="htpasswd")
    registry.push(types.SimpleNamespace(root=layout), "bb", "test/bb:1")
    root = Path(tempfile.mkdtemp(prefix="podd-", dir="/tmp"))
    auth_file = root / "auth.json"
    d = Podd(root / "d", extra_config=f"registries: {{insecure: ['{registry.address}'], authFile: {auth_file}}}\n").start()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    d.address = registry.address
    d.image = f"{registry.address}/test/bb:1"
    d.auth_file = auth_file
    yield d
    d.cleanup()
    registry.kill()
    shutil.rmtree(root, ignore_errors=True)


def secret_pod(name, image, secrets, **container):
    spec = {"imagePullSecrets": [{"name": s} for s in secrets]} if secrets else {}
    return pod(name, [{"name": "app", "image": image, **container}], **spec)


def finished_log(d, name, timeout=60):
    wait_for(lambda: statuses(d.pod(name)).get("app", {}).get("state", {}).get("terminated"), timeout=timeout,
             what=f"{name} to finish")
    return d.podctl("logs", name).stdout


def assert_no_password(d):
    """No password, nor a Basic header made of one, in podd's log, events or pod statuses."""
    texts = {"log": d.log_text(), "events": d.get("/api/v1/namespaces/default/events").body.decode(),
             "pods": d.get("/api/v1/namespaces/default/pods").body.decode()}
    for secret in (PASSWORD, WRONG):
        basic = base64.b64encode(f"{USER}:{secret}".encode()).decode()
        for where, text in texts.items():
            assert secret not in text and basic not in text, f"a password in podd's {where}"


def test_pull_secret_pulls_and_runs(setup):
    d = setup
    d.podctl("create", "secret", "docker-registry", "regcred", "--docker-server", d.address,
             "--docker-username", USER, "--docker-password", PASSWORD)
    r = d.create(secret_pod("private", d.image, ["regcred"]))
    assert r.status == 201 and r.json()["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert finished_log(d, "private") == "hello\n"
    ev = events(d, "private")
    assert ("Pulling", f'Pulling image "{d.image}"') in ev
    assert any(reason == "Pulled" and m.startswith(f'Successfully pulled image "{d.image}"') for reason, m in ev), ev
    # A legacy .dockercfg secret keyed by https://HOST/v1/, after a stale one: the first is
    # refused, the next one works (kubelet tries each matching credential in turn).
    legacy = json.dumps({f"https://{d.address}/v1/": {"username": USER, "password": PASSWORD}}).encode()
    stale = json.dumps({"auths": {d.address: {"auth": base64.b64encode(f"{USER}:{WRONG}".encode()).decode()}}}).encode()
    for name, kind, key, data in [("legacy", "kubernetes.io/dockercfg", ".dockercfg", legacy),
                                  ("stale", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", stale)]:
        r = d.request("POST", "/api/v1/namespaces/default/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": kind,
            "data": {key: base64.b64encode(data).decode()}})
        assert r.status == 201, r.body
    d.create(secret_pod("again", d.image, ["stale", "legacy"], imagePullPolicy="Always"))
    assert finished_log(d, "again") == "hello\n"
    assert sum(1 for reason, _ in events(d, "again") if reason == "Pulling") == 1
    assert_no_password(d)


def test_without_or_with_a_wrong_secret_the_pull_fails(setup):
    d = setup
    wrong = json.dumps({"auths": {d.address: {"username": USER, "password": WRONG}}}).encode()
    r = d.request("POST", "/api/v1/namespaces/default/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "wrong"}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(wrong).decode()}})
    assert r.status == 201
    d.create(secret_pod("nosecret", d.image, []))
    d.create(secret_pod("wrongsecret", d.image, ["wrong"]))
    for name in ("nosecret", "wrongsecret"):
        wait_for(lambda: waiting_reason(d, name) == "ErrImagePull", timeout=30, what=f"{name}: ErrImagePull")
    message = statuses(d.pod("nosecret"))["app"]["state"]["waiting"]["message"]
    assert "401 Unauthorized" in message and "has no credentials for it" in message, message
    message = statuses(d.pod("wrongsecret"))["app"]["state"]["waiting"]["message"]
    assert "401 Unauthorized" in message and 'refused the credentials of imagePullSecret "wrong"' in message, message
    wait_for(lambda: waiting_reason(d, "wrongsecret") == "ImagePullBackOff", timeout=30, what="ImagePullBackOff")
    assert ("Failed", "Error: ErrImagePull") in events(d, "wrongsecret")
    assert d.pod("wrongsecret")["status"]["phase"] == "Pending"
    # A secret whose config cannot be read fails the pull (kubelet's MakeDockerKeyring error),
    # naming the secret and the entry, never the value.
    broken = json.dumps({"auths": {d.address: {"auth": "%%" + WRONG}}}).encode()
    r = d.request("POST", "/api/v1/namespaces/default/secrets", {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "broken"}, "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(broken).decode()}})
    assert r.status == 201
    d.create(secret_pod("brokensecret", d.image, ["broken"]))
    wait_for(lambda: waiting_reason(d, "brokensecret") == "ErrImagePull", timeout=30, what="ErrImagePull of a broken secret")
    message = statuses(d.pod("brokensecret"))["app"]["state"]["waiting"]["message"]
    assert message == (f'imagePullSecret "broken": the entry for "{d.address}" in its .dockerconfigjson has an auth value '
                       "that is not base64 of username:password"), message
    assert_no_password(d)


def test_missing_secret_warns_and_works_once_created(setup):
    d = setup
    d.create(secret_pod("late", d.image, ["", "later"]))
    wait_for(lambda: waiting_reason(d, "late") in ("ErrImagePull", "ImagePullBackOff"), timeout=30, what="ErrImagePull")
    assert ("FailedToRetrieveImagePullSecret",
            "Unable to retrieve some image pull secrets (later); attempting to pull the image may not succeed.") in events(d, "late")
    # The secret appears: the next retry uses it and the pod runs.
    d.podctl("create", "secret", "docker-registry", "later", "--docker-server", d.address,
             "--docker-username", USER, "--docker-password", PASSWORD)
    assert finished_log(d, "late") == "hello\n"
    # With the image present, kubelet still warns (it reads the secrets at each sync), and the
    # pod runs.
    d.create(secret_pod("local", "busybox", ["gone"], command=["echo", "local"]))
    assert finished_log(d, "local") == "local\n"
    assert ("FailedToRetrieveImagePullSecret",
            "Unable to retrieve some image pull secrets (gone); attempting to pull the image may not succeed.") in events(d, "local")
    assert_no_password(d)


def test_debug_container_pulls_its_image(setup):
    d = setup
    d.podctl("create", "secret", "docker-registry", "regcred", "--docker-server", d.address,
             "--docker-username", USER, "--docker-password", PASSWORD)
    # A pod without the secret: the debug container's pull is refused (the image is not
    # here yet: once it is, IfNotPresent uses it whoever pulled it, as on a kubelet).
    d.create(pod("plain", [{"name": "app", "image": "busybox", "command": ["sleep", "300"]}]))
    d.wait_running("plain")
    r = d.podctl("debug", "plain", "--image", d.image, "--name", "dbg", "--", "true", check=False)
    assert r.returncode == 1 and "401 Unauthorized" in r.stderr, r.stderr
    assert statuses(d.pod("plain"))["app"]["restartCount"] == 0
    d.create(pod("web", [{"name": "app", "image": "busybox", "command": ["sleep", "300"]}],
                 imagePullSecrets=[{"name": "regcred"}]))
    d.wait_running("web")
    # The debug image is not in the store: pulled with the pod's secret, then started.
    r = d.podctl("debug", "web", "--image", d.image, "--name", "dbg", "--", "echo", "debug-hello")
    assert "debug-hello" in r.stdout
    assert any(reason == "Pulled" and d.image in m for reason, m in events(d, "web"))
    # An image the registry has not: the debug container waits in ErrImagePull, then
    # ImagePullBackOff, and the pod goes on as it was.
    missing = f"{d.address}/test/nosuch:1"
    r = d.podctl("debug", "web", "--image", missing, "--name", "broken", "--", "true", check=False)
    assert r.returncode == 1 and "the debug container broken could not start: ErrImagePull" in r.stderr, r.stderr
    assert "not found" in ephemeral_state(d, "web", "broken")["waiting"]["message"]
    wait_for(lambda: ephemeral_state(d, "web", "broken").get("waiting", {}).get("reason") == "ImagePullBackOff",
             timeout=30, what="the debug container's ImagePullBackOff")
    p = d.pod("web")
    app = statuses(p)["app"]
    assert p["status"]["phase"] == "Running" and app["ready"] and app["restartCount"] == 0 and "running" in app["state"]
    assert_no_password(d)


def test_auth_file_is_read_again_at_each_pull(setup):
    d = setup
    d.create(secret_pod("viafile", d.image, []))
    wait_for(lambda: waiting_reason(d, "viafile") == "ErrImagePull", timeout=30, what="ErrImagePull without credentials")
    # `podman login --authfile` while podd runs: the next retry uses the new credentials.
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    d.auth_file.write_text(json.dumps({"auths": {d.address: {"auth": auth}}}))
    assert finished_log(d, "viafile") == "hello\n"
    assert_no_password(d)
