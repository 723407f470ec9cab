"""Pod networking through CNI (issue 11): pod IPs, pod-to-pod by IP and by name, outbound NAT,
hostPorts, hostNetwork, /etc/hosts and /etc/resolv.conf, and that nothing outlives a pod (no
veth, bridge port, iptables rule or IPAM lease), also across a podd killed with -9.

Every test runs its podd in a network namespace of its own ("the host" below), made by the
test, wired by a veth pair to a second namespace ("outside", 192.0.2.1, TEST-NET-1) that plays
the rest of the world: the bridge podd0, the pods' veths and every iptables rule live in the
test's namespaces, never in the machine's, and parallel tests never meet."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from conftest import require_root, _require_binaries
from harness import Podd, pod_manifest, wait_for

PLUGINS = Path("/usr/lib/cni")
HOST_ADDR = "192.0.2.2"
OUTSIDE_ADDR = "192.0.2.1"


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, check=check, **kw)


class NetworkPair:
    """The test's "host" namespace (podd runs in it) and its "outside" peer."""

    def __init__(self):
        tag = uuid.uuid4().hex[:8]
        self.host = f"poddt-{tag}"
        self.outside = f"poddo-{tag}"
        sh("ip", "netns", "add", self.host)
        sh("ip", "netns", "add", self.outside)
        for ns in (self.host, self.outside):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", self.host, "link", "add", "uplink", "type", "veth", "peer", "name", "downlink",
           "netns", self.outside)
        sh("ip", "-n", self.host, "addr", "add", f"{HOST_ADDR}/24", "dev", "uplink")
        sh("ip", "-n", self.outside, "addr", "add", f"{OUTSIDE_ADDR}/24", "dev", "downlink")
        sh("ip", "-n", self.host, "link", "set", "uplink", "up")
        sh("ip", "-n", self.outside, "link", "set", "downlink", "up")
        sh("ip", "-n", self.host, "route", "add", "default", "via", OUTSIDE_ADDR)

    def run(self, ns, *args, check=True, timeout=30):
        return sh("ip", "netns", "exec", ns, *args, check=check, timeout=timeout)

    def wrapper(self):
        # nsenter, not `ip netns exec`: podd must stay in the machine's mount namespace (its
        # pins of the pods' network namespaces are bind mounts under its run dir).
        return ["nsenter", f"--net=/run/netns/{self.host}"]

    def delete(self):
        for ns in (self.host, self.outside):
            sh("ip", "netns", "del", ns, check=False)


def fetch(ns_runner, ns, url, timeout=10):
    """GET `url` from namespace `ns` with Python (no curl needed); the body, or None."""
    code = ("import sys, urllib.request\n"
            "try:\n"
            f"    print(urllib.request.urlopen({url!r}, timeout={timeout}).read().decode(), end='')\n"
            "except Exception as e:\n"
            "    print('ERROR', e, file=sys.stderr); sys.exit(1)\n")
    r = ns_runner.run(ns, "python3", "-c", code, check=False, timeout=timeout + 10)
    return r.stdout if r.returncode == 0 else None


def unmount_under(root):
    """Unmounts whatever is still mounted below `root` (a pin a failed test left)."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for p in sorted((p for p in points if p.startswith(str(root) + "/")), reverse=True):
        subprocess.run(["umount", "-l", p], capture_output=True)


@pytest.fixture
def nets():
    require_root()
    if not (PLUGINS / "bridge").exists() or not shutil.which("iptables"):
        pytest.skip("needs containernetworking-plugins (/usr/lib/cni) and iptables")
    n = NetworkPair()
    yield n
    n.delete()


def make_podd(nets, root, busybox_tar=None, extra=""):
    config = f"network:\n  cniConfDir: {root}/cni\n" + extra
    d = Podd(root, extra_config=config, wrapper=nets.wrapper())
    d.start()
    if busybox_tar:
        d.podctl("image", "import", "busybox", str(busybox_tar))
    return d


@pytest.fixture
def netpodd(nets, busybox_tar):
    """A podd with the default CNI network, in the test's namespace, busybox imported."""
    _require_binaries()
    root = tempfile.mkdtemp(prefix="poddn-", dir="/tmp")
    d = make_podd(nets, root, busybox_tar)
    yield d
    d.cleanup()
    unmount_under(root)
    shutil.rmtree(root, ignore_errors=True)


def server(name, text, port=8080, **spec):
    """A pod serving `text` over HTTP on `port` (busybox httpd)."""
    return pod_manifest(name, [("web", f"mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p {port} -h /www")],
                        terminationGracePeriodSeconds=0, **spec)


