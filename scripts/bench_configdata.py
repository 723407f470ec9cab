"""The ConfigMap figure of `make bench`: an update (PUT) reaching a mounted volume, i.e. the
file the container reads through `..data` holding the new value. Measured on the volume's
directory under podd's run dir (the very files the container's bind mount shows), from the
PUT being sent to the new content being readable. Goal: under 100 ms (kubelet: up to its
sync period, about a minute)."""
import json
import statistics
import time
from pathlib import Path

NS = "/api/v1/namespaces/default"


def bench_configmap_update(podd, runs=20):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bench-cm"}, "data": {"value": "0"}}
    assert podd.request("POST", f"{NS}/configmaps", body).status == 201
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench-cm"},
           "spec": {"terminationGracePeriodSeconds": 0,
                    "volumes": [{"name": "cfg", "configMap": {"name": "bench-cm"}}],
                    "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                                    "volumeMounts": [{"name": "cfg", "mountPath": "/cfg"}]}]}}
    created = podd.create(pod).json()
    uid = created["metadata"]["uid"]
    podd.wait_running("bench-cm")
    path = Path(podd.run_dir) / "pods" / uid / "configdata" / "cfg" / "value"
    samples = []
    for i in range(1, runs + 1):
        body["data"]["value"] = str(i)
        want = str(i).encode()
        t = time.perf_counter()
        assert podd.request("PUT", f"{NS}/configmaps/bench-cm", body).status == 200
        deadline = t + 10
        while True:
            try:
                if path.read_bytes() == want:
                    break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise AssertionError(f"update {i} did not reach {path}")
            time.sleep(0.0002)
        samples.append(time.perf_counter() - t)
    podd.request("DELETE", f"{NS}/pods/bench-cm?gracePeriodSeconds=0")
    podd.request("DELETE", f"{NS}/configmaps/bench-cm")
    return statistics.median(samples)


if __name__ == "__main__":
    # Standalone: PODD_BIN=.build/debug python3 scripts/bench_configdata.py
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    REPO = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(REPO / "Tests" / "integration"))
    from harness import Podd
    tmp = tempfile.mkdtemp(prefix="podd-bench-", dir="/tmp")
    tar = Path(tmp) / "busybox.tar"
    subprocess.run([str(REPO / "scripts" / "make-busybox-rootfs.sh"), str(Path(tmp) / "rootfs"), str(tar)],
                   check=True, stdout=subprocess.DEVNULL)
    d = Podd(Path(tmp) / "d").start()
    try:
        d.podctl("image", "import", "busybox", str(tar))
        print(f"ConfigMap update -> mounted volume: {statistics.median([bench_configmap_update(d, 20)]) * 1000:.1f} ms (goal < 100 ms)")
    finally:
        d.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
