"""churn: containers that exit at once, restarted with no backoff until R restarts have
happened, with podd's RSS, fds, threads, zombie children and monitor count sampled, and the
files under the state dir counted. Goals: all of them flat (no growth from the first half of
the run to its end beyond a small slack), no zombie, one monitor per pod throughout, no 5xx,
nothing left once the pods are deleted."""
import os
import statistics
import time

from inventory import Sample, expect_no_errors_nor_leaks
from outcome import Outcome
from stand import NO_BACKOFF, Stand, pod_manifest, wait_for


def _restarts(podd):
    return sum(s.get("restartCount", 0) for p in podd.pods() for s in p["status"].get("containerStatuses", []))


def _files(podd):
    """Files under the state dir, images aside (directories come and go while it is walked)."""
    count = 0
    for top, dirs, files in os.walk(podd.state_dir):
        if top == str(podd.state_dir):
            dirs[:] = [d for d in dirs if d != "images"]
        count += len(files)
    return count


def run(scale, tar):
    target = scale.pick(400, 10_000)
    pod_count = scale.pick(2, 8)
    out = Outcome("churn")
    with Stand(tar, "churn", config=NO_BACKOFF) as podd:
        fd_baseline = Sample.of(podd).fds
        for i in range(pod_count):
            # Container scope: each exit restarts the container alone, as kubelet does.
            m = pod_manifest(f"churn-{i}", [("c", "exit 0")], terminationGracePeriodSeconds=0)
            m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
            out.expect(podd.create(m).status == 201, f"create churn-{i} refused")
        samples, files = [], []
        t0 = time.monotonic()
        deadline = t0 + scale.pick(120, 1800)
        restarts = 0
        while restarts < target and time.monotonic() < deadline and podd.alive():
            time.sleep(0.5)
            samples.append(Sample.of(podd))
            files.append(_files(podd))
            restarts = _restarts(podd)
        elapsed = time.monotonic() - t0
        out.figure("restarts", f"{restarts} in {elapsed:.0f} s")
        out.expect(restarts >= target, f"only {restarts} restarts of {target} within the time allowed")
        out.expect(podd.alive(), f"podd died during the churn (exit {podd.crashed()})")
        if len(samples) >= 4 and podd.alive():
            # Settle: the last exits reaped, then the final sample.
            time.sleep(1)
            final = Sample.of(podd)
            half = samples[: len(samples) // 2]
            warm = statistics.median(s.rss for s in samples[len(samples) // 4: len(samples) // 2] or half)
            late = statistics.median(s.rss for s in samples[-max(1, len(samples) // 4):])
            out.figure("RSS warm/end", f"{warm / 1e6:.1f}/{late / 1e6:.1f} MB")
            out.figure("fds start/end", f"{samples[0].fds}/{final.fds}")
            out.figure("threads max/end", f"{max(s.threads for s in samples)}/{final.threads}")
            out.figure("zombies max/end", f"{max(s.zombies for s in samples)}/{final.zombies}")
            out.figure("monitors min/max", f"{min(s.monitors for s in samples)}/{max(s.monitors for s in samples)}")
            out.figure("state files start/end", f"{files[0]}/{files[-1]}")
            out.expect(late <= warm * 1.2 + 4e6, f"podd's RSS grew from {warm / 1e6:.1f} to {late / 1e6:.1f} MB")
            out.expect(final.fds <= max(s.fds for s in half) + 4,
                       f"podd's fds grew from {max(s.fds for s in half)} to {final.fds}")
            out.expect(final.threads <= max(s.threads for s in half) + 4,
                       f"podd's threads grew from {max(s.threads for s in half)} to {final.threads}")
            out.expect(final.zombies == 0, f"{final.zombies} zombie child(ren) of podd after the churn (issue 9 item 5)")
            out.expect(all(s.monitors == pod_count for s in samples),
                       f"monitor count left {pod_count}: {sorted({s.monitors for s in samples})}")
            out.expect(files[-1] <= max(files[: len(files) // 2]) + 2 * pod_count,
                       f"files under the state dir grew from {max(files[: len(files) // 2])} to {files[-1]} "
                       f"(a log file per restart, never pruned?)")
        try:
            podd.delete_all()
        except AssertionError as e:
            out.expect(False, str(e).splitlines()[0])
        expect_no_errors_nor_leaks(out, podd, fd_baseline)
    return out
