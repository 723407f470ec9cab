#!/usr/bin/env python3
"""`make stress`: runs each stress case against a podd of its own and prints one table row per
case; exits 1 when any goal is missed. STRESS_SCALE=small|full (default full), CASES=a,b to
run some, PODD_BIN the binaries' directory."""
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import importlib  # noqa: E402

from outcome import Outcome, Scale  # noqa: E402
from stand import BIN, busybox_tarball  # noqa: E402

# Each case is a module with run(scale, tar) -> Outcome, imported when it runs (fuzz needs
# Hypothesis, which scripts/install-deps.sh installs).
CASES = {"load": "load", "churn": "churn", "chaos": "chaos", "disk-full": "disk_full", "fuzz": "fuzz", "limits": "limits"}


def main():
    if os.geteuid() != 0:
        sys.exit("stress: run as root (podd creates namespaces, mounts and cgroups)")
    for b in ("podd", "podctl", "podd-monitor"):
        if not (BIN / b).exists():
            sys.exit(f"stress: {BIN / b} missing: run `make build` first (or set PODD_BIN)")
    scale = Scale.from_env()
    wanted = [c for c in os.environ.get("CASES", ",".join(CASES)).split(",") if c]
    unknown = [c for c in wanted if c not in CASES]
    if unknown:
        sys.exit(f"stress: unknown case(s) {unknown}: choose from {', '.join(CASES)}")
    tmp = tempfile.mkdtemp(prefix="podd-stress-", dir="/tmp")
    outcomes = []
    try:
        tar = busybox_tarball(tmp)
        print(f"# podd stress, scale {scale.name}, binaries in {BIN}", flush=True)
        for name in wanted:
            t = time.monotonic()
            try:
                o = importlib.import_module(CASES[name]).run(scale, tar)
            except Exception as e:  # noqa: BLE001 - a case that breaks is a row that failed
                o = Outcome(name)
                o.expect(False, f"the case itself failed: {type(e).__name__}: {e}".splitlines()[0])
                traceback.print_exc()
            o.figure("time", f"{time.monotonic() - t:.0f} s")
            outcomes.append(o)
            print(o.summary(), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("| case | result | figures | goals missed |")
    print("|---|---|---|---|")
    for o in outcomes:
        figures = ", ".join(f"{k} {v}" for k, v in o.figures.items())
        print(f"| {o.case} | {'ok' if o.passed else 'FAILED'} | {figures} | {'; '.join(o.failures) or '-'} |")
    failed = [o.case for o in outcomes if not o.passed]
    if failed:
        print(f"\nstress: goals missed in {', '.join(failed)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
