#!/usr/bin/env python3
"""make bench: pull of a 5-layer image (5 x 16 MiB, half incompressible) from a local
docker-registry, median of RUNS (default 5) runs each, side by side:
- podd's RegistryFetcher (`podd-pull-bench`, release build; the store and its unpack are not
  in this figure),
- `skopeo copy docker://... oci:DIR` (the same work: blobs verified and written, no unpack),
- `podman pull` into a store of its own (also decompresses and unpacks the layers).
Env: PODD_BIN (dir with podd-pull-bench), RUNS. Prints a Markdown table."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "Tests" / "integration"))
from test_registry import Registry, build_bench_image  # noqa: E402

RUNS = int(os.environ.get("RUNS", "5"))
BIN = Path(os.environ.get("PODD_BIN", REPO / ".build" / "release"))


def median_run(prepare, argv, runs):
    samples = []
    for _ in range(runs + 1):
        prepare()
        t = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples[1:])  # the first run warms caches


def main():
    for tool in ("docker-registry", "skopeo"):
        if not shutil.which(tool):
            print(f"bench_registry: needs {tool} (apt-get install -y docker-registry skopeo); skipped")
            return 0
    bench = BIN / "podd-pull-bench"
    if not bench.exists():
        print(f"bench_registry: needs {bench} (swift build -c release --product podd-pull-bench); skipped")
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="podd-bench-registry-"))
    registry = None
    try:
        layout, image = build_bench_image(tmp / "layout")
        registry = Registry(tmp, "registry")
        registry.push(layout, "bench", "bench/five:1")
        ref = f"{registry.address}/bench/five:1"
        size = sum(l["size"] for l in __import__("json").loads(
            (layout.root / "blobs/sha256" / image["digest"].split(":")[1]).read_text())["layers"])
        dest = tmp / "dest"

        def fresh():
            shutil.rmtree(dest, ignore_errors=True)

        rows = []
        podd = median_run(fresh, [str(bench), ref, str(dest), registry.address], RUNS)
        rows.append(("podd RegistryFetcher", podd))
        skopeo = median_run(fresh, ["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}", f"oci:{dest}"], RUNS)
        rows.append(("skopeo copy docker:// oci:", skopeo))
        if shutil.which("podman") and os.geteuid() == 0:
            store = tmp / "podman"

            def fresh_podman():
                subprocess.run(["podman", "--root", str(store / "root"), "--runroot", str(store / "run"),
                                "--storage-driver", "vfs", "rmi", "-a", "-f"], capture_output=True)

            podman = median_run(fresh_podman, ["podman", "--root", str(store / "root"), "--runroot", str(store / "run"),
                                               "--storage-driver", "vfs", "pull", "-q", "--tls-verify=false", ref], RUNS)
            rows.append(("podman pull (vfs, unpacks too)", podman))
        mib = size / (1 << 20)
        print(f"\n| pull of a 5-layer image ({mib:.0f} MiB compressed), median of {RUNS} | ms | MiB/s |")
        print("|---|---|---|")
        for name, seconds in rows:
            print(f"| {name} | {seconds * 1000:.0f} | {mib / seconds:.0f} |")
        verdict = "no slower than" if podd <= skopeo * 1.05 else "SLOWER than"
        print(f"\npodd's fetcher is {verdict} skopeo ({podd * 1000:.0f} ms vs {skopeo * 1000:.0f} ms)")
    finally:
        if registry:
            registry.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
