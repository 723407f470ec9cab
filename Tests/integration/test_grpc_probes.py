"""gRPC probes against a real gRPC server (grpcio and its grpc.health.v1 service, from PyPI),
run in the pod's network namespace, as kubelet's prober makes them: SERVING passes; NOT_SERVING,
an unknown service, a server without the health service and no server at all fail, each with
kubelet's message in the pod's Unhealthy events."""
import subprocess
import sys
import textwrap

import pytest

from harness import pod_manifest, wait_for
from kubectl_fixture import kubectl  # noqa: F401  (fixture)

pytest.importorskip("grpc", reason="grpcio is not installed (scripts/install-deps.sh installs it): gRPC probes untested")
pytest.importorskip("grpc_health.v1.health", reason="grpcio-health-checking is not installed: gRPC probes untested")

# A gRPC server on 127.0.0.1:PORT: with the health service (MODE health) or without any
# (MODE bare). Each stdin line `SERVICE STATUS` sets a service's status (`-` is the server as a
# whole); each call's user-agent is printed as `ua: ...`.
SERVER = textwrap.dedent("""
    import sys
    from concurrent import futures
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    class Seen(grpc.ServerInterceptor):
        def intercept_service(self, continuation, details):
            agent = dict(details.invocation_metadata).get("user-agent", "")
            print("ua: " + agent + " " + details.method, flush=True)
            return continuation(details)

    port, mode = sys.argv[1], sys.argv[2]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), interceptors=[Seen()])
    servicer = health.HealthServicer()
    if mode == "health":
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port("127.0.0.1:" + port)
    server.start()
    print("listening", flush=True)
    for line in sys.stdin:
        service, status = line.split()
        servicer.set("" if service == "-" else service, getattr(health_pb2.HealthCheckResponse, status))
        print("set", flush=True)
""")


