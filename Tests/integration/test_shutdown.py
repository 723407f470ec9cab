"""podd's graceful shutdown (a swift-service-lifecycle ServiceGroup, issue 8): on SIGTERM it
stops accepting API connections, drains those in flight (bounded), stops its watchers, sends
STOPPING=1 last and exits 0; the pods keep running."""
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path

from harness import Podd, pod_manifest, wait_for
from test_systemd import NotifyListener


def test_sigterm_stops_accepting_drains_then_says_stopping(busybox_tar):
    root = Path(tempfile.mkdtemp(prefix="podd-sd-", dir="/tmp"))
    listener = NotifyListener(root / "notify.sock")
    d = Podd(root, env={"NOTIFY_SOCKET": listener.path})
    try:
        d.start()
        listener.wait_for("READY=1")
        d.podctl("image", "import", "busybox", str(busybox_tar))
        assert d.create(pod_manifest("keeps", [("app", "exec sleep 100000")])).status == 201
        pod = d.wait_running("keeps")
        uid = pod["metadata"]["uid"]
        monitor = int(open(d.run_dir / "pods" / uid / "monitor.pid").read().split()[0])

        # A request in flight: a log follow, which the drain waits for (up to its bound).
        follow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        follow.connect(d.socket)
        follow.sendall(b"GET /api/v1/namespaces/default/pods/keeps/log?follow=true HTTP/1.1\r\nHost: x\r\n\r\n")
        assert follow.recv(12).startswith(b"HTTP/1.1 200")
        ended = []
        threading.Thread(target=lambda: (follow.settimeout(30), [None for _ in iter(lambda: follow.recv(4096), b"")],
                                         ended.append(time.monotonic())), daemon=True).start()

        d.proc.send_signal(signal.SIGTERM)

        def refused():
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                c.connect(d.socket)
                return False
            except OSError:
                return True
            finally:
                c.close()
        wait_for(refused, timeout=10, what="new API connections to be refused")
        assert d.proc.poll() is None, "podd is still draining the follow"
        stopping = listener.wait_for("STOPPING=1", timeout=20)
        assert d.proc.wait(20) == 0
        # The follow was ended by the drain, before STOPPING=1 went out.
        wait_for(lambda: ended, timeout=5, what="the follow to end")
        assert ended[0] <= stopping[0] + 0.05, (ended, stopping[0])
        log = d.log_text()
        assert log.index("no new API connections") < log.index("Service lifecycle ended") if "Service lifecycle ended" in log \
            else "no new API connections" in log
        # The pod was left running.
        os.kill(monitor, 0)
        follow.close()
        d.start()
        d.wait_running("keeps")
        assert int(open(d.run_dir / "pods" / uid / "monitor.pid").read().split()[0]) == monitor
    finally:
        d.cleanup()
        listener.close()
        shutil.rmtree(root, ignore_errors=True)
