"""exec and attach through the API (Kubernetes' v4/v5 WebSocket channel protocols) and
podctl exec: namespaces and root of the container, exit codes, streams, terminals, errors,
and sessions whose client goes away."""
import json
import os
import random
import signal
import subprocess
import time

import pytest

from harness import BIN, pod_manifest, wait_for, processes_with
from wsclient import HandshakeRefused, attach_session, exec_session


@pytest.fixture
def web(podd):
    """A running pod: app writes a file in its own root and sleeps; side is a second container."""
    r = podd.create(pod_manifest("web", [
        {"name": "app", "command": ["sh", "-c", "echo secret > /app-file; exec sleep 100000"],
         "env": [{"name": "GREETING", "value": "hello"}], "workingDir": "/tmp"},
        ("side", "exec sleep 100000"),
    ], terminationGracePeriodSeconds=0))
    assert r.status == 201, r.text
    podd.wait_running("web")
    return podd


def test_exec_runs_in_the_container_with_its_env_cwd_and_root(web):
    s = exec_session(web, "web", ["sh", "-c", "cat /app-file; echo $GREETING; pwd; hostname; echo oops >&2; exit 5"],
                     container="app")
    assert s.protocol == "v5.channel.k8s.io"
    s.read()
    assert s.text(1) == "secret\nhello\n/tmp\nweb\n"
    assert s.text(2) == "oops\n"
    assert s.status() == {"metadata": {}, "status": "Failure",
                          "message": "command terminated with non-zero exit code: error executing command "
                                     "[sh -c cat /app-file; echo $GREETING; pwd; hostname; echo oops >&2; exit 5], exit code 5",
                          "reason": "NonZeroExitCode",
                          "details": {"causes": [{"reason": "ExitCode", "message": "5"}]}}
    s.close()
    # The other container has its own root: no app-file there.
    s = exec_session(web, "web", ["sh", "-c", "test -e /app-file || echo absent"], container="side")
    s.read()
    assert s.text(1) == "absent\n" and s.status() == {"metadata": {}, "status": "Success"}
    s.close()
    pod = web.pod("web")
    assert [c["restartCount"] for c in pod["status"]["containerStatuses"]] == [0, 0]


def test_v4_stdin_and_v5_stdin_close(web):
    # v5: closing stdin ends cat.
    s = exec_session(web, "web", ["cat"], container="app", stdin=True)
    s.send(0, "line one\n")
    s.send(0, "line two\n")
    s.close_stdin()
    s.read()
    assert s.text(1) == "line one\nline two\n" and s.status()["status"] == "Success"
    s.close()
    # v4 has no stdin close; head ends by itself.
    s = exec_session(web, "web", ["head", "-n", "1"], container="app", stdin=True, protocols=("v4.channel.k8s.io",))
    assert s.protocol == "v4.channel.k8s.io"
    s.send(0, "only\nnot this\n")
    s.read()
    assert s.text(1) == "only\n" and s.status()["status"] == "Success"
    s.close()


def test_exec_with_a_tty_and_resizes(web):
    s = exec_session(web, "web", ["sh"], container="app", stdin=True, tty=True)
    s.resize(101, 33)
    s.send(0, "stty size; tty; exit 4\n")
    s.read()
    out = s.text(1).replace("\r", "")
    assert "33 101" in out and "/dev/pts/0" in out, out
    assert s.status()["details"]["causes"] == [{"reason": "ExitCode", "message": "4"}]
    s.close()


def test_exec_errors(web, podd):
    def refused(pod, command, **kw):
        with pytest.raises(HandshakeRefused) as e:
            exec_session(podd, pod, command, **kw)
        return e.value.status, e.value.json()

    status, body = refused("nope", ["true"])
    assert status == 404 and body["message"] == 'pods "nope" not found'
    status, body = refused("web", ["true"])
    assert status == 400 and body["message"] == "a container name must be specified for pod web, choose one of: [app side]"
    status, body = refused("web", ["true"], container="ghost")
    assert status == 400 and body["message"] == "container ghost is not valid for pod web"
    status, body = refused("web", [], container="app")
    assert status == 400 and "at least one command" in body["message"]
    status, body = refused("web", ["true"], container="app", protocols=("SPDY/3.1",))
    assert status == 400 and "v5.channel.k8s.io" in body["message"]
    # A plain request (no upgrade) says what it needs.
    r = podd.request("POST", "/api/v1/namespaces/default/pods/web/exec?container=app&command=true&stdout=true")
    assert r.status == 400 and "Upgrade request required" in r.json()["message"]
    # A command that is not there: the shell's 127, and why on stderr.
    s = exec_session(podd, "web", ["no-such-tool", "x"], container="app")
    s.read()
    assert "no-such-tool: executable file not found in $PATH" in s.text(2)
    assert s.status()["details"]["causes"][0]["message"] == "127"
    s.close()


