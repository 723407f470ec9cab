"""Probes and lifecycle hooks against the real daemon, with busybox servers inside the pod."""
import time

from harness import pod_manifest, wait_for

HTTPD = "mkdir -p /www && echo ok > /www/index.html && httpd -p 127.0.0.1:8080 -h /www"
UPTIME = "read u x < /proc/uptime; echo $u"


def status(p, name, kind="containerStatuses"):
    return next((s for s in p["status"].get(kind, []) if s["name"] == name), {})


def cond(p, t):
    return next(c["status"] for c in p["status"]["conditions"] if c["type"] == t)


def test_readiness_http_probe_flips_ready(podd):
    # The app serves /ready from second 2 to second 7 of its life.
    m = pod_manifest("ready", [{
        "name": "web",
        "command": ["sh", "-c", f"{HTTPD}; sleep 2; echo yes > /www/ready; sleep 5; rm /www/ready; sleep 3600"],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1},
    }])
    podd.create(m)
    p = podd.wait_running("ready")
    assert status(p, "web")["ready"] is False and cond(p, "Ready") == "False"
    wait_for(lambda: cond(podd.pod("ready"), "Ready") == "True", timeout=15, what="Ready True")
    assert status(podd.pod("ready"), "web")["ready"] is True
    wait_for(lambda: cond(podd.pod("ready"), "Ready") == "False", timeout=15, what="Ready back to False")
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    assert any(e["reason"] == "Unhealthy" and "Readiness probe failed" in e["message"] for e in events)
    assert status(podd.pod("ready"), "web")["restartCount"] == 0


