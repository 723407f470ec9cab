#!/usr/bin/env python3
"""podd's benchmarks: medians of repeated runs, side by side with the peers installed here
(plain `unshare`, podman). Prints a Markdown table. Run through `make bench` (release build).

Env: PODD_BIN (dir with podd, podctl, podd-monitor; default .build/release), RUNS (default 20), PODS (default 100),
PEER_RUNS (podman runs, default 5), THOUSAND (the many-pods figures, default 1000; 0 skips
them), ONLY=thousand (those figures alone), ONLY=secure (the securityContext start figure alone),
ONLY=portforward (port-forward throughput alone), ONLY=exec (the exec and debug
round trips alone), ONLY=init (the per-init-container figure alone), ONLY=network (pod start with
the default CNI network, network: none and podman's bridge pod), ONLY=resources (pod start, /metrics and top with
PODS pods), STATE_FS=journaled (the daemons' state dirs on an ext4 file system with a journal
made for the run, instead of /tmp: see bench_dir)."""
import atexit
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "Tests" / "integration"))
# The release binaries unless told otherwise: the harness's default is the debug build, whose
# figures (several times slower) mean nothing here.
os.environ.setdefault("PODD_BIN", str(REPO / ".build" / "release"))
from harness import BIN, Podd, UnixHTTPConnection, wait_for  # noqa: E402
from bench_portforward import portforward_rows  # noqa: E402

RUNS = int(os.environ.get("RUNS", "20"))
PODS = int(os.environ.get("PODS", "100"))
PEER_RUNS = int(os.environ.get("PEER_RUNS", "5"))
rows = []


_bench_dir = None


def bench_dir():
    """Where the run's daemons keep their state dirs: /tmp, the machine's own disk, or with
    STATE_FS=journaled an ext4 file system with a journal, made for the run in a loop-mounted
    image file. On ext4 without a journal (this machine's root file system) every new inode
    is found past the inodes freed in the last minute or more (`recently_deleted`), so the
    figures of a run that churns pods depend on what ran before it; with a journal they
    measure podd."""
    global _bench_dir
    if _bench_dir is not None:
        return _bench_dir
    _bench_dir = "/tmp"
    if os.environ.get("STATE_FS") == "journaled":
        # Short: socket paths under it are limited to 108 bytes.
        image, mount = "/tmp/pbfs.img", "/tmp/pbfs"
        try:
            with open(image, "wb") as f:
                f.truncate(16 << 30)  # sparse: blocks are taken as they are written
            subprocess.run(["mkfs.ext4", "-q", "-F", image], check=True)
            os.makedirs(mount, exist_ok=True)
            subprocess.run(["mount", "-o", "loop", image, mount], check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"bench: STATE_FS=journaled: could not make the file system ({e}); state dirs stay in /tmp", flush=True)
            return _bench_dir

        def unmount():
            subprocess.run(["umount", "-l", mount])
            os.unlink(image)
        atexit.register(unmount)
        _bench_dir = mount
    print(f"# state dirs in {_bench_dir}", flush=True)
    return _bench_dir


def busybox_workdir():
    """A work dir of the run's (under bench_dir) holding busybox.tar, the root file system
    the benchmarks' pods run: (dir, tar path). The dir goes if the archive cannot be made."""
    tmp = tempfile.mkdtemp(prefix="podd-bench-", dir=bench_dir())
    tar = Path(tmp) / "busybox.tar"
    try:
        subprocess.run([str(REPO / "scripts" / "make-busybox-rootfs.sh"), str(Path(tmp) / "rootfs"), str(tar)],
                       check=True, stdout=subprocess.DEVNULL)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp, tar


def row(name, value, unit, peer="", note=""):
    rows.append((name, value, unit, peer, note))
    print(f"  {name}: {value} {unit}  {peer}  {note}", flush=True)


def ms(seconds):
    return f"{seconds * 1000:.1f}"


def median_of(fn, runs):
    samples = []
    for _ in range(runs):
        samples.append(fn())
    return statistics.median(samples), samples


def time_cmd(argv, runs, env=None):
    def once():
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        return time.perf_counter() - t
    once()
    return median_of(once, runs)[0]


class Watch:
    """A pod watch stream: lets a run time POST -> containers running without polling."""

    def __init__(self, podd):
        self.conn = UnixHTTPConnection(podd.socket, timeout=60)
        self.conn.request("GET", "/api/v1/namespaces/default/pods?watch=true")
        self.resp = self.conn.getresponse()

    def until(self, predicate):
        while True:
            line = self.resp.readline()
            if not line:
                raise RuntimeError("watch ended")
            event = json.loads(line)
            if predicate(event):
                return event

    def close(self):
        self.conn.close()


def all_running(name, count):
    def check(event):
        pod = event["object"]
        if pod["metadata"]["name"] != name:
            return False
        st = pod.get("status", {}).get("containerStatuses", [])
        return sum(1 for s in st if "running" in s.get("state", {})) == count
    return check


def pod(name, containers, image="busybox", **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": n, "image": image, "command": ["sh", "-c", c]} for n, c in containers],
                     "terminationGracePeriodSeconds": 0, **spec}}


def delete_and_wait(podd, name):
    podd.request("DELETE", f"/api/v1/namespaces/default/pods/{name}?gracePeriodSeconds=0")
    podd.wait_gone(name, timeout=30)