def pod_ip(d, name):
    return wait_for(lambda: (p := d.pod(name)) and p["status"].get("podIP"), timeout=30, what=f"podIP of {name}")


def exec_out(d, pod, *cmd, check=True):
    return d.podctl("exec", pod, "--", *cmd, check=check)


def in_pod_fetch(d, pod, url):
    r = exec_out(d, pod, "wget", "-q", "-O", "-", url, check=False)
    return r.stdout if r.returncode == 0 else None


# --- addresses, pod to pod ----------------------------------------------------------------

def test_pods_get_addresses_and_reach_each_other_by_ip_and_by_name(netpodd, nets):
    d = netpodd
    assert d.create(server("alpha", "hello-from-alpha")).status == 201
    assert d.create(server("beta", "hello-from-beta")).status == 201
    d.wait_running("alpha")
    d.wait_running("beta")
    a, b = pod_ip(d, "alpha"), pod_ip(d, "beta")
    assert a != b and a.startswith("10.88.") and b.startswith("10.88."), (a, b)
    pod = d.pod("alpha")
    assert pod["status"]["podIPs"] == [{"ip": a}]
    assert pod["status"]["hostIP"] == HOST_ADDR
    # eth0 inside the pod carries the address, with the bridge's gateway as default route.
    assert f"inet {a}/16" in exec_out(d, "alpha", "ip", "addr", "show", "eth0").stdout
    assert "default via 10.88.0.1" in exec_out(d, "alpha", "ip", "route").stdout
    # By IP, both ways.
    assert wait_for(lambda: in_pod_fetch(d, "alpha", f"http://{b}:8080/"), timeout=15, what="alpha -> beta") == "hello-from-beta\n"
    assert in_pod_fetch(d, "beta", f"http://{a}:8080/") == "hello-from-alpha\n"
    # By name: each pod's /etc/hosts lists the others (NAME and NAME.NAMESPACE).
    assert wait_for(lambda: in_pod_fetch(d, "alpha", "http://beta:8080/"), timeout=15, what="alpha -> beta by name") == "hello-from-beta\n"
    assert in_pod_fetch(d, "beta", "http://alpha.default:8080/") == "hello-from-alpha\n"
    # The host reaches a pod on its address too (the bridge is the pods' gateway).
    assert fetch(nets, nets.host, f"http://{a}:8080/") == "hello-from-alpha\n"
    # A pod that goes leaves the others' tables.
    d.request("DELETE", "/api/v1/namespaces/default/pods/beta?gracePeriodSeconds=0")
    d.wait_gone("beta")
    wait_for(lambda: "beta" not in exec_out(d, "alpha", "cat", "/etc/hosts").stdout, timeout=10, what="beta out of alpha's hosts")


def test_a_pod_reaches_a_server_outside_through_nat(netpodd, nets, tmp_path):
    """The ambassador case: a pod reaches a server beyond the host (the outside namespace),
    its address masqueraded to the host's."""
    d = netpodd
    (tmp_path / "index.html").write_text("outside-says-hi\n")
    log = open(tmp_path / "server.log", "w")
    srv = subprocess.Popen(["ip", "netns", "exec", nets.outside, "python3", "-m", "http.server", "--bind", OUTSIDE_ADDR,
                            "8099", "-d", str(tmp_path)], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: fetch(nets, nets.host, f"http://{OUTSIDE_ADDR}:8099/index.html"), timeout=15, what="outside server")
        d.create(pod_manifest("amb", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0))
        d.wait_running("amb")
        body = wait_for(lambda: in_pod_fetch(d, "amb", f"http://{OUTSIDE_ADDR}:8099/index.html"), timeout=15, what="pod -> outside")
        assert body == "outside-says-hi\n"
        # The server saw the host's address (NAT), not the pod's.
        wait_for(lambda: HOST_ADDR in (tmp_path / "server.log").read_text(), timeout=5, what="request in the server log")
        assert pod_ip(d, "amb") not in (tmp_path / "server.log").read_text()
    finally:
        srv.terminate()
        srv.wait()
        log.close()


# --- hostPort ------------------------------------------------------------------------------

