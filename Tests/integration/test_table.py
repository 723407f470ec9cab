"""Server-side printing, OpenAPI documents, fieldValidation and dryRun through raw HTTP."""
import json
import re
import threading
import time

from harness import pod_manifest
from test_watch import watch_lines

NS = "/api/v1/namespaces/default/pods"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"
KUBECTL_ACCEPT = f"{TABLE},application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"


def test_pod_and_event_tables(podd):
    podd.create(pod_manifest("web", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    podd.wait_running("web")
    r = podd.request("GET", NS, headers={"Accept": KUBECTL_ACCEPT})
    table = r.json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"]["resourceVersion"]
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns == [("Name", 0), ("Ready", 0), ("Status", 0), ("Restarts", 0), ("Age", 0),
                       ("IP", 1), ("Node", 1), ("Nominated Node", 1), ("Readiness Gates", 1)]
    row = table["rows"][0]
    assert row["cells"][:4] == ["web", "1/1", "Running", "0"]
    # includeObject: Metadata (default) is a PartialObjectMetadata; None, Object.
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == "web"
    assert "spec" not in row["object"]
    assert "object" not in podd.request("GET", NS + "?includeObject=None", headers={"Accept": TABLE}).json()["rows"][0]
    assert podd.request("GET", NS + "?includeObject=Object", headers={"Accept": TABLE}).json()["rows"][0]["object"]["kind"] == "Pod"
    assert podd.request("GET", NS + "?includeObject=Some", headers={"Accept": TABLE}).status == 400
    beta = podd.request("GET", f"{NS}/web", headers={"Accept": "application/json;as=Table;v=v1beta1;g=meta.k8s.io"}).json()
    assert beta["apiVersion"] == "meta.k8s.io/v1beta1" and len(beta["rows"]) == 1
    # An Accept of forms podd does not serve only: 406.
    assert podd.request("GET", NS, headers={"Accept": "application/json;as=Table;v=v2;g=meta.k8s.io"}).status == 406
    events = podd.request("GET", "/api/v1/namespaces/default/events", headers={"Accept": TABLE}).json()
    assert [c["name"] for c in events["columnDefinitions"] if c["priority"] == 0] == ["Last Seen", "Type", "Reason", "Object", "Message"]
    assert any(r["cells"][2] == "Started" and r["cells"][3] == "pod/web" for r in events["rows"])
    metadata = podd.request("GET", NS, headers={"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}).json()
    assert metadata["kind"] == "PartialObjectMetadataList" and metadata["items"][0]["metadata"]["name"] == "web"


def test_images_answer_tables_as_every_resource(podd):
    """`/apis/podd.io/v1/images` honours the Accept negotiation of the other resources: a
    Table (one row per image), PartialObjectMetadata, 406 for forms podd does not serve."""
    images = "/apis/podd.io/v1/images"
    image = podd.get(images + "/localhost/busybox:latest").json()
    table = podd.request("GET", images, headers={"Accept": KUBECTL_ACCEPT}).json()
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1", table
    columns = [(c["name"], c["priority"]) for c in table["columnDefinitions"]]
    assert columns == [("Name", 0), ("Image ID", 0), ("Size", 0), ("Created", 0), ("Digest", 1), ("Names", 1)]
    [row] = table["rows"]
    name, short_id, size, created, digest, names = row["cells"]
    assert name == "localhost/busybox:latest" and names == "localhost/busybox:latest"
    assert short_id == image["Id"].split(":")[1][:12] and digest == image["Digest"]
    assert re.fullmatch(r"[0-9.]+ [kMG]?B", size), size
    assert seconds_of(created) is not None or re.fullmatch(r"\d+[mhdy]\w*", created), created
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == name
    one = podd.request("GET", images + "/busybox", headers={"Accept": "application/json;as=Table;v=v1beta1;g=meta.k8s.io"}).json()
    assert one["kind"] == "Table" and one["apiVersion"] == "meta.k8s.io/v1beta1" and len(one["rows"]) == 1
    metadata = podd.request("GET", images, headers={"Accept": "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}).json()
    assert metadata["kind"] == "PartialObjectMetadataList" and metadata["items"][0]["metadata"]["name"] == name
    assert podd.request("GET", images, headers={"Accept": "application/json;as=Table;v=v2;g=meta.k8s.io"}).status == 406
    assert podd.request("GET", images + "/busybox", headers={"Accept": "application/yaml"}).status == 406
    # Without an Accept (podctl, curl): the ImageList and the Image, as before.
    assert podd.get(images).json()["kind"] == "ImageList"
    assert podd.get(images + "/busybox").json()["kind"] == "Image"


def seconds_of(age):
    """A short age as the printers write it ("5s", "2m5s") in seconds; None otherwise
    ("<invalid>", "<unknown>")."""
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", age)
    return None if not age or not m else int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


def test_table_watch_rows_take_the_time_of_each_event(podd):
    """`kubectl get pods -w` and `get events -w`: a row sent seconds after the watch opened
    carries the ages of the moment it is sent, as the API server prints it (a time fixed
    when the watch opened showed `<invalid>` for what happened later)."""
    podd.create(pod_manifest("early", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    podd.wait_running("early")
    events_version = podd.get("/api/v1/namespaces/default/events").json()["metadata"]["resourceVersion"]
    table = {"Accept": KUBECTL_ACCEPT}
    seen_events = []

    def watch_events():
        seen_events.extend(watch_lines(
            podd, f"/api/v1/namespaces/default/events?watch=true&resourceVersion={events_version}",
            until=lambda ev: any(r["cells"][3] == "pod/late" for e in ev for r in e["object"].get("rows", [])),
            headers=table))

    def later():
        time.sleep(3)
        podd.request("PATCH", f"{NS}/early", {"metadata": {"labels": {"seen": "later"}}},
                     {"Content-Type": "application/merge-patch+json"})
        podd.create(pod_manifest("late", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))

    threads = [threading.Thread(target=watch_events), threading.Thread(target=later)]
    for t in threads:
        t.start()
    events = watch_lines(podd, f"{NS}?watch=true", headers=table,
                         until=lambda ev: any(r["cells"][0] == "late" for e in ev for r in e["object"]["rows"]))
    for t in threads:
        t.join(30)
    rows = [(e["type"], r) for e in events for r in e["object"]["rows"]]
    first_early = next(r for t, r in rows if r["cells"][0] == "early")
    patched = next(r for t, r in rows if r["object"]["metadata"].get("labels", {}).get("seen") == "later")
    late = next(r for t, r in rows if r["cells"][0] == "late")
    # AGE is the fifth cell: the patched row is seconds older than the first; the new pod's is
    # its own few seconds, not negative.
    assert seconds_of(patched["cells"][4]) >= seconds_of(first_early["cells"][4]) + 2, (first_early, patched)
    assert seconds_of(late["cells"][4]) is not None and seconds_of(late["cells"][4]) <= 2, late
    late_events = [r for e in seen_events for r in e["object"].get("rows", []) if r["cells"][3] == "pod/late"]
    assert late_events, seen_events
    for row in late_events:  # LAST SEEN
        assert seconds_of(row["cells"][0]) is not None and seconds_of(row["cells"][0]) <= 2, row


def test_field_validation_and_dry_run(podd):
    m = pod_manifest("warned", [("app", "sleep 3600")], terminationGracePeriodSeconds=0)
    m["spec"]["containers"][0]["colour"] = "blue"
    # The API server's default, Warn: created, the field dropped and named in a Warning.
    r = podd.request("POST", NS, m)
    assert r.status == 201, r.body
    assert r.headers.get("Warning") == '299 - "unknown field \\"spec.containers[0].colour\\""', r.headers
    assert "colour" not in json.dumps(podd.pod("warned"))
    m["metadata"]["name"] = "ignored"
    r = podd.request("POST", NS + "?fieldValidation=Ignore", m)
    assert r.status == 201 and r.headers.get("Warning") is None
    m["metadata"]["name"] = "strict"
    r = podd.request("POST", NS + "?fieldValidation=Strict", m)
    assert r.status == 400 and "strict decoding error" in r.json()["message"]
    assert podd.request("POST", NS + "?fieldValidation=Loose", m).status == 400
    # A field podd knows but does not implement is refused whatever the directive.
    unsupported = pod_manifest("hostport", [{"name": "a", "command": ["true"], "ports": [{"containerPort": 80, "hostPort": 80}]}])
    assert podd.request("POST", NS + "?fieldValidation=Ignore", unsupported).status == 422
    # dryRun=All: checked, answered, nothing done.
    dry = pod_manifest("dry", [("app", "sleep 3600")])
    assert podd.request("POST", NS + "?dryRun=All", dry).status == 201
    assert podd.pod("dry") is None
    assert podd.request("POST", NS + "?dryRun=All", pod_manifest("Bad_Name", [("a", "true")])).status == 422
    assert podd.request("POST", NS + "?dryRun=Some", dry).status == 400
    r = podd.request("PATCH", f"{NS}/warned?dryRun=All", {"metadata": {"labels": {"x": "y"}}},
                     {"Content-Type": "application/merge-patch+json"})
    assert r.status == 200 and r.json()["metadata"]["labels"]["x"] == "y"
    assert "x" not in (podd.pod("warned")["metadata"].get("labels") or {})
    assert podd.request("DELETE", f"{NS}/warned?dryRun=All").status == 200
    assert podd.pod("warned") is not None and not podd.pod("warned")["metadata"].get("deletionTimestamp")


def test_openapi_documents_come_from_docs_openapi_yaml(podd):
    import yaml
    from harness import REPO
    source = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    discovery = podd.get("/openapi/v3").json()
    url = discovery["paths"]["api/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/api/v1?hash=")
    v3 = podd.get(url).json()
    # The served schemas are the file's; the pod's PATCH carries the GVK and fieldValidation.
    assert v3["components"]["schemas"] == source["components"]["schemas"]
    assert set(v3["paths"]) == {p for p in source["paths"] if p == "/api/v1" or p.startswith("/api/v1/")}
    patch = v3["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "kind": "Pod", "version": "v1"}
    assert "fieldValidation" in [p.get("name") for p in patch["parameters"]]
    container = v3["components"]["schemas"]["PodSpec"]["properties"]["containers"]
    assert container["x-kubernetes-patch-merge-key"] == "name"
    # v2: JSON for a JSON client; gnostic's protobuf Document for kubectl's Accept, with the
    # definitions and their kinds (what kubectl validates a List's items with); 406 otherwise.
    v2 = podd.request("GET", "/openapi/v2", headers={"Accept": "application/json"})
    assert v2.status == 200 and v2.json()["swagger"] == "2.0"
    assert v2.json()["definitions"]["Pod"]["x-kubernetes-group-version-kind"][0]["kind"] == "Pod"
    proto = podd.request("GET", "/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert proto.status == 200 and proto.headers["Content-Type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    document = protobuf_fields(proto.body)
    assert document[1] == [b"2.0"]
    definitions = {}
    for entry in protobuf_fields(document[9][0])[1]:
        named = protobuf_fields(entry)
        definitions[named[1][0].decode()] = protobuf_fields(named[2][0])
    assert set(definitions) == set(v2.json()["definitions"])
    pod = definitions["Pod"]
    assert protobuf_fields(pod[22][0])[1] == [b"object"]  # type
    properties = {protobuf_fields(p)[1][0].decode() for p in protobuf_fields(pod[25][0])[1]}
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= properties
    extensions = {protobuf_fields(e)[1][0].decode(): protobuf_fields(protobuf_fields(e)[2][0])[2][0] for e in pod[31]}
    assert json.loads(extensions["x-kubernetes-group-version-kind"]) == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert podd.request("GET", "/openapi/v2", headers={"Accept": "application/xml"}).status == 406
    assert podd.get("/openapi/v3/apis/nope/v1").status == 404


def protobuf_fields(data):
    """A protobuf message's fields: number -> values (bytes for length-delimited, int for varints)."""
    fields, i = {}, 0
    def varint():
        nonlocal i
        value, shift = 0, 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            length = varint()
            value, i = data[i:i + length], i + length
        else:
            raise AssertionError(f"wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def test_openapi_v3_describes_every_group_version_served(podd):
    """/openapi/v3 lists a document for every group-version /api and /apis name (kubectl
    explain and validation look there), each holding that group-version's paths."""
    served = {f"api/{v}" for v in podd.get("/api").json()["versions"]}
    served |= {f"apis/{v['groupVersion']}" for g in podd.get("/apis").json()["groups"] for v in g["versions"]}
    assert {"apis/metrics.k8s.io/v1beta1", "apis/authorization.k8s.io/v1", "apis/authentication.k8s.io/v1"} <= served
    listed = podd.get("/openapi/v3").json()["paths"]
    assert set(listed) == served, listed
    for key, entry in listed.items():
        r = podd.get(entry["serverRelativeURL"])
        assert r.status == 200, (key, r.status)
        paths = r.json()["paths"]
        assert paths and all(p == "/" + key or p.startswith(f"/{key}/") for p in paths), (key, list(paths))
    metrics = podd.get("/openapi/v3/apis/metrics.k8s.io/v1beta1").json()
    assert "get" in metrics["paths"]["/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"]
    reviews = podd.get("/openapi/v3/apis/authorization.k8s.io/v1").json()["paths"]
    assert "post" in reviews["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"]