def bench_pod_start(podd, image="busybox"):
    watch = Watch(podd)
    samples = []
    for i in range(RUNS + 2):
        name = f"start{i}"
        t = time.perf_counter()
        r = podd.create(pod(name, [("a", "exec sleep 3600"), ("b", "exec sleep 3600")], image=image))
        assert r.status == 201, r.text
        watch.until(all_running(name, 2))
        samples.append(time.perf_counter() - t)
        delete_and_wait(podd, name)
    watch.close()
    return statistics.median(samples[2:])


# Every securityContext feature of issue 12 at once (limits are measured with resources).
SECURE_POD = {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True, "fsGroup": 2000,
                                  "supplementalGroups": [3000], "seccompProfile": {"type": "RuntimeDefault"}}}
SECURE_CONTAINER = {"capabilities": {"drop": ["ALL"]}, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}


def bench_secure_pod_start(podd):
    """POST -> 2 containers running, the plain pod and the same pod with SECURE_POD, runs
    interleaved so that both see the same machine; medians."""
    watch = Watch(podd)
    plain, secure = [], []
    for i in range(RUNS + 2):
        for kind, samples in (("plain", plain), ("secure", secure)):
            name = f"{kind}{i}"
            m = pod(name, [("a", "exec sleep 3600"), ("b", "exec sleep 3600")])
            if kind == "secure":
                m["spec"].update(SECURE_POD)
                for c in m["spec"]["containers"]:
                    c["securityContext"] = SECURE_CONTAINER
            t = time.perf_counter()
            r = podd.create(m)
            assert r.status == 201, r.text
            watch.until(all_running(name, 2))
            samples.append(time.perf_counter() - t)
            delete_and_wait(podd, name)
    watch.close()
    return statistics.median(plain[2:]), statistics.median(secure[2:])


def secure_row(podd):
    plain, secure = bench_secure_pod_start(podd)
    row("pod start with every securityContext feature (non-root, caps dropped, RuntimeDefault, read-only root, no_new_privs, fsGroup)",
        ms(secure), "ms", "", f"{secure / plain:.2f}x the plain pod's {ms(plain)} ms; goal < 1.3x")
def load_layered_image(podd, tar, tmp):
    """A 5-layer image (busybox and four layers of 200 small files each), loaded from an OCI
    layout: what a real image's layer stack costs a pod start."""
    from test_images import tar_layer, write_image
    layers = [Path(tar).read_bytes()] + [
        tar_layer([(f"l{k}", "dir")] + [(f"l{k}/f{i}", "file", f"{k}.{i}\n") for i in range(200)]) for k in range(4)]
    write_image(Path(tmp) / "layered", "layered:5", layers)
    podd.podctl("image", "load", "-i", str(Path(tmp) / "layered"))


def du_bytes(path):
    out = subprocess.run(["du", "-sxb", str(path)], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else 0


def bench_disk_of_ten_pods(podd):
    """Disk used by 10 running pods of the 5-layer image: the store's layers (counted once)
    and the pods' own writable layers."""
    store_before = du_bytes(podd.state_dir / "images")
    watch = Watch(podd)
    for i in range(10):
        podd.create(pod(f"disk{i}", [("a", "exec sleep 3600")], image="layered:5"))
    # The ten start side by side: their running events come in any order.
    waiting = {f"disk{i}" for i in range(10)}
    while waiting:
        event = watch.until(lambda e: any(all_running(n, 1)(e) for n in waiting))
        waiting.discard(event["object"]["metadata"]["name"])
    watch.close()
    store_after = du_bytes(podd.state_dir / "images")
    pods = du_bytes(podd.state_dir / "pods")
    for i in range(10):
        delete_and_wait(podd, f"disk{i}")
    return store_before, store_after, pods


def bench_podctl_apply(podd, tmp):
    f = Path(tmp) / "pod.json"
    samples = []
    for i in range(RUNS):
        name = f"apply{i}"
        f.write_text(json.dumps(pod(name, [("a", "exec sleep 3600"), ("b", "exec sleep 3600")])))
        t = time.perf_counter()
        subprocess.run([str(BIN / "podctl"), "apply", "-f", str(f)], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, PODD_SOCKET=podd.socket))
        samples.append(time.perf_counter() - t)
        delete_and_wait(podd, name)
    return statistics.median(samples)


def bench_init_overhead(podd):
    """Per-init-container cost: a pod with 5 `true` init containers against the same pod
    without them, POST -> app running, medians."""
    watch = Watch(podd)

    def start(name, inits):
        m = pod(name, [("a", "exec sleep 3600")])
        if inits:
            m["spec"]["initContainers"] = [{"name": f"i{k}", "image": "busybox", "command": ["true"]} for k in range(inits)]
        t = time.perf_counter()
        podd.create(m)
        watch.until(all_running(name, 1))
        elapsed = time.perf_counter() - t
        delete_and_wait(podd, name)
        return elapsed

    without = statistics.median([start(f"noinit{i}", 0) for i in range(RUNS)])
    with5 = statistics.median([start(f"init{i}", 5) for i in range(RUNS)])
    watch.close()
    return without, with5


