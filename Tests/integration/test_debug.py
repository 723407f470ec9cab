"""Ephemeral debug containers: the ephemeralcontainers subresource (GET, PATCH of each kind,
PUT), podctl debug (target, crash-looping pods, exit codes, streams, an interactive session
under tmux), refusals, the prune extension and --rm, and a client killed mid-session."""
import json
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from harness import BIN, pod_manifest, wait_for, processes_with

SMP = "application/strategic-merge-patch+json"


def ephemeral_path(name, ns="default"):
    return f"/api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers"


def patch(podd, pod, body, content_type=SMP):
    return podd.request("PATCH", ephemeral_path(pod), json.dumps(body).encode(), {"Content-Type": content_type})


def add(podd, pod, container, content_type=SMP):
    return patch(podd, pod, {"spec": {"ephemeralContainers": [container]}}, content_type)


def ephemeral_status(podd, pod, name):
    p = podd.pod(pod)
    return next((s for s in p["status"].get("ephemeralContainerStatuses", []) if s["name"] == name), None)


def wait_ephemeral(podd, pod, name, state, timeout=20):
    return wait_for(lambda: (s := ephemeral_status(podd, pod, name)) and state in s["state"] and s,
                    timeout=timeout, what=f"ephemeral container {name} {state}")


@pytest.fixture
def web(podd):
    """A running pod: app writes a file in its own root and one in a shared emptyDir."""
    r = podd.create(pod_manifest("web", [
        {"name": "app", "command": ["sh", "-c", "echo secret > /app-file; echo shared > /data/f; exec sleep 100000"],
         "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
    ], volumes=[{"name": "data", "emptyDir": {}}], terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    podd.wait_running("web")
    wait_for(lambda: podd.podctl("exec", "web", "--", "cat", "/data/f", check=False).stdout == "shared\n",
             what="the app's files")
    return podd


def app_state(podd, pod="web"):
    s = podd.pod(pod)["status"]["containerStatuses"][0]
    return s["restartCount"], s.get("containerID"), list(s["state"])


# --- podctl debug ----------------------------------------------------------------------------

def test_debug_prints_the_pods_hostname_and_leaves_the_pod_alone(web):
    before = app_state(web)
    r = web.podctl("debug", "web", "--image", "busybox", "--", "hostname")
    assert r.stdout == "web\n"
    assert "Defaulting debug container name to debugger-" in r.stderr
    name = r.stderr.split("Defaulting debug container name to ")[1].split(".")[0]
    assert app_state(web) == before
    status = wait_ephemeral(web, "web", name, "terminated")
    assert status["state"]["terminated"]["exitCode"] == 0 and status["restartCount"] == 0
    # Its output is in its log; the pod is Running, its phase unaffected.
    assert web.log("web", container=name) == "web\n"
    assert web.pod("web")["status"]["phase"] == "Running"


def test_the_writable_layer_is_volatile(web):
    """A container's writable layer is made anew for each run and never mounted again, so it
    is mounted `volatile`: the last exit from its mount namespace does not sync the state
    dir's whole file system before its monitor learns of the exit (podctl debug waits for
    that exit)."""
    r = web.podctl("debug", "web", "--", "cat", "/proc/self/mountinfo")
    root = [line for line in r.stdout.splitlines() if line.split()[4] == "/"]
    assert len(root) == 1 and " - overlay " in root[0], r.stdout
    options = root[0].split(" - ")[1].split()[2].split(",")
    # Newer kernels show the option as fsync=volatile.
    assert "volatile" in options or "fsync=volatile" in options, root[0]


def test_target_shares_the_apps_processes_and_root(web):
    r = web.podctl("debug", "web", "--target", "app", "--name", "peek", "--",
                   "sh", "-c", "ps -o pid,args; cat /proc/1/root/app-file")
    lines = r.stdout.splitlines()
    assert any(l.split(None, 1) == ["1", "sleep 100000"] for l in lines), r.stdout
    assert lines[-1] == "secret"
    # Its own root is its own image: the app's file is not in it.
    r = web.podctl("debug", "web", "--name", "own-root", "--", "sh", "-c", "test -e /app-file || echo absent")
    assert r.stdout == "absent\n"
    # Volumes of the pod can be mounted (through the API: podctl debug has no flag for it).
    r = add(web, "web", {"name": "vol", "image": "busybox", "command": ["cat", "/data/f"],
                         "volumeMounts": [{"name": "data", "mountPath": "/data"}]})
    assert r.status == 200, r.text
    wait_ephemeral(web, "web", "vol", "terminated")
    assert web.log("web", container="vol") == "shared\n"


def test_exit_codes_and_separate_streams(web):
    r = web.podctl("debug", "web", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7", check=False)
    assert r.returncode == 7
    assert r.stdout == "to-out\n"
    assert r.stderr.endswith("to-err\n")
    r = web.podctl("exec", "web", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 5", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (5, "to-out\n", "to-err\ncommand terminated with exit code 5\n")
    # stdin, without a terminal.
    r = web.podctl("debug", "-i", "web", "--", "sh", "-c", "tr a-z A-Z; exit 2", input="loud\n", check=False)
    assert (r.returncode, r.stdout) == (2, "LOUD\n")


def monitor_pid(podd, pod):
    uid = podd.pod(pod)["metadata"]["uid"]
    return int((podd.run_dir / "pods" / uid / "monitor.pid").read_text().split()[0])


def test_debug_a_crash_looping_pod(podd):
    r = podd.create(pod_manifest("crashy", [("app", "echo starting; sleep 0.3; exit 1")]))
    assert r.status == 201
    wait_for(lambda: podd.pod("crashy")["status"]["containerStatuses"][0]["restartCount"] >= 2,
             timeout=30, what="the app to crash-loop")
    r = podd.podctl("debug", "crashy", "--image", "busybox", "--",
                    "sh", "-c", "hostname; readlink /proc/self/ns/net; cat /sys/class/net/lo/flags; sleep 2; echo survived")
    hostname, netns, flags, last = r.stdout.splitlines()
    assert hostname == "crashy"
    # The pod's network namespace (the monitor holds it), loopback up.
    assert netns == os.readlink(f"/proc/{monitor_pid(podd, 'crashy')}/ns/net")
    assert int(flags, 16) & 1
    # It ran through the app's restarts.
    assert last == "survived"


def test_target_that_is_not_running_says_so(podd):
    # `app` completes and, with OnFailure, stays terminated while `side` keeps the pod running:
    # no restart can race the debug request (a crash-looping target may be up at that moment).
    podd.create(pod_manifest("done", [("app", "exit 0"), ("side", "exec sleep 3600")], restartPolicy="OnFailure"))
    wait_for(lambda: "terminated" in {c["name"]: c for c in podd.pod("done")["status"]["containerStatuses"]}["app"]["state"],
             timeout=30, what="the app to complete")
    r = podd.podctl("debug", "done", "--target", "app", "--", "ps", check=False)
    assert r.returncode == 1 and "could not start" in r.stderr and "app is not running" in r.stderr, r


# --- an interactive session ---------------------------------------------------------------

class Tmux:
    """A tmux server of its own, one window of 80x24."""

    def __init__(self):
        if not shutil.which("tmux"):
            pytest.skip("needs tmux: apt-get install -y tmux")
        self.name = f"podd-test-{os.getpid()}-{random.randint(0, 10**6)}"

    def __call__(self, *args):
        return subprocess.run(["tmux", "-L", self.name, "-f", "/dev/null", *args], capture_output=True, text=True)

    def start(self, command):
        r = self("new-session", "-d", "-s", "main", "-x", "80", "-y", "24", command)
        assert r.returncode == 0, r.stderr
        self("set-option", "-g", "status", "off")

    def screen(self):
        return self("capture-pane", "-p", "-J", "-t", "main").stdout

    def wait(self, text, timeout=20):
        return wait_for(lambda: text in self.screen() and self.screen(), timeout=timeout, what=f"{text!r} on the screen")

    def keys(self, line):
        self("send-keys", "-t", "main", "-l", line)
        self("send-keys", "-t", "main", "Enter")

    def size(self):
        rows, cols = self("display-message", "-p", "-t", "main", "#{pane_height} #{pane_width}").stdout.split()
        return int(rows), int(cols)

    def kill(self):
        self("kill-server")


@pytest.fixture
def tmux():
    t = Tmux()
    yield t
    t.kill()


@pytest.mark.parametrize("verb", ["debug", "exec"])
def test_interactive_session_under_tmux(web, tmux, tmp_path, verb):
    podctl = f"PODD_SOCKET={web.socket} {BIN / 'podctl'}"
    session = f"debug -it web --image busybox --name shell -- sh" if verb == "debug" else "exec -it web -- sh"
    tmux.start(f"sh -c 'stty -g > {tmp_path}/before; {podctl} {session}; echo EXIT=$?; "
               f"stty -g > {tmp_path}/after; sleep 100000'")
    tmux.wait("/ # ")
    tmux.keys("echo hello $((6*7))")
    tmux.wait("hello 42")
    rows, cols = tmux.size()
    tmux.keys("stty size")
    tmux.wait(f"{rows} {cols}\n")
    tmux("resize-window", "-t", "main", "-x", "100", "-y", "30")
    wait_for(lambda: tmux.size() != (rows, cols), what="the window to resize")
    rows, cols = tmux.size()
    tmux.keys("stty size")
    tmux.wait(f"{rows} {cols}\n")
    tmux.keys("exit 3")
    tmux.wait("EXIT=3")
    wait_for(lambda: (tmp_path / "after").exists() and (tmp_path / "after").read_text(), what="stty -g after")
    assert (tmp_path / "after").read_text() == (tmp_path / "before").read_text(), "the terminal was not restored"
    if verb == "debug":
        status = wait_ephemeral(web, "web", "shell", "terminated")
        assert status["state"]["terminated"]["exitCode"] == 3


def test_killing_the_client_mid_session_leaves_nothing(web, tmux):
    tag = str(random.randint(10**7, 10**8))
    # exec: the pane's process is podctl itself, which is what gets killed.
    tmux.start(f"exec env PODD_SOCKET={web.socket} {BIN / 'podctl'} debug -it web --name gone -- sh")
    tmux.wait("/ # ")
    tmux.keys(f"sleep 1{tag} & sleep 2{tag}")
    wait_for(lambda: len(processes_with(tag)) == 2, what="the session's processes")
    shell = int(tmux("display-message", "-p", "-t", "main", "#{pane_pid}").stdout)
    os.kill(shell, signal.SIGKILL)  # podctl itself, the pane's command
    wait_for(lambda: not processes_with(tag), timeout=15, what="the session's processes to be gone")
    # The debug container has ended (its terminal hung up); the app is untouched.
    status = wait_ephemeral(web, "web", "gone", "terminated")
    assert status["state"]["terminated"]["exitCode"] != 0
    assert app_state(web)[0] == 0


# --- the subresource --------------------------------------------------------------------------

def test_get_patch_of_each_kind_and_put(web):
    r = web.get(ephemeral_path("web"))
    assert r.status == 200 and r.json()["kind"] == "Pod" and r.json()["metadata"]["name"] == "web"
    c = lambda name: {"name": name, "image": "busybox", "command": ["sh", "-c", "echo " + name]}
    assert add(web, "web", c("one")).status == 200
    # merge patch replaces the list: the existing ones must be in it.
    r = patch(web, "web", {"spec": {"ephemeralContainers": [c("one"), c("two")]}}, "application/merge-patch+json")
    assert r.status == 200, r.text
    r = patch(web, "web", [{"op": "add", "path": "/spec/ephemeralContainers/-", "value": c("three")}],
              "application/json-patch+json")
    assert r.status == 200, r.text
    pod = web.get(ephemeral_path("web")).json()
    pod["spec"]["ephemeralContainers"].append(c("four"))
    r = web.request("PUT", ephemeral_path("web"), pod)
    assert r.status == 200, r.text
    names = [e["name"] for e in r.json()["spec"]["ephemeralContainers"]]
    assert names == ["one", "two", "three", "four"]
    for n in names:
        wait_ephemeral(web, "web", n, "terminated")
        assert web.log("web", container=n) == n + "\n"
    # Append-only.
    r = patch(web, "web", {"spec": {"ephemeralContainers": [c("one")]}}, "application/merge-patch+json")
    assert r.status == 422 and 'existing ephemeral containers "two" may not be removed' in r.json()["message"]
    changed = dict(c("one"), command=["true"])
    r = add(web, "web", changed)
    assert r.status == 422 and 'existing ephemeral containers "one" may not be changed' in r.json()["message"]
    # Other content types are refused.
    r = patch(web, "web", {"spec": {}}, "application/json")
    assert r.status == 415 and r.json()["reason"] == "UnsupportedMediaType"
    # The stored pod has them (it survives a restart of podd with them).
    stored = json.loads((web.state_dir / "pods" / web.pod("web")["metadata"]["uid"] / "pod.json").read_text())
    assert [e["name"] for e in stored["spec"]["ephemeralContainers"]] == names


@pytest.mark.parametrize("field, value", [
    ("ports", [{"containerPort": 80}]),
    ("livenessProbe", {"exec": {"command": ["true"]}}),
    ("readinessProbe", {"tcpSocket": {"port": 80}}),
    ("startupProbe", {"exec": {"command": ["true"]}}),
    ("lifecycle", {"preStop": {"exec": {"command": ["true"]}}}),
    ("resources", {"limits": {"cpu": "1"}}),
    ("restartPolicy", "Always"),
])
def test_refused_fields_name_their_path(web, field, value):
    before = web.pod("web")
    r = add(web, "web", {"name": "bad", "image": "busybox", "command": ["true"], field: value})
    assert r.status in (400, 422), r.text
    body = r.json()
    assert body["kind"] == "Status" and f"spec.ephemeralContainers[0].{field}" in body["message"], body
    assert any(cause.get("field", "").startswith(f"spec.ephemeralContainers[0].{field}") for cause in body["details"]["causes"])
    after = web.pod("web")
    assert after["spec"] == before["spec"] and app_state(web) == (0,) + app_state(web)[1:]


def test_other_refusals(web, podd):
    before = web.pod("web")["spec"]
    c = {"name": "x", "image": "busybox", "command": ["true"]}
    r = add(web, "web", dict(c, targetContainerName="ghost"))
    assert r.status == 422 and 'spec.ephemeralContainers[0].targetContainerName: Not found: "ghost"' in r.json()["message"]
    r = add(web, "web", dict(c, image="Not A Valid/ref::x"))
    assert r.status == 422 and "spec.ephemeralContainers[0].image" in r.json()["message"]
    r = add(web, "web", dict(c, name="app"))
    assert r.status == 422 and 'spec.ephemeralContainers[0].name: Duplicate value: "app"' in r.json()["message"]
    r = add(web, "nope", c)
    assert r.status == 404 and r.json()["message"] == 'pods "nope" not found'
    assert web.pod("web")["spec"] == before
    # An image not in the store is accepted and pulled as the container starts (a failed
    # pull shows in its status); through podctl: one line on stderr, exit 1.
    r = add(web, "web", dict(c, name="never", image="nosuch", imagePullPolicy="Never"))
    assert r.status == 200
    wait_for(lambda: (ephemeral_status(web, "web", "never") or {}).get("state", {}).get("waiting", {}).get("reason")
             == "ErrImageNeverPull", timeout=20, what="ErrImageNeverPull")
    r = web.podctl("debug", "web", "--image", "localhost/nosuch:1", "--", "true", check=False)
    assert r.returncode == 1 and "could not start: ErrImagePull" in r.stderr, r.stderr
    r = web.podctl("debug", "nope", "--", "true", check=False)
    assert r.returncode == 1 and 'pods "nope" not found' in r.stderr
    # A duplicate of an existing ephemeral container's name.
    web.podctl("debug", "web", "--name", "taken", "--", "true")
    r = web.podctl("debug", "web", "--name", "taken", "--", "true", check=False)
    assert r.returncode == 1 and 'ephemeral container "taken" already exists in pod "web"' in r.stderr


def test_finished_and_terminating_pods_are_refused(podd):
    podd.create(pod_manifest("done", [("once", "true")], restartPolicy="Never"))
    podd.wait_phase("done", "Succeeded")
    r = add(podd, "done", {"name": "late", "image": "busybox", "command": ["true"]})
    assert r.status == 409 and 'pod "done" has finished (phase Succeeded)' in r.json()["message"]
    assert not podd.pod("done")["spec"].get("ephemeralContainers")
    podd.create(pod_manifest("slow", [("app", "trap '' TERM; while true; do sleep 0.1; done")], terminationGracePeriodSeconds=30))
    podd.wait_running("slow")
    podd.request("DELETE", "/api/v1/namespaces/default/pods/slow")
    r = add(podd, "slow", {"name": "late", "image": "busybox", "command": ["true"]})
    assert r.status == 409 and 'pod "slow" is terminating' in r.json()["message"]
    r = podd.podctl("debug", "slow", "--", "true", check=False)
    assert r.returncode == 1 and "is terminating" in r.stderr
    podd.request("DELETE", "/api/v1/namespaces/default/pods/slow?gracePeriodSeconds=0")


# --- pruning ----------------------------------------------------------------------------------

def prune_path(pod, container=None):
    return f"/apis/podd.io/v1/namespaces/default/pods/{pod}/ephemeralcontainers" + (f"/{container}" if container else "")


def test_rm_and_prune(web):
    r = web.podctl("debug", "web", "--rm", "--name", "temp", "--", "echo", "bye")
    assert r.stdout == "bye\n"
    pod = web.pod("web")
    assert not pod["spec"].get("ephemeralContainers") and not pod["status"].get("ephemeralContainerStatuses")
    assert not list((web.state_dir / "logs").glob("*/temp"))
    web.podctl("debug", "web", "--name", "a", "--", "true")
    web.podctl("debug", "web", "--name", "b", "--", "true")
    assert add(web, "web", {"name": "busy", "image": "busybox", "command": ["sleep", "100000"]}).status == 200
    wait_ephemeral(web, "web", "busy", "running")
    r = web.request("DELETE", prune_path("web", "busy"))
    assert r.status == 409 and "still running" in r.json()["message"]
    r = web.request("DELETE", prune_path("web", "ghost"))
    assert r.status == 404 and r.json()["message"] == 'ephemeral container "ghost" not found in pod "web"'
    assert web.request("DELETE", prune_path("nope")).status == 404
    r = web.podctl("debug", "prune", "web")
    assert r.stdout == "ephemeral container a pruned\nephemeral container b pruned\n"
    assert "still running, not pruned: busy" in r.stderr
    pod = web.pod("web")
    assert [e["name"] for e in pod["spec"]["ephemeralContainers"]] == ["busy"]
    assert [s["name"] for s in pod["status"]["ephemeralContainerStatuses"]] == ["busy"]
    # A pruned name can be used again.
    assert web.podctl("debug", "web", "--name", "a", "--", "echo", "again").stdout == "again\n"
    assert app_state(web)[0] == 0


def test_the_pod_keeps_its_debug_containers_through_apply_and_label(web, tmp_path):
    web.podctl("debug", "web", "--name", "kept", "--", "true")
    before = app_state(web)
    # The manifest as first applied (no ephemeral containers): nothing to change, no restart.
    manifest = {k: v for k, v in web.pod("web").items() if k != "status"}
    manifest["spec"] = {k: v for k, v in manifest["spec"].items() if k != "ephemeralContainers"}
    manifest["metadata"] = {"name": "web"}
    path = tmp_path / "web.json"
    path.write_text(json.dumps(manifest))
    web.podctl("apply", "-f", str(path))
    web.podctl("label", "pod", "web", "debugged=yes")
    pod = web.pod("web")
    assert [e["name"] for e in pod["spec"]["ephemeralContainers"]] == ["kept"]
    assert pod["metadata"]["labels"]["debugged"] == "yes"
    assert app_state(web) == before