def test_a_host_port_is_reachable_on_the_host_address_and_on_localhost(netpodd, nets):
    d = netpodd
    m = server("published", "served-on-a-host-port")
    m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18080}]
    assert d.create(m).status == 201
    d.wait_running("published")
    pod_ip(d, "published")
    # From another machine (the outside namespace), on the host's address.
    assert wait_for(lambda: fetch(nets, nets.outside, f"http://{HOST_ADDR}:18080/"), timeout=15,
                    what="hostPort from outside") == "served-on-a-host-port\n"
    # From the host itself, on its address and on 127.0.0.1.
    assert fetch(nets, nets.host, f"http://{HOST_ADDR}:18080/") == "served-on-a-host-port\n"
    assert fetch(nets, nets.host, "http://127.0.0.1:18080/") == "served-on-a-host-port\n"
    # The spec shows the port as given.
    port = d.pod("published")["spec"]["containers"][0]["ports"][0]
    assert port["hostPort"] == 18080 and port["containerPort"] == 8080


def test_a_host_port_held_by_another_pod_is_refused(netpodd):
    d = netpodd
    first = server("holder", "x")
    first["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18081}]
    assert d.create(first).status == 201
    second = server("latecomer", "y")
    second["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 18081}]
    r = d.create(second)
    assert r.status == 422, r.text
    body = r.json()
    assert body["reason"] == "Invalid"
    assert "hostPort 18081/TCP is already allocated to pod default/holder" in body["message"], body["message"]
    assert body["details"]["causes"][0]["field"] == "spec.containers[0].ports[0].hostPort"
    assert d.pod("latecomer") is None
    # UDP on the same number is another port.
    second["spec"]["containers"][0]["ports"][0]["protocol"] = "UDP"
    assert d.create(second).status == 201
    # SCTP hostPorts are not published.
    third = server("sctp", "z")
    third["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 18082, "protocol": "SCTP"}]
    r = d.create(third)
    assert r.status == 422 and "spec.containers[0].ports[0].protocol" in r.text, r.text


def test_concurrent_creates_asking_for_one_host_port_admit_exactly_one(netpodd):
    """The hostPort check and its claim are one step: of many pods POSTed at the same moment
    with the same hostPort, one is admitted and every other gets 422 naming it."""
    d = netpodd
    count = 12
    barrier = threading.Barrier(count)
    answers = [None] * count

    def create(i):
        m = server(f"racer{i}", f"r{i}")
        m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18086}]
        barrier.wait()
        answers[i] = d.create(m)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = [a.status if a else None for a in answers]
    admitted = [i for i, a in enumerate(answers) if a and a.status == 201]
    assert len(admitted) == 1, statuses
    winner = f"racer{admitted[0]}"
    for i, a in enumerate(answers):
        if i == admitted[0]:
            continue
        assert a.status == 422, (i, a.status, a.text)
        assert f"hostPort 18086/TCP is already allocated to pod default/{winner}" in a.json()["message"], a.text
        assert d.pod(f"racer{i}") is None
    names = [p["metadata"]["name"] for p in d.get("/api/v1/pods").json()["items"]]
    assert [n for n in names if n.startswith("racer")] == [winner], names
    d.wait_running(winner)


# --- hostNetwork, /etc files ------------------------------------------------------------

def test_host_network_pods_see_the_hosts_interfaces(netpodd, nets):
    d = netpodd
    m = pod_manifest("hostnet", [("app", "exec sleep 3600")], hostNetwork=True, terminationGracePeriodSeconds=0)
    assert d.create(m).status == 201
    d.wait_running("hostnet")
    links = exec_out(d, "hostnet", "ip", "-o", "link").stdout
    assert "uplink" in links, links
    assert f"inet {HOST_ADDR}/24" in exec_out(d, "hostnet", "ip", "addr", "show", "uplink").stdout
    status = wait_for(lambda: (p := d.pod("hostnet")) and p["status"].get("podIP") and p["status"], what="podIP")
    assert status["podIP"] == HOST_ADDR and status["hostIP"] == HOST_ADDR
    hosts = exec_out(d, "hostnet", "cat", "/etc/hosts").stdout
    assert hosts.startswith("# Kubernetes-managed hosts file (host network).\n"), hosts
    # The host's UTS namespace too: its hostname is the host's.
    assert exec_out(d, "hostnet", "hostname").stdout.strip() == os.uname().nodename
    # No veth was made for it.
    assert "veth" not in nets.run(nets.host, "ip", "-o", "link").stdout


def test_etc_hosts_and_resolv_conf_as_kubelet_writes_them(netpodd):
    d = netpodd
    m = pod_manifest("files", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                     hostname="web-0", subdomain="web",
                     hostAliases=[{"ip": "10.9.8.7", "hostnames": ["db.local", "cache.local"]}],
                     dnsPolicy="None",
                     dnsConfig={"nameservers": ["192.0.2.53"], "searches": ["svc.example"],
                                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]})
    assert d.create(m).status == 201, d.create(m).text
    d.wait_running("files")
    ip = pod_ip(d, "files")
    hosts = exec_out(d, "files", "cat", "/etc/hosts").stdout
    lines = hosts.splitlines()
    assert lines[0] == "# Kubernetes-managed hosts file."
    assert "127.0.0.1\tlocalhost" in lines
    assert f"{ip}\tweb-0.web.default.svc.cluster.local\tweb-0" in lines, hosts
    assert "# Entries added by HostAliases." in lines
    assert "10.9.8.7\tdb.local\tcache.local" in lines
    assert exec_out(d, "files", "cat", "/etc/resolv.conf").stdout == \
        "search svc.example\nnameserver 192.0.2.53\noptions ndots:2 edns0\n"
    assert exec_out(d, "files", "cat", "/etc/hostname").stdout == "web-0\n"
    assert exec_out(d, "files", "hostname").stdout.strip() == "web-0"
    # dnsPolicy None without nameservers is refused, as the API server does.
    bad = pod_manifest("nodns", [("app", "true")], dnsPolicy="None")
    r = d.create(bad)
    assert r.status == 422 and "spec.dnsConfig" in r.text, r.text