class PodServer:
    """The server above, started with nsenter in the pod's network namespace."""

    def __init__(self, podd, pod, port, mode="health"):
        self.proc = subprocess.Popen(podd.in_pod_network(pod) + [sys.executable, "-c", SERVER, str(port), mode],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lines = []
        self._expect("listening")

    def _expect(self, word):
        while True:
            line = self.proc.stdout.readline()
            assert line, f"the gRPC server ended before saying {word!r}"
            self.lines.append(line.strip())
            if line.strip() == word:
                return

    def set(self, service, status):
        self.proc.stdin.write(f"{service or '-'} {status}\n")
        self.proc.stdin.flush()
        self._expect("set")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def container(p, name):
    return next((s for s in p["status"].get("containerStatuses", []) if s["name"] == name), {})


def unhealthy(podd, pod, text):
    """The pod's Unhealthy event whose message contains `text`, or None."""
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    return next((e for e in events if e["reason"] == "Unhealthy" and e["involvedObject"]["name"] == pod
                 and text in e["message"]), None)


def probe(**grpc_action):
    return {"grpc": grpc_action, "periodSeconds": 1, "failureThreshold": 1}


def test_grpc_readiness_follows_the_serving_status(podd):
    m = pod_manifest("grpc-ready", [
        {"name": "app", "command": ["sleep", "3600"], "readinessProbe": probe(port=50051)},
        {"name": "named", "command": ["sleep", "3600"], "readinessProbe": probe(port=50051, service="example.v1.Store")},
    ], terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201
    podd.wait_running("grpc-ready")
    # No server yet: the dial blocks until the probe's timeout, as kubelet's.
    event = wait_for(lambda: unhealthy(podd, "grpc-ready", "failed to connect service"), timeout=20,
                     what="a failed connection's Unhealthy event")
    assert event["message"] == ('Readiness probe failed: timeout: failed to connect service "127.0.0.1:50051" '
                                'within 1s: context deadline exceeded'), event["message"]
    server = PodServer(podd, "grpc-ready", 50051)
    try:
        # The server as a whole is SERVING (the health service's default); the named service
        # is unknown to it: NotFound.
        wait_for(lambda: container(podd.pod("grpc-ready"), "app").get("ready"), timeout=20, what="app Ready")
        assert not container(podd.pod("grpc-ready"), "named").get("ready")
        event = wait_for(lambda: unhealthy(podd, "grpc-ready", "NotFound"), timeout=20, what="NotFound event")
        assert event["message"].startswith("Readiness probe failed: error: health rpc probe failed: rpc error: code = NotFound desc = "), event["message"]
        server.set("example.v1.Store", "SERVING")
        wait_for(lambda: container(podd.pod("grpc-ready"), "named").get("ready"), timeout=20, what="named Ready")
        wait_for(lambda: any(c["type"] == "Ready" and c["status"] == "True" for c in podd.pod("grpc-ready")["status"]["conditions"]),
                 timeout=10, what="pod Ready")
        server.set("", "NOT_SERVING")
        wait_for(lambda: not container(podd.pod("grpc-ready"), "app").get("ready"), timeout=20, what="app unready")
        event = wait_for(lambda: unhealthy(podd, "grpc-ready", "service unhealthy"), timeout=10, what="NOT_SERVING event")
        assert event["message"] == 'Readiness probe failed: service unhealthy (responded with "NOT_SERVING")'
        assert container(podd.pod("grpc-ready"), "named").get("ready")
        # What the server saw: kubelet's user agent calling the health service's Check.
        calls = [line for line in server.lines if line.startswith("ua: ")]
        assert calls and all(line.startswith("ua: kube-probe/1.32") and line.endswith(" /grpc.health.v1.Health/Check")
                             for line in calls), calls
    finally:
        server.stop()
    assert container(podd.pod("grpc-ready"), "app")["restartCount"] == 0


def test_grpc_probe_of_a_server_without_the_health_service(podd):
    m = pod_manifest("grpc-bare", [{"name": "app", "command": ["sleep", "3600"], "readinessProbe": probe(port=7000)}],
                     terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201
    podd.wait_running("grpc-bare")
    server = PodServer(podd, "grpc-bare", 7000, mode="bare")
    try:
        event = wait_for(lambda: unhealthy(podd, "grpc-bare", "does not implement"), timeout=20, what="Unimplemented event")
        assert event["message"].startswith("Readiness probe failed: error: this server does not implement the grpc "
                                           "health protocol (grpc.health.v1.Health): "), event["message"]
        assert not container(podd.pod("grpc-bare"), "app").get("ready")
    finally:
        server.stop()


def test_grpc_liveness_failure_restarts_and_startup_passes(podd):
    m = pod_manifest("grpc-live", [{
        "name": "app", "command": ["sleep", "3600"],
        "startupProbe": {"grpc": {"port": 9090}, "periodSeconds": 1, "failureThreshold": 30},
        "livenessProbe": {"grpc": {"port": 9090}, "periodSeconds": 1, "failureThreshold": 2},
    }], terminationGracePeriodSeconds=1)
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    assert podd.create(m).status == 201
    podd.wait_running("grpc-live")
    server = PodServer(podd, "grpc-live", 9090)
    try:
        wait_for(lambda: container(podd.pod("grpc-live"), "app").get("started"), timeout=20, what="started (startup probe)")
        server.set("", "NOT_SERVING")
        wait_for(lambda: container(podd.pod("grpc-live"), "app").get("restartCount", 0) >= 1, timeout=30,
                 what="the liveness failure to restart the container")
        assert unhealthy(podd, "grpc-live", 'Liveness probe failed: service unhealthy (responded with "NOT_SERVING")')
        events = podd.get("/api/v1/namespaces/default/events").json()["items"]
        assert any(e["reason"] == "Killing" and "failed liveness probe" in e["message"] for e in events), \
            [e["message"] for e in events if e["reason"] == "Killing"]
    finally:
        server.stop()


def test_grpc_probes_read_back_as_the_api_server_defaults_them(podd, kubectl):
    """`service` is stored as "" when left out, as the API server defaults it: kubectl
    describe dereferences it (a pod without it made kubectl panic)."""
    m = pod_manifest("grpc-shown", [{"name": "app", "command": ["sleep", "3600"], "livenessProbe": {"grpc": {"port": 50051},
                                                                                                      "initialDelaySeconds": 3600}}],
                     terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201
    assert podd.pod("grpc-shown")["spec"]["containers"][0]["livenessProbe"]["grpc"] == {"port": 50051, "service": ""}
    for described in (kubectl.run("describe", "pod", "grpc-shown").stdout, podd.podctl("describe", "pod", "grpc-shown").stdout):
        line = next(line for line in described.splitlines() if "Liveness:" in line)
        assert line.split()[1:3] == ["grpc", "<pod>:50051"] and "delay=3600s" in line, described