def test_exec_refused_for_a_container_that_is_not_running(podd):
    podd.create(pod_manifest("done", [("once", "echo bye")], restartPolicy="Never"))
    podd.wait_phase("done", "Succeeded")
    with pytest.raises(HandshakeRefused) as e:
        exec_session(podd, "done", ["true"])
    assert e.value.status == 400
    assert e.value.json()["message"] == "cannot exec into a container in a completed pod; current phase is Succeeded"


def test_podctl_exec_exit_codes_streams_and_stdin(web):
    r = web.podctl("exec", "web", "-c", "app", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 5", check=False)
    assert (r.returncode, r.stdout, r.stderr) == (5, "to-out\n", "to-err\ncommand terminated with exit code 5\n")
    r = web.podctl("exec", "-i", "web", "-c", "app", "--", "tr", "a-z", "A-Z", input="shout\n")
    assert r.stdout == "SHOUT\n"
    # Without -c, kubectl's choice: the first container, said on stderr.
    r = web.podctl("exec", "web", "--", "hostname")
    assert r.stdout == "web\n" and 'Defaulted container "app" out of: app, side' in r.stderr


def test_client_that_goes_away_leaves_no_process(web):
    tag = str(random.randint(10**7, 10**8))
    for tty in (False, True):
        args = [str(BIN / "podctl"), "exec", "-i"] + (["-t"] if tty else []) + [
            "web", "-c", "app", "--", "sh", "-c", f"sleep 1{tag} & sleep 2{tag}"]
        env = dict(os.environ, PODD_SOCKET=web.socket)
        if tty:
            # A terminal for podctl's stdin, as -t wants.
            import pty
            master, slave = pty.openpty()
            client = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env)
            os.close(slave)
        else:
            client = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
        wait_for(lambda: len(processes_with(tag)) >= 2, what="the exec's processes")
        client.send_signal(signal.SIGKILL)
        client.wait()
        wait_for(lambda: not processes_with(tag), timeout=10, what="the exec's processes to be gone")
        if tty:
            os.close(master)
    # The app is untouched.
    pod = web.pod("web")
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    assert "running" in pod["status"]["containerStatuses"][0]["state"]


def test_jobs_in_process_groups_of_their_own_end_with_the_session(web):
    """A shell's jobs under job control have process groups of their own and keep the
    session: the monitor finds them by session id among the container's processes (its
    cgroup) and kills them when the session ends, whether the client went away or the
    command ended by itself. Nothing else of the container is touched."""
    tag = str(random.randint(10**7, 10**8))
    s = exec_session(web, "web", ["sh", "-c", f"set -m; sleep 1{tag} & echo started; sleep 2{tag}"],
                     container="app", stdin=True, tty=True)
    s.read(until=lambda s: "started" in s.text(1), timeout=20)
    # Until the job's child has called setpgid (and exec'd), it shows the shell's command
    # line in the shell's group: wait for the two groups rather than take the first sample.
    def groups():
        found = set()
        for pid in processes_with(tag):
            try:
                found.add(os.getpgid(pid))
            except ProcessLookupError:
                pass
        return found
    wait_for(lambda: len(groups()) == 2, timeout=10,
             what="the job in a process group of its own (set -m with a terminal)")
    s.close()
    wait_for(lambda: not processes_with(tag), timeout=10, what="the job and the command to be gone")

    s = exec_session(web, "web", ["sh", "-c", f"set -m; sleep 3{tag} & echo started"],
                     container="app", stdin=True, tty=True)
    s.read(timeout=20)
    assert s.status()["status"] == "Success", s.channels
    wait_for(lambda: not processes_with(tag), timeout=10, what="the job the command left to be gone")
    s.close()
    pod = web.pod("web")
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
    assert "running" in pod["status"]["containerStatuses"][0]["state"]


