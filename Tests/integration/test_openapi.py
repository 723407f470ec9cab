"""docs/openapi.yaml is a valid OpenAPI 3.0 document, and it is true of the server: every
answer podd gives in a representative scenario (pods created, read, listed, watched,
replaced and deleted; logs; events; namespaces; images; and every error code bad input can
reach) has its status code documented for that path and method, and its body validates
against the schema documented for that code; and every request body podd accepted fits the
documented request body."""
import base64
import hashlib
import json
import os
import pwd
import re
import socket
import subprocess
import time
import urllib.parse

import pytest

from harness import REPO, pod_manifest, wait_for

SPEC_PATH = REPO / "docs" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _libraries():
    """The validators, or a skip that says how to install them."""
    try:
        import yaml
        import jsonschema
        import openapi_schema_validator
        import openapi_spec_validator
    except ImportError as e:
        pytest.skip(f"needs {e.name}: python3 -m pip install openapi-spec-validator jsonschema pyyaml")
    return yaml, jsonschema, openapi_schema_validator, openapi_spec_validator


@pytest.fixture(scope="module")
def spec():
    yaml, _, _, _ = _libraries()
    with open(SPEC_PATH) as f:
        return yaml.safe_load(f)


# --- validating bodies against the document -------------------------------------------------

_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")


def _format_checker(jsonschema):
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("date-time")
    def date_time(value):
        return not isinstance(value, str) or bool(_DATE_TIME.match(value))

    @checker.checks("int32")
    def int32(value):
        return not isinstance(value, int) or -(2 ** 31) <= value < 2 ** 31

    @checker.checks("int64")
    def int64(value):
        return not isinstance(value, int) or -(2 ** 63) <= value < 2 ** 63

    return checker


def _media(content_type):
    """`application/json; charset=x` -> (`application/json`, {charset: x}), lowercased."""
    parts = [p.strip() for p in (content_type or "").split(";") if p.strip()]
    if not parts:
        return "", {}
    params = dict(p.split("=", 1) if "=" in p else (p, "") for p in parts[1:])
    return parts[0].lower(), {k.lower(): v for k, v in params.items()}


class Contract:
    """The document, and what the server was seen to answer."""

    def __init__(self, spec):
        _, jsonschema, oas, _ = _libraries()
        self.spec = spec
        self.jsonschema = jsonschema
        self.validator_class = oas.OAS30Validator
        self.formats = _format_checker(jsonschema)
        self.seen = set()   # (template, method, code)

    # -- lookup ---------------------------------------------------------------------------
    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            assert ref.startswith("#/"), f"only local $refs are used, not {ref}"
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            obj = node
        return obj

    def spans_segments(self, template):
        """Whether the template's last segment is a parameter that takes the rest of the
        path, slashes and all (marked `x-podd-spans-segments`: an image name with `/`)."""
        last = [s for s in template.split("/") if s][-1]
        params = [self.resolve(p) for p in self.spec["paths"][template].get("parameters", [])]
        return any(p.get("in") == "path" and "{%s}" % p["name"] == last and p.get("x-podd-spans-segments")
                   for p in params)

    def template(self, path):
        """The document's path template for a concrete path (literal segments win)."""
        segments = [urllib.parse.unquote(s) for s in path.split("?")[0].split("/") if s]
        best, best_literals = None, -1
        for template in self.spec["paths"]:
            parts = [s for s in template.split("/") if s]
            if len(parts) < len(segments) and self.spans_segments(template):
                segments_here = segments[:len(parts) - 1] + ["/".join(segments[len(parts) - 1:])]
            else:
                segments_here = segments
            if len(parts) != len(segments_here):
                continue
            literals = 0
            for t, s in zip(parts, segments_here):
                if t.startswith("{") and t.endswith("}"):
                    continue
                if t != s:
                    break
                literals += 1
            else:
                if literals > best_literals:
                    best, best_literals = template, literals
        return best

    def schema_errors(self, schema, instance):
        root = {"components": self.spec["components"], "allOf": [schema]}
        validator = self.validator_class(root, format_checker=self.formats)
        return sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))

    def validate(self, schema, instance, where):
        errors = self.schema_errors(schema, instance)
        if errors:
            lines = []
            for e in errors[:5]:
                best = self.jsonschema.exceptions.best_match([e])
                lines.append(f"  at {best.json_path}: {best.message[:300]} "
                             f"(schema: {'/'.join(str(p) for p in best.absolute_schema_path)})")
            raise AssertionError(f"{where}: the body does not match docs/openapi.yaml:\n" + "\n".join(lines)
                                 + f"\nbody: {json.dumps(instance)[:1500]}")

    def response_spec(self, method, path, status):
        """(template, response object) for an answer, failing when the document lacks it."""
        template = self.template(path)
        where = f"{method} {path} -> {status}"
        if template is None:
            # Not a path of the API: only the generic 404 (or 400 for a refused path) fits.
            assert status in (400, 404), f"{where}: no path in docs/openapi.yaml matches {path}"
            return None, self.resolve({"$ref": "#/components/responses/NotFound" if status == 404
                                       else "#/components/responses/BadRequest"})
        item = self.spec["paths"][template]
        op = item.get(method.lower())
        if op is None:
            # A method the document does not list for the path: podd must refuse it with 405.
            assert status == 405, f"{where}: {method} is not documented for {template}, so the answer must be 405"
            self.seen.add((template, method.upper(), status))
            return template, self.resolve({"$ref": "#/components/responses/MethodNotAllowed"})
        responses = op["responses"]
        assert str(status) in responses, (
            f"{where}: status {status} is not documented for {method.upper()} {template} "
            f"(documented: {', '.join(sorted(responses))})")
        self.seen.add((template, method.upper(), status))
        return template, self.resolve(responses[str(status)])

    def check_request(self, method, path, content_type, body):
        """A body the server accepted must fit the documented request body."""
        template = self.template(path)
        op = self.spec["paths"][template].get(method.lower()) if template else None
        request = self.resolve(op.get("requestBody")) if op else None
        if not request or body is None:
            return
        media = _media(content_type)[0] or "application/json"
        assert media in request["content"], f"{method} {template}: request Content-Type {media} is not documented"
        if media.endswith("json"):
            value = json.loads(body) if isinstance(body, (str, bytes)) else body
        elif media.endswith("yaml"):
            value = _libraries()[0].safe_load(body)
        else:
            return
        self.validate(request["content"][media].get("schema", {}), value, f"{method} {path}: the request body")

    # -- checking answers -------------------------------------------------------------------
    def check(self, method, path, status, content_type, body, media_key=None):
        """Checks one answer; returns the parsed JSON body (or the text)."""
        where = f"{method} {path} -> {status}"
        template, response = self.response_spec(method, path, status)
        content = response.get("content")
        if not content:
            assert not body, f"{where}: the document gives no body for {status}, the server sent {body[:200]!r}"
            return None
        media, params = _media(content_type)
        if media_key is None:
            candidates = [k for k in content if _media(k)[0] == media and "stream=watch" not in k]
            assert candidates, f"{where}: Content-Type {content_type!r} is not documented (documented: {list(content)})"
            media_key = candidates[0]
        else:
            assert media_key in content, f"{where}: {media_key} is not documented (documented: {list(content)})"
        documented_media, documented_params = _media(media_key)
        for k, v in documented_params.items():
            if k != "stream":
                assert params.get(k) == v, f"{where}: Content-Type {content_type!r}, documented {media_key!r}"
        schema = content[media_key].get("schema", {})
        if documented_media.endswith("json"):
            try:
                value = json.loads(body)
            except ValueError as e:
                raise AssertionError(f"{where}: the body is not JSON ({e}): {body[:300]!r}")
            self.validate(schema, value, where)
            if status >= 400:
                assert value.get("code") == status, f"{where}: the Status says code {value.get('code')}"
            return value
        text = body.decode("utf-8")
        self.validate(schema, text, where)
        return text