def test_default_dns_is_the_hosts_resolvers(netpodd):
    d = netpodd
    d.create(pod_manifest("dns", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0,
                          dnsConfig={"searches": ["extra.example"]}))
    d.wait_running("dns")
    host = Path("/etc/resolv.conf").read_text()
    servers = [l.split()[1] for l in host.splitlines() if l.startswith("nameserver")]
    if servers == ["127.0.0.53"] and Path("/run/systemd/resolve/resolv.conf").exists():
        servers = [l.split()[1] for l in Path("/run/systemd/resolve/resolv.conf").read_text().splitlines()
                   if l.startswith("nameserver")]
    conf = exec_out(d, "dns", "cat", "/etc/resolv.conf").stdout
    got = [l.split()[1] for l in conf.splitlines() if l.startswith("nameserver")]
    assert got == servers[:3], conf
    assert "extra.example" in next(l for l in conf.splitlines() if l.startswith("search")), conf


# --- nothing outlives a pod -----------------------------------------------------------------

def leftovers(d, nets, uid, ip):
    """What of a pod's network is still on the host: veths, bridge ports, iptables rules
    naming it, its IPAM lease, its saved attachment or pin."""
    found = []
    links = nets.run(nets.host, "ip", "-o", "link").stdout
    found += [l for l in links.splitlines() if "veth" in l]
    found += [l for l in nets.run(nets.host, "bridge", "link").stdout.splitlines() if l.strip()]
    rules = nets.run(nets.host, "iptables-save").stdout
    found += [l for l in rules.splitlines() if uid in l or (ip and f"{ip}/32" in l)]
    ipam = d.run_dir / "cni" / "ipam"
    if ipam.is_dir():
        found += [str(p) for p in ipam.rglob("*") if p.is_file() and p.name not in ("lock",) and not p.name.startswith("last_reserved_ip")]
    found += [str(p) for p in (d.run_dir / "cni" / "attachments").glob("*")]
    found += [str(p) for p in (d.run_dir / "cni" / "netns").glob("*")] if (d.run_dir / "cni" / "netns").is_dir() else []
    with open("/proc/self/mountinfo") as f:
        found += [l for l in f if str(d.run_dir) in l]
    return found


def test_deleting_a_pod_leaves_no_veth_bridge_port_rule_or_lease(netpodd, nets):
    d = netpodd
    m = server("brief", "x")
    m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18083}]
    d.create(m)
    d.wait_running("brief")
    ip = pod_ip(d, "brief")
    uid = d.pod("brief")["metadata"]["uid"]
    # While it runs, all of it is there.
    assert leftovers(d, nets, uid, ip), "the pod's network should exist while it runs"
    assert (d.run_dir / "cni" / "ipam" / "podd" / ip).exists()
    d.request("DELETE", "/api/v1/namespaces/default/pods/brief?gracePeriodSeconds=0")
    d.wait_gone("brief")
    wait_for(lambda: not leftovers(d, nets, uid, ip), timeout=15, what="no leftovers")
    assert "18083" not in nets.run(nets.host, "iptables-save", "-t", "nat").stdout


