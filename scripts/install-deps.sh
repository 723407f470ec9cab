#!/bin/sh
# install-deps.sh [--bench | --systemd-container]
#
# Installs what podd's build, tests and demo need on Debian 12 and is missing: the C
# libraries, busybox-static (the test/demo image), the tools the tests drive (tar, ip, tmux,
# systemd's tools) and pytest. With --bench, also the peers the benchmark compares with
# (podman, crun, hyperfine, catatonit); with --systemd-container, what the test that boots
# systemd in a container needs (debootstrap, systemd-nspawn). Safe to run again: it installs
# only what is absent.
set -eu

packages="busybox-static libsystemd-dev pkg-config tar iproute2 tmux file procps python3 python3-yaml systemd util-linux"
# Real images (issue 10): a registry to pull from, skopeo/umoci to build and push test images,
# libcrypto (SHA-256), zlib and zstd for blobs and layers, htpasswd for the registry's auth.
packages="$packages docker-registry skopeo umoci libssl-dev zlib1g-dev libzstd-dev apache2-utils"
# Isolation (issue 12): libseccomp for RuntimeDefault. Networking (issue 11): the CNI
# reference plugins (/usr/lib/cni) and iptables, which bridge/portmap drive.
packages="$packages libseccomp-dev containernetworking-plugins iptables"
# kubectl for the kubectl tests: the machine's own if it has one, else Debian's.
command -v kubectl >/dev/null 2>&1 || packages="$packages kubernetes-client"
# socat: the port-forward tests and bench reach podd's Unix socket from kubectl over TCP.
packages="$packages socat"
# openssl: the registry tests make their TLS certificates and sign test tokens; ca-certificates:
# the system CAs registry pulls trust.
packages="$packages openssl ca-certificates"
[ "${1:-}" = "--bench" ] && packages="$packages podman runc crun catatonit hyperfine"
[ "${1:-}" = "--systemd-container" ] && packages="$packages debootstrap systemd-container"

missing=""
for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { echo "install-deps: missing packages:$missing (run as root to install them)" >&2; exit 1; }
    echo "install-deps: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    # A fresh machine may have empty package lists.
    apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
        apt-get update >/dev/null
        apt-get install -y --no-install-recommends $missing >/dev/null
    }
fi
python3 -c 'import pytest' 2>/dev/null || {
    echo "install-deps: installing pytest"
    python3 -m pip install --quiet pytest 2>/dev/null || apt-get install -y --no-install-recommends python3-pytest >/dev/null
}
# pytest-xdist: `make integration-test` runs the test files side by side (each test has its
# own podd, socket, state dir and cgroups).
python3 -c 'import xdist' 2>/dev/null || python3 -m pip install --quiet pytest-xdist || echo "install-deps: could not install pytest-xdist (make integration-test then runs the tests one by one)" >&2
# prometheus_client parses /metrics; the Kubernetes Python client and websocket-client drive
# watches, exec and port-forward as non-Go clients do.
python3 -c 'import prometheus_client, kubernetes, websocket' 2>/dev/null || python3 -m pip install --quiet prometheus-client kubernetes websocket-client || echo "install-deps: could not install prometheus-client, kubernetes and websocket-client (tests that need them skip)" >&2
python3 -c 'import openapi_spec_validator, jsonschema' 2>/dev/null || python3 -m pip install --quiet openapi-spec-validator jsonschema || echo "install-deps: could not install openapi-spec-validator and jsonschema (test_openapi.py skips without them)" >&2
# The stress suite's fuzz case: Hypothesis and hypothesis-jsonschema (requests generated
# from docs/openapi.yaml).
python3 -c 'import hypothesis, hypothesis_jsonschema' 2>/dev/null || python3 -m pip install --quiet hypothesis hypothesis-jsonschema || echo "install-deps: could not install hypothesis and hypothesis-jsonschema (the fuzz case skips without them)" >&2
# gRPC probes' tests (test_grpc_probes.py): a real gRPC server with the standard health service.
python3 -c 'import grpc, grpc_health.v1.health' 2>/dev/null || python3 -m pip install --quiet grpcio grpcio-health-checking || echo "install-deps: could not install grpcio and grpcio-health-checking (test_grpc_probes.py skips without them)" >&2
# An old kubectl (Debian's 1.20, SPDY/3.1 for exec, attach and port-forward) beside a new
# one, for test_portforward.py's old-client case: unpacked, not installed (it would replace
# the machine's kubectl).
oldkubectl=/var/cache/podd-test/kubectl-1.20
if [ ! -x "$oldkubectl" ] && [ "$(id -u)" = 0 ]; then
    work=$(mktemp -d)
    if (cd "$work" && apt-get download kubernetes-client >/dev/null 2>&1) && dpkg -x "$work"/kubernetes-client_*.deb "$work/x" &&
        [ -x "$work/x/usr/bin/kubectl" ]; then
        mkdir -p /var/cache/podd-test && cp "$work/x/usr/bin/kubectl" "$oldkubectl"
    else
        echo "install-deps: could not fetch Debian's kubernetes-client for $oldkubectl (the old-kubectl tests skip)" >&2
    fi
    rm -rf "$work"
fi
