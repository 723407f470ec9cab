"""Drives the real podd and podctl binaries: a daemon per test on a private socket and
state dir, podctl runs, and raw HTTP on the Unix socket."""
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("PODD_BIN", REPO / ".build" / "debug"))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode()


def connect_waiting_out_the_backlog(path, timeout=30):
    """A Unix-socket connection as a blocking client makes it: a full accept backlog (EAGAIN
    on a socket with a timeout) is waited out, up to `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(str(path))
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.002)


def wait_for(predicate, timeout=20.0, interval=0.05, what="condition"):
    """Polls `predicate` until it returns a truthy value; fails with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (ConnectionError, OSError, KeyError, IndexError, ValueError):
            pass
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Podd:
    """One podd daemon on a temporary socket, state dir and run dir."""

    def __init__(self, root: Path, extra_config: str = "", args=(), env=None, wrapper=()):
        """`env`: extra environment for podd; `wrapper`: a command podd runs under (its argv
        is appended), e.g. to start it in a namespace of its own."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket = str(self.root / "podd.sock")
        self.state_dir = self.root / "state"
        self.run_dir = self.root / "run"
        self.manifests_dir = self.root / "pods.d"
        self.config_path = self.root / "podd.yaml"
        # Loopback-only pods unless the test asks for a network: daemons run side by side
        # here, and only a test that gives podd a network namespace of its own (test_network)
        # may let it make bridges, veths and iptables rules.
        if "network:" not in extra_config:
            extra_config = "network: none\n" + extra_config
        self.config_path.write_text(
            "restartBackoff: {initial: 1s, max: 4s, resetAfter: 30s}\n" + extra_config)
        self.args = list(args)
        self.env = dict(env or {})
        self.wrapper = list(wrapper)
        self.proc = None
        self.log_path = self.root / "podd.log"
        # Extra subprocess.Popen arguments (pass_fds for socket activation, ...).
        self.popen_options = {}

    # --- life cycle -------------------------------------------------------------------
    def start(self, wait=True):
        self._logfile = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [*self.wrapper, str(BIN / "podd"), "--config", str(self.config_path), "--socket", self.socket,
             "--state-dir", str(self.state_dir), "--run-dir", str(self.run_dir),
             "--manifests-dir", str(self.manifests_dir), "--log-level", "debug", *self.args],
            stdout=self._logfile, stderr=subprocess.STDOUT, env={**os.environ, **self.env}, **self.popen_options)
        if wait:
            wait_for(self._answers, timeout=30, what="podd to answer on its socket")
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"podd exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    @contextlib.contextmanager
    def paused(self):
        """podd stopped (SIGSTOP) for the block, so that what its pods' monitors do alone can
        be seen; continued afterwards whatever the block raised."""
        os.kill(self.proc.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_logfile", None):
            self._logfile.close()

    def cleanup(self):
        """Deletes every pod (so no process or mount outlives the test), then stops podd.
        Static pods go with their files (the API refuses to delete them)."""
        if self.proc and self.proc.poll() is None:
            try:
                if self.manifests_dir.is_dir():
                    for f in self.manifests_dir.iterdir():
                        f.unlink()
                pods = self.get("/api/v1/pods").json().get("items", [])
                for p in pods:
                    self.request("DELETE", f"/api/v1/namespaces/{p['metadata']['namespace']}/pods/{p['metadata']['name']}?gracePeriodSeconds=0")
                wait_for(lambda: not self.get("/api/v1/pods").json().get("items"), timeout=30, what="pods to go")
            except (AssertionError, OSError):
                pass
        self.stop()

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # --- HTTP -------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = UnixHTTPConnection(self.socket, timeout=timeout)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return Response(r.status, dict(r.getheaders()), data)

    def get(self, path):
        return self.request("GET", path)

    def pod(self, name, namespace="default"):
        r = self.get(f"/api/v1/namespaces/{namespace}/pods/{name}")
        return r.json() if r.status == 200 else None

    def create(self, manifest, namespace="default"):
        return self.request("POST", f"/api/v1/namespaces/{namespace}/pods", manifest)

    # --- podctl -----------------------------------------------------------------------
    def podctl(self, *args, input=None, check=True, timeout=60):
        env = dict(os.environ, PODD_SOCKET=self.socket)
        r = subprocess.run([str(BIN / "podctl"), *args], input=input, capture_output=True,
                           text=True, env=env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"podctl {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    # --- waiting ----------------------------------------------------------------------
    def wait_phase(self, name, phases, timeout=30, namespace="default"):
        if isinstance(phases, str):
            phases = (phases,)
        return wait_for(lambda: (p := self.pod(name, namespace)) and p["status"].get("phase") in phases and p,
                        timeout=timeout, what=f"pod {name} in phase {phases}")

    def wait_running(self, name, containers=None, timeout=30, namespace="default"):
        def ok():
            p = self.pod(name, namespace)
            if not p:
                return None
            statuses = p["status"].get("containerStatuses", [])
            wanted = containers or [c["name"] for c in p["spec"]["containers"]]
            running = {s["name"] for s in statuses if "running" in s.get("state", {})}
            return p if all(c in running for c in wanted) else None
        return wait_for(ok, timeout=timeout, what=f"containers of {name} running")

    def wait_gone(self, name, timeout=30, namespace="default"):
        wait_for(lambda: self.pod(name, namespace) is None, timeout=timeout, what=f"pod {name} gone")

    def logs(self, name, container=None, **params):
        q = [f"container={container}"] if container else []
        q += [f"{k}={v}" for k, v in params.items()]
        path = f"/api/v1/namespaces/default/pods/{name}/log" + ("?" + "&".join(q) if q else "")
        return self.get(path)

    def in_pod_network(self, name, namespace="default"):
        """The command prefix that runs a host program in the pod's network namespace (its
        monitor's), where a probe connects: `nsenter --net=/proc/MONITOR/ns/net`."""
        uid = self.pod(name, namespace)["metadata"]["uid"]
        monitor = (self.run_dir / "pods" / uid / "monitor.pid").read_text().split()[0]
        return ["nsenter", f"--net=/proc/{monitor}/ns/net"]

    def log(self, name, container=None, **params):
        """The container's log text, or "" while there is none yet (the API answers 400)."""
        r = self.logs(name, container, **params)
        return r.text if r.status == 200 else ""


def processes_with(tag):
    """Pids of the processes whose command line contains `tag`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if tag.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def pod_manifest(name, containers, **spec):
    """A Pod manifest dict; containers are (name, command) pairs or dicts."""
    cs = []
    for c in containers:
        if isinstance(c, dict):
            cs.append({"image": "busybox", **c})
        else:
            cs.append({"name": c[0], "image": "busybox", "command": ["sh", "-c", c[1]]})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {"containers": cs, **spec}}