def test_kill_9_and_restart_keep_ips_and_host_ports_and_clean_a_pod_deleted_meanwhile(nets, busybox_tar):
    _require_binaries()
    root = tempfile.mkdtemp(prefix="poddn-", dir="/tmp")
    d = make_podd(nets, root, busybox_tar)
    try:
        keep = server("keeper", "still-here")
        keep["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18084}]
        d.create(keep)
        # A static pod: its file goes while podd is down, so the pod is gone when podd returns.
        d.manifests_dir.mkdir(exist_ok=True)
        static = server("static", "static-one")
        (d.manifests_dir / "static.json").write_text(json.dumps(static))
        d.wait_running("keeper")
        wait_for(lambda: d.pod("static-" + "podd") or [p for p in d.get("/api/v1/pods").json()["items"]
                                                       if p["metadata"]["name"].startswith("static")], what="static pod")
        static_pod = wait_for(lambda: next((p for p in d.get("/api/v1/pods").json()["items"]
                                            if p["metadata"]["name"].startswith("static") and p["status"].get("podIP")), None),
                              what="static pod with an IP")
        static_name, static_uid, static_ip = static_pod["metadata"]["name"], static_pod["metadata"]["uid"], static_pod["status"]["podIP"]
        ip = pod_ip(d, "keeper")
        assert wait_for(lambda: fetch(nets, nets.outside, f"http://{HOST_ADDR}:18084/"), timeout=15) == "still-here\n"

        d.stop(signal.SIGKILL)
        (d.manifests_dir / "static.json").unlink()
        # While podd is down, the pods' network works on.
        assert fetch(nets, nets.outside, f"http://{HOST_ADDR}:18084/") == "still-here\n"
        d.start()
        assert pod_ip(d, "keeper") == ip
        assert d.pod("keeper")["status"]["containerStatuses"][0]["restartCount"] == 0
        assert fetch(nets, nets.outside, f"http://{HOST_ADDR}:18084/") == "still-here\n"
        # The static pod deleted while podd was down: gone, and its network with it.
        wait_for(lambda: d.pod(static_name) is None, timeout=30, what="the static pod gone")
        wait_for(lambda: not [l for l in leftovers(d, nets, static_uid, static_ip)
                              if static_uid in l or static_ip in l or "bridge" in l],
                 timeout=15, what="the static pod's network gone")
        rules = nets.run(nets.host, "iptables-save").stdout
        assert static_uid not in rules and f"{static_ip}/32" not in rules
        assert not (d.run_dir / "cni" / "ipam" / "podd" / static_ip).exists()
        # The kept pod's CHECK passed: no warning about it.
        events = d.get("/api/v1/namespaces/default/events").json()["items"]
        assert not [e["message"] for e in events if e["reason"] == "NetworkNotReady"]
    finally:
        d.cleanup()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def monitor_pid(d, uid):
    try:
        return int((d.run_dir / "pods" / uid / "monitor.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def test_a_lost_sandbox_releases_its_network_and_the_new_one_serves_the_host_port(netpodd, nets):
    """kill -9 of a pod's monitor loses its sandbox: the old sandbox's CNI DEL runs (no lease,
    veth, bridge port or iptables rule of its address is left), and the new sandbox gets an
    address (a new one, as in Kubernetes) and the pod's hostPort again."""
    d = netpodd
    m = server("phoenix", "risen")
    m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18087}]
    assert d.create(m).status == 201
    d.wait_running("phoenix")
    old_ip = pod_ip(d, "phoenix")
    uid = d.pod("phoenix")["metadata"]["uid"]
    assert wait_for(lambda: fetch(nets, nets.outside, f"http://{HOST_ADDR}:18087/"), timeout=15,
                    what="hostPort before") == "risen\n"
    monitor = monitor_pid(d, uid)
    assert monitor
    os.kill(monitor, signal.SIGKILL)
    wait_for(lambda: monitor_pid(d, uid) not in (None, monitor), timeout=60, what="a new monitor")
    new_ip = wait_for(lambda: (p := d.pod("phoenix")) and p["status"].get("podIP") not in (None, old_ip)
                      and p["status"]["podIP"], timeout=60, what="the new sandbox's address")
    d.wait_running("phoenix")
    # The new sandbox serves the hostPort, from outside and on 127.0.0.1.
    assert wait_for(lambda: fetch(nets, nets.outside, f"http://{HOST_ADDR}:18087/"), timeout=30,
                    what="hostPort on the new sandbox") == "risen\n"
    assert fetch(nets, nets.host, "http://127.0.0.1:18087/") == "risen\n"
    # Nothing of the old sandbox: one veth and one bridge port (the new one), one lease, no
    # rule naming the old address.
    veths = [l for l in nets.run(nets.host, "ip", "-o", "link").stdout.splitlines() if "veth" in l]
    assert len(veths) == 1, veths
    ports = [l for l in nets.run(nets.host, "bridge", "link").stdout.splitlines() if l.strip()]
    assert len(ports) == 1, ports
    leases = sorted(p.name for p in (d.run_dir / "cni" / "ipam" / "podd").iterdir()
                    if p.name != "lock" and not p.name.startswith("last_reserved_ip"))
    assert leases == [new_ip], leases
    rules = nets.run(nets.host, "iptables-save").stdout
    assert f"{old_ip}/32" not in rules and f"{old_ip}:8080" not in rules, rules
    dnat = [l for l in rules.splitlines() if "-j DNAT" in l and "18087" in l]
    assert len(dnat) == 1 and f"{new_ip}:8080" in dnat[0], dnat
    # And when the pod goes, all of it goes.
    d.request("DELETE", "/api/v1/namespaces/default/pods/phoenix?gracePeriodSeconds=0")
    d.wait_gone("phoenix")
    wait_for(lambda: not leftovers(d, nets, uid, new_ip), timeout=15, what="no leftovers")


def test_a_lost_sandbox_of_a_pod_that_ends_there_releases_its_network(netpodd, nets):
    """restartPolicy Never: the pod whose monitor was killed ends (Failed) and gets no new
    sandbox, and the lost one's network goes at once (as kubelet stops a terminal pod's
    sandbox), not when the pod is deleted: its lease, veth and hostPort rules are free."""
    d = netpodd
    m = server("once", "x", restartPolicy="Never")
    m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18088}]
    assert d.create(m).status == 201
    d.wait_running("once")
    ip = pod_ip(d, "once")
    uid = d.pod("once")["metadata"]["uid"]
    os.kill(monitor_pid(d, uid), signal.SIGKILL)
    wait_for(lambda: d.pod("once")["status"]["phase"] == "Failed", timeout=30, what="the pod Failed")
    wait_for(lambda: not leftovers(d, nets, uid, ip), timeout=15, what="the lost sandbox's network released")
    assert "18088" not in nets.run(nets.host, "iptables-save", "-t", "nat").stdout
    # The pod object stays, Failed, until deleted; its deletion has nothing left to release.
    d.request("DELETE", "/api/v1/namespaces/default/pods/once?gracePeriodSeconds=0")
    d.wait_gone("once")
    assert not leftovers(d, nets, uid, ip)


