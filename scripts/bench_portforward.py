"""Port-forward throughput (issue 11), for scripts/bench.py: 100 MB downloaded from a pod's
httpd (on the pod's loopback) through `kubectl port-forward` and `podctl port-forward` (its
socket handoff, and the v4.channel WebSocket it falls back to), against the same download made
directly inside the pod's network namespace (nsenter), the copy with no forward at all.
Medians of a few runs, with each forwarding process's CPU per MB; goal: each forward at least
50% of the direct copy."""
import os
import shutil
import socket
import statistics
import subprocess
import time
from pathlib import Path

from harness import BIN, wait_for

SIZE_MB = int(os.environ.get("PF_MB", "100"))
RUNS = int(os.environ.get("PF_RUNS", "3"))
SERVER = (f"mkdir -p /www && dd if=/dev/zero of=/www/big bs=1048576 count={SIZE_MB} 2>/dev/null"
          " && touch /www/ready && exec httpd -f -p 127.0.0.1:8080 -h /www")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl_seconds(port, prefix=()):
    """Seconds curl takes to fetch the file (checked for its size)."""
    out = subprocess.run([*prefix, "curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
                          f"http://127.0.0.1:{port}/big"], capture_output=True, text=True, timeout=300, check=True).stdout
    size, seconds = out.split()
    assert int(size) == SIZE_MB << 20, f"fetched {size} bytes"
    return float(seconds)


def forwarding(argv, env=None):
    """Starts a port-forward and waits until it says it forwards."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    line = proc.stdout.readline()
    if "Forwarding from" not in line:
        proc.kill()
        raise RuntimeError(f"{argv[0]} port-forward did not start: {line!r}")
    return proc


def mb_per_s(seconds):
    return SIZE_MB / seconds


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far (every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_with_cpu(port, pids):
    """The median of RUNS downloads through `port`, and the CPU milliseconds per MB each of
    `pids` ({name: pid}) spent on them: where a forward's time goes, whatever the load."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    seconds = statistics.median(curl_seconds(port) for _ in range(RUNS))
    per_mb = {name: (cpu_seconds(pid) - before[name]) * 1000 / (RUNS * SIZE_MB) for name, pid in pids.items()}
    return seconds, ", ".join(f"{name} {ms:.2f}" for name, ms in per_mb.items())


def portforward_rows(podd, row):
    if not shutil.which("curl"):
        row("port-forward throughput", "skipped", "", "", "needs curl")
        return
    podd.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pf-bench"},
                 "spec": {"containers": [{"name": "web", "image": "busybox", "command": ["sh", "-c", SERVER]}]}})
    podd.wait_running("pf-bench", timeout=60)
    wait_for(lambda: podd.podctl("exec", "pf-bench", "--", "test", "-f", "/www/ready", check=False).returncode == 0,
             timeout=120, what="the bench pod's file")
    monitor = next(Path(podd.run_dir).rglob("monitor.pid")).read_text().split()[0]
    direct = statistics.median(curl_seconds(8080, ["nsenter", f"--net=/proc/{monitor}/ns/net"]) for _ in range(RUNS))
    row(f"port-forward {SIZE_MB} MB: direct copy inside the pod's netns (nsenter + curl)", f"{mb_per_s(direct):.0f}", "MB/s")
    # podctl's own way (podd hands the pod's socket over, podctl splices), then the
    # v4.channel WebSocket every other client (and podctl's fallback) gets.
    for label, handoff in (("socket handoff + splice", "1"), ("v4.channel WebSocket through podd", "0")):
        local = free_port()
        proc = forwarding([str(BIN / "podctl"), "--socket", podd.socket, "port-forward", "pf-bench", f"{local}:8080"],
                          env=dict(os.environ, PODCTL_PORTFORWARD_HANDOFF=handoff))
        try:
            podctl, cpu = timed_with_cpu(local, {"podd": podd.proc.pid, "podctl": proc.pid})
        finally:
            proc.terminate()
            proc.wait()
        row(f"port-forward {SIZE_MB} MB: podctl port-forward ({label})", f"{mb_per_s(podctl):.0f}", "MB/s", "",
            f"{100 * direct / podctl:.0f}% of direct; goal >= 50%; CPU ms per MB: {cpu}")
    kubectl = shutil.which("kubectl")
    if not kubectl or not shutil.which("socat"):
        row("port-forward: kubectl port-forward", "skipped", "", "", "needs kubectl and socat")
        return
    relay_port = free_port()
    # 256 KiB blocks (socat's default is 8 KiB): measured, socat's CPU per MB falls from 1.2
    # to 0.5 ms, so the row measures kubectl and podd rather than the relay.
    relay = subprocess.Popen(["socat", "-b", "262144", f"TCP-LISTEN:{relay_port},bind=127.0.0.1,reuseaddr,fork",
                              f"UNIX-CONNECT:{podd.socket}"])
    config = Path(podd.root) / "kubeconfig"
    config.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: podd, cluster: {{server: "http://127.0.0.1:{relay_port}"}}}}]
contexts: [{{name: podd, context: {{cluster: podd, user: me}}}}]
users: [{{name: me, user: {{}}}}]
current-context: podd
""")
    try:
        time.sleep(0.2)
        local = free_port()
        proc = forwarding([kubectl, "--kubeconfig", str(config), "port-forward", "pod/pf-bench", f"{local}:8080"])
        try:
            # kubectl opens its tunnel at the first connection: the socat child serving it
            # lives on, and its CPU is counted beside kubectl's and podd's.
            curl_seconds(local)
            tunnel = subprocess.run(["pgrep", "-n", "-P", str(relay.pid)], capture_output=True, text=True).stdout.split()
            pids = {"podd": podd.proc.pid, "kubectl": proc.pid}
            if tunnel:
                pids["socat"] = int(tunnel[0])
            through, cpu = timed_with_cpu(local, pids)
        finally:
            proc.terminate()
            proc.wait()
    finally:
        relay.kill()
        relay.wait()
    row(f"port-forward {SIZE_MB} MB: kubectl port-forward (SPDY in a WebSocket; TCP relay to the socket)",
        f"{mb_per_s(through):.0f}", "MB/s", "", f"{100 * direct / through:.0f}% of direct; goal >= 50%; CPU ms per MB: {cpu}")
