"""Lists and watches as informers use them: resourceVersion on lists, watches from it that miss
and repeat nothing, 410 Expired, bookmarks, timeoutSeconds, selectors; and the Python client's
watch.Watch().stream across a few hundred changes."""
import json
import socket
import threading
import time

import pytest

from harness import pod_manifest, wait_for

NS = "/api/v1/namespaces/default/pods"


def watch_lines(podd, path, until, timeout=30, headers=None):
    """Reads a watch's JSON lines until `until(events)` or the stream ends; returns them.
    `headers`: more request headers (an Accept for a Table watch)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(podd.socket)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, buf = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head
    events, text = [], b""
    deadline = time.monotonic() + timeout
    try:
        while not until(events) and time.monotonic() < deadline:
            # Chunked framing: size line, data, CRLF.
            while b"\r\n" not in buf:
                more = sock.recv(65536)
                if not more:
                    return events
                buf += more
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line, 16)
            if size == 0:
                return events
            while len(buf) < size + 2:
                more = sock.recv(65536)
                if not more:
                    return events
                buf += more
            text += buf[:size]
            buf = buf[size + 2:]
            while b"\n" in text:
                line, text = text.split(b"\n", 1)
                if line.strip():
                    events.append(json.loads(line))
        return events
    finally:
        sock.close()


def test_list_carries_version_and_watch_from_it_misses_nothing(podd):
    podd.create(pod_manifest("a", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    listed = podd.get(NS).json()
    version = listed["metadata"]["resourceVersion"]
    assert version and int(version) > 0
    # Changes made after the list, before the watch starts, are delivered (none lost).
    podd.request("PATCH", f"{NS}/a", {"metadata": {"labels": {"x": "1"}}}, {"Content-Type": "application/merge-patch+json"})
    podd.create(pod_manifest("b", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    events = watch_lines(podd, f"{NS}?watch=true&resourceVersion={version}",
                         until=lambda ev: any(e["type"] == "ADDED" and e["object"]["metadata"]["name"] == "b" for e in ev))
    names = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert ("MODIFIED", "a") in names and ("ADDED", "b") in names, names
    assert ("ADDED", "a") not in names, names   # nothing from before the version
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions) and versions[0] > int(version)
    # Unset (and "0"): synthetic ADDED for what exists.
    for rv in ("", "&resourceVersion=0"):
        added = watch_lines(podd, f"{NS}?watch=true{rv}", until=lambda ev: len(ev) >= 2)
        assert sorted(e["object"]["metadata"]["name"] for e in added[:2]) == ["a", "b"]
        assert all(e["type"] == "ADDED" for e in added[:2])


def test_lists_come_in_pages_with_limit_and_continue(podd):
    """`limit` and `continue` as the API server pages a list (kubectl asks 500 at a time):
    key order, a continue token while more follow, remainingItemCount without selectors, and
    every page at the first page's resourceVersion, so a watch from it misses nothing."""
    for name in ("p3", "p1", "p4", "p2", "p5"):
        assert podd.create(pod_manifest(name, [("app", "sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    first = podd.get(f"{NS}?limit=2").json()
    assert [p["metadata"]["name"] for p in first["items"]] == ["p1", "p2"]
    assert first["metadata"]["remainingItemCount"] == 3 and first["metadata"]["continue"]
    version = first["metadata"]["resourceVersion"]
    # A change between pages: a pod already read is relabelled, one not yet read deleted.
    podd.request("PATCH", f"{NS}/p1", {"metadata": {"labels": {"x": "1"}}}, {"Content-Type": "application/merge-patch+json"})
    assert podd.request("DELETE", f"{NS}/p4?gracePeriodSeconds=0").status == 200
    podd.wait_gone("p4")
    second = podd.get(f"{NS}?limit=2&continue={first['metadata']['continue']}").json()
    assert [p["metadata"]["name"] for p in second["items"]] == ["p3", "p5"], second["items"]
    assert second["metadata"]["resourceVersion"] == version
    assert "continue" not in second["metadata"] and "remainingItemCount" not in second["metadata"]
    events = watch_lines(podd, f"{NS}?watch=true&resourceVersion={version}",
                         until=lambda ev: any(e["type"] == "DELETED" for e in ev))
    names = [(e["type"], e["object"]["metadata"]["name"]) for e in events]
    assert ("MODIFIED", "p1") in names and ("DELETED", "p4") in names, names
    # Selectors filter first; the count of what remains is then not given, as the API server does.
    selected = podd.get(f"{NS}?limit=1&fieldSelector=metadata.name!%3Dp1").json()
    assert [p["metadata"]["name"] for p in selected["items"]] == ["p2"]
    assert selected["metadata"]["continue"] and "remainingItemCount" not in selected["metadata"]
    # Tables page alike (kubectl get --chunk-size).
    table = podd.request("GET", f"{NS}?limit=3", headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}).json()
    assert [row["cells"][0] for row in table["rows"]] == ["p1", "p2", "p3"] and table["metadata"]["continue"]
    # Bad input: 400, in the API server's words.
    for query, words in (("limit=2&continue=abc", "continue key is not valid"), ("limit=x", "limit"),
                         (f"limit=2&resourceVersion={version}&continue={first['metadata']['continue']}",
                          "specifying resource version is not allowed when using continue")):
        r = podd.get(f"{NS}?{query}")
        assert r.status == 400 and words in r.json()["message"], (query, r.text)


def test_too_old_version_is_410_expired_and_bad_one_400(podd):
    events = watch_lines(podd, f"{NS}?watch=true&resourceVersion=5", until=lambda ev: len(ev) >= 1)
    assert events[0]["type"] == "ERROR", events
    status = events[0]["object"]
    assert status["kind"] == "Status" and status["code"] == 410 and status["reason"] == "Expired"
    assert "too old resource version" in status["message"]
    r = podd.get(f"{NS}?watch=true&resourceVersion=abc")
    assert r.status == 400


def test_bookmarks_timeout_and_field_selector(podd):
    podd.create(pod_manifest("a", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    podd.create(pod_manifest("b", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    version = podd.get(NS).json()["metadata"]["resourceVersion"]
    started = time.monotonic()
    # The stream ends by itself after timeoutSeconds, with a last BOOKMARK at the version reached.
    events = watch_lines(podd, f"{NS}?watch=true&allowWatchBookmarks=true&timeoutSeconds=2&resourceVersion={version}",
                         until=lambda ev: False, timeout=30)
    assert time.monotonic() - started < 25
    assert events and events[-1]["type"] == "BOOKMARK", events
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) >= int(version)
    # fieldSelector on a watch: only that pod's events.
    only = watch_lines(podd, f"{NS}?watch=true&fieldSelector=metadata.name%3Db&timeoutSeconds=1", until=lambda ev: False)
    assert only and {e["object"]["metadata"]["name"] for e in only} == {"b"}
    labelled = watch_lines(podd, f"{NS}?watch=true&labelSelector=nope%3Dyes&timeoutSeconds=1", until=lambda ev: False)
    assert labelled == []
    # sendInitialEvents: the objects, then a bookmark marking their end.
    initial = watch_lines(podd, f"{NS}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
                          until=lambda ev: any(e["type"] == "BOOKMARK" for e in ev))
    assert [e["type"] for e in initial] == ["ADDED", "ADDED", "BOOKMARK"]
    assert initial[-1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_python_client_stream_sees_every_change_once(podd):
    kubernetes = pytest.importorskip("kubernetes", reason="needs the kubernetes pip package")
    from kubernetes import client, watch
    from kubectl_fixture import UnixRelay
    relay = UnixRelay(podd.socket)
    try:
        config = client.Configuration()
        config.host = f"http://127.0.0.1:{relay.port}"
        api = client.CoreV1Api(client.ApiClient(config))
        podd.create(pod_manifest("churn", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
        listed = api.list_namespaced_pod("default")
        version = listed.metadata.resource_version
        seen, versions = [], []
        done = threading.Event()

        def consume():
            w = watch.Watch()
            for event in w.stream(api.list_namespaced_pod, "default", resource_version=version, timeout_seconds=120):
                labels = event["object"].metadata.labels or {}
                versions.append(int(event["object"].metadata.resource_version))
                if "n" in labels and (not seen or seen[-1] != int(labels["n"])):
                    seen.append(int(labels["n"]))
                if labels.get("n") == "299":
                    w.stop()
            done.set()

        t = threading.Thread(target=consume, daemon=True)
        t.start()
        for n in range(300):
            r = podd.request("PATCH", f"{NS}/churn", {"metadata": {"labels": {"n": str(n)}}},
                             {"Content-Type": "application/merge-patch+json"})
            assert r.status == 200
        assert done.wait(120), f"the watch saw {len(seen)} changes"
        # Every label change, in order (a status change between two keeps the labels), and
        # no event twice: versions strictly increase.
        assert seen == list(range(300)), seen[:20]
        assert versions == sorted(set(versions)) and versions[0] > int(version)
    finally:
        relay.close()


def test_label_selector_watch_sees_objects_enter_and_leave(podd):
    podd.create(pod_manifest("sel", [("app", "sleep 3600")], terminationGracePeriodSeconds=0))
    version = podd.get(NS).json()["metadata"]["resourceVersion"]
    merge = {"Content-Type": "application/merge-patch+json"}
    podd.request("PATCH", f"{NS}/sel", {"metadata": {"labels": {"tier": "front"}}}, merge)
    podd.request("PATCH", f"{NS}/sel", {"metadata": {"labels": {"note": "x"}}}, merge)
    podd.request("PATCH", f"{NS}/sel", {"metadata": {"labels": {"tier": None}}}, merge)
    events = watch_lines(podd, f"{NS}?watch=true&labelSelector=tier%3Dfront&resourceVersion={version}&timeoutSeconds=2",
                         until=lambda ev: False)
    types = [e["type"] for e in events]
    # Enters: ADDED; changes while matching: MODIFIED (status changes too); leaves: DELETED,
    # the last state it matched in, at the change's version.
    assert types[0] == "ADDED" and types[-1] == "DELETED" and set(types[1:-1]) <= {"MODIFIED"}, types
    assert events[-1]["object"]["metadata"]["labels"]["tier"] == "front"
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) > int(events[-2]["object"]["metadata"]["resourceVersion"])


def rss_kb(pid):
    return int(next(line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS:")))


def test_watchers_that_never_read_do_not_grow_podd_without_bound(podd):
    """Issue 9: every stream applies back-pressure or drops the slow client. 100 watches that
    never read, while one pod changes 2,500 times: each watcher's queue holds 1,000 changes at
    most, and the objects are shared, not copied into each queue (200 such watchers and 3,000
    changes once took podd from 33 to 830 MB)."""
    podd.create(pod_manifest("churn", [("a", "sleep 3600")]))
    podd.wait_running("churn")
    watchers = []
    for _ in range(100):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(podd.socket)
        s.sendall(b"GET /api/v1/namespaces/default/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n")
        watchers.append(s)
    time.sleep(1)
    before = rss_kb(podd.proc.pid)
    try:
        for i in range(2500):
            r = podd.request("PATCH", "/api/v1/namespaces/default/pods/churn",
                             {"metadata": {"labels": {"n": str(i)}}},
                             headers={"Content-Type": "application/merge-patch+json"})
            assert r.status == 200, r.text
        grown = (rss_kb(podd.proc.pid) - before) / 1024
        assert grown < 120, f"podd grew by {grown:.0f} MB with 100 watchers that never read"
        assert podd.get("/healthz").status == 200
    finally:
        for s in watchers:
            s.close()