def test_a_pod_that_ends_releases_its_address_and_host_port_to_other_pods(netpodd, nets):
    """A pod that completes (restartPolicy Never, its container exits 0) runs nothing again:
    as kubelet stops a terminal pod's sandbox, its lease, veth and hostPort rules go at once,
    the status keeps the address it had, and another pod may take the hostPort (the
    scheduler forgets terminal pods)."""
    d = netpodd
    m = pod_manifest("done", [("job", "sleep 3")], restartPolicy="Never", terminationGracePeriodSeconds=0)
    m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18089}]
    assert d.create(m).status == 201
    ip = pod_ip(d, "done")
    uid = d.pod("done")["metadata"]["uid"]
    assert (d.run_dir / "cni" / "ipam" / "podd" / ip).exists(), "the pod should hold a lease while it runs"
    # While it runs, a second pod asking for its hostPort is refused.
    taker = server("taker", "taken-over")
    taker["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18089}]
    r = d.create(taker)
    assert r.status == 422 and "already allocated to pod default/done" in r.text, r.text
    wait_for(lambda: d.pod("done")["status"]["phase"] == "Succeeded", timeout=30, what="the pod Succeeded")
    # The network goes (mounts of the still-kept pod run dir aside: only the network counts).
    network_left = lambda: [l for l in leftovers(d, nets, uid, ip) if "/" not in l or "/cni/" in l]
    wait_for(lambda: not network_left(), timeout=15, what="the ended pod's network released")
    assert "18089" not in nets.run(nets.host, "iptables-save", "-t", "nat").stdout
    done = d.pod("done")
    assert done["status"]["podIP"] == ip, "the status keeps the address the pod had"
    # The port is free: another pod takes it and serves on it.
    assert d.create(taker).status == 201
    d.wait_running("taker")
    assert wait_for(lambda: fetch(nets, nets.host, f"http://{HOST_ADDR}:18089/"), timeout=15,
                    what="the hostPort served by the new pod") == "taken-over\n"
    # Deleting the ended pod has nothing left to release, and leaves the new pod's port alone.
    d.request("DELETE", "/api/v1/namespaces/default/pods/done?gracePeriodSeconds=0")
    d.wait_gone("done")
    assert fetch(nets, nets.host, f"http://{HOST_ADDR}:18089/") == "taken-over\n"


def test_a_finished_pod_whose_monitor_died_while_podd_was_down_releases_its_network(nets, busybox_tar):
    """podd killed with -9, then the monitor of a pod that will not run again (restartPolicy
    Never): when podd comes back, the pod is Failed and its lost sandbox's network is gone."""
    _require_binaries()
    root = tempfile.mkdtemp(prefix="poddn-", dir="/tmp")
    d = make_podd(nets, root, busybox_tar)
    try:
        m = server("ended", "x", restartPolicy="Never")
        m["spec"]["containers"][0]["ports"] = [{"containerPort": 8080, "hostPort": 18089}]
        assert d.create(m).status == 201
        d.wait_running("ended")
        ip = pod_ip(d, "ended")
        uid = d.pod("ended")["metadata"]["uid"]
        monitor = monitor_pid(d, uid)
        d.stop(signal.SIGKILL)
        os.kill(monitor, signal.SIGKILL)
        d.start()
        wait_for(lambda: d.pod("ended")["status"]["phase"] == "Failed", timeout=30, what="the pod Failed")
        wait_for(lambda: not leftovers(d, nets, uid, ip), timeout=15, what="the lost sandbox's network released")
        assert "18089" not in nets.run(nets.host, "iptables-save", "-t", "nat").stdout
    finally:
        d.cleanup()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


# --- failures: clear errors, nothing leaked -------------------------------------------------

def sandbox_failure(d, name):
    """The FailedCreatePodSandBox event of pod `name`, once there is one."""
    def event():
        items = d.get("/api/v1/namespaces/default/events").json()["items"]
        return next((e for e in items if e["involvedObject"]["name"] == name and e["reason"] == "FailedCreatePodSandBox"), None)
    return wait_for(event, timeout=30, what=f"FailedCreatePodSandBox for {name}")


@pytest.mark.parametrize("case", ["missing-plugin", "broken-conflist"])
def test_a_bad_network_configuration_is_reported_and_leaves_nothing(nets, busybox_tar, case):
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="poddn-", dir="/tmp"))
    (root / "cni").mkdir()
    if case == "missing-plugin":
        (root / "cni" / "10-podd.conflist").write_text(json.dumps({
            "cniVersion": "1.0.0", "name": "podd", "plugins": [
                {"type": "bridge", "bridge": "podd0", "ipam": {"type": "host-local", "subnet": "10.89.0.0/24",
                                                             "dataDir": str(root / "ipam")}},
                {"type": "no-such-plugin"}]}))
        expected = 'failed to find plugin "no-such-plugin"'
    else:
        (root / "cni" / "10-podd.conflist").write_text('{"cniVersion": "1.0.0", "name": "podd", "plugins": [')
        expected = "10-podd.conflist: not valid JSON"
    d = make_podd(nets, str(root), busybox_tar)
    try:
        d.create(pod_manifest("victim", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0))
        event = sandbox_failure(d, "victim")
        assert event["type"] == "Warning"
        assert expected in event["message"], event["message"]
        pod = d.pod("victim")
        assert pod["status"]["phase"] == "Pending"
        assert not pod["status"].get("podIP")
        waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
        # Not started: waiting, as kubelet shows a pod whose sandbox it cannot make.
        assert waiting["reason"] in ("ContainerCreating", "PodInitializing"), waiting
        # Nothing of the failed ADD is left, nor a sandbox.
        assert not leftovers(d, nets, pod["metadata"]["uid"], None)
        assert not (d.run_dir / "pods" / pod["metadata"]["uid"] / "monitor.pid").exists()
    finally:
        d.cleanup()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def test_an_exhausted_subnet_is_reported_and_the_failed_add_undone(nets, busybox_tar):
    _require_binaries()
    root = tempfile.mkdtemp(prefix="poddn-", dir="/tmp")
    # A /30: the gateway and one pod.
    d = make_podd(nets, root, busybox_tar, extra="  subnet: 10.77.0.0/30\n")
    try:
        d.create(pod_manifest("first", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0))
        d.wait_running("first")
        first_ip = pod_ip(d, "first")
        assert first_ip == "10.77.0.2"
        d.create(pod_manifest("second", [("app", "exec sleep 3600")], terminationGracePeriodSeconds=0))
        event = sandbox_failure(d, "second")
        assert 'plugin type="bridge" failed (add)' in event["message"], event["message"]
        assert "no IP addresses available" in event["message"], event["message"]
        uid = d.pod("second")["metadata"]["uid"]
        # Only the first pod's veth; nothing of the second.
        veths = [l for l in nets.run(nets.host, "ip", "-o", "link").stdout.splitlines() if "veth" in l]
        assert len(veths) == 1, veths
        assert uid not in nets.run(nets.host, "iptables-save").stdout
        assert not (d.run_dir / "cni" / "attachments" / f"{uid}.json").exists()
    finally:
        d.cleanup()
        unmount_under(root)
        shutil.rmtree(root, ignore_errors=True)