class Client:
    """Requests on podd's socket, each answer checked against the document."""

    def __init__(self, podd, contract):
        self.podd = podd
        self.contract = contract

    def call(self, method, path, body=None, headers=None, expect=None):
        r = self.podd.request(method, path, body, headers)
        if expect is not None:
            assert r.status == expect, f"{method} {path}: expected {expect}, got {r.status}: {r.body[:500]!r}"
        value = self.contract.check(method, path, r.status, r.headers.get("Content-Type"), r.body)
        if 200 <= r.status < 300:
            self.contract.check_request(method, path, (headers or {}).get("Content-Type"), body)
        return r.status, value

    def error(self, method, path, code, body=None, headers=None, reason=None, text=None):
        """A request that must fail with `code`; returns the Status."""
        _, status = self.call(method, path, body, headers, expect=code)
        assert status["kind"] == "Status" and status["status"] == "Failure"
        if reason:
            assert status["reason"] == reason, status
        if text:
            assert text in status["message"], status
        return status

    def watch(self, path, until, timeout=15.0, then=None):
        """Reads a watch until `until(events)` holds (an int: that many events), after
        calling `then`, if given, once the stream is open; checks every line against the
        documented WatchEvent schema."""
        if isinstance(until, int):
            count = until
            until = lambda events: len(events) >= count
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(self.podd.socket)
        try:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            reader = _Reader(sock)
            status, headers = reader.head()
            assert status == 200, f"GET {path}: {status}"
            assert headers.get("transfer-encoding", "").lower() == "chunked", headers
            if then:
                then()
            events = []
            deadline = time.monotonic() + timeout
            while not until(events):
                assert time.monotonic() < deadline, f"GET {path}: not the events wanted in {timeout}s: {events}"
                line = reader.chunked_line()
                if not line.strip():
                    continue
                events.append(self.contract.check("GET", path, 200, headers.get("content-type"), line,
                                                  media_key="application/json;stream=watch"))
            return events
        finally:
            sock.close()


