"""disk full: podd's state dir on a small tmpfs, filled (to 0 bytes free and to a few kB free)
while a pod is created, an image imported and a pod writes its log. Goals: each refusal is a
clear 507, nothing half-written (no pod dir, no monitor, no spool), the refused pod does not
come back after a restart, the running pod keeps running and podd keeps answering; once
space is back, creates, imports and logs work again (issue 9 items 3 and 10)."""
import os
import re
import subprocess
import time

from inventory import leaks_after, monitors_of
from outcome import Outcome
from stand import Stand, pod_manifest, sleep_pod, wait_for

SIZE_MB = 24
LOGGER = "i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.05; done"


def _mount_tmpfs(podd):
    podd.state_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m,mode=0700", "tmpfs", str(podd.state_dir)], check=True)


def _fill(path, leave):
    """Fills the filesystem of `path` with one file, then gives `leave` bytes back."""
    filler = path / "filler"
    with open(filler, "ab", buffering=0) as f:
        for chunk in (b"\0" * (1 << 20), b"\0" * 4096, b"\0"):
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def _last_line(podd):
    numbers = [int(n) for n in re.findall(r"line-(\d+)", podd.log("logger"))]
    return max(numbers) if numbers else -1


def _stored(podd):
    d = podd.state_dir / "pods"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def _incoming(podd):
    d = podd.state_dir / "images" / ".incoming"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def run(scale, tar):
    out = Outcome("disk-full")
    levels = scale.pick((0, 2048), (0, 512, 2048, 8192, 65536))
    tar_bytes = tar.read_bytes()
    refusals = 0
    with Stand(tar, "disk", before_start=_mount_tmpfs) as podd:
        podd.create(pod_manifest("logger", [("c", LOGGER)], terminationGracePeriodSeconds=0))
        podd.wait_running("logger")
        wait_for(lambda: _last_line(podd) > 5, what="the logger's first lines")
        filler = None
        for n, leave in enumerate(levels):
            filler = _fill(podd.state_dir, leave)
            stored, mons, incoming = _stored(podd), len(monitors_of(podd)), _incoming(podd)
            # A create.
            name = f"full-{n}"
            r = podd.create(sleep_pod(name))
            if r.status == 201:
                # It fitted: then it must run like any pod.
                try:
                    podd.wait_running(name, timeout=30)
                except AssertionError:
                    out.expect(False, f"{name} accepted with {leave} bytes free but never ran")
            else:
                refusals += 1
                out.expect(r.status == 507, f"create with {leave} bytes free answered {r.status} (want 507): {r.body[:120]!r}")
                time.sleep(0.5)
                out.expect(podd.pod(name) is None, f"{name} refused with {r.status} but listed")
                out.expect(_stored(podd) == stored, f"{name} refused with {r.status} but left {set(_stored(podd)) - set(stored)} in state/pods (issue 9 item 3)")
                out.expect(len(monitors_of(podd)) == mons,
                           f"{name} refused with {r.status} but a monitor runs for it (issue 9 item 3)")
            # An image import.
            r = podd.request("POST", f"/apis/podd.io/v1/images?name=other{n}&tag=latest", tar_bytes,
                             {"Content-Type": "application/x-tar"}, timeout=60)
            if r.status != 201:
                refusals += 1
                out.expect(r.status == 507, f"image import with {leave} bytes free answered {r.status} (want 507; issue 9 item 10): {r.body[:120]!r}")
                out.expect(_incoming(podd) == incoming, f"a refused import left {set(_incoming(podd)) - set(incoming)} in images/.incoming (issue 9 item 8)")
                images = [i.get("name") for i in podd.get("/apis/podd.io/v1/images").json().get("items", [])]
                out.expect(not any(f"other{n}" in str(i) for i in images), f"refused image other{n} listed")
            # The log: podd and the pod go on.
            out.expect(podd.get("/healthz").status == 200, f"/healthz not 200 with {leave} bytes free")
            out.expect(podd.logs("logger").status == 200, f"GET log of the logger not 200 with {leave} bytes free")
            p = podd.pod("logger")
            out.expect(p is not None and p["status"].get("phase") == "Running", f"the logger pod stopped running when the disk filled")
            if n + 1 < len(levels):
                filler.unlink()
        # A restart while full: the refused pods stay refused, the logger is re-adopted.
        podd.restart()
        listed = sorted(p["metadata"]["name"] for p in podd.pods())
        expected = sorted(["logger"] + [p for p in listed if p.startswith("full-") and podd.pod(p)])
        out.expect(listed == expected, f"after a restart on a full disk the pods are {listed}")
        podd.note_stored_uids()
        strays = [u for u in _stored(podd) if u not in {p["metadata"]["uid"] for p in podd.pods()}]
        out.expect(not strays, f"{len(strays)} stored pod dir(s) of refused pods after a restart (issue 9 item 3): {strays[:3]}")
        # Space back: everything works again.
        before = _last_line(podd)
        filler.unlink()
        r = podd.create(sleep_pod("after"))
        out.expect(r.status == 201, f"create with space back answered {r.status}")
        if r.status == 201:
            try:
                podd.wait_running("after", timeout=30)
            except AssertionError:
                out.expect(False, "a pod created once space was back never ran")
        r = podd.request("POST", "/apis/podd.io/v1/images?name=again&tag=latest", tar_bytes,
                         {"Content-Type": "application/x-tar"}, timeout=60)
        out.expect(r.status == 201, f"image import with space back answered {r.status}: {r.body[:120]!r}")
        try:
            wait_for(lambda: _last_line(podd) > before + 5, timeout=20, what="new log lines once space is back")
        except AssertionError:
            out.expect(False, f"the logger's log did not go on once space was back (last line {before})")
        out.figure("fill levels", "/".join(str(x) for x in levels) + " B free")
        out.figure("refusals", refusals)
        out.figure("answers", dict(sorted(podd.answers.items())))
        others = [e for e in podd.server_errors if "-> 507" not in e]
        out.expect(not others, f"{len(others)} 5xx other than 507: {others[:3]}")
        out.expect(podd.alive(), f"podd died (exit {podd.crashed()})")
        try:
            podd.delete_all()
        except AssertionError as e:
            out.expect(False, str(e).splitlines()[0])
        found = leaks_after(podd, ignore_mounts=(str(podd.state_dir),))
        out.figure("leaks", len(found))
        for f in found:
            out.expect(False, f"leak: {f}")
    return out