def test_the_ambassador_example_reaches_a_server_outside_the_pod(netpodd, nets, tmp_path):
    """config/examples/ambassador-outside.yaml as shipped: its ambassador relays the app's
    localhost connections to a server on the host (the pods' gateway, 10.88.0.1:8000)."""
    from harness import REPO
    d = netpodd
    (tmp_path / "index.html").write_text("served-outside-the-pod\n")
    log = open(tmp_path / "server.log", "w")
    srv = subprocess.Popen([*nets.wrapper(), "python3", "-m", "http.server", "--bind", "0.0.0.0", "8000", "-d", str(tmp_path)],
                           stdout=log, stderr=subprocess.STDOUT)
    try:
        d.podctl("apply", "-f", str(REPO / "config" / "examples" / "ambassador-outside.yaml"))
        d.wait_running("ambassador-outside")
        wait_for(lambda: "served-outside-the-pod" in d.log("ambassador-outside", "app"), timeout=30,
                 what="the app's log to show the outside server's answer")
    finally:
        srv.terminate()
        srv.wait()
        log.close()


def test_a_pod_restart_keeps_its_address(netpodd):
    """A pod restart (its app failed) stops and starts containers only: the sandbox, and so
    the network namespace, its address and its veth, stay."""
    d = netpodd
    d.create(pod_manifest("flaky", [("app", "sleep 1; exit 1")], terminationGracePeriodSeconds=0))
    ip = pod_ip(d, "flaky")
    wait_for(lambda: d.pod("flaky")["status"]["containerStatuses"][0]["restartCount"] >= 2, timeout=60,
             what="two restarts")
    assert d.pod("flaky")["status"]["podIP"] == ip
    events = d.get("/api/v1/namespaces/default/events").json()["items"]
    assert not [e for e in events if e["reason"] == "FailedCreatePodSandBox"]


