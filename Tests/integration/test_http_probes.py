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