def bench_restart_latency(root, tar):
    """A container's exit to its replacement running, with the backoff at zero: a daemon of
    its own whose restartBackoff is 0s, a pod whose container exits after 0.2 s, and the
    watch stream's timing of each exit and each new run."""
    d = Podd(Path(root) / "restart")
    # This daemon's config is its own: backoff at zero.
    d.config_path.write_text("restartBackoff: {initial: 0s, max: 0s, resetAfter: 1h}\n")
    d.start()
    try:
        d.podctl("image", "import", "busybox", str(tar))
        watch = Watch(d)
        d.create(pod("crash", [("a", "sleep 0.2; exit 1")], restartPolicy="Always"))
        gaps = []
        exited_at = None
        last_count = 0
        while len(gaps) < RUNS:
            event = watch.until(lambda e: e["object"]["metadata"]["name"] == "crash")
            now = time.perf_counter()
            st = (event["object"].get("status", {}).get("containerStatuses") or [{}])[0]
            state = st.get("state", {})
            count = st.get("restartCount", 0)
            if "running" in state and count > last_count and exited_at is not None:
                gaps.append(now - exited_at)
                exited_at = None
            elif "running" not in state and exited_at is None and (count > 0 or "terminated" in state):
                exited_at = now
            last_count = count if "running" in state else last_count
        watch.close()
        return statistics.median(gaps)
    finally:
        d.cleanup()


def bench_memory(podd):
    for i in range(PODS):
        podd.create(pod(f"idle{i}", [("a", "exec sleep 100000"), ("b", "exec sleep 100000")]))
    wait_for(lambda: all(len([s for s in p["status"].get("containerStatuses", []) if "running" in s["state"]]) == 2
                         for p in podd.get("/api/v1/pods").json()["items"]), timeout=300, what="idle pods running")
    time.sleep(1)
    rss = read_status(podd.proc.pid, "VmRSS")
    monitors = [int(p) for p in subprocess.run(["pgrep", "-x", "podd-monitor"], capture_output=True, text=True).stdout.split()]
    anon = [read_status(p, "RssAnon") for p in monitors]
    anon = [a for a in anon if a is not None]
    table_seconds = bench_pod_table(podd)
    # Idle CPU: the daemon's CPU time over 5 s with every pod up and nothing happening.
    before = cpu_ticks(podd.proc.pid)
    time.sleep(5)
    idle = (cpu_ticks(podd.proc.pid) - before) / os.sysconf("SC_CLK_TCK") / 5 * 100
    bench_scrapes(podd)
    for i in range(PODS):
        podd.request("DELETE", f"/api/v1/namespaces/default/pods/idle{i}?gracePeriodSeconds=0")
    wait_for(lambda: not podd.get("/api/v1/pods").json()["items"], timeout=300, what="idle pods gone")
    return rss, anon, idle, table_seconds


KUBECTL_TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                        "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")


def bench_pod_table(podd):
    """podd's answer to `kubectl get pods` (the Table of every pod, kubectl's Accept), round
    trip on the Unix socket: the server's time plus a local socket's."""
    def once():
        start = time.perf_counter()
        r = podd.request("GET", "/api/v1/namespaces/default/pods", headers={"Accept": KUBECTL_TABLE_ACCEPT})
        elapsed = time.perf_counter() - start
        assert r.status == 200 and len(r.json()["rows"]) == PODS
        return elapsed
    return median_of(once, RUNS)[0]


def timed_get(podd, path):
    t = time.perf_counter()
    r = podd.get(path)
    elapsed = time.perf_counter() - t
    assert r.status == 200, (path, r.status)
    return elapsed


def bench_scrapes(podd):
    """With PODS pods up (issue 12): the cost of a /metrics scrape, of the PodMetrics list
    `kubectl top pod -A` reads and of `podctl top pod -A` (CLI round trip), and podd's CPU in
    the 5 s after them (nothing samples between scrapes)."""
    # podd's own CPU per scrape too: wall time on a shared, loaded machine overstates it.
    ticks = cpu_ticks(podd.proc.pid)
    metrics = median_of(lambda: timed_get(podd, "/metrics"), RUNS)[0]
    metrics_cpu = (cpu_ticks(podd.proc.pid) - ticks) / os.sysconf("SC_CLK_TCK") / RUNS
    podmetrics = median_of(lambda: timed_get(podd, "/apis/metrics.k8s.io/v1beta1/pods"), RUNS)[0]
    top = time_cmd([str(BIN / "podctl"), "--socket", podd.socket, "top", "pod", "-A"], RUNS)
    before = cpu_ticks(podd.proc.pid)
    time.sleep(5)
    idle = (cpu_ticks(podd.proc.pid) - before) / os.sysconf("SC_CLK_TCK") / 5 * 100
    row(f"GET /metrics with {PODS} pods (cgroup reads included)", ms(metrics), "ms", "",
        f"podd CPU {ms(metrics_cpu)} ms a scrape; goal < 10 ms")
    row(f"GET /apis/metrics.k8s.io/v1beta1/pods with {PODS} pods", ms(podmetrics), "ms", "", "goal < 10 ms")
    row(f"podctl top pod -A with {PODS} pods (CLI round trip)", ms(top), "ms")
    row("podd CPU in the 5 s after the scrapes", f"{idle:.2f}", "%", "", "goal 0")


def read_status(pid, field):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


# --- start-up and re-adoption (issue 5) --------------------------------------------------
READY_PODS = int(os.environ.get("READY_PODS", "100"))
COLD_RUNS = int(os.environ.get("COLD_RUNS", "5"))


