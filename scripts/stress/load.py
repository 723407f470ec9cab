"""load: N concurrent creates then N concurrent deletes over the API, then K parallel
`podctl apply` of distinct pods and K parallel applies of one same pod. Goals: every create
answered 201 and its pod running, none lost, none doubled, no 5xx, nothing left after the
deletes."""
import json
import os
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from inventory import Sample, expect_no_errors_nor_leaks
from outcome import Outcome
from stand import BIN, Stand, sleep_pod, wait_for


def _timed(fn):
    t = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t


def _running(pod):
    st = pod["status"].get("containerStatuses", [])
    return bool(st) and all("running" in s.get("state", {}) for s in st)


def _names(podd):
    return [p["metadata"]["name"] for p in podd.pods()]


def run(scale, tar):
    pods = scale.pick(40, 200)
    applies = scale.pick(6, 20)
    out = Outcome("load")
    with Stand(tar, "load") as podd:
        fd_baseline = Sample.of(podd).fds
        before = Sample.of(podd)
        # --- concurrent creates --------------------------------------------------------
        names = [f"load-{i:04d}" for i in range(pods)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=min(pods, 64)) as pool:
            results = list(pool.map(lambda n: _timed(lambda: podd.create(sleep_pod(n))), names))
        create_wall = time.perf_counter() - t0
        latencies = [dt for _, dt in results]
        created = [n for n, (r, _) in zip(names, results) if r.status == 201]
        refused = [f"{n}: {r.status} {r.body[:100]!r}" for n, (r, _) in zip(names, results) if r.status != 201]
        out.figure("creates", f"{len(created)}/{pods}")
        out.figure("creates/s", f"{pods / create_wall:.0f}")
        out.figure("create p50/max", f"{statistics.median(latencies) * 1000:.0f}/{max(latencies) * 1000:.0f} ms")
        out.expect(not refused, f"{len(refused)} concurrent create(s) not answered 201: {refused[:3]}")
        try:
            wait_for(lambda: sum(_running(p) for p in podd.pods()) >= len(created), timeout=scale.pick(60, 300),
                     interval=0.2, what="every created pod running")
        except AssertionError as e:
            out.expect(False, str(e).splitlines()[0])
        listed = _names(podd)
        lost = sorted(set(created) - set(listed))
        doubled = sorted({n for n in listed if listed.count(n) > 1})
        out.expect(not lost, f"{len(lost)} acknowledged pod(s) lost: {lost[:5]}")
        out.expect(not doubled, f"{len(doubled)} pod(s) doubled: {doubled[:5]}")
        peak = Sample.of(podd)
        out.expect(peak.monitors == len(created), f"{peak.monitors} monitors for {len(created)} pods")
        # --- concurrent deletes --------------------------------------------------------
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=min(pods, 64)) as pool:
            deletes = list(pool.map(lambda n: podd.request(
                "DELETE", f"/api/v1/namespaces/default/pods/{n}?gracePeriodSeconds=0"), created))
        bad = [r.status for r in deletes if r.status != 200]
        out.expect(not bad, f"{len(bad)} concurrent delete(s) not answered 200: {bad[:5]}")
        try:
            wait_for(lambda: not podd.pods(), timeout=scale.pick(60, 300), interval=0.2, what="every pod gone")
        except AssertionError as e:
            out.expect(False, str(e).splitlines()[0])
        out.figure("deletes/s", f"{len(created) / (time.perf_counter() - t0):.0f}")
        # --- parallel podctl apply ----------------------------------------------------
        env = dict(os.environ, PODD_SOCKET=podd.socket)
        files = []
        for i in range(applies):
            f = podd.root / f"apply-{i}.json"
            f.write_text(json.dumps(sleep_pod(f"apply-{i:02d}")))
            files.append(f)
        same = podd.root / "apply-same.json"
        same.write_text(json.dumps(sleep_pod("apply-same")))

        def apply(path):
            return subprocess.run([str(BIN / "podctl"), "apply", "-f", str(path)], capture_output=True, text=True,
                                  env=env, timeout=120)
        with ThreadPoolExecutor(max_workers=applies) as pool:
            distinct = list(pool.map(apply, files))
            alike = list(pool.map(apply, [same] * applies))
        failed = [r.stderr.strip() for r in distinct if r.returncode != 0]
        out.expect(not failed, f"{len(failed)} parallel podctl apply of distinct pods failed: {failed[:2]}")
        # Racing applies of one pod: each creates, configures or leaves it unchanged; losing a
        # create race is a clear conflict, never a server error.
        racing = [r.stderr.strip() for r in alike if r.returncode != 0
                  and not any(w in r.stderr for w in ("AlreadyExists", "Conflict", "already exists"))]
        out.expect(not racing, f"racing applies of one pod failed unclearly: {racing[:2]}")
        listed = _names(podd)
        expected = {f"apply-{i:02d}" for i in range(applies)} | {"apply-same"}
        out.expect(set(listed) == expected and len(listed) == len(expected),
                   f"after the applies the pods are {sorted(listed)[:8]}..., expected {len(expected)} distinct")
        out.figure("applies", f"{sum(r.returncode == 0 for r in distinct + alike)}/{2 * applies} ok")
        podd.delete_all()
        after = Sample.of(podd)
        out.figure("RSS before/peak/after", f"{before.rss / 1e6:.0f}/{peak.rss / 1e6:.0f}/{after.rss / 1e6:.0f} MB")
        expect_no_errors_nor_leaks(out, podd, fd_baseline)
        out.expect(podd.alive(), f"podd died (exit {podd.crashed()})")
    return out