def test_attach_to_a_container_with_stdin_and_tty(podd):
    podd.create(pod_manifest("shell", [{"name": "sh", "command": ["sh"], "stdin": True, "tty": True}]))
    podd.wait_running("shell")
    s = attach_session(podd, "shell", stdin=True, tty=True)
    s.resize(90, 20)
    s.send(0, "stty size; echo attached\n")
    s.read(until=lambda s: "attached\r\n" in s.text(1).split("echo attached", 1)[-1])
    assert "20 90" in s.text(1)
    # Its output goes to its log too.
    wait_for(lambda: "attached" in podd.log("shell"), what="the attached output in the log")
    s.send(0, "exit 6\n")
    s.read()
    assert s.status()["details"]["causes"] == [{"reason": "ExitCode", "message": "6"}]
    s.close()
    # Attach with stdin to a container without stdin is refused, with why.
    podd.create(pod_manifest("plain", [("c", "exec sleep 100000")]))
    podd.wait_running("plain")
    with pytest.raises(HandshakeRefused) as e:
        attach_session(podd, "plain", stdin=True)
    assert e.value.status == 400 and "stdin: true" in e.value.json()["message"]
    # Without stdin it follows the output.
    podd.create(pod_manifest("ticker", [("c", "while true; do echo tick; sleep 0.1; done")]))
    podd.wait_running("ticker")
    s = attach_session(podd, "ticker")
    s.read(until=lambda s: s.text(1).count("tick") >= 2, timeout=10)
    assert s.text(1).startswith("tick\n")
    s.close()


def test_podctl_attach_with_stdin(podd):
    podd.create(pod_manifest("cat", [{"name": "c", "command": ["sh", "-c", "cat; echo end-of-input; exit 3"],
                                      "stdin": True, "stdinOnce": True}]))
    podd.wait_running("cat")
    r = podd.podctl("attach", "-i", "cat", input="fed through attach\n", check=False)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert r.stdout == "fed through attach\nend-of-input\n"


def test_one_session_too_many_is_told_429_not_a_server_error(podd):
    """A pod's monitor runs 64 exec and attach sessions at once; the 65th is a limit for the
    client to try again later (issue 9: 429, never a 5xx)."""
    podd.create(pod_manifest("busy", [("a", "sleep 3600")]))
    podd.wait_running("busy")
    held = [exec_session(podd, "busy", ["sleep", "61"]) for _ in range(64)]
    try:
        wait_for(lambda: len(processes_with("sleep\x0061\x00")) >= 64, timeout=30, what="64 sessions running")
        one_more = exec_session(podd, "busy", ["true"])
        one_more.read(timeout=20)
        status = one_more.status()
        assert status and status["code"] == 429 and status["reason"] == "TooManyRequests", status
        assert "too many exec and attach sessions in this pod (64)" in status["message"]
        one_more.close()
    finally:
        for s in held:
            s.close()
    # The sessions given back, an exec runs again.
    def runs():
        s = exec_session(podd, "busy", ["echo", "again"])
        s.read(timeout=20)
        s.close()
        return s.text(1) == "again\n"
    wait_for(runs, timeout=30, what="an exec once the sessions have ended")


def test_an_execd_command_is_in_the_containers_cgroups(podd):
    """On Kubernetes a command exec'd in a container is bound by that container's limits. On
    cgroup v1 (memory, cpu, pids beside a v2 hierarchy) the exec'd process stayed in the pod's
    groups, out of its container's memory limit (an audit wrote 64 MB from a 32Mi container)."""
    manifest = pod_manifest("limited", [("a", "sleep 3600"), ("b", "sleep 3600")])
    manifest["spec"]["containers"][0]["resources"] = {"limits": {"memory": "32Mi", "cpu": "500m"}}
    manifest["spec"]["containers"][1]["resources"] = {"limits": {"memory": "64Mi"}}
    podd.create(manifest)
    podd.wait_running("limited")
    for container in ("a", "b"):
        main = exec_session(podd, "limited", ["cat", "/proc/1/cgroup"], container=container)
        main.read(timeout=20)
        execd = exec_session(podd, "limited", ["cat", "/proc/self/cgroup"], container=container)
        execd.read(timeout=20)
        assert execd.status()["status"] == "Success", execd.status()
        # Both read "/" on every hierarchy (the container's cgroup namespace is rooted at its
        # groups); a process left in the pod's group would read "/.." there.
        assert main.text(1) and execd.text(1) == main.text(1), (container, main.text(1), execd.text(1))
        assert "/.." not in execd.text(1), execd.text(1)