class _Reader:
    """Just enough HTTP/1.1 on a raw socket for streams and upgrades."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.lines = b""

    def _more(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self):
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def head(self):
        status = int(self._line().split()[1])
        headers = {}
        while True:
            line = self._line()
            if not line:
                return status, headers
            k, v = line.decode().split(":", 1)
            headers[k.strip().lower()] = v.strip()

    def body(self, headers):
        if headers.get("transfer-encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    self._line()
                    return out
                out += self._take(size)
                self._line()
        return self._take(int(headers.get("content-length", "0")))

    def chunked_line(self):
        while b"\n" not in self.lines:
            size = int(self._line().split(b";")[0], 16)
            if size == 0:
                raise ConnectionError("the stream ended")
            self.lines += self._take(size)
            self._line()
        line, self.lines = self.lines.split(b"\n", 1)
        return line

    def frame(self):
        """One WebSocket frame from the server: (opcode, payload)."""
        b0, b1 = self._take(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._take(2), "big")
        elif n == 127:
            n = int.from_bytes(self._take(8), "big")
        mask = self._take(4) if b1 & 0x80 else None
        payload = self._take(n)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return b0 & 0x0F, payload


# --- the document on its own --------------------------------------------------------------------

def test_document_is_valid_openapi_3(spec):
    _, _, _, validator = _libraries()
    validator.validate(spec)
    assert spec["openapi"].startswith("3.0")
    contract = Contract(spec)
    # Every $ref resolves, every operation has a unique id, and every error answer is a Status.
    op_ids = []
    for template, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            op_ids.append(op.get("operationId"))
            for code, response in op["responses"].items():
                response = contract.resolve(response)
                if code != "default" and int(code) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/StatusFailure"}, (template, method, code)
    assert None not in op_ids and len(op_ids) == len(set(op_ids)), op_ids

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                contract.resolve(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(spec)


def test_document_names_every_route_and_schema(spec):
    expected = {
        "/version": {"get"}, "/healthz": {"get"}, "/readyz": {"get"}, "/livez": {"get"}, "/metrics": {"get"},
        "/api": {"get"}, "/api/v1": {"get"}, "/apis": {"get"}, "/apis/podd.io": {"get"}, "/apis/podd.io/v1": {"get"},
        "/api/v1/pods": {"get"},
        "/api/v1/namespaces/{namespace}/pods": {"get", "post"},
        "/api/v1/namespaces/{namespace}/pods/{name}": {"get", "put", "patch", "delete"},
        "/api/v1/namespaces/{namespace}/pods/{name}/status": {"get"},
        "/api/v1/namespaces/{namespace}/pods/{name}/log": {"get"},
        "/api/v1/namespaces/{namespace}/pods/{name}/exec": {"get", "post"},
        "/api/v1/namespaces/{namespace}/pods/{name}/attach": {"get", "post"},
        "/api/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers": {"get", "put", "patch"},
        "/api/v1/events": {"get"}, "/api/v1/namespaces/{namespace}/events": {"get"},
        "/api/v1/namespaces": {"get"}, "/api/v1/namespaces/{name}": {"get"},
        "/apis/podd.io/v1/images": {"get", "post"}, "/apis/podd.io/v1/images/{image}": {"get", "delete"},
        "/apis/podd.io/v1/images/load": {"post"}, "/apis/podd.io/v1/images/pull": {"post"},
        "/apis/podd.io/v1/images/tag": {"post"}, "/apis/podd.io/v1/images/prune": {"post"},
        "/apis/podd.io/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers": {"delete"},
        "/apis/podd.io/v1/namespaces/{namespace}/pods/{name}/ephemeralcontainers/{container}": {"delete"},
        "/apis/authorization.k8s.io": {"get"}, "/apis/authorization.k8s.io/v1": {"get"},
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews": {"post"},
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews": {"post"},
        "/apis/authentication.k8s.io": {"get"}, "/apis/authentication.k8s.io/v1": {"get"},
        "/apis/authentication.k8s.io/v1/selfsubjectreviews": {"post"},
    }
    for path, methods in expected.items():
        assert path in spec["paths"], f"docs/openapi.yaml lacks {path}"
        assert methods <= set(spec["paths"][path]), f"{path}: lacks {methods - set(spec['paths'][path])}"
    log_params = {p["name"] for p in spec["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]["parameters"]}
    assert {"container", "follow", "previous", "tailLines", "timestamps", "sinceSeconds", "sinceTime", "limitBytes",
            "stream"} <= log_params
    schemas = spec["components"]["schemas"]
    for name in ("Pod", "PodList", "Event", "EventList", "WatchEvent", "Status", "Image", "ImageList", "version.Info",
                 "APIGroupList", "APIGroup", "APIResourceList"):
        assert name in schemas, name
    # What DESIGN.md promises the official clients: the fields Kubernetes requires.
    assert set(schemas["ContainerStatus"]["required"]) == {"name", "image", "imageID", "ready", "restartCount", "state"}
    assert "containers" in schemas["PodSpec"]["required"]
    assert "causes" in schemas["StatusDetails"]["properties"]
    assert schemas["StatusCause"]["properties"].keys() >= {"field", "reason", "message"}


# --- the document against the server -------------------------------------------------------------

@pytest.fixture
def api(podd, spec):
    return Client(podd, Contract(spec))


def _scenario_pod(name):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "contract"}, "annotations": {"note": "openapi"}},
        "spec": {
            "terminationGracePeriodSeconds": 2,
            "volumes": [{"name": "scratch", "emptyDir": {}}],
            "initContainers": [{"name": "setup", "image": "busybox", "command": ["sh", "-c", "echo ready > /scratch/ok"],
                                "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
            "containers": [
                {"name": "app", "image": "busybox",
                 "command": ["sh", "-c", "cat /scratch/ok; echo started $POD; sleep 3600"],
                 "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}, {"name": "A", "value": "b"}],
                 "ports": [{"name": "http", "containerPort": 8080}],
                 "volumeMounts": [{"name": "scratch", "mountPath": "/scratch", "readOnly": True}],
                 "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1}},
                {"name": "side", "image": "busybox", "command": ["sh", "-c", "echo side; sleep 3600"]},
            ],
        },
    }


def test_pods_logs_events_and_images_match_the_document(api, podd, busybox_tar):
    ns = "/api/v1/namespaces/default"
    # Health, version, metrics, discovery.
    for path in ("/healthz", "/readyz", "/livez", "/metrics"):
        api.call("GET", path, expect=200)
    _, version = api.call("GET", "/version", expect=200)
    assert version["gitVersion"]
    api.call("GET", "/api", expect=200)
    _, resources = api.call("GET", "/api/v1", expect=200)
    # Every resource discovery lists has its path in the document.
    for res in resources["resources"]:
        base = "/api/v1/namespaces/{namespace}/" if res["namespaced"] else "/api/v1/"
        path = base + res["name"].replace("/", "/{name}/") if "/" in res["name"] else base + res["name"]
        assert path in api.contract.spec["paths"], f"discovery lists {res['name']}, the document lacks {path}"
    _, groups = api.call("GET", "/apis", expect=200)
    assert [g["name"] for g in groups["groups"]] == ["policy", "scheduling.k8s.io", "podd.io", "metrics.k8s.io", "authorization.k8s.io", "authentication.k8s.io"]
    for g in groups["groups"][2:]:
        version = g["preferredVersion"]["groupVersion"]
        assert "/apis/" + version in api.contract.spec["paths"], version
        _, resources = api.call("GET", "/apis/" + version, expect=200)
        for res in resources["resources"]:
            assert f"/apis/{version}/{res['name']}" in api.contract.spec["paths"], res
    _, group = api.call("GET", "/apis/podd.io", expect=200)
    assert group["preferredVersion"]["groupVersion"] == "podd.io/v1"
    _, resources = api.call("GET", "/apis/podd.io/v1", expect=200)
    assert resources["groupVersion"] == "podd.io/v1"
    for res in resources["resources"]:
        assert "/apis/podd.io/v1/" + res["name"] in api.contract.spec["paths"], res

    # Create, and watch it come up.
    status, created = api.call("POST", f"{ns}/pods", _scenario_pod("web"), expect=201)
    assert created["metadata"]["uid"] and created["status"]["phase"] == "Pending"
    running = podd.wait_running("web")
    _, pod = api.call("GET", f"{ns}/pods/web", expect=200)
    assert pod["metadata"]["uid"] == created["metadata"]["uid"]
    assert {s["name"] for s in pod["status"]["containerStatuses"]} == {"app", "side"}
    assert pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"
    api.call("GET", f"{ns}/pods/web/status", expect=200)
    assert running["status"]["phase"] == "Running"

    # A second pod in another namespace, from YAML.
    yaml_pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec:\n  terminationGracePeriodSeconds: 0\n"
                "  dnsPolicy: ClusterFirst\n  containers:\n  - {name: one, image: busybox, command: [sleep, '3600'],"
                " terminationMessagePath: /dev/termination-log}\n")
    api.call("POST", "/api/v1/namespaces/tools/pods", yaml_pod, {"Content-Type": "application/yaml"}, expect=201)

    # Lists and selectors.
    _, lst = api.call("GET", f"{ns}/pods", expect=200)
    assert [p["metadata"]["name"] for p in lst["items"]] == ["web"]
    _, lst = api.call("GET", "/api/v1/pods", expect=200)
    assert {p["metadata"]["name"] for p in lst["items"]} == {"web", "other"}
    _, lst = api.call("GET", "/api/v1/pods?labelSelector=" + urllib.parse.quote("app in (contract),!missing"), expect=200)
    assert [p["metadata"]["name"] for p in lst["items"]] == ["web"]
    _, lst = api.call("GET", "/api/v1/pods?fieldSelector=" + urllib.parse.quote("metadata.namespace=tools,status.phase!=Failed"), expect=200)
    assert [p["metadata"]["name"] for p in lst["items"]] == ["other"]
    _, nss = api.call("GET", "/api/v1/namespaces", expect=200)
    assert {n["metadata"]["name"] for n in nss["items"]} >= {"default", "tools"}
    _, namespace = api.call("GET", "/api/v1/namespaces/tools", expect=200)
    assert namespace["metadata"]["name"] == "tools" and namespace["status"]["phase"] == "Active"
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "tools"}
    api.call("GET", "/api/v1/namespaces/default", expect=200)

    # Watch: ADDED for what exists, then MODIFIED for a replace (labels only, in place).
    current = podd.pod("web")
    replaced = json.loads(json.dumps(current))
    replaced["metadata"]["labels"]["tier"] = "front"
    events = api.watch(f"{ns}/pods?watch=true",
                       lambda evs: any(e["object"]["metadata"]["labels"].get("tier") for e in evs),
                       then=lambda: api.call("PUT", f"{ns}/pods/web", replaced, expect=200))
    assert events[0]["type"] == "ADDED" and events[0]["object"]["metadata"]["name"] == "web"
    assert events[-1]["type"] == "MODIFIED"
    api.watch("/api/v1/pods?watch=1&labelSelector=app%3Dcontract", 1)
    # The same object again: answered as it is.
    _, same = api.call("PUT", f"{ns}/pods/web", podd.pod("web"), expect=200)
    assert same["metadata"]["uid"] == current["metadata"]["uid"]

    # Patches, one of each type (metadata only: the pod is not restarted).
    _, patched = api.call("PATCH", f"{ns}/pods/web", {"metadata": {"labels": {"tier": None, "patched": "merge"}}},
                          {"Content-Type": "application/merge-patch+json"}, expect=200)
    assert patched["metadata"]["labels"] == {"app": "contract", "patched": "merge"}
    _, patched = api.call("PATCH", f"{ns}/pods/web", {"metadata": {"annotations": {"$patch": "replace", "only": "this"}}},
                          {"Content-Type": "application/strategic-merge-patch+json"}, expect=200)
    assert patched["metadata"]["annotations"] == {"only": "this"}
    _, patched = api.call("PATCH", f"{ns}/pods/web",
                          [{"op": "test", "path": "/metadata/resourceVersion", "value": patched["metadata"]["resourceVersion"]},
                           {"op": "replace", "path": "/metadata/labels/patched", "value": "json"}],
                          {"Content-Type": "application/json-patch+json; charset=utf-8"}, expect=200)
    assert patched["metadata"]["labels"]["patched"] == "json" and patched["metadata"]["uid"] == current["metadata"]["uid"]

    # Logs.
    wait_for(lambda: "started web" in podd.log("web", "app"), what="app output")
    _, text = api.call("GET", f"{ns}/pods/web/log?container=app", expect=200)
    assert "ready\nstarted web\n" in text
    _, text = api.call("GET", f"{ns}/pods/web/log?container=app&tailLines=1&timestamps=true", expect=200)
    assert re.match(r"^\d{4}-\d\d-\d\dT[\d:.]+Z started web\n$", text), text
    api.call("GET", f"{ns}/pods/web/log?container=setup&sinceSeconds=3600&limitBytes=3", expect=200)
    api.call("GET", f"{ns}/pods/web/log?container=side&sinceTime=2000-01-01T00:00:00Z", expect=200)
    # follow streams: read its first chunk, then let go.
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(15)
    sock.connect(podd.socket)
    sock.sendall(f"GET {ns}/pods/web/log?container=side&follow=true HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    reader = _Reader(sock)
    code, headers = reader.head()
    line = reader.chunked_line()
    sock.close()
    api.contract.check("GET", f"{ns}/pods/web/log?follow=true", code, headers.get("content-type"), line)
    assert line == b"side"

    # Events, listed and watched.
    wait_for(lambda: any(e["reason"] == "Started" for e in podd.get(f"{ns}/events").json()["items"]), what="events")
    _, evs = api.call("GET", f"{ns}/events", expect=200)
    assert {"Created", "Started"} <= {e["reason"] for e in evs["items"]}
    # An init container's events name it as kubelet does.
    assert "spec.initContainers{setup}" in {e["involvedObject"].get("fieldPath") for e in evs["items"]}, evs
    assert "spec.containers{app}" in {e["involvedObject"].get("fieldPath") for e in evs["items"]}, evs
    podd.wait_running("other", namespace="tools")
    wait_for(lambda: podd.get("/api/v1/namespaces/tools/events").json()["items"], what="events of the pod other")
    _, evs = api.call("GET", "/api/v1/events?fieldSelector=involvedObject.name%3Dother", expect=200)
    assert evs["items"] and {e["involvedObject"]["name"] for e in evs["items"]} == {"other"}

    # Delete: answered with the pod, deletionTimestamp set, readable until gone; the
    # event watch sees the Killing events.
    deleted = []
    before = podd.pod("web")
    watched = api.watch(f"{ns}/events?watch=true", 1, then=lambda: deleted.append(
        api.call("DELETE", f"{ns}/pods/web?gracePeriodSeconds=1", expect=200)[1]))
    assert watched[0]["type"] in ("ADDED", "MODIFIED")
    assert deleted[0]["metadata"]["deletionTimestamp"] and deleted[0]["metadata"]["deletionGracePeriodSeconds"] == 1
    # The deletion is a change of the object: a newer resourceVersion.
    assert int(deleted[0]["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"]), (before, deleted)
    api.call("GET", f"{ns}/pods/web")   # 200 while terminating, 404 once gone: both documented
    podd.wait_gone("web")
    api.error("GET", f"{ns}/pods/web", 404, reason="NotFound")
    # DeleteOptions in the body, as kubectl sends it.
    api.call("DELETE", "/api/v1/namespaces/tools/pods/other",
             {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0, "propagationPolicy": "Background"},
             expect=200)
    podd.wait_gone("other", namespace="tools")

    # Images: list, read, import, remove.
    _, images = api.call("GET", "/apis/podd.io/v1/images", expect=200)
    assert [i["metadata"]["name"] for i in images["items"]] == ["localhost/busybox:latest"]
    api.call("GET", "/apis/podd.io/v1/images/busybox", expect=200)
    _, image = api.call("POST", "/apis/podd.io/v1/images?name=contract&tag=v1", busybox_tar.read_bytes(),
                        {"Content-Type": "application/x-tar"}, expect=201)
    assert image["metadata"]["name"] == "localhost/contract:v1"
    _, gone = api.call("DELETE", "/apis/podd.io/v1/images/contract:v1", expect=200)
    assert gone["status"] == "Success"
    api.error("GET", "/apis/podd.io/v1/images/contract:v1", 404, reason="NotFound")
    # A name with '/' in it: its slashes stay in the path.
    _, image = api.call("POST", "/apis/podd.io/v1/images?name=myorg/tool&tag=1", busybox_tar.read_bytes(),
                        {"Content-Type": "application/x-tar"}, expect=201)
    assert image["metadata"]["name"] == "localhost/myorg/tool:1"
    _, image = api.call("GET", "/apis/podd.io/v1/images/myorg/tool:1", expect=200)
    assert image["RepoTags"] == ["localhost/myorg/tool:1"]
    api.error("GET", "/apis/podd.io/v1/images/myorg%2Ftool:1", 400, text="invalid path")
    api.call("DELETE", "/apis/podd.io/v1/images/myorg/tool:1", expect=200)
    api.error("DELETE", "/apis/podd.io/v1/images/myorg/tool:1", 404, reason="NotFound", text="myorg/tool:1")


def test_every_reachable_error_matches_the_document(api, podd, tmp_path):
    ns = "/api/v1/namespaces/default"
    good = pod_manifest("ok", [("app", "trap '' TERM; sleep 3600")], terminationGracePeriodSeconds=30)
    api.call("POST", f"{ns}/pods", good, expect=201)
    podd.wait_running("ok")

    # 400: bodies.
    api.error("POST", f"{ns}/pods", 400, "{not json", {"Content-Type": "application/json"}, reason="BadRequest")
    api.error("POST", f"{ns}/pods", 400, b"", {"Content-Type": "application/json"})
    api.error("POST", f"{ns}/pods", 400, [1])
    api.error("POST", f"{ns}/pods", 400, {"kind": "Pod", "metadata": {"name": "x"}}, text="apiVersion")
    api.error("POST", f"{ns}/pods", 400, {"apiVersion": "v1", "kind": "Service"})
    api.error("POST", f"{ns}/pods", 400, "a: 1\n---\nb: 2\n", {"Content-Type": "application/yaml"})
    unknown = pod_manifest("bad", [("a", "true")])
    unknown["spec"]["containers"][0]["colour"] = "blue"
    api.error("POST", f"{ns}/pods?fieldValidation=Strict", 400, unknown, text="spec.containers[0].colour")
    elsewhere = pod_manifest("bad", [("a", "true")])
    elsewhere["metadata"]["namespace"] = "elsewhere"
    api.error("POST", f"{ns}/pods", 400, elsewhere, text="namespace")
    renamed = podd.pod("ok")
    renamed["metadata"]["name"] = "other"
    api.error("PUT", f"{ns}/pods/ok", 400, renamed, text="does not match the name")
    api.error("DELETE", f"{ns}/pods/ok", 400, b"{bad", {"Content-Type": "application/json"})
    # 400: parameters, selectors, paths.
    api.error("DELETE", f"{ns}/pods/ok?gracePeriodSeconds=abc", 400, text="gracePeriodSeconds")
    api.error("GET", "/api/v1/namespaces/Not_A_Label/pods", 400, text="invalid namespace")
    api.error("GET", f"{ns}/pods?labelSelector=" + urllib.parse.quote("a b"), 400, text="labelSelector")
    # A selector no label could match is refused, as the API server refuses it, not answered empty.
    for selector in ("===", "a in (", "a=b=c", "-bad=x", "a notin b"):
        api.error("GET", f"{ns}/pods?labelSelector=" + urllib.parse.quote(selector), 400, text="unable to parse requirement")
    api.error("GET", f"{ns}/pods?fieldSelector=spec.colour%3Dblue", 400, text="field label not supported")
    api.error("GET", "/api/v1/pods?fieldSelector=nonsense", 400)
    api.error("GET", f"{ns}/pods/..%2F..%2Fetc", 400, text="invalid path")
    for query, text in (("", None), ("?container=nope", "not valid"), ("?tailLines=x", "tailLines"),
                        ("?sinceSeconds=1s", "sinceSeconds"), ("?sinceTime=yesterday", "sinceTime"),
                        ("?limitBytes=", "limitBytes"), ("?previous=true", "previous terminated container")):
        if query == "":
            two = pod_manifest("two", [("a", "sleep 3600"), ("b", "sleep 3600")], terminationGracePeriodSeconds=0)
            api.call("POST", f"{ns}/pods", two, expect=201)
            api.error("GET", f"{ns}/pods/two/log", 400, text="a container name must be specified")
        else:
            api.error("GET", f"{ns}/pods/ok/log{query}", 400, text=text)
    # Numbers out of range are ValidatePodLogOptions' to refuse: 422, every problem at once.
    for query, text in (("?sinceSeconds=0", 'PodLogOptions "ok" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0'),
                        ("?limitBytes=0&tailLines=-1", 'PodLogOptions "ok" is invalid: [tailLines: Invalid value: -1: must be greater '
                                                       'than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]'),
                        ("?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z",
                         'PodLogOptions "ok" is invalid: : Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified')):
        api.error("GET", f"{ns}/pods/ok/log{query}", 422, text=text)
    api.error("POST", "/apis/podd.io/v1/images?name=junk", 400, b"not a tar archive", {"Content-Type": "application/x-tar"})
    api.error("POST", "/apis/podd.io/v1/images?name=junk", 400, b"", {"Content-Type": "application/x-tar"})
    api.error("GET", "/apis/podd.io/v1/images/NOT_VALID", 400)
    api.error("DELETE", "/apis/podd.io/v1/images/NOT_VALID", 400)

    # 404.
    for method, path in (("GET", f"{ns}/pods/ghost"), ("DELETE", f"{ns}/pods/ghost"), ("GET", f"{ns}/pods/ghost/status"),
                         ("GET", f"{ns}/pods/ghost/log"), ("GET", "/apis/podd.io/v1/images/ghost:1"),
                         ("DELETE", "/apis/podd.io/v1/images/ghost:1")):
        api.error(method, path, 404, reason="NotFound", text="ghost")
    ghost = pod_manifest("ghost", [("a", "true")])
    api.error("PUT", f"{ns}/pods/ghost", 404, ghost, reason="NotFound")
    api.error("PATCH", f"{ns}/pods/ghost", 404, {"metadata": {}}, {"Content-Type": "application/merge-patch+json"},
              reason="NotFound")
    api.error("GET", "/api/v1/namespaces/ghost", 404, reason="NotFound", text="ghost")
    for path in ("/nope", "/apis/other", f"{ns}/services", "/apis/podd.io/v1/other", "/apis/podd.io/v2"):
        api.error("GET", path, 404, text="could not find the requested resource")

    # 405.
    for method, path in (("POST", f"{ns}/pods/ok/status"), ("DELETE", f"{ns}/pods/ok/status"),
                         ("POST", "/api/v1/pods"), ("DELETE", f"{ns}/pods"), ("POST", f"{ns}/events"),
                         ("DELETE", "/api/v1/namespaces"), ("PUT", "/apis/podd.io/v1/images"),
                         ("POST", f"{ns}/pods/ok/log"), ("DELETE", "/api/v1/namespaces/default"),
                         ("POST", "/apis/podd.io/v1/images/busybox"),
                         ("POST", "/version"), ("DELETE", "/healthz"), ("PUT", "/readyz"), ("POST", "/livez"),
                         ("DELETE", "/metrics"), ("POST", "/api"), ("PUT", "/api/v1"), ("POST", "/apis"),
                         ("DELETE", "/apis/podd.io"), ("POST", "/apis/podd.io/v1")):
        api.error(method, path, 405, body={"metadata": {}} if method in ("PATCH", "PUT", "POST") else None,
                  reason="MethodNotAllowed")

    # 415: a body neither JSON nor YAML; a PATCH that is none of the three patch types nor an apply.
    for method, path in (("POST", f"{ns}/pods"), ("PUT", f"{ns}/pods/ok")):
        api.error(method, path, 415, json.dumps(good), {"Content-Type": "text/plain"}, reason="UnsupportedMediaType")
    for content_type in ("application/json", "application/yaml"):
        api.error("PATCH", f"{ns}/pods/ok", 415, json.dumps({"metadata": {}}), {"Content-Type": content_type},
                  reason="UnsupportedMediaType", text="application/apply-patch+yaml")
    # A server-side apply without its field manager: 422, as the API server says it.
    api.error("PATCH", f"{ns}/pods/ok", 422, json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok"}}),
              {"Content-Type": "application/apply-patch+yaml"}, reason="Invalid", text="fieldManager: Required value")

    # PATCH: a malformed patch is 400, one that does not apply 422, a stale resourceVersion 409.
    json_patch = {"Content-Type": "application/json-patch+json"}
    api.error("PATCH", f"{ns}/pods/ok", 400, json.dumps({"op": "add"}), json_patch, reason="BadRequest", text="JSON array")
    api.error("PATCH", f"{ns}/pods/ok", 400, "[{", json_patch, reason="BadRequest")
    api.error("PATCH", f"{ns}/pods/ok", 422, json.dumps([{"op": "test", "path": "/metadata/name", "value": "x"}]), json_patch,
              reason="Invalid", text="test failed")
    api.error("PATCH", f"{ns}/pods/ok", 409, json.dumps({"metadata": {"resourceVersion": "1"}}),
              {"Content-Type": "application/merge-patch+json"}, reason="Conflict")

    # 409.
    api.error("POST", f"{ns}/pods", 409, good, reason="AlreadyExists")
    stale = podd.pod("ok")
    stale["metadata"]["uid"] = "00000000-0000-0000-0000-000000000000"
    api.error("PUT", f"{ns}/pods/ok", 409, stale, reason="Conflict")

    # 413: over the 3 MiB limit.
    big = pod_manifest("big", [("a", "true")])
    big["metadata"]["annotations"] = {"x": "a" * (4 << 20)}
    api.error("POST", f"{ns}/pods", 413, big, reason="RequestEntityTooLarge")

    # 422.
    for manifest, field in (
        (pod_manifest("Bad_Name", [("a", "true")]), "metadata.name"),
        (pod_manifest("bad", [("a", "true"), ("a", "true")]), "spec.containers[1].name"),
        (pod_manifest("bad", [{"name": "a", "command": ["true"], "ports": [{"containerPort": 80, "hostPort": 80}]}]),
         "spec.containers[0].ports[0].hostPort"),
        ({**pod_manifest("", [("a", "true")]), "metadata": {"generateName": "Gen_"}}, "metadata.generateName"),
    ):
        status = api.error("POST", f"{ns}/pods", 422, manifest, reason="Invalid")
        assert field in [c.get("field") for c in status["details"]["causes"]], status
    api.error("POST", "/apis/podd.io/v1/images?name=Not_Valid", 422, b"x" * 1024, {"Content-Type": "application/x-tar"},
              reason="Invalid")
    api.error("POST", "/apis/podd.io/v1/images", 422, b"x" * 1024, {"Content-Type": "application/x-tar"})

    # 409 on a terminating pod's spec (it ignores SIGTERM, so it stays terminating for the grace
    # period); its metadata may still change, as on Kubernetes.
    api.call("DELETE", f"{ns}/pods/ok?gracePeriodSeconds=20", expect=200)
    terminating = podd.pod("ok")
    assert terminating["metadata"]["deletionTimestamp"]
    terminating["metadata"]["labels"] = {"late": "yes"}
    api.call("PUT", f"{ns}/pods/ok", terminating, expect=200)
    terminating = podd.pod("ok")
    terminating["spec"]["containers"][0]["command"] = ["sh", "-c", "sleep 1"]
    api.error("PUT", f"{ns}/pods/ok", 409, terminating, reason="Conflict", text="terminating")
    api.call("GET", f"{ns}/pods/ok", expect=200)   # shown until gone
    api.call("DELETE", f"{ns}/pods/ok?gracePeriodSeconds=0", expect=200)

    # exec, attach, ephemeralcontainers: whatever podd answers must be what the document
    # allows (Kubernetes' codes; 404 while podd does not serve them).
    api.call("POST", f"{ns}/pods", pod_manifest("dbg", [("app", "sleep 3600")], terminationGracePeriodSeconds=0), expect=201)
    podd.wait_running("dbg")
    for method, sub in (("GET", "exec?command=true&stdout=true"), ("POST", "exec?command=true&stdout=true"),
                        ("GET", "attach?stdout=true"), ("POST", "attach?stdout=true"), ("GET", "ephemeralcontainers")):
        api.call(method, f"{ns}/pods/dbg/{sub}")
        api.call(method, f"{ns}/pods/ghost/{sub}")
    api.call("PATCH", f"{ns}/pods/dbg/ephemeralcontainers", "spec: {}", {"Content-Type": "text/plain"})
    debug = {"spec": {"ephemeralContainers": [{"name": "dbg1", "image": "busybox", "command": ["true"]}]}}
    api.call("PATCH", f"{ns}/pods/dbg/ephemeralcontainers", json.dumps(debug),
             {"Content-Type": "application/strategic-merge-patch+json"})
    _check_exec_websocket(api, podd, f"{ns}/pods/dbg/exec?command=sh&command=-c&command=exit%203&stdout=true&stderr=true")

    # 403: a caller neither root nor in the socket's group, on any path.
    _check_forbidden(api, podd, [("GET", "/api/v1/pods"), ("POST", f"{ns}/pods"), ("GET", "/version")])

    codes = {code for (_, _, code) in api.contract.seen}
    assert {400, 403, 404, 405, 409, 413, 415, 422} <= codes, sorted(codes)


def _check_exec_websocket(api, podd, path):
    """An exec over a WebSocket: 101 with a channel subprotocol and the exit status as a
    Status on channel 3, or (while podd does not serve exec) a documented error."""
    key = base64.b64encode(os.urandom(16)).decode()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.connect(podd.socket)
    try:
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                      f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\n").encode())
        reader = _Reader(sock)
        code, headers = reader.head()
        if code != 101:
            api.contract.check("GET", path, code, headers.get("content-type"), reader.body(headers))
            return
        api.contract.check("GET", path, 101, None, b"")
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        assert headers.get("sec-websocket-accept") == accept, headers
        response = api.contract.resolve(api.contract.spec["components"]["responses"]["StreamUpgrade"])
        assert headers.get("sec-websocket-protocol") in response["headers"]["Sec-WebSocket-Protocol"]["schema"]["enum"]
        status = None
        while True:
            try:
                opcode, payload = reader.frame()
            except ConnectionError:
                break
            if opcode == 8:
                break
            if opcode in (1, 2) and payload[:1] == b"\x03":
                status = json.loads(payload[1:])
        assert status is not None, "no Status on channel 3"
        api.contract.validate({"$ref": "#/components/schemas/Status"}, status, f"GET {path}: channel 3")
        assert status["status"] == "Failure" and status["reason"] == "NonZeroExitCode", status
        assert {"reason": "ExitCode", "message": "3"}.items() <= status["details"]["causes"][0].items(), status
    finally:
        sock.close()


def _check_forbidden(api, podd, requests):
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("needs the user nobody (to be refused by SO_PEERCRED)")
    os.chmod(podd.root, 0o755)
    mode = os.stat(podd.socket).st_mode & 0o777
    os.chmod(podd.socket, 0o666)   # let nobody reach the socket file: podd itself must refuse
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n"
        "body = sys.argv[3].encode()\n"
        "s.sendall(sys.argv[2].encode() + b' HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\n'"
        " + b'Content-Length: ' + str(len(body)).encode() + b'\\r\\n\\r\\n' + body)\n"
        "out = b''\n"
        "while True:\n"
        "    c = s.recv(65536)\n"
        "    if not c: break\n"
        "    out += c\n"
        "sys.stdout.buffer.write(out)\n")
    try:
        for method, path in requests:
            body = json.dumps(pod_manifest("sneaky", [("a", "true")])) if method == "POST" else ""
            r = subprocess.run(["python3", "-c", script, podd.socket, f"{method} {path}", body], capture_output=True,
                               timeout=30, preexec_fn=lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid)))
            head, _, payload = r.stdout.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            assert lines and lines[0].startswith("HTTP/1.1 403"), (r.stdout[:300], r.stderr[-500:])
            headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
            status = api.contract.check(method, path, 403, headers.get("content-type"), payload)
            assert status["reason"] == "Forbidden"
        assert podd.pod("sneaky") is None
    finally:
        os.chmod(podd.socket, mode)


def test_out_of_space_is_insufficient_storage(api, podd):
    """507: podd cannot write a pod's desired state (a full filesystem under its state dir)."""
    pods = podd.state_dir / "pods"
    pods.mkdir(parents=True, exist_ok=True)
    # A tmpfs with room for its root directory only: the pod's directory cannot be made.
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,nr_inodes=2", "podd-full", str(pods)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to fill the state dir: {r.stderr.strip()}")
    try:
        api.error("POST", "/api/v1/namespaces/default/pods", 507, pod_manifest("full", [("a", "sleep 3600")]),
                  reason="InsufficientStorage", text="cannot store pod")
    finally:
        subprocess.run(["umount", "-l", str(pods)], check=True)
    wait_for(lambda: podd.pod("full") is None, what="the refused pod not to exist")