class Notify:
    """A NOTIFY_SOCKET, as systemd gives a Type=notify service: podd says READY=1 on it."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def ready(self, timeout=120):
        self.sock.settimeout(timeout)
        while True:
            if b"READY=1" in self.sock.recv(4096).split(b"\n"):
                return time.perf_counter()


def timed_start(d, notify):
    """Seconds from starting podd to its READY=1."""
    t = time.perf_counter()
    d.start(wait=False)
    return notify.ready() - t


def running_count(d):
    return sum(1 for p in d.get("/api/v1/pods").json()["items"] if p["status"].get("phase") == "Running")


def kill_pods_behind_podd(d):
    """What a reboot does to the pods: monitors and containers gone, run dir empty; the pods
    stay stored."""
    for base in ("/sys/fs/cgroup/unified/podd", "/sys/fs/cgroup/podd"):
        for pod_dir in d.state_dir.glob("pods/*"):
            group = Path(base) / pod_dir.name
            if (group / "cgroup.kill").exists():
                (group / "cgroup.kill").write_text("1")
    out = subprocess.run(["pgrep", "-f", f"podd-monitor --pod-dir {d.run_dir}/"], capture_output=True, text=True).stdout
    for pid in out.split():
        try:
            os.kill(int(pid), 9)
        except ProcessLookupError:
            pass
    wait_for(lambda: not subprocess.run(["pgrep", "-f", f"podd-monitor --pod-dir {d.run_dir}/"], capture_output=True).stdout,
             timeout=30, what="monitors gone")
    shutil.rmtree(d.run_dir, ignore_errors=True)
    # A reboot empties /sys/fs/cgroup too: the pods' groups go, in every hierarchy, bottom up.
    # (Left in place they would measure podd's clean-up after a crash, not a start after a
    # reboot: each leftover pod costs podd's recovery its v1 rmdirs.)
    uids = {p.name for p in d.state_dir.glob("pods/*")}
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        for top in hierarchy.glob("podd*"):
            for group in (top / uid for uid in uids):
                if group.is_dir():
                    for sub in sorted((g for g in group.rglob("*") if g.is_dir()), key=lambda g: -len(g.parts)) + [group]:
                        try:
                            os.rmdir(sub)
                        except OSError:
                            pass


def bench_ready_and_readopt(tmp, tar):
    """podd start -> READY=1 with no pods; with READY_PODS stored pods whose monitors run
    (re-adoption: READY only once every pod is re-adopted); and with the same pods after a
    "reboot" (stored, nothing running: each pod starts afresh). Medians."""
    root = Path(tmp) / "ready"
    root.mkdir()
    notify = Notify(root / "notify.sock")
    d = Podd(root / "d", env={"NOTIFY_SOCKET": notify.path})
    empty = []
    for _ in range(RUNS):
        empty.append(timed_start(d, notify))
        d.stop()
    d.start()
    notify.ready()
    try:
        d.podctl("image", "import", "busybox", str(tar))
        for i in range(READY_PODS):
            d.create(pod(f"r{i}", [("a", "exec sleep 100000")]))
        wait_for(lambda: running_count(d) == READY_PODS, timeout=300, what="pods running")
        readopt, readopt_all = [], []
        for _ in range(RUNS):
            d.stop()
            r = timed_start(d, notify)
            t = time.perf_counter()
            wait_for(lambda: running_count(d) == READY_PODS, timeout=60, interval=0.002, what="pods re-adopted")
            readopt.append(r)
            readopt_all.append(r + time.perf_counter() - t)
        cold, cold_all = [], []
        for _ in range(COLD_RUNS):
            d.stop()
            kill_pods_behind_podd(d)
            r = timed_start(d, notify)
            t = time.perf_counter()
            wait_for(lambda: running_count(d) == READY_PODS, timeout=300, interval=0.01, what="pods started again")
            cold.append(r)
            cold_all.append(r + time.perf_counter() - t)
    finally:
        d.cleanup()
    med = statistics.median
    return med(empty), med(readopt), med(readopt_all), med(cold), med(cold_all)


# --- 1,000 pods (issue 9) ----------------------------------------------------------------
THOUSAND = int(os.environ.get("THOUSAND", "1000"))
THOUSAND_RUNS = int(os.environ.get("THOUSAND_RUNS", "5"))


def monitor_anon(d):
    """RssAnon of each monitor of daemon `d` (its private memory)."""
    out = subprocess.run(["pgrep", "-f", f"podd-monitor --pod-dir {d.run_dir}/"], capture_output=True, text=True).stdout
    return [a for a in (read_status(int(p), "RssAnon") for p in out.split()) if a is not None]


def timed_list(d):
    t = time.perf_counter()
    r = d.request("GET", "/api/v1/pods", timeout=120)
    assert r.status == 200
    return time.perf_counter() - t


def timed_first_watch_event(d):
    t = time.perf_counter()
    conn = UnixHTTPConnection(d.socket, timeout=120)
    conn.request("GET", "/api/v1/namespaces/default/pods?watch=true")
    resp = conn.getresponse()
    resp.readline()
    first = time.perf_counter() - t
    conn.close()
    return first


def bench_thousand(tmp, tar):
    """THOUSAND busybox `sleep` pods on one podd: how fast they are created (16 clients), podd's
    resident memory and each monitor's private memory with all of them idle, a list and the
    first watch event, idle CPU over 5 s, and podd start -> READY=1 with them all running
    (re-adopted; median of THOUSAND_RUNS) and after a "reboot" (stored, none running; once)."""
    from concurrent.futures import ThreadPoolExecutor
    root = Path(tmp) / "thousand"
    root.mkdir()
    notify = Notify(root / "notify.sock")
    d = Podd(root / "d", env={"NOTIFY_SOCKET": notify.path})
    d.start()
    notify.ready()
    figures = {}
    try:
        d.podctl("image", "import", "busybox", str(tar))
        t = time.perf_counter()
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda i: d.create(pod(f"k{i:04d}", [("a", "exec sleep 1000000")])).status,
                                    range(THOUSAND)))
        figures["create"] = THOUSAND / (time.perf_counter() - t)
        assert answers.count(201) == THOUSAND, f"creates answered {sorted(set(answers))}"
        t = time.perf_counter()
        wait_for(lambda: running_count(d) == THOUSAND, timeout=900, interval=1, what=f"{THOUSAND} pods running")
        figures["all running"] = time.perf_counter() - t
        time.sleep(2)
        figures["rss"] = read_status(d.proc.pid, "VmRSS")
        figures["anon"] = monitor_anon(d)
        figures["list"] = median_of(lambda: timed_list(d), THOUSAND_RUNS)[0]
        figures["watch"] = median_of(lambda: timed_first_watch_event(d), THOUSAND_RUNS)[0]
        # Idle means idle: the list and watch clients just measured are let go (their
        # connections closed, their buffers freed) before the window opens.
        time.sleep(5)
        before = cpu_ticks(d.proc.pid)
        time.sleep(5)
        figures["idle"] = (cpu_ticks(d.proc.pid) - before) / os.sysconf("SC_CLK_TCK") / 5 * 100
        readopt, readopt_all = [], []
        for _ in range(THOUSAND_RUNS):
            d.stop()
            r = timed_start(d, notify)
            t = time.perf_counter()
            wait_for(lambda: running_count(d) == THOUSAND, timeout=300, interval=0.01, what="pods re-adopted")
            readopt.append(r)
            readopt_all.append(r + time.perf_counter() - t)
        figures["readopt"] = statistics.median(readopt)
        figures["readopt all"] = statistics.median(readopt_all)
        d.stop()
        kill_pods_behind_podd(d)
        figures["cold"] = timed_start(d, notify)
        t = time.perf_counter()
        wait_for(lambda: running_count(d) == THOUSAND, timeout=900, interval=0.05, what="pods started again")
        figures["cold all"] = figures["cold"] + time.perf_counter() - t
    finally:
        for p in d.get("/api/v1/pods").json().get("items", []) if d.proc and d.proc.poll() is None else []:
            d.request("DELETE", f"/api/v1/namespaces/default/pods/{p['metadata']['name']}?gracePeriodSeconds=0")
        try:
            wait_for(lambda: not d.get("/api/v1/pods").json()["items"], timeout=600, interval=1, what="pods gone")
        except AssertionError:
            pass
        d.stop()
    return figures


def thousand_rows():
    tmp, tar = busybox_workdir()
    try:
        f = bench_thousand(tmp, tar)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = THOUSAND
    row(f"create {n} pods (16 clients)", f"{f['create']:.0f}", "pods/s", "", f"all running {f['all running']:.1f} s after the last answer; goal 200/s")
    row(f"podd resident memory with {n} idle pods", f"{f['rss'] / 1e6:.1f}", "MB", "", "goal < 100 MB")
    if f["anon"]:
        row(f"per-pod monitor private memory (RssAnon) with {n} pods, median / max",
            f"{statistics.median(f['anon']) / 1e3:.0f} / {max(f['anon']) / 1e3:.0f}", "kB", "", "goal < 150 kB")
    row(f"GET /api/v1/pods with {n} pods", ms(f["list"]), "ms", "", f"median of {THOUSAND_RUNS}")
    row(f"first watch event with {n} pods", ms(f["watch"]), "ms", "", f"median of {THOUSAND_RUNS}")
    row(f"podd CPU while {n} pods idle (5 s)", f"{f['idle']:.2f}", "%", "", "goal 0")
    row(f"podd start -> READY=1, {n} pods running (re-adopted)", ms(f["readopt"]), "ms", "",
        f"all reported Running after {ms(f['readopt all'])} ms; median of {THOUSAND_RUNS}; goal < 500 ms")
    row(f"podd start -> READY=1, {n} stored pods after a reboot (none running)", ms(f["cold"]), "ms", "",
        f"all {n} running after {ms(f['cold all'])} ms; once")


# --- exec and debug ---------------------------------------------------------------------

def bench_exec_and_debug(podd):
    """Round trips of `podctl exec POD -- true` and `podctl debug POD -- true` (an ephemeral
    container added, started, its output followed and its exit code relayed), as a user
    sees them: the whole podctl process, medians of RUNS."""
    r = podd.create(pod("dbg", [("app", "exec sleep 3600")]))
    assert r.status == 201, r.text
    podd.wait_running("dbg")
    env = dict(os.environ, PODD_SOCKET=podd.socket)

    def podctl(*args):
        def once():
            t = time.perf_counter()
            subprocess.run([str(BIN / "podctl"), *args], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=env)
            return time.perf_counter() - t
        once()
        return median_of(once, RUNS)[0]

    exec_time = podctl("exec", "dbg", "--", "true")
    debug_time = podctl("debug", "dbg", "--", "true")
    podd.podctl("debug", "prune", "dbg")
    delete_and_wait(podd, "dbg")
    return exec_time, debug_time


def exec_rows(podd, tmp, podman_ok):
    """The exec and debug round trips (podman's beside them when it is ready), podctl's
    start-up CPU, and the load average they were measured at (other agents share the machine)."""
    exec_time, debug_time = bench_exec_and_debug(podd)
    exec_peer = debug_peer = ""
    if podman_ok:
        podman_exec, podman_debug = bench_podman_exec_and_debug()
        exec_peer = f"podman exec (runc): {ms(podman_exec)} ms"
        debug_peer = f"podman run --rm --pod (joins a running pod): {ms(podman_debug)} ms"
    load = Path("/proc/loadavg").read_text().split()[0]
    row("exec: podctl exec POD -- true (CLI round trip)", ms(exec_time), "ms", exec_peer, f"goal < 3.5 ms; load {load}")
    row("debug: podctl debug POD -- true (ephemeral container, CLI round trip)", ms(debug_time), "ms", debug_peer,
        f"goal < 6 ms; load {load}")
    row("podctl start-up CPU (user+sys, exec fast path to a failed connect)", ms(bench_podctl_startup_cpu(tmp)), "ms")


def bench_podctl_startup_cpu(tmp):
    """podctl's own start-up, as CPU time (user + sys, repeatable where wall-clock is noisy):
    the exec fast path up to its failed connect to a socket that does not exist, medians."""
    import resource
    argv = [str(BIN / "podctl"), "exec", "x", "--socket", str(Path(tmp) / "no-such.sock"), "--", "true"]

    def once():
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    once()
    return median_of(once, max(RUNS, 50))[0]


def run_dir_on_tmpfs(d):
    """The daemon's run dir on a tmpfs of its own, as /run is where podd is installed: the
    pod's run-time files (hosts, hostname, resolv.conf, sockets) are made on every start, and
    on a disk filesystem that churns (this bench, the tests beside it) each new inode there
    cost milliseconds that a real /run never costs. Returns the mount point, for unmount."""
    d.run_dir.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "podd-bench-run", str(d.run_dir)]).returncode != 0:
        print("bench: could not mount a tmpfs on the run dir; it stays on the disk", flush=True)
        return None
    return d.run_dir


def bench_podman_exec_and_debug():
    """podman's counterparts, in the same run: `podman exec` of `true` into a running
    container, and a container running `true` that joins a running pod (`podman run --rm
    --pod`, what a debug container is there)."""
    podman("rm", "-f", "-t", "0", "bench-exec", check=False)
    podman("pod", "rm", "-f", "-t", "0", "bench-debug", check=False)
    podman("run", "-d", "--name", "bench-exec", "--network=none", "localhost/busybox", "sleep", "3600")
    podman("pod", "create", "--name", "bench-debug", "--share=ipc,uts,net", "--network=none",
           "--infra-image", "localhost/pause:latest")
    podman("run", "-d", "--pod", "bench-debug", "--name", "bench-debug-app", "localhost/busybox", "sleep", "3600")
    try:
        exec_time = time_cmd(["podman", "--cgroup-manager=cgroupfs", "--events-backend=file", "exec", "bench-exec", "true"],
                             PEER_RUNS, env=dict(os.environ, CONTAINERS_CONF=str(PODMAN_CONF)))
        debug_time = time_cmd(["podman", "--cgroup-manager=cgroupfs", "--events-backend=file", "run", "--rm", "--pod",
                               "bench-debug", "localhost/busybox", "true"],
                              PEER_RUNS, env=dict(os.environ, CONTAINERS_CONF=str(PODMAN_CONF)))
    finally:
        podman("rm", "-f", "-t", "0", "bench-exec", check=False)
        podman("pod", "rm", "-f", "-t", "0", "bench-debug", check=False)
    return exec_time, debug_time


# --- peers ------------------------------------------------------------------------------
PODMAN_CONF = REPO / "scripts" / "bench-podman.conf"


def podman(*args, check=True):
    env = dict(os.environ, CONTAINERS_CONF=str(PODMAN_CONF))
    return subprocess.run(["podman", "--cgroup-manager=cgroupfs", "--events-backend=file", *args],
                          capture_output=True, text=True, env=env, check=check)


def podman_ready(tar):
    if not shutil.which("podman") or not shutil.which("runc"):
        print("  podman or runc not installed: no podman figures (make bench installs them)", flush=True)
        return False
    try:
        if podman("image", "exists", "localhost/busybox:latest", check=False).returncode != 0:
            podman("import", "--change", "CMD [\"/bin/sh\"]", str(tar), "localhost/busybox:latest")
        if podman("image", "exists", "localhost/pause:latest", check=False).returncode != 0:
            podman("import", "--change", "ENTRYPOINT [\"/bin/sleep\",\"inf\"]", str(tar), "localhost/pause:latest")
        podman("run", "--rm", "--network=none", "localhost/busybox", "true")
        return True
    except subprocess.CalledProcessError as e:
        print(f"  podman unusable here: {e.stderr.strip()[:200]}", flush=True)
        return False


def bench_network_pod_start(tmp, tar, podman_ok):
    """Pod start with podd's default CNI network (bridge, host-local, portmap) against
    `network: none` and podman's bridge pod, each in a network namespace of the bench's own
    (the bridges and iptables rules never touch the machine's network). Returns
    (podd with network, podd without, podman bridge or None, median CNI ADD from podd's log)."""
    from test_network import NetworkPair, unmount_under
    nets = NetworkPair()
    results, adds = [], []
    try:
        for network in ("default", "none"):
            root = Path(tmp) / f"net-{network}"
            config = f"network:\n  cniConfDir: {root}/cni\n" if network == "default" else "network: none\n"
            d = Podd(root, extra_config=config, wrapper=nets.wrapper())
            run_dir_on_tmpfs(d)
            d.start()
            try:
                d.podctl("image", "import", "busybox", str(tar))
                results.append(bench_pod_start(d))
                if network == "default":
                    adds = [line.split("CNI ADD ")[1] for line in d.log_text().splitlines() if "CNI ADD " in line]
            finally:
                d.cleanup()
                unmount_under(root)   # the pins, and the run dir's tmpfs
        podman_bridge = None
        if podman_ok:
            def once():
                podman_in(nets, "pod", "rm", "-f", "-t", "0", "bpn", check=False)
                t = time.perf_counter()
                podman_in(nets, "pod", "create", "--name", "bpn", "--share=ipc,uts,net", "--network=bridge",
                          "--infra-image", "localhost/pause:latest")
                podman_in(nets, "create", "--pod", "bpn", "--name", "bpn-a", "localhost/busybox", "sleep", "3600")
                podman_in(nets, "create", "--pod", "bpn", "--name", "bpn-b", "localhost/busybox", "sleep", "3600")
                podman_in(nets, "pod", "start", "bpn")
                return time.perf_counter() - t
            try:
                podman_bridge = median_of(once, PEER_RUNS)[0]
            except subprocess.CalledProcessError as e:
                print(f"  podman bridge pod failed here: {(e.stderr or '').strip()[:200]}", flush=True)
            podman_in(nets, "pod", "rm", "-f", "-t", "0", "bpn", check=False)
    finally:
        nets.delete()
    return results[0], results[1], podman_bridge, cni_add_breakdown(adds)


def cni_add_breakdown(lines):
    """The median CNI ADD (s) and the median of each plugin's time (ms) from podd's debug lines
    `CNI ADD 23456 us (bridge 21.3 ms), IPs [...]`; (None, {}) without any."""
    if not lines:
        return None, {}
    totals, plugins = [], {}
    for text in lines:
        totals.append(int(text.split(" us")[0]))
        inner = text.split("(", 1)[1].split(")", 1)[0] if "(" in text else ""
        for part in filter(None, (p.strip() for p in inner.split(","))):
            name, value, _ = part.rsplit(" ", 2)
            plugins.setdefault(name, []).append(float(value))
    return statistics.median(totals) / 1e6, {k: statistics.median(v) for k, v in plugins.items()}


def network_rows(tmp, tar, podman_ok):
    with_net, without_net, podman_bridge, (cni_add, plugins) = bench_network_pod_start(tmp, tar, podman_ok)
    parts = ", ".join(f"{k} {v:.1f} ms" for k, v in plugins.items())
    ratio = f"; {podman_bridge / with_net:.1f}x faster than podman (goal 10x)" if podman_bridge else ""
    row("pod start with the default CNI network (bridge, host-local; portmap passed over without hostPorts)",
        ms(with_net), "ms",
        f"podman bridge pod (infra + 2 containers): {ms(podman_bridge)} ms" if podman_bridge else "",
        f"network: none {ms(without_net)} ms; CNI ADD alone {ms(cni_add) if cni_add else '?'} ms"
        f"{' (' + parts + ')' if parts else ''}; goal < 40 ms{ratio}; load {os.getloadavg()[0]:.1f}")


def podman_in(nets, *args, check=True):
    env = dict(os.environ, CONTAINERS_CONF=str(PODMAN_CONF))
    # nsenter: `ip netns exec` remounts /sys, and podman finds no cgroups there.
    return subprocess.run([*nets.wrapper(), "podman", "--cgroup-manager=cgroupfs", "--events-backend=file", *args],
                          check=check, capture_output=True, text=True, env=env)


def bench_podman_pod():
    def once():
        podman("pod", "rm", "-f", "-t", "0", "bp", check=False)
        t = time.perf_counter()
        podman("pod", "create", "--name", "bp", "--share=ipc,uts,net", "--network=none", "--infra-image", "localhost/pause:latest")
        podman("create", "--pod", "bp", "--name", "bp-a", "localhost/busybox", "sleep", "3600")
        podman("create", "--pod", "bp", "--name", "bp-b", "localhost/busybox", "sleep", "3600")
        podman("pod", "start", "bp")
        return time.perf_counter() - t
    m = median_of(once, PEER_RUNS)[0]
    podman("pod", "rm", "-f", "-t", "0", "bp", check=False)
    return m


def main():
    if os.geteuid() != 0:
        sys.exit("bench: run as root (podd creates namespaces)")
    for b in ("podd", "podctl", "podd-monitor"):
        if not (BIN / b).exists():
            sys.exit(f"bench: {BIN / b} missing: run `make release` first")
    for only in ("portforward", "resources"):
        if os.environ.get("ONLY") != only:
            continue
        tmp, tar = busybox_workdir()
        podd = Podd(Path(tmp) / "d").start()
        try:
            podd.podctl("image", "import", "busybox", str(tar))
            if only == "portforward":
                portforward_rows(podd, row)
            else:
                # The issue 12 figures alone: scrapes and top with PODS pods.
                row("pod start: POST -> 2 containers running", ms(bench_pod_start(podd)), "ms")
                bench_memory(podd)
        finally:
            podd.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)
        print_table()
        return
    if os.environ.get("ONLY") == "network":
        # Pod start with the default CNI network, network: none and podman's bridge pod alone.
        tmp, tar = busybox_workdir()
        try:
            network_rows(tmp, tar, podman_ready(tar))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print_table()
        return
    if os.environ.get("ONLY") == "thousand":
        print(f"# podd bench: {THOUSAND} pods, binaries in {BIN}", flush=True)
        thousand_rows()
        print_table()
        return
    tmp, tar = busybox_workdir()
    podd = Podd(Path(tmp) / "d")
    run_mount = run_dir_on_tmpfs(podd)
    podd.start()
    try:
        podd.podctl("image", "import", "busybox", str(tar))
        print(f"# podd bench: {os.cpu_count()} cpus, {RUNS} runs per figure, binaries in {BIN}", flush=True)
        if os.environ.get("ONLY") == "secure":
            secure_row(podd)
            print_table()
            return
        if os.environ.get("ONLY") == "exec":
            exec_rows(podd, tmp, podman_ok=False)
            print_table()
            return
        if os.environ.get("ONLY") == "init":
            without, with5 = bench_init_overhead(podd)
            row("per init container (pod with 5 `true` init containers vs none)", ms((with5 - without) / 5), "ms",
                "", f"{ms(with5)} vs {ms(without)} ms; goal < 1.5 ms")
            print_table()
            return
        floor = time_cmd(["unshare", "--net", "--ipc", "--uts", "--mount", "--pid", "--fork", "true"], RUNS)
        row("floor: unshare --net --ipc --uts --mount --pid --fork true", ms(floor), "ms")
        start = bench_pod_start(podd)
        peer = ""
        podman_ok = podman_ready(tar)
        if podman_ok:
            peer = f"podman pod (infra + 2 containers, runc): {ms(bench_podman_pod())} ms"
        row("pod start: POST -> 2 containers running", ms(start), "ms", peer, f"{start / floor:.1f}x the unshare floor, goal 2.5x")
        secure_row(podd)
        load_layered_image(podd, tar, tmp)
        layered = bench_pod_start(podd, image="layered:5")
        row("pod start, 5-layer image: POST -> 2 containers running", ms(layered), "ms", "",
            f"{layered / start:.2f}x the one-layer busybox pod, goal 1.5x")
        store_before, store_after, pod_bytes = bench_disk_of_ten_pods(podd)
        row("disk used by 10 running pods of the 5-layer image", f"{(store_after + pod_bytes) / 1e6:.1f}", "MB", "",
            f"image store {store_after / 1e6:.1f} MB (before the pods: {store_before / 1e6:.1f} MB), pods' own layers {pod_bytes / 1e6:.2f} MB")
        network_rows(tmp, tar, podman_ok)
        exec_rows(podd, tmp, podman_ok)
        row("podctl apply -f (2-container pod, CLI round trip)", ms(bench_podctl_apply(podd, tmp)), "ms")
        from bench_configdata import bench_configmap_update
        row("ConfigMap update (PUT) -> new value in the mounted volume", ms(bench_configmap_update(podd, RUNS)), "ms", "",
            "goal < 100 ms; kubelet: up to its sync period, ~1 min")
        without, with5 = bench_init_overhead(podd)
        row("per init container (pod with 5 `true` init containers vs none)", ms((with5 - without) / 5), "ms",
            "", f"{ms(with5)} vs {ms(without)} ms; goal < 1.5 ms")
        row("restart latency: exit -> replacement running (backoff 0)", ms(bench_restart_latency(tmp, tar)), "ms",
            "", "podman took ~170 ms here (reference, not measured in this run)")
        empty, readopt, readopt_all, cold, cold_all = bench_ready_and_readopt(tmp, tar)
        row("podd start -> READY=1, no pods", ms(empty), "ms", "", "goal < 50 ms")
        row(f"podd start -> READY=1, {READY_PODS} stored pods running (re-adopted)", ms(readopt), "ms", "", "goal < 300 ms")
        row(f"re-adopt {READY_PODS} running pods: podd start -> all reported Running", ms(readopt_all), "ms")
        row(f"podd start -> READY=1, {READY_PODS} stored pods after a reboot (none running)", ms(cold), "ms", "",
            f"all {READY_PODS} running after {ms(cold_all)} ms; median of {COLD_RUNS}")
        rss, anon, idle, table_seconds = bench_memory(podd)
        row(f"podd resident memory with {PODS} idle 2-container pods", f"{rss / 1e6:.1f}", "MB")
        row(f"`kubectl get pods` with {PODS} pods: podd's Table answer", ms(table_seconds), "ms", "", "goal < 5 ms")
        if anon:
            row("per-pod monitor private memory (RssAnon), median / max", f"{statistics.median(anon) / 1e3:.0f} / {max(anon) / 1e3:.0f}", "kB")
        row(f"podd CPU while {PODS} pods idle (5 s)", f"{idle:.2f}", "%")
        portforward_rows(podd, row)
    finally:
        podd.cleanup()
        if run_mount is not None:
            subprocess.run(["umount", "-l", str(run_mount)])
        shutil.rmtree(tmp, ignore_errors=True)
    if THOUSAND:
        # Last: it loads the machine for minutes.
        thousand_rows()
    print_table()


def print_table():
    print()
    print("| benchmark | podd | peer |")
    print("|---|---|---|")
    for name, value, unit, peer, note in rows:
        print(f"| {name} | {value} {unit}{' (' + note + ')' if note else ''} | {peer} |")


if __name__ == "__main__":
    main()
