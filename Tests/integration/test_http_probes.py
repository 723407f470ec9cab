"""httpGet probes and hooks through podd's NIO client, as kubelet's prober makes them:
User-Agent kube-probe/1.32, Accept */*, the probe's headers and Host, redirects to the same
host followed, to another host not (a warning: success), status codes 2xx-3xx succeed."""
from harness import pod_manifest, wait_for

CGI = ("mkdir -p /www/cgi-bin; "
       "printf '#!/bin/sh\\necho \"$HTTP_USER_AGENT|$HTTP_HOST|$HTTP_X_CUSTOM|$HTTP_ACCEPT\" >> /tmp/seen\\n"
       "printf \"Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nok\\\\n\"\\n' > /www/cgi-bin/rec; "
       "printf '#!/bin/sh\\nprintf \"Status: 302 Found\\\\r\\\\nLocation: /cgi-bin/rec\\\\r\\\\n\\\\r\\\\n\"\\n' > /www/cgi-bin/redir; "
       "printf '#!/bin/sh\\nprintf \"Status: 302 Found\\\\r\\\\nLocation: http://192.0.2.1:9/away\\\\r\\\\n\\\\r\\\\n\"\\n' > /www/cgi-bin/away; "
       "printf '#!/bin/sh\\nprintf \"Status: 503 Unavailable\\\\r\\\\n\\\\r\\\\nno\\\\n\"\\n' > /www/cgi-bin/down; "
       "chmod +x /www/cgi-bin/*; httpd -p 127.0.0.1:8080 -h /www; exec sleep 100000")


def ready(p, name):
    return next((s.get("ready") for s in p["status"].get("containerStatuses", []) if s["name"] == name), False)