def test_tcp_readiness_against_a_server_in_the_pod(podd):
    m = pod_manifest("tcp", [
        {"name": "server", "command": ["sh", "-c", f"{HTTPD}; sleep 3600"]},
        {"name": "client", "command": ["sh", "-c", "sleep 3600"],
         "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}},
    ])
    podd.create(m)
    wait_for(lambda: status(podd.pod("tcp"), "client").get("ready"), timeout=15, what="tcp probe to pass")


def test_liveness_failure_restarts_the_container(podd):
    m = pod_manifest("live", [{
        "name": "app", "command": ["sh", "-c", "sleep 3600"],
        "livenessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1, "failureThreshold": 2},
    }], terminationGracePeriodSeconds=1)
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    podd.create(m)
    wait_for(lambda: status(podd.pod("live"), "app").get("restartCount", 0) >= 1, timeout=30, what="liveness restart")
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    msgs = [e["message"] for e in events if e["involvedObject"]["name"] == "live"]
    assert any("Liveness probe failed" in m for m in msgs)
    assert any("failed liveness probe, will be restarted" in m for m in msgs)


def test_a_probes_own_grace_period_bounds_the_kill_it_causes(podd):
    """livenessProbe.terminationGracePeriodSeconds (Kubernetes' ProbeTerminationGracePeriod):
    the app ignores SIGTERM, the pod's grace period is 120 s and the probe's 1 s, so the failed
    probe's SIGKILL comes a second after its SIGTERM, not two minutes; a deletion still has the
    pod's. It was refused ("not supported by podd")."""
    m = pod_manifest("probegrace", [{
        "name": "app", "command": ["sh", "-c", "trap '' TERM; while true; do sleep 0.2; done"],
        "livenessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1, "failureThreshold": 1, "terminationGracePeriodSeconds": 1},
    }], terminationGracePeriodSeconds=120)
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    assert podd.create(m).status == 201
    p = wait_for(lambda: (p := podd.pod("probegrace")) and status(p, "app").get("restartCount", 0) >= 1 and p,
                 timeout=40, what="the liveness kill within the probe's grace period")
    assert p["spec"]["containers"][0]["livenessProbe"]["terminationGracePeriodSeconds"] == 1
    assert status(p, "app")["lastState"]["terminated"]["exitCode"] == 137
    bad = pod_manifest("badgrace", [{"name": "app", "command": ["sleep", "1"],
                                     "readinessProbe": {"tcpSocket": {"port": 1}, "terminationGracePeriodSeconds": 3},
                                     "livenessProbe": {"tcpSocket": {"port": 1}, "terminationGracePeriodSeconds": 0}}])
    r = podd.create(bad)
    fields = {c["field"] for c in r.json()["details"]["causes"]}
    assert r.status == 422 and fields == {"spec.containers[0].readinessProbe.terminationGracePeriodSeconds",
                                          "spec.containers[0].livenessProbe.terminationGracePeriodSeconds"}, r.text


def test_startup_probe_gates_liveness_and_started(podd):
    # Serves only after 3 s; liveness would kill it before that if startup did not gate it.
    m = pod_manifest("startup", [{
        "name": "app",
        "command": ["sh", "-c", f"sleep 3; {HTTPD}; sleep 3600"],
        "startupProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1, "failureThreshold": 10},
        "livenessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1},
    }])
    podd.create(m)
    p = podd.wait_running("startup")
    assert status(p, "app")["started"] is False
    wait_for(lambda: status(podd.pod("startup"), "app")["started"] is True, timeout=20, what="startup probe to pass")
    time.sleep(2)
    assert status(podd.pod("startup"), "app")["restartCount"] == 0


def test_sidecar_with_startup_probe_starts_before_app(podd):
    out = podd.root / "order"
    out.mkdir()
    m = pod_manifest("sc-startup", [("app", f"{UPTIME} > /t/app; sleep 3600")])
    m["spec"]["volumes"] = [{"name": "t", "hostPath": {"path": str(out)}}]
    m["spec"]["initContainers"] = [{
        "name": "proxy", "image": "busybox", "restartPolicy": "Always",
        # Stamped before httpd serves: once it does, the probe may pass and the app start
        # before this shell has run again. /proc/uptime counts in 10 ms: the 50 ms between the
        # stamp and httpd keep an app started within a tick of the probe's pass (podd's
        # start is about that fast) from stamping the same time.
        "command": ["sh", "-c", f"sleep 2; {UPTIME} > /t/proxy; sleep 0.05; {HTTPD}; sleep 3600"],
        "startupProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1, "failureThreshold": 30},
    }]
    for c in m["spec"]["initContainers"] + m["spec"]["containers"]:
        c["volumeMounts"] = [{"name": "t", "mountPath": "/t"}]
    podd.create(m)
    wait_for(lambda: (out / "app").exists() and (out / "app").read_text().strip(), timeout=30, what="app started")
    assert float((out / "proxy").read_text()) < float((out / "app").read_text())


def test_poststart_finishes_before_running_and_before_next_container(podd):
    out = podd.root / "hooks"
    out.mkdir()
    m = pod_manifest("post", [("app", f"{UPTIME} > /t/app; sleep 3600")])
    m["spec"]["volumes"] = [{"name": "t", "hostPath": {"path": str(out)}}]
    m["spec"]["initContainers"] = [{
        "name": "side", "image": "busybox", "restartPolicy": "Always",
        "command": ["sh", "-c", f"{UPTIME} > /t/side; sleep 3600"],
        "lifecycle": {"postStart": {"sleep": {"seconds": 2}}},
    }]
    for c in m["spec"]["initContainers"] + m["spec"]["containers"]:
        c["volumeMounts"] = [{"name": "t", "mountPath": "/t"}]
    podd.create(m)
    time.sleep(1)
    p = podd.pod("post")
    assert "running" not in status(p, "side", "initContainerStatuses")["state"]
    wait_for(lambda: (out / "app").exists() and (out / "app").read_text().strip(), timeout=20, what="app started")
    assert float((out / "app").read_text()) - float((out / "side").read_text()) >= 1.8


def test_failed_poststart_kills_the_container(podd):
    m = pod_manifest("badpost", [{
        "name": "app", "command": ["sh", "-c", "sleep 3600"],
        "lifecycle": {"postStart": {"httpGet": {"path": "/", "port": 9}}},
    }], restartPolicy="Never", terminationGracePeriodSeconds=1)
    podd.create(m)
    p = podd.wait_phase("badpost", "Failed", timeout=20)
    assert status(p, "app")["state"]["terminated"]["reason"] == "PostStartHookError"
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    assert any(e["reason"] == "FailedPostStartHook" for e in events)


def test_prestop_runs_before_sigterm(podd):
    out = podd.root / "prestop"
    out.mkdir()
    m = pod_manifest("pre", [{
        "name": "app",
        "command": ["sh", "-c", f"{HTTPD}; trap '{UPTIME} > /t/term; exit 0' TERM; while true; do sleep 0.1; done"],
        "lifecycle": {"preStop": {"sleep": {"seconds": 2}}},
        "volumeMounts": [{"name": "t", "mountPath": "/t"}],
    }], shareProcessNamespace=True)
    m["spec"]["volumes"] = [{"name": "t", "hostPath": {"path": str(out)}}]
    podd.create(m)
    podd.wait_running("pre")
    t0 = float(open("/proc/uptime").read().split()[0])
    podd.request("DELETE", "/api/v1/namespaces/default/pods/pre?gracePeriodSeconds=10")
    podd.wait_gone("pre", timeout=20)
    assert float((out / "term").read_text()) - t0 >= 1.8


def test_exec_liveness_probe_as_in_kubernetes_docs(podd):
    # Kubernetes' liveness-exec example: healthy for a while, then `cat` fails and the
    # container is restarted.
    m = pod_manifest("liveness-exec", [{
        "name": "liveness",
        "command": ["sh", "-c", "touch /tmp/healthy; sleep 3; rm -f /tmp/healthy; sleep 3600"],
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 1, "periodSeconds": 1, "failureThreshold": 1},
    }], terminationGracePeriodSeconds=1)
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    podd.create(m)
    p = podd.wait_running("liveness-exec")
    time.sleep(1.5)
    assert status(podd.pod("liveness-exec"), "liveness")["restartCount"] == 0   # healthy while the file is there
    wait_for(lambda: status(podd.pod("liveness-exec"), "liveness").get("restartCount", 0) >= 1, timeout=30,
             what="restart after the exec probe fails")
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    assert any("Liveness probe failed" in e["message"] and "cat" in e["message"] for e in events)


