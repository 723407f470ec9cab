"""Reading container logs (issue 9): streamed from disk with bounded memory whatever the log's
size and however slow the client, a tail read from the end, and the rotated files of a run
read in order, with `-f` going on across a rotation. The monitor rotates `RUN.log` by renaming
it to `RUN.log.YYYYMMDD-HHMMSS.ffffff`; some tests rename files themselves to stand for it."""
import http.client
import os
import socket
import threading
import time
from pathlib import Path

from harness import UnixHTTPConnection, pod_manifest, wait_for

LINE = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"


def rss(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RSSSampler:
    """The largest VmRSS of a process while the `with` block runs."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = rss(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def log_dir(d, name, container):
    pod = d.pod(name)
    ns, uid = pod["metadata"]["namespace"], pod["metadata"]["uid"]
    return d.state_dir / "logs" / f"{ns}_{name}_{uid}" / container


def full_lines_on_disk(directory, run=0):
    """How many log lines (CRI records tagged F) the run's files hold."""
    count = 0
    for f in directory.iterdir():
        if f.name == f"{run}.log" or f.name.startswith(f"{run}.log."):
            with open(f, "rb") as fh:
                for record in fh:
                    if record.split(b" ", 3)[2:3] == [b"F"]:
                        count += 1
    return count


def cri(text, stream="stdout", tag="F", when="2026-12-03T10:00:00.000000000Z"):
    return f"{when} {stream} {tag} {text}\n"


def stream_log(d, path, sink, stop):
    """Reads a streamed log answer into `sink` (a list of lines) until `stop` is set."""
    conn = UnixHTTPConnection(d.socket, timeout=60)
    conn.request("GET", path)
    r = conn.getresponse()
    assert r.status == 200
    buffer = b""
    try:
        while not stop.is_set():
            chunk = r.read1(65536)
            if not chunk:
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            sink.extend(line.decode() for line in lines)
    except (http.client.HTTPException, OSError):
        pass   # podd stopped under the follow (the test's end)
    conn.close()


def test_a_large_log_is_streamed_with_bounded_memory_and_tailed_from_the_end(podd):
    # About 50 MB of output (80 MB of CRI log).
    podd.create(pod_manifest("big", [("app", f"yes {LINE} | head -n 685000; echo END-OF-OUTPUT; sleep 3600")]))
    podd.wait_running("big")
    wait_for(lambda: podd.log("big", tailLines=1) == "END-OF-OUTPUT\n", timeout=120, what="the output to be written")
    expected = full_lines_on_disk(log_dir(podd, "big", "app"))
    assert expected > 100_000

    # A tail is the last lines, read from the end.
    assert podd.log("big", tailLines=3) == f"{LINE}\n{LINE}\nEND-OF-OUTPUT\n"

    baseline = rss(podd.proc.pid)
    counts = []
    health = []

    def read_all():
        conn = UnixHTTPConnection(podd.socket, timeout=120)
        conn.request("GET", "/api/v1/namespaces/default/pods/big/log")
        r = conn.getresponse()
        lines = 0
        while chunk := r.read(1 << 16):
            lines += chunk.count(b"\n")
            time.sleep(0.001)   # a client slower than the disk
        conn.close()
        counts.append(lines)

    with RSSSampler(podd.proc.pid) as sampler:
        readers = [threading.Thread(target=read_all) for _ in range(4)]
        for t in readers:
            t.start()
        # podd answers other requests meanwhile.
        time.sleep(0.5)
        health.append(podd.request("GET", "/healthz", timeout=10).status)
        for t in readers:
            t.join(180)
    assert counts == [expected] * 4
    assert health == [200]
    # Four readers of an 80 MB log: podd's memory grows by far less than one copy of it.
    assert sampler.peak - baseline < 48 << 20, (baseline, sampler.peak)


def test_a_follower_that_never_reads_does_not_grow_podd(podd):
    podd.create(pod_manifest("loud", [("app", "sleep 1; yes {} | head -n 2740000; echo END-OF-OUTPUT; sleep 3600".format(LINE))]))
    podd.wait_running("loud")
    baseline = rss(podd.proc.pid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(podd.socket)
    s.sendall(b"GET /api/v1/namespaces/default/pods/loud/log?follow=true HTTP/1.1\r\nHost: podd\r\n\r\n")
    try:
        with RSSSampler(podd.proc.pid) as sampler:
            wait_for(lambda: podd.log("loud", tailLines=1) == "END-OF-OUTPUT\n", timeout=180, what="the output to be written")
        # 300 MB of CRI log went by; the client read none of it.
        assert sampler.peak - baseline < 48 << 20, (baseline, sampler.peak)
    finally:
        s.close()
    assert podd.request("GET", "/healthz", timeout=10).status == 200


def test_rotated_files_are_read_in_order_for_logs_and_tail(podd):
    podd.create(pod_manifest("done", [("app", "echo first; echo second")], restartPolicy="Never"))
    podd.wait_phase("done", "Succeeded")
    directory = log_dir(podd, "done", "app")
    wait_for(lambda: podd.log("done") == "first\nsecond\n", what="the log")
    # As the monitor rotates: the live file renamed with its time, a new one begun.
    os.rename(directory / "0.log", directory / "0.log.20261203-100000.000000")
    (directory / "0.log.20261203-100001.000000").write_text(cri("par", tag="P") + cri("t of third"))
    (directory / "0.log").write_text(cri("fourth") + cri("fifth", stream="stderr"))
    assert podd.log("done") == "first\nsecond\npart of third\nfourth\nfifth\n"
    assert podd.log("done", tailLines=3) == "part of third\nfourth\nfifth\n"
    assert podd.log("done", tailLines=4) == "second\npart of third\nfourth\nfifth\n"
    assert podd.log("done", limitBytes=8) == "first\nse"
    stamped = podd.log("done", timestamps="true").splitlines()
    assert stamped[2:] == ["2026-12-03T10:00:00.000000000Z part of third", "2026-12-03T10:00:00.000000000Z fourth",
                           "2026-12-03T10:00:00.000000000Z fifth"]
    # The rotated files of a run whose live file is gone are still its log.
    (directory / "0.log").unlink()
    assert podd.log("done") == "first\nsecond\npart of third\n"


def test_follow_goes_on_when_the_live_file_is_rotated(podd):
    podd.create(pod_manifest("ticker", [("app", "for i in 1 2 3 4 5; do echo tick $i; done; sleep 3600")]))
    podd.wait_running("ticker")
    wait_for(lambda: podd.log("ticker").count("tick") == 5, what="the ticks")
    directory = log_dir(podd, "ticker", "app")
    lines = []
    stop = threading.Event()
    reader = threading.Thread(target=stream_log, args=(podd, "/api/v1/namespaces/default/pods/ticker/log?follow=true", lines, stop),
                              daemon=True)
    reader.start()
    wait_for(lambda: len(lines) >= 5, what="the followed ticks")
    assert lines[:5] == [f"tick {i}" for i in range(1, 6)]
    # Rotation under the follower: the open file renamed away, a new live file begun.
    os.rename(directory / "0.log", directory / "0.log.20261203-100000.000000")
    with open(directory / "0.log", "w") as f:
        f.write(cri("after rotation"))
    wait_for(lambda: "after rotation" in lines, timeout=15, what="the follower to read the new live file")
    with open(directory / "0.log", "a") as f:
        f.write(cri("and after that"))
    wait_for(lambda: "and after that" in lines, timeout=15, what="the follower to go on in the new file")
    stop.set()
    assert lines == [f"tick {i}" for i in range(1, 6)] + ["after rotation", "and after that"]


def test_followers_that_go_away_from_a_quiet_log_leave_nothing_open(podd):
    podd.create(pod_manifest("quiet", [("app", "echo hello; sleep 3600")]))
    podd.wait_running("quiet")
    wait_for(lambda: podd.log("quiet") == "hello\n", what="the log")
    directory = log_dir(podd, "quiet", "app")

    def held():
        count = 0
        for fd in os.listdir(f"/proc/{podd.proc.pid}/fd"):
            try:
                if os.readlink(f"/proc/{podd.proc.pid}/fd/{fd}").startswith(str(directory)):
                    count += 1
            except OSError:
                pass
        return count

    followers = []
    for _ in range(20):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(podd.socket)
        s.sendall(b"GET /api/v1/namespaces/default/pods/quiet/log?follow=true HTTP/1.1\r\nHost: podd\r\n\r\n")
        followers.append(s)
    for s in followers:
        data = b""
        while b"hello" not in data:
            data += s.recv(4096)
    assert held() == 20
    for s in followers:
        s.close()
    # Nothing more is written: podd notices each client's departure on its own.
    wait_for(lambda: held() == 0, timeout=15, what="podd to close the log files of departed followers")


def test_since_time_filters_lines_across_rotated_files(podd):
    podd.create(pod_manifest("dated", [("app", "echo now")], restartPolicy="Never"))
    podd.wait_phase("dated", "Succeeded")
    wait_for(lambda: podd.log("dated") == "now\n", what="the log")
    directory = log_dir(podd, "dated", "app")
    os.rename(directory / "0.log", directory / "0.log.20261203-100000.000000")
    (directory / "0.log").write_text(cri("later", when="2999-01-01T00:00:00.000000000Z")
                                     + cri("latest", when="2999-01-02T00:00:00.000000000Z"))
    assert podd.log("dated") == "now\nlater\nlatest\n"
    assert podd.log("dated", sinceTime="2998-12-31T00:00:00Z") == "later\nlatest\n"
    assert podd.log("dated", sinceTime="2999-01-01T12:00:00Z") == "latest\n"


def test_previous_reads_the_rotated_files_of_the_run_before(podd):
    podd.create(pod_manifest("crashy", [("app", "echo run; sleep 4; exit 1")]))
    wait_for(lambda: (p := podd.pod("crashy")) and p["status"]["containerStatuses"][0]["restartCount"] >= 1,
             timeout=60, what="a restart")
    directory = log_dir(podd, "crashy", "app")
    wait_for(lambda: podd.log("crashy", previous="true") == "run\n", what="the previous run's log")
    # The run before had its live file rotated away, and one more rotated part.
    os.rename(directory / "0.log", directory / "0.log.20261203-100001.000000")
    (directory / "0.log.20261203-100000.000000").write_text(cri("older part"))
    assert podd.log("crashy", previous="true") == "older part\nrun\n"
    assert podd.log("crashy", previous="true", tailLines=1) == "run\n"
