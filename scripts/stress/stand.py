"""The podd a stress case runs against: harness.Podd (Tests/integration) on a temporary root,
with the busybox image imported, every API answer counted (5xx recorded with the request),
and the uids of every pod it was ever seen to hold, so that the leak inventory can look for
what each of them left behind."""
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "Tests" / "integration"))
from harness import BIN, Podd, pod_manifest, wait_for  # noqa: E402,F401

# Restarts at once: churn and chaos count restarts, not backoff waits.
NO_BACKOFF = "restartBackoff: {initial: 0s, max: 0s, resetAfter: 1h}\n"


def busybox_tarball(directory):
    """Builds the busybox image tarball (scripts/make-busybox-rootfs.sh) in `directory`."""
    tar = Path(directory) / "busybox.tar"
    subprocess.run([str(REPO / "scripts" / "make-busybox-rootfs.sh"), str(Path(directory) / "rootfs"), str(tar)],
                   check=True, stdout=subprocess.DEVNULL)
    return tar


def sleep_pod(name, containers=1, **spec):
    """A pod of busybox `sleep` containers that stops at once (grace 0)."""
    return pod_manifest(name, [(f"c{i}", "exec sleep 100000") for i in range(containers)],
                        terminationGracePeriodSeconds=0, **spec)


class StressPodd(Podd):
    """harness.Podd that counts its answers. `config` replaces the harness's default config
    (restart backoff) when given."""

    def __init__(self, root, config=None, **kwargs):
        super().__init__(root, **kwargs)
        if config is not None:
            self.config_path.write_text(config)
        self.answers = collections.Counter()
        self.server_errors = []
        self.uids = set()
        self.restarts = 0

    def request(self, method, path, body=None, headers=None, timeout=30):
        r = super().request(method, path, body, headers, timeout)
        self.answers[r.status] += 1
        if r.status >= 500:
            self.server_errors.append(f"{method} {path[:80]} -> {r.status} {r.body[:160]!r}")
        if method in ("POST", "PUT", "GET", "DELETE") and r.status < 300 and r.headers.get("Content-Type", "").startswith("application/json"):
            self._note_uids(r.body)
        return r

    def _note_uids(self, body):
        try:
            import json
            doc = json.loads(body)
        except ValueError:
            return
        items = doc.get("items", [doc]) if isinstance(doc, dict) else []
        for item in items:
            uid = isinstance(item, dict) and (item.get("metadata") or {}).get("uid")
            if uid and item.get("kind", "Pod") == "Pod":
                self.uids.add(uid)

    def note_stored_uids(self):
        """Adds the uids found on disk (state and run dirs): pods the API never answered for
        (a crash mid-create, a 507) leave their traces there."""
        for d in (self.state_dir / "pods", self.run_dir / "pods"):
            if d.is_dir():
                self.uids.update(p.name for p in d.iterdir() if not p.name.startswith("."))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def crashed(self):
        """podd ended by itself (not by one of our signals): its exit status, or None."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        if getattr(self, "_logfile", None):
            self._logfile.close()

    def restart(self, sig=signal.SIGTERM):
        self.stop(sig)
        self.restarts += 1
        self.start()

    def pods(self):
        return self.get("/api/v1/pods").json()["items"]

    def delete_all(self, timeout=60):
        """Deletes every pod at once (grace 0) and waits until none is listed."""
        for p in self.pods():
            m = p["metadata"]
            self.request("DELETE", f"/api/v1/namespaces/{m['namespace']}/pods/{m['name']}?gracePeriodSeconds=0")
        wait_for(lambda: not self.pods(), timeout=timeout, interval=0.1, what="every pod deleted")


class Stand:
    """A temporary root with a StressPodd and the busybox image; `with Stand(...) as podd:`.
    The root is short (/tmp/podd-stress-XXXX): Unix socket paths must fit in 108 bytes."""

    def __init__(self, tar, case, config=None, before_start=None, import_image=True):
        self.tar = tar
        self.case = case
        self.config = config
        self.before_start = before_start
        self.import_image = import_image
        self.root = None
        self.podd = None

    def __enter__(self):
        self.root = Path(tempfile.mkdtemp(prefix=f"podd-{self.case[:6]}-", dir="/tmp"))
        self.podd = StressPodd(self.root / "d", config=self.config)
        if self.before_start:
            self.before_start(self.podd)
        self.podd.start()
        if self.import_image:
            self.podd.podctl("image", "import", "busybox", str(self.tar))
        return self.podd

    def __exit__(self, *exc):
        try:
            if self.podd.alive():
                self.podd.cleanup()
            else:
                # A podd that died still leaves pods behind: a fresh one deletes them.
                self.podd.start()
                self.podd.cleanup()
        except Exception:  # noqa: BLE001 - teardown must go on to the removal below
            pass
        finally:
            self.podd.stop()
            _kill_leftovers(self.podd)
            keep = os.environ.get("STRESS_KEEP_LOGS")
            if keep and os.path.exists(self.podd.log_path):
                # For tracing a fault: podd's whole debug log outlives the temporary root.
                os.makedirs(keep, exist_ok=True)
                shutil.copy(self.podd.log_path, os.path.join(keep, f"{self.case}-{self.root.name}.log"))
            shutil.rmtree(self.root, ignore_errors=True)
        return False


def _kill_leftovers(podd):
    """What a failed case left running (monitors under this root, processes in the cgroups
    of its pods): killed so that one case's leak does not pollute the next case."""
    from inventory import cgroup_base, processes_under
    for pid in processes_under(podd.run_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    base = cgroup_base()
    if base:
        podd.note_stored_uids()
        for uid in podd.uids:
            kill = base / uid / "cgroup.kill"
            if kill.exists():
                try:
                    kill.write_text("1")
                except OSError:
                    pass
    # Mounts left under the root (a monitor killed mid-setup, a tmpfs of the disk-full case).
    for line in reversed(Path("/proc/self/mountinfo").read_text().splitlines()):
        point = line.split()[4]
        if point.startswith(str(podd.root)):
            subprocess.run(["umount", "-l", point], capture_output=True)