def test_an_exec_probe_that_writes_megabytes_runs_to_its_end_and_its_message_is_cut(podd):
    # Past the first 10 KiB, what a probe writes is discarded (spliced to /dev/null by podd,
    # paced), not refused: a probe writing 20 MB and then failing runs to its end (the
    # marker file), as under kubelet, and the event keeps the head of its output only.
    m = pod_manifest("chatty", [{
        "name": "c", "command": ["sleep", "3600"],
        "readinessProbe": {"exec": {"command": ["sh", "-c", "echo HEAD; yes | head -c 20000000; touch /tmp/ran-to-end; exit 3"]},
                           "periodSeconds": 1, "timeoutSeconds": 20},
    }], terminationGracePeriodSeconds=0)
    podd.create(m)
    podd.wait_running("chatty")

    def failed_event():
        events = podd.get("/api/v1/namespaces/default/events").json()["items"]
        return next((e for e in events if e["involvedObject"]["name"] == "chatty" and "Readiness probe failed" in e["message"]), None)
    event = wait_for(failed_event, timeout=60, what="the probe's failure event")
    assert "exited with 3: HEAD\n" in event["message"], event["message"][:300]
    assert len(event["message"]) < 12 << 10, len(event["message"])
    assert podd.podctl("exec", "chatty", "--", "test", "-e", "/tmp/ran-to-end", check=False).returncode == 0
    assert cond(podd.pod("chatty"), "Ready") == "False"


def test_a_probes_terminal_escapes_reach_podctl_output_only_visibly(podd):
    # What a container writes reaches event messages; podctl describe and events print ESC
    # as ^[ (kubectl's escaping), so a pod cannot clear or retitle the reader's terminal.
    m = pod_manifest("escapes", [{
        "name": "c", "command": ["sleep", "3600"],
        "readinessProbe": {"exec": {"command": ["sh", "-c", r"printf '\033[2J\033]0;owned\007gotcha'; exit 1"]},
                           "periodSeconds": 1},
    }], terminationGracePeriodSeconds=0)
    podd.create(m)
    podd.wait_running("escapes")
    wait_for(lambda: "gotcha" in podd.podctl("get", "events").stdout, timeout=30, what="the probe's event")
    for args in (("describe", "pod", "escapes"), ("get", "events")):
        out = podd.podctl(*args).stdout
        assert "^[[2J^[]0;owned^Ggotcha" in out, out
        assert "\x1b" not in out and "\x07" not in out, out


def test_exec_poststart_and_prestop_run_in_the_container(podd):
    out = podd.root / "exechooks"
    out.mkdir()
    m = pod_manifest("exechooks", [{
        "name": "app",
        "command": ["sh", "-c", "while [ ! -f /tmp/poststart ]; do sleep 0.05; done; cat /tmp/poststart; "
                                "trap 'exit 0' TERM; while true; do sleep 0.1; done"],
        "lifecycle": {"postStart": {"exec": {"command": ["sh", "-c", "hostname > /tmp/poststart"]}},
                      "preStop": {"exec": {"command": ["sh", "-c", "echo prestop-ran > /t/prestop"]}}},
        "volumeMounts": [{"name": "t", "mountPath": "/t"}],
    }], shareProcessNamespace=True, volumes=[{"name": "t", "hostPath": {"path": str(out)}}])
    podd.create(m)
    assert wait_for(lambda: podd.log("exechooks", "app"), timeout=20) == "exechooks\n"
    podd.request("DELETE", "/api/v1/namespaces/default/pods/exechooks?gracePeriodSeconds=5")
    podd.wait_gone("exechooks", timeout=20)
    assert (out / "prestop").read_text() == "prestop-ran\n"