# --- probes and hooks reach the pod's IP ----------------------------------------------------

def test_probes_connect_to_the_pod_ip_unless_they_name_a_host(netpodd):
    """As kubelet's prober: httpGet and tcpSocket without `host` connect to the pod's IP, so a
    server listening only on 127.0.0.1 fails them here as on a cluster (with Go's dial
    message), and a probe that names `host: 127.0.0.1` or `localhost` reaches it."""
    d = netpodd
    ready = {"periodSeconds": 1, "failureThreshold": 1}
    d.create(pod_manifest("probed", [
        {"name": "any", "command": ["sh", "-c", "mkdir /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"],
         "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, **ready}},
        {"name": "local", "command": ["httpd", "-f", "-p", "127.0.0.1:8081", "-h", "/"],
         "readinessProbe": {"tcpSocket": {"port": 8081}, **ready}},
        {"name": "named", "command": ["sleep", "100000"],
         "readinessProbe": {"tcpSocket": {"host": "127.0.0.1", "port": 8081}, **ready}},
        # A name is looked up (the host's /etc/hosts here) and each address tried in turn:
        # localhost may give ::1 first, where nothing listens.
        {"name": "byname", "command": ["sleep", "100000"],
         "readinessProbe": {"tcpSocket": {"host": "localhost", "port": 8081}, **ready}},
    ], terminationGracePeriodSeconds=0))
    ip = pod_ip(d, "probed")

    def readiness():
        statuses = d.pod("probed")["status"].get("containerStatuses", [])
        return {c["name"]: c["ready"] for c in statuses}
    wait_for(lambda: readiness() == {"any": True, "local": False, "named": True, "byname": True}, timeout=30,
             what="any, named and byname ready, local not")

    def refused():
        events = d.get("/api/v1/namespaces/default/events").json()["items"]
        return [e["message"] for e in events
                if e["reason"] == "Unhealthy" and e["involvedObject"].get("fieldPath") == "spec.containers{local}"]
    messages = wait_for(refused, timeout=30, what="local's readiness failure")
    assert messages[0] == f"Readiness probe failed: dial tcp {ip}:8081: connect: connection refused", messages
