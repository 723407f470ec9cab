#!/usr/bin/env python3
"""What each CNI plugin exec of a pod's start costs here, measured alone: the breakdown behind
`make bench`'s "pod start with the default CNI network" row. Runs the plugins from
/usr/lib/cni the way podd does (CNI_* environment, the config on stdin) in network namespaces
of its own (a "host" namespace holding the bridge, one namespace per pod), never the
machine's. Prints the median of RUNS runs (default 20) per step:

  VERSION of bridge        the Go binary's start alone (no netlink, no IPAM)
  loopback ADD             what podd's monitor does itself instead (lo up)
  host-local ADD           the IPAM plugin alone (bridge execs it inside its own ADD)
  bridge ADD               veth + bridge port + address + routes, host-local included
  portmap ADD (1 port)     what a pod with a hostPort adds; passed over without one
  firewall ADD             what the default list adds where FORWARD drops
  portmap DEL, bridge DEL  the pod's teardown

Run as root: python3 scripts/bench_cni_plugins.py"""
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

PLUGINS = os.environ.get("CNI_BIN", "/usr/lib/cni")
RUNS = int(os.environ.get("RUNS", "20"))


def sh(*args):
    subprocess.run(list(args), check=True, capture_output=True)


def plugin(kind, command, netns, container, conf, ifname="eth0"):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns, "CNI_IFNAME": ifname,
           "CNI_PATH": PLUGINS, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    t = time.perf_counter()
    r = subprocess.run([f"{PLUGINS}/{kind}"], input=json.dumps(conf).encode(), env=env, capture_output=True)
    elapsed = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"{kind} {command} failed: {r.stdout.decode()} {r.stderr.decode()}")
    return elapsed, (json.loads(r.stdout) if r.stdout.strip() else None)


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (the plugins make namespaces, links and iptables rules)")
    tag = uuid.uuid4().hex[:6]
    host = f"cnib-{tag}"
    sh("ip", "netns", "add", host)
    data = tempfile.mkdtemp(prefix="cnib-")
    ipam = {"type": "host-local", "routes": [{"dst": "0.0.0.0/0"}],
            "ranges": [[{"subnet": "10.88.0.0/16", "gateway": "10.88.0.1"}]], "dataDir": data + "/ipam"}
    bridge = {"cniVersion": "1.0.0", "name": "podd", "type": "bridge", "bridge": "podd0", "isGateway": True,
              "ipMasq": False, "hairpinMode": True, "ipam": ipam}
    portmap = {"cniVersion": "1.0.0", "name": "podd", "type": "portmap", "capabilities": {"portMappings": True},
               "runtimeConfig": {"portMappings": [{"hostPort": 18999, "containerPort": 80, "protocol": "tcp"}]}}
    firewall = {"cniVersion": "1.0.0", "name": "podd", "type": "firewall", "backend": "iptables"}
    ipam_alone = {"cniVersion": "1.0.0", "name": "podd-ipam", "ipam": dict(ipam, dataDir=data + "/ipam-alone")}
    samples = {}

    def note(step, seconds):
        samples.setdefault(step, []).append(seconds)

    # Every plugin runs with the "host" namespace as its own (as podd in its namespace).
    fd = os.open(f"/run/netns/{host}", os.O_RDONLY)
    if ctypes.CDLL(None, use_errno=True).setns(fd, 0x40000000) != 0:   # CLONE_NEWNET
        sys.exit(f"setns: {os.strerror(ctypes.get_errno())}")
    sh("ip", "link", "set", "lo", "up")
    try:
        for i in range(RUNS + 1):
            pod = f"cnibp-{tag}-{i}"
            sh("ip", "netns", "add", pod)
            ns = f"/run/netns/{pod}"
            cid = f"bench-{tag}-{i}"
            warm = i > 0   # the first run makes the bridge: not a pod's usual cost
            t, _ = plugin("bridge", "VERSION", ns, cid, {"cniVersion": "1.0.0"})
            warm and note("VERSION of bridge (Go start-up)", t)
            t, _ = plugin("loopback", "ADD", ns, cid, {"cniVersion": "1.0.0", "name": "lo", "type": "loopback"}, "lo")
            warm and note("loopback ADD", t)
            t, _ = plugin("host-local", "ADD", ns, cid, dict(ipam_alone, type="host-local"))
            warm and note("host-local ADD (alone)", t)
            t, result = plugin("bridge", "ADD", ns, cid, bridge)
            warm and note("bridge ADD (host-local included)", t)
            t, _ = plugin("portmap", "ADD", ns, cid, dict(portmap, prevResult=result))
            warm and note("portmap ADD (1 hostPort)", t)
            t, _ = plugin("firewall", "ADD", ns, cid, dict(firewall, prevResult=result))
            warm and note("firewall ADD", t)
            t, _ = plugin("firewall", "DEL", ns, cid, dict(firewall, prevResult=result))
            warm and note("firewall DEL", t)
            t, _ = plugin("portmap", "DEL", ns, cid, dict(portmap, prevResult=result))
            warm and note("portmap DEL", t)
            t, _ = plugin("bridge", "DEL", ns, cid, dict(bridge, prevResult=result))
            warm and note("bridge DEL", t)
            plugin("host-local", "DEL", ns, cid, dict(ipam_alone, type="host-local"))
            sh("ip", "netns", "del", pod)
    finally:
        for name in os.listdir("/run/netns"):
            if name.startswith(f"cnibp-{tag}-"):   # a pod's namespace a failed step left
                subprocess.run(["ip", "netns", "del", name], capture_output=True)
        subprocess.run(["ip", "netns", "del", host], capture_output=True)
        subprocess.run(["rm", "-rf", data])
    print(f"# CNI plugin execs, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}, median of {RUNS} (min, max) in ms")
    for step, values in samples.items():
        print(f"{step:40s} {statistics.median(values) * 1000:7.1f}   ({min(values) * 1000:.1f}, {max(values) * 1000:.1f})")


if __name__ == "__main__":
    main()
