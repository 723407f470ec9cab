"""Port-forward into a pod (issue 11) with real clients: kubectl 1.32 (SPDY/3.1 tunnelled in a
WebSocket), an old kubectl 1.20 (plain SPDY/3.1, also for exec and attach, issue 13), podctl
and the Python client (v4.channel.k8s.io WebSocket). The pod serves a 10 MB file and a CGI
that checksums what is posted to it (busybox httpd, on the pod's loopback only: pods have no
IP here), so every transfer is checked end to end; a port nobody listens on gives kubelet's
error and the forward goes on serving."""
import hashlib
import http.client
import os
import select
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from harness import BIN, pod_manifest, wait_for

KUBECTL = shutil.which("kubectl")
OLD_KUBECTL = "/var/cache/podd-test/kubectl-1.20"
SIZE = 10 << 20
SERVER = (
    "mkdir -p /www/cgi-bin"
    " && dd if=/dev/urandom of=/www/big bs=1048576 count=10 2>/dev/null"
    " && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\nhead -c $CONTENT_LENGTH | sha256sum\\n'"
    " > /www/cgi-bin/sum && chmod +x /www/cgi-bin/sum && touch /www/ready"
    " && exec httpd -f -p 127.0.0.1:8080 -h /www"
)


class UnixRelay:
    """A local TCP port relayed to podd's Unix socket, as kubectl needs an http:// server
    (socat when the machine has it, else a small Python relay)."""

    def __init__(self, unix_path):
        self.port = free_port()
        self.proc = None
        self.listener = None
        if shutil.which("socat"):
            self.proc = subprocess.Popen(
                ["socat", f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork", f"UNIX-CONNECT:{unix_path}"])
            wait_for(lambda: socket.create_connection(("127.0.0.1", self.port), timeout=1).close() or True,
                     what="socat listening")
            return
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(unix_path,), daemon=True).start()

    def _accept(self, unix_path):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(unix_path)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._copy, args=(a, b), daemon=True).start()

    @staticmethod
    def _copy(a, b):
        try:
            while data := a.recv(1 << 16):
                b.sendall(data)
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
        if self.listener:
            self.listener.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web(podd):
    podd.create(pod_manifest("web", [{"name": "web", "image": "busybox", "command": ["sh", "-c", SERVER]}]))
    podd.wait_running("web")
    wait_for(lambda: podd.podctl("exec", "web", "--", "test", "-f", "/www/ready", check=False).returncode == 0,
             what="the pod's server ready")
    return podd


@pytest.fixture
def kubeconfig(podd, tmp_path):
    relay = UnixRelay(podd.socket)
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: podd, cluster: {{server: "http://127.0.0.1:{relay.port}"}}}}]
contexts: [{{name: podd, context: {{cluster: podd, user: me, namespace: default}}}}]
users: [{{name: me, user: {{}}}}]
current-context: podd
""")
    yield path
    relay.close()


def checksum(podd, path):
    return podd.podctl("exec", "web", "--", "sha256sum", path).stdout.split()[0]


def download(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/big")
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.status == 200, (response.status, body[:200])
    return body


def upload(port, payload):
    """Posts `payload` to the pod's CGI, which answers with its sha256."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/cgi-bin/sum", body=payload, headers={"Content-Type": "application/octet-stream"})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    assert response.status == 200, (response.status, body[:200])
    return body.split()[0]


