#!/bin/bash
# demo.sh [stop]: what `make run` does. Starts podd on a private socket under $DEMO_DIR,
# imports a busybox image made from busybox-static, applies the sidecar example, shows the
# pod and both containers' logs, and says how to stop it. `demo.sh stop` stops it.
set -euo pipefail
DEMO_DIR=${DEMO_DIR:-/tmp/podd-demo}
BIN=${BIN:-.build/debug}
SOCK=$DEMO_DIR/podd.sock
export PODD_SOCKET=$SOCK
podctl() { "$BIN/podctl" "$@"; }

stop() {
    if [ -f "$DEMO_DIR/podd.pid" ] && kill -0 "$(cat "$DEMO_DIR/podd.pid")" 2>/dev/null; then
        for p in $(podctl get pods -A -o name 2>/dev/null); do podctl delete "$p" --grace-period 1 >/dev/null || true; done
        kill "$(cat "$DEMO_DIR/podd.pid")" && echo "podd stopped"
    fi
    rm -f "$DEMO_DIR/podd.pid"
}
[ "${1:-}" = stop ] && { stop; exit 0; }

[ "$(id -u)" = 0 ] || { echo "make run: podd creates namespaces and mounts: run it as root" >&2; exit 1; }
mkdir -p "$DEMO_DIR"
stop >/dev/null 2>&1 || true
"$BIN/podd" --socket "$SOCK" --state-dir "$DEMO_DIR/state" --run-dir "$DEMO_DIR/run" \
    --manifests-dir "$DEMO_DIR/pods.d" >"$DEMO_DIR/podd.log" 2>&1 &
echo $! > "$DEMO_DIR/podd.pid"
for _ in $(seq 100); do [ -S "$SOCK" ] && podctl version >/dev/null 2>&1 && break; sleep 0.1; done
podctl version

if ! podctl image ls | grep -q '^localhost/busybox '; then
    scripts/make-busybox-rootfs.sh "$DEMO_DIR/busybox-rootfs" "$DEMO_DIR/busybox.tar" >/dev/null
    podctl image import busybox "$DEMO_DIR/busybox.tar"
fi
echo "\$ podctl apply -f config/examples/sidecar.yaml"
podctl apply -f config/examples/sidecar.yaml
sleep 3
echo "\$ podctl get pods"
podctl get pods
echo "\$ podctl logs sidecar -c app --tail 3"
podctl logs sidecar -c app --tail 3
echo "\$ podctl logs sidecar -c shipper --tail 3"
podctl logs sidecar -c shipper --tail 3
cat <<MSG

podd is running (pid $(cat "$DEMO_DIR/podd.pid"), log $DEMO_DIR/podd.log). Try:
    export PODD_SOCKET=$SOCK
    $BIN/podctl get pods -o wide
    $BIN/podctl apply -f config/examples/ambassador.yaml
Stop it with: make stop-demo
MSG