def test_probe_request_and_redirects(podd):
    probe = lambda path, **extra: {"httpGet": {"path": path, "port": 8080, **extra}, "periodSeconds": 1}
    m = pod_manifest("probed", [
        {"name": "web", "command": ["sh", "-c", CGI],
         "readinessProbe": probe("/cgi-bin/redir", httpHeaders=[{"name": "X-Custom", "value": "v1"},
                                                               {"name": "Host", "value": "example.test"}])},
        {"name": "away", "command": ["sh", "-c", "exec sleep 100000"], "readinessProbe": probe("/cgi-bin/away")},
        {"name": "down", "command": ["sh", "-c", "exec sleep 100000"], "readinessProbe": probe("/cgi-bin/down")},
    ], terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201
    wait_for(lambda: ready(podd.pod("probed"), "web") and ready(podd.pod("probed"), "away"), timeout=30,
             what="the redirected probes to pass")
    seen = podd.podctl("exec", "probed", "-c", "web", "--", "cat", "/tmp/seen").stdout.splitlines()
    assert seen and seen[0] == "kube-probe/1.32|example.test|v1|*/*", seen
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    wait_for(lambda: any(e["reason"] == "Unhealthy" and "statuscode: 503" in e["message"]
                         for e in podd.get("/api/v1/namespaces/default/events").json()["items"]),
             what="the 503 probe to fail")
    assert not ready(podd.pod("probed"), "down")


# An HTTPS server (a self-signed certificate) on 127.0.0.1:8443 and an HTTP one on :8080
# whose /to-tls redirects to https://127.0.0.1:8443/healthz; /down answers 503, the rest 200.
# Each request is printed as `SCHEME PATH USER-AGENT`.
TLS_SERVER = """
import http.server, ssl, sys, threading
cert = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        scheme = "https" if self.server.server_port == 8443 else "http"
        # One write a line: the two servers' threads print side by side.
        sys.stdout.write(f"{scheme} {self.path} {self.headers.get('User-Agent')}\\n"); sys.stdout.flush()
        if self.path == "/to-tls":
            self.send_response(302); self.send_header("Location", "https://127.0.0.1:8443/healthz")
        else:
            self.send_response(503 if self.path == "/down" else 200)
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *args):
        pass
tls = http.server.ThreadingHTTPServer(("127.0.0.1", 8443), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, cert)
tls.socket = context.wrap_socket(tls.socket, server_side=True)
plain = http.server.ThreadingHTTPServer(("127.0.0.1", 8080), Handler)
threading.Thread(target=plain.serve_forever, daemon=True).start()
print("listening", flush=True)
tls.serve_forever()
"""


def test_https_probes_and_hooks_skip_certificate_checks(podd, tmp_path):
    """scheme: HTTPS as kubelet speaks it: TLS that takes any certificate (here a self-signed
    one), for probes and hooks alike, and redirects between http and https followed."""
    import subprocess
    import sys
    cert = tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=web.example",
                    "-keyout", str(cert), "-out", str(cert)], check=True, capture_output=True)
    tls = lambda path, **extra: {"httpGet": {"path": path, "port": 8443, "scheme": "HTTPS", **extra}, "periodSeconds": 1}
    m = pod_manifest("tls", [
        {"name": "tls", "command": ["sleep", "100000"], "readinessProbe": tls("/healthz"),
         "lifecycle": {"postStart": {"httpGet": {"path": "/hook", "port": 8443, "scheme": "HTTPS"}}}},
        {"name": "hop", "command": ["sleep", "100000"],
         "readinessProbe": {"httpGet": {"path": "/to-tls", "port": 8080}, "periodSeconds": 1}},
        {"name": "down", "command": ["sleep", "100000"], "readinessProbe": tls("/down")},
        # Plain HTTP to the TLS port: the server's TLS alert, never a success.
        {"name": "plain", "command": ["sleep", "100000"],
         "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8443}, "periodSeconds": 1}},
    ], initContainers=[{"name": "wait", "image": "busybox", "command": ["sleep", "3"]}], terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201
    # The server starts in the pod's network namespace while the init container sleeps, so
    # that the postStart hook finds it.
    wait_for(lambda: podd.pod("tls")["metadata"].get("uid") and
             (podd.run_dir / "pods" / podd.pod("tls")["metadata"]["uid"] / "monitor.pid").exists(), what="the sandbox")
    server = subprocess.Popen(podd.in_pod_network("tls") + [sys.executable, "-c", TLS_SERVER, str(cert)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        wait_for(lambda: ready(podd.pod("tls"), "tls") and ready(podd.pod("tls"), "hop"), timeout=30,
                 what="the HTTPS probes to pass")
        wait_for(lambda: any(e["reason"] == "Unhealthy" and e["message"] == "Readiness probe failed: HTTP probe failed with statuscode: 503"
                             for e in podd.get("/api/v1/namespaces/default/events").json()["items"]), what="the 503 over HTTPS")
        assert not ready(podd.pod("tls"), "down") and not ready(podd.pod("tls"), "plain")
    finally:
        server.kill()
        out = server.communicate()[0].splitlines()
    assert "https /hook kube-lifecycle/1.32" in out, out
    assert "https /healthz kube-probe/1.32" in out and "http /to-tls kube-probe/1.32" in out, out
    # The hook ran before its container's probes began.
    assert out.index("https /hook kube-lifecycle/1.32") < out.index("https /healthz kube-probe/1.32"), out


def test_a_probe_host_the_resolver_does_not_know_fails_with_gos_message(podd):
    """A `host` given by name is looked up as Go's dial looks it up; one the resolver does not
    know fails each probe with Go's words (`.invalid` never resolves, RFC 6761), and podd
    goes on probing."""
    probe = {"periodSeconds": 1, "timeoutSeconds": 5}
    m = pod_manifest("unknown-host", [
        {"name": "tcp", "command": ["sh", "-c", "exec sleep 100000"],
         "readinessProbe": {"tcpSocket": {"host": "nosuch.invalid", "port": 80}, **probe}},
        {"name": "http", "command": ["sh", "-c", "exec sleep 100000"],
         "readinessProbe": {"httpGet": {"host": "nosuch.invalid", "port": 80, "path": "/"}, **probe}},
    ], terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201

    def messages():
        events = podd.get("/api/v1/namespaces/default/events").json()["items"]
        return {e["message"] for e in events if e["reason"] == "Unhealthy"}
    wait_for(lambda: {"Readiness probe failed: dial tcp: lookup nosuch.invalid: no such host",
                      'Readiness probe failed: Get "http://nosuch.invalid:80/": dial tcp: lookup nosuch.invalid: no such host'}
             <= messages(), timeout=60, what="both probes to fail with Go's lookup message")
    p = podd.pod("unknown-host")
    assert p["status"]["phase"] == "Running" and not ready(p, "tcp") and not ready(p, "http")
    assert podd.get("/healthz").status == 200