class Forward:
    """A port-forward process (kubectl's or podctl's), read until it says it forwards."""

    def __init__(self, argv, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.out = b""
        self.err = b""
        deadline = time.monotonic() + 30
        while b"Forwarding from" not in self.out:
            assert self.proc.poll() is None or self._drain(), f"port-forward exited: {self.out!r} {self.err!r}"
            if time.monotonic() > deadline:
                raise AssertionError(f"port-forward never said it forwards: {self.out!r} {self.err!r}")
            self._drain(0.2)

    def _drain(self, timeout=0.0):
        ready, _, _ = select.select([self.proc.stdout, self.proc.stderr], [], [], timeout)
        got = False
        for stream in ready:
            data = os.read(stream.fileno(), 65536)
            got = got or bool(data)
            if stream is self.proc.stdout:
                self.out += data
            else:
                self.err += data
        return got

    def wait_err(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while text.encode() not in self.err and time.monotonic() < deadline:
            self._drain(0.2)
        return text.encode() in self.err

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._drain()


def refused(port):
    """Connects to a forwarded port whose pod side nobody listens on: the forward closes it
    without a byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.settimeout(30)
        return s.recv(100)


def exercise(podd, port, parallel=4):
    """The 10 MB file intact, several downloads at once, and a 10 MB upload intact."""
    expected = checksum(podd, "/www/big")
    assert hashlib.sha256(download(port)).hexdigest() == expected
    results = [None] * parallel

    def fetch(i):
        results[i] = hashlib.sha256(download(port)).hexdigest()

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == [expected] * parallel
    payload = os.urandom(SIZE)
    assert upload(port, payload) == hashlib.sha256(payload).hexdigest()


@pytest.mark.skipif(not KUBECTL, reason="needs kubectl (scripts/install-deps.sh installs Debian's kubernetes-client)")
def test_kubectl_port_forward(web, kubeconfig):
    local, dead = free_port(), free_port()
    forward = Forward([KUBECTL, "--kubeconfig", str(kubeconfig), "port-forward", "pod/web", f"{local}:8080", f"{dead}:81"])
    try:
        assert f"Forwarding from 127.0.0.1:{local} -> 8080".encode() in forward.out
        exercise(web, local)
        # Nobody listens on 81 in the pod: kubelet's error reaches kubectl, which prints it.
        assert refused(dead) == b""
        assert forward.wait_err("error forwarding port 81 to pod web_default"), forward.err
        assert b"connect: connection refused" in forward.err
        # kubectl since 1.29 (client-go) closes its whole connection after any error on an
        # error stream and exits; podd's side goes on (test_old_kubectl_speaks_spdy, with a
        # kubectl that keeps its connection, shows it).
        if forward.proc.poll() is not None or forward.wait_err("lost connection to pod", timeout=5):
            assert b"lost connection to pod" in forward.err
        else:
            assert hashlib.sha256(download(local)).hexdigest() == checksum(web, "/www/big")
    finally:
        forward.stop()


def pod_side_owner(podd, port):
    """Who holds the pod's end of a forwarded connection: `ss` inside the pod's network
    namespace names the processes owning the sockets connected to 127.0.0.1:PORT."""
    out = subprocess.run(podd.in_pod_network("web") + ["ss", "-Htnp", "state", "established",
                          f"( dport = :{port} )"], capture_output=True, text=True, check=True).stdout
    return out


@pytest.mark.parametrize("path", ["handoff", "websocket"])
def test_podctl_port_forward(web, path):
    """podctl gets the pod's socket from podd and splices (podd out of the data path), or,
    with PODCTL_PORTFORWARD_HANDOFF=0 (its fallback), relays through the v4.channel WebSocket."""
    local, dead = free_port(), free_port()
    env = dict(os.environ, PODCTL_PORTFORWARD_HANDOFF="1" if path == "handoff" else "0")
    forward = Forward([str(BIN / "podctl"), "--socket", web.socket, "port-forward", "web", f"{local}:8080", f"{dead}:81"],
                      env=env)
    try:
        assert f"Forwarding from 127.0.0.1:{local} -> 8080".encode() in forward.out
        # An open connection shows who holds the pod's end: podctl itself, or podd.
        with socket.create_connection(("127.0.0.1", local), timeout=30) as held:
            held.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n")
            holder, other = (forward.proc.pid, web.proc.pid) if path == "handoff" else (web.proc.pid, forward.proc.pid)
            wait_for(lambda: f"pid={holder}," in pod_side_owner(web, 8080), what=f"process {holder} holding the pod's end")
            assert f"pid={other}," not in pod_side_owner(web, 8080)
        exercise(web, local)
        assert refused(dead) == b""
        assert forward.wait_err("error forwarding port 81 to pod web_default"), forward.err
        # The forward goes on serving after the error.
        assert forward.proc.poll() is None
        assert hashlib.sha256(download(local)).hexdigest() == checksum(web, "/www/big")
    finally:
        forward.stop()


def test_podctl_port_forward_picks_a_free_port_and_refuses_bad_input(web):
    forward = Forward([str(BIN / "podctl"), "--socket", web.socket, "port-forward", "pod/web", ":8080"])
    try:
        line = forward.out.decode().splitlines()[0]
        assert line.startswith("Forwarding from 127.0.0.1:") and line.endswith(" -> 8080"), line
        port = int(line.split(":")[1].split()[0])
        assert port != 8080
        assert hashlib.sha256(download(port)).hexdigest() == checksum(web, "/www/big")
    finally:
        forward.stop()
    bad = web.podctl("port-forward", "web", "99999", check=False)
    assert bad.returncode == 1 and "99999" in bad.stderr
    missing = web.podctl("port-forward", "nope", "8080", check=False)
    assert missing.returncode == 1 and 'pods "nope" not found' in missing.stderr


def test_portforward_refusals_over_http(web):
    plain = web.request("GET", "/api/v1/namespaces/default/pods/web/portforward")
    assert plain.status == 400 and "Upgrade request required" in plain.json()["message"]
    assert web.request("GET", "/api/v1/namespaces/default/pods/nope/portforward").status == 404
    assert web.request("PUT", "/api/v1/namespaces/default/pods/web/portforward").status == 405


def test_python_client_port_forward(web):
    kubernetes = pytest.importorskip("kubernetes")
    from kubernetes.stream import portforward
    configuration = kubernetes.client.Configuration()
    relay = UnixRelay(web.socket)
    try:
        configuration.host = f"http://127.0.0.1:{relay.port}"
        api = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(configuration))
        pf = portforward(api.connect_get_namespaced_pod_portforward, "web", "default", ports="8080")
        sock = pf.socket(8080)
        sock.setblocking(True)
        sock.sendall(b"GET /big HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := sock.recv(1 << 16):
            data += chunk
        sock.close()
        assert pf.error(8080) is None
        body = data.split(b"\r\n\r\n", 1)[1]
        assert len(body) == SIZE
        assert hashlib.sha256(body).hexdigest() == checksum(web, "/www/big")
        pf.close()
        # A port nobody listens on: kubelet's message on the error channel.
        pf = portforward(api.connect_get_namespaced_pod_portforward, "web", "default", ports="81")
        wait_for(lambda: pf.error(81), what="the error channel's message")
        assert "error forwarding port 81 to pod web_default" in pf.error(81)
        pf.close()
    finally:
        relay.close()


@pytest.mark.skipif(not os.access(OLD_KUBECTL, os.X_OK),
                    reason=f"needs an old kubectl at {OLD_KUBECTL} (scripts/install-deps.sh unpacks Debian's 1.20 there)")
def test_old_kubectl_speaks_spdy(web, kubeconfig):
    base = [OLD_KUBECTL, "--kubeconfig", str(kubeconfig)]
    local, dead = free_port(), free_port()
    forward = Forward(base + ["port-forward", "pod/web", f"{local}:8080", f"{dead}:81"])
    try:
        exercise(web, local, parallel=2)
        # A port nobody listens on: kubelet's error, and the same SPDY connection goes on
        # serving the other port.
        assert refused(dead) == b""
        assert forward.wait_err("error forwarding port 81 to pod web_default"), forward.err
        assert forward.proc.poll() is None
        assert hashlib.sha256(download(local)).hexdigest() == checksum(web, "/www/big")
    finally:
        forward.stop()
    # exec over SPDY/3.1: output, stdin, and the exit code relayed.
    done = subprocess.run(base + ["exec", "web", "--", "sh", "-c", "echo out; echo err >&2; exit 7"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 7, done
    assert done.stdout == "out\n" and "err" in done.stderr
    echoed = subprocess.run(base + ["exec", "-i", "web", "--", "sha256sum"], input=b"hello\n",
                            capture_output=True, timeout=60)
    assert echoed.returncode == 0, echoed
    assert echoed.stdout.split()[0].decode() == hashlib.sha256(b"hello\n").hexdigest()
    # attach: the container's output as it is written.
    web.create(pod_manifest("talker", [{"name": "talker", "image": "busybox", "command": [
        "sh", "-c", "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done"]}]))
    web.wait_running("talker")
    attach = subprocess.Popen(base + ["attach", "talker"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = attach.stdout.readline()
        assert line.startswith(b"tick "), line
    finally:
        attach.kill()
        attach.wait()


def handoff_request(podd, name, ports="8080"):
    return podd.request("POST", f"/api/v1/namespaces/default/pods/web/portforward?ports={ports}",
                        headers={"X-Podd-Portforward-Handoff": name})


def abstract_listener(name):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + name)
    listener.listen(1)
    return listener


def test_portforward_handoff_passes_the_pods_socket_to_its_caller_only(web):
    """The handoff (docs/portforward-handoff.md) as a client other than podctl sees it: the
    connected socket arrives on the caller's abstract socket and reaches the pod's server; a
    socket owned by another process gets nothing (403), a bad name or an unreachable socket is
    400, and a port nobody listens on is 503 with kubelet's message."""
    name = f"test-handoff-{os.getpid()}"
    with abstract_listener(name) as listener:
        answer = handoff_request(web, name)
        assert answer.status == 200 and answer.json()["status"] == "Success", answer.body
        carrier, _ = listener.accept()
        with carrier:
            _, fds, _, _ = socket.recv_fds(carrier, 1, 1)
        assert len(fds) == 1
        with socket.socket(fileno=fds[0]) as pod:
            pod.setblocking(True)
            pod.sendall(b"GET /big HTTP/1.0\r\n\r\n")
            data = b""
            while chunk := pod.recv(1 << 16):
                data += chunk
        assert hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).hexdigest() == checksum(web, "/www/big")

        # A port nobody listens on: kubelet's words, and nothing arrives.
        dead = handoff_request(web, name, ports="81")
        assert dead.status == 503 and "error forwarding port 81 to pod web_default" in dead.json()["message"], dead.body
        # One connection per handoff.
        assert handoff_request(web, name, ports="8080,8081").status == 400

    # Another process's socket: refused before the pod is dialled.
    other = subprocess.Popen(["python3", "-c", "import socket, sys, time\n"
                              "s = socket.socket(socket.AF_UNIX); s.bind('\\0' + sys.argv[1]); s.listen(1)\n"
                              "print('ready', flush=True); time.sleep(60)", f"{name}-other"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "ready"
        stolen = handoff_request(web, f"{name}-other")
        assert stolen.status == 403 and "not to the caller" in stolen.json()["message"], stolen.body
    finally:
        other.kill()
        other.wait()
    # Nobody listens on the name, and a name podctl would never make.
    assert handoff_request(web, f"{name}-gone").status == 400
    assert handoff_request(web, "bad/name").status == 400
    assert handoff_request(web, name).status == 400
    # The pod's server still serves (nothing was left half-done).
    forward = Forward([str(BIN / "podctl"), "--socket", web.socket, "port-forward", "web", f"{free_port()}:8080"])
    try:
        port = int(forward.out.decode().split("127.0.0.1:")[1].split()[0])
        assert hashlib.sha256(download(port)).hexdigest() == checksum(web, "/www/big")
    finally:
        forward.stop()
