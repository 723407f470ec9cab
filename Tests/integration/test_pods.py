"""Multi-container pods in shared namespaces, end to end through podctl and the API."""
import os
import re
import subprocess
import time

from harness import REPO, pod_manifest, wait_for


def test_sidecar_reader_sees_writer_lines_through_emptydir(podd):
    podd.podctl("apply", "-f", str(REPO / "config/examples/sidecar.yaml"))
    podd.wait_running("sidecar")
    out = wait_for(lambda: (t := podd.podctl("logs", "sidecar", "-c", "shipper").stdout) and "request 2" in t and t,
                   what="shipper to relay the app's lines")
    assert re.search(r"request 1 served by sidecar", out)


def test_containers_share_network_and_report_pod_hostname(podd):
    podd.podctl("apply", "-f", str(REPO / "config/examples/ambassador.yaml"))
    podd.wait_running("ambassador")
    out = wait_for(lambda: "hello from the ambassador" in (t := podd.podctl("logs", "ambassador", "-c", "app").stdout) and t,
                   what="app to reach the ambassador on 127.0.0.1:8080")
    assert "hello from the ambassador in ambassador" in out


def test_both_containers_see_pod_hostname_and_loopback_only(podd):
    m = pod_manifest("hn", [("a", "hostname; cat /etc/hostname; ls /sys/class/net; sleep 3600"),
                            ("b", "hostname; sleep 3600")])
    assert podd.create(m).status == 201
    podd.wait_running("hn")
    a = wait_for(lambda: (t := podd.log("hn", "a")).count("\n") >= 3 and t)
    assert a.splitlines()[:2] == ["hn", "hn"]
    assert "lo" in a.split() and "eth0" not in a
    assert wait_for(lambda: podd.log("hn", "b").strip()) == "hn"


def test_spec_hostname_overrides_pod_name(podd):
    m = pod_manifest("named", [("a", "hostname; sleep 3600")], hostname="web-1")
    podd.create(m)
    assert wait_for(lambda: podd.log("named", "a").strip()) == "web-1"


def test_share_process_namespace(podd):
    shared = pod_manifest("shared", [("a", "exec sleep 3601"), ("b", "sleep 1; ps; sleep 3600")], shareProcessNamespace=True)
    private = pod_manifest("private", [("a", "exec sleep 3602"), ("b", "sleep 1; ps; sleep 3600")])
    podd.create(shared)
    podd.create(private)
    out = wait_for(lambda: (t := podd.log("shared", "b")) and "PID" in t and t)
    assert "sleep 3601" in out
    out = wait_for(lambda: (t := podd.log("private", "b")) and "PID" in t and t)
    assert "sleep 3602" not in out


def test_env_fieldref_workingdir_and_readonly_mount(podd):
    m = pod_manifest("envpod", [{
        "name": "a",
        "command": ["sh", "-c", "echo name=$MY_NAME ns=$MY_NS uid=$MY_UID greeting=$GREETING; pwd; "
                                "touch /ro/x 2>&1 || echo ro-refused; sleep 3600"],
        "workingDir": "/tmp",
        "env": [{"name": "GREETING", "value": "hi"},
                {"name": "MY_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "MY_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "MY_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}}],
        "volumeMounts": [{"name": "v", "mountPath": "/ro", "readOnly": True}],
    }], volumes=[{"name": "v", "emptyDir": {}}])
    created = podd.create(m).json()
    uid = created["metadata"]["uid"]
    out = wait_for(lambda: (t := podd.log("envpod", "a")) and "ro-refused" in t and t)
    assert f"name=envpod ns=default uid={uid} greeting=hi" in out
    assert "/tmp" in out.splitlines()


def test_memory_emptydir_is_tmpfs_shared_by_containers(podd):
    m = pod_manifest("mem", [
        {"name": "w", "command": ["sh", "-c", "grep ' /cache ' /proc/mounts; echo shared > /cache/f; sleep 3600"],
         "volumeMounts": [{"name": "c", "mountPath": "/cache"}]},
        # grep, not cat: a cat between the writer's open and its write reads an empty file,
        # succeeds, and the reader would never print the word (seen once in CI under load).
        {"name": "r", "command": ["sh", "-c", "while ! grep shared /cache/f; do sleep 0.2; done; sleep 3600"],
         "volumeMounts": [{"name": "c", "mountPath": "/cache"}]},
    ], volumes=[{"name": "c", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}])
    podd.create(m)
    assert "tmpfs" in wait_for(lambda: podd.log("mem", "w"))
    assert "size=8192k" in podd.log("mem", "w")
    # The reader may try before the writer has written: its first attempts fail (to stderr).
    out = wait_for(lambda: (t := podd.log("mem", "r")) and "shared" in t and t, what="the reader to see the file")
    assert "shared" in out.splitlines()


def test_a_memory_emptydir_is_as_large_as_the_pods_memory_limit_as_kubelet_sizes_it(podd):
    # Without a sizeLimit, the pod's memory limit (both containers limited: 48Mi + 16Mi);
    # with a larger sizeLimit, still the pod's limit; a smaller one wins. Not the kernel's
    # default of half the machine's memory.
    def mounts(volumes):
        return [{"name": v["name"], "mountPath": f"/{v['name']}"} for v in volumes]
    volumes = [{"name": "plain", "emptyDir": {"medium": "Memory"}},
               {"name": "large", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
               {"name": "small", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}]
    m = pod_manifest("sized", [
        {"name": "w", "command": ["sh", "-c", "grep -E ' /(plain|large|small) ' /proc/mounts; sleep 3600"],
         "volumeMounts": mounts(volumes), "resources": {"limits": {"memory": "48Mi"}}},
        {"name": "x", "command": ["sleep", "3600"], "resources": {"limits": {"memory": "16Mi"}}},
    ], volumes=volumes)
    assert podd.create(m).status == 201
    out = wait_for(lambda: (t := podd.log("sized", "w")) and len(t.splitlines()) == 3 and t, what="the three tmpfs mounts")
    sizes = {line.split()[1]: next(o for o in line.split()[3].split(",") if o.startswith("size=")) for line in out.splitlines()}
    assert sizes == {"/plain": "size=65536k", "/large": "size=65536k", "/small": "size=8192k"}, out
    # A pod without memory limits: the machine's memory, as kubelet's node allocatable.
    m = pod_manifest("unsized", [{"name": "w", "command": ["sh", "-c", "grep ' /plain ' /proc/mounts; sleep 3600"],
                                  "volumeMounts": mounts(volumes[:1])}], volumes=volumes[:1])
    assert podd.create(m).status == 201
    line = wait_for(lambda: podd.log("unsized", "w"), what="the tmpfs mount")
    total_kib = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:"))
    size_kib = int(next(o for o in line.split()[3].split(",") if o.startswith("size="))[5:-1])
    assert abs(size_kib - total_kib) <= 4, (size_kib, total_kib)


def test_exit_codes_reported_as_terminated(podd):
    m = pod_manifest("exits", [("ok", "exit 0"), ("bad", "echo oops >&2; exit 3")], restartPolicy="Never")
    podd.create(m)
    p = podd.wait_phase("exits", "Failed")
    st = {s["name"]: s["state"] for s in p["status"]["containerStatuses"]}
    assert st["ok"]["terminated"]["exitCode"] == 0 and st["ok"]["terminated"]["reason"] == "Completed"
    assert st["bad"]["terminated"]["exitCode"] == 3 and st["bad"]["terminated"]["reason"] == "Error"
    for s in st.values():
        assert s["terminated"]["startedAt"] and s["terminated"]["finishedAt"]
    assert podd.log("exits", "bad") == "oops\n"


def test_delete_kills_term_ignoring_container_after_grace(podd):
    m = pod_manifest("stubborn", [("a", "trap '' TERM; while true; do sleep 0.1; done")], shareProcessNamespace=True)
    podd.create(m)
    podd.wait_running("stubborn")
    start = time.monotonic()
    r = podd.request("DELETE", "/api/v1/namespaces/default/pods/stubborn?gracePeriodSeconds=2")
    assert r.status == 200 and r.json()["metadata"]["deletionTimestamp"]
    podd.wait_gone("stubborn", timeout=20)
    assert time.monotonic() - start >= 1.5


def test_delete_leaves_no_trace(podd):
    podd.podctl("apply", "-f", str(REPO / "config/examples/sidecar.yaml"))
    p = podd.wait_running("sidecar")
    uid = p["metadata"]["uid"]
    cgroup = f"/sys/fs/cgroup/unified/podd/{uid}"
    pids = [int(x) for f in ([] if not os.path.isdir(cgroup) else
                             [os.path.join(d, "cgroup.procs") for d, _, _ in os.walk(cgroup)])
            for x in open(f).read().split()]
    if os.path.isdir(cgroup):
        assert len(pids) >= 3   # the monitor and both containers
    podd.podctl("delete", "pod", "sidecar", "--grace-period", "1")
    assert podd.pod("sidecar") is None
    for pid in pids:
        if os.path.exists(f"/proc/{pid}"):
            raise AssertionError(f"process {pid} survived the delete: {open(f'/proc/{pid}/cmdline').read()!r} "
                                 f"{open(f'/proc/{pid}/cgroup').read()!r}")
    mounts = open("/proc/mounts").read()
    assert uid not in mounts and str(podd.root) not in mounts
    leftovers = [str(p) for d in (podd.state_dir, podd.run_dir) for p in d.rglob("*") if uid in str(p)]
    assert leftovers == []
    assert not any(uid in l for l in open("/proc/self/mountinfo"))
    cg = "/sys/fs/cgroup/unified/podd/" + uid
    assert not os.path.exists(cg)


def test_logs_options(podd):
    m = pod_manifest("logs", [("a", "for i in 1 2 3 4 5; do echo line$i; done; sleep 3600")])
    podd.create(m)
    wait_for(lambda: "line5" in podd.log("logs", "a"))
    assert podd.podctl("logs", "logs", "--tail", "2").stdout == "line4\nline5\n"
    ts = podd.podctl("logs", "logs", "--timestamps", "--tail", "1").stdout
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line5\n$", ts)
    assert podd.log("logs", "a", sinceSeconds=3600).count("line") == 5


def test_logs_follow_streams_new_lines(podd):
    m = pod_manifest("follow", [("a", "for i in 1 2 3; do echo tick$i; sleep 0.5; done")], restartPolicy="Never")
    podd.create(m)
    podd.wait_running("follow")
    r = podd.podctl("logs", "-f", "follow", timeout=30)
    assert r.stdout == "tick1\ntick2\ntick3\n"


def test_pod_list_all_namespaces_and_output_formats(podd):
    podd.create(pod_manifest("one", [("a", "sleep 3600")]))
    m = pod_manifest("two", [("a", "sleep 3600")])
    m["metadata"]["namespace"] = "other"
    assert podd.create(m, namespace="other").status == 201
    names = {p["metadata"]["namespace"] + "/" + p["metadata"]["name"] for p in podd.get("/api/v1/pods").json()["items"]}
    assert names == {"default/one", "other/two"}
    assert [p["metadata"]["name"] for p in podd.get("/api/v1/namespaces/other/pods").json()["items"]] == ["two"]
    podd.wait_running("one")
    table = podd.podctl("get", "pods").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table[1].split()[:4] == ["one", "1/1", "Running", "0"]
    assert podd.podctl("get", "pods", "-o", "name").stdout == "pod/one\n"
    assert podd.podctl("get", "pod", "one", "-o", "json").stdout.count('"uid"') >= 1


def test_podd_restart_brings_pods_back(podd):
    podd.create(pod_manifest("keep", [("a", "echo started; sleep 3600")]))
    uid = podd.wait_running("keep")["metadata"]["uid"]
    podd.stop()
    podd.start()
    p = podd.wait_running("keep")
    assert p["metadata"]["uid"] == uid


def test_image_import_list_remove(daemon, busybox_tar, busybox_rootfs):
    r = daemon.podctl("image", "import", "tools:1.0", str(busybox_tar))
    assert "tools:1.0" in r.stdout
    daemon.podctl("image", "import", "dirimage", str(busybox_rootfs))
    gz = daemon.root / "bb.tar.gz"
    subprocess.run(f"gzip -c {busybox_tar} > {gz}", shell=True, check=True)
    daemon.podctl("image", "import", "gzimage", str(gz))
    listing = daemon.podctl("image", "ls").stdout
    for name in ("tools", "dirimage", "gzimage"):
        assert name in listing
    daemon.podctl("image", "rm", "tools:1.0")
    assert "tools" not in daemon.podctl("image", "ls").stdout
    bad = daemon.podctl("image", "rm", "tools:1.0", check=False)
    assert bad.returncode == 1 and "not found" in bad.stderr


def test_version_and_health(daemon):
    assert daemon.get("/healthz").text == "ok"
    v = daemon.get("/version").json()
    assert v["gitVersion"].startswith("v")
    out = daemon.podctl("version").stdout
    assert "Server Version: " + v["gitVersion"] in out


def test_logs_previous_is_the_run_before(podd):
    m = pod_manifest("prev", [("a", "read u x < /proc/uptime; echo run at $u; sleep 1; exit 1")])
    m["metadata"]["annotations"] = {"podd.io/restart-scope": "container"}
    podd.create(m)
    wait_for(lambda: podd.pod("prev")["status"]["containerStatuses"][0]["restartCount"] >= 1, timeout=20)
    wait_for(lambda: podd.log("prev", "a").startswith("run at"), timeout=10)
    current = podd.log("prev", "a")
    previous = podd.podctl("logs", "prev", "-p").stdout
    assert previous.startswith("run at") and previous != current
    r = podd.logs("logs-missing")
    assert r.status == 404


def test_logs_errors_name_the_container(podd):
    podd.create(pod_manifest("two", [("a", "sleep 3600"), ("b", "sleep 3600")]))
    r = podd.logs("two")
    assert r.status == 400 and "choose one of: [a b]" in r.json()["message"]
    r = podd.logs("two", "nope")
    assert r.status == 400 and "container nope is not valid for pod two" in r.json()["message"]
    r = podd.logs("two", "a", previous="true")
    assert r.status == 400 and "previous terminated container" in r.json()["message"]


def test_apply_again_replaces_the_spec_and_keeps_the_uid(podd, tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: repl}\nspec:\n  terminationGracePeriodSeconds: 1\n"
                 "  containers: [{name: a, image: busybox, command: [sh, -c, 'echo v1; sleep 3600']}]\n")
    assert "created" in podd.podctl("apply", "-f", str(f)).stdout
    uid = podd.wait_running("repl")["metadata"]["uid"]
    assert "unchanged" in podd.podctl("apply", "-f", str(f)).stdout
    f.write_text(f.read_text().replace("echo v1", "echo v2"))
    assert "configured" in podd.podctl("apply", "-f", str(f)).stdout
    assert wait_for(lambda: podd.log("repl", "a"), timeout=20) and wait_for(lambda: podd.log("repl", "a") == "v2\n", timeout=20)
    p = podd.wait_running("repl")
    assert p["metadata"]["uid"] == uid
    assert p["spec"]["containers"][0]["command"][2] == "echo v2; sleep 3600"
    # Labels only: applied in place, nothing restarts.
    f.write_text(f.read_text().replace("metadata: {name: repl}", "metadata: {name: repl, labels: {tier: web}}"))
    started = p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    podd.podctl("apply", "-f", str(f))
    p = podd.pod("repl")
    assert p["metadata"]["labels"] == {"tier": "web"}
    assert p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"] == started


def test_a_changed_spec_goes_on_from_the_pods_history_as_kubelet_restarts_a_changed_container(podd):
    """`kubectl set image` (a patch of the spec): until the old containers have stopped the pod
    shows them, then the new runs carry each container's restart count and last state on, the
    pod keeps its start time, and `logs --previous` shows the replaced run. Its status was
    emptied to `{phase: Pending}` for the whole grace period, and its counts restarted at 0."""
    trap = 'trap "sleep 1; echo bye; exit 3" TERM; echo v1; while true; do sleep 0.1; done'
    manifest = pod_manifest("chg", [{"name": "app", "image": "busybox", "command": ["sh", "-c", trap]},
                                    {"name": "gone", "image": "busybox", "command": ["sleep", "3600"]}],
                            terminationGracePeriodSeconds=10)
    assert podd.create(manifest).status == 201
    before = podd.wait_running("chg")
    assert wait_for(lambda: podd.log("chg", "app") == "v1\n")
    old_id = next(s["containerID"] for s in before["status"]["containerStatuses"] if s["name"] == "app")
    # A new image for one container and the other removed (a PUT: a patch cannot drop a list element by omission).
    pod = podd.pod("chg")
    pod["spec"]["containers"] = [{"name": "app", "image": "busybox:latest", "command": ["sh", "-c", trap]}]
    r = podd.request("PUT", "/api/v1/namespaces/default/pods/chg", pod)
    assert r.status == 200, r.text
    # The old containers are being stopped (the trap takes a second): the pod still shows them.
    during = podd.pod("chg")
    assert during["status"]["phase"] == "Running", during["status"]
    shown = {s["name"]: s for s in during["status"]["containerStatuses"]}
    assert shown["app"]["containerID"] == old_id and "running" in shown["app"]["state"], shown
    after = wait_for(lambda: (p := podd.pod("chg")) and p["status"].get("containerStatuses")
                     and p["status"]["containerStatuses"][0].get("restartCount") == 1
                     and "running" in p["status"]["containerStatuses"][0]["state"] and p, timeout=20)
    app = after["status"]["containerStatuses"][0]
    assert [s["name"] for s in after["status"]["containerStatuses"]] == ["app"]
    assert app["containerID"] != old_id
    last = app["lastState"]["terminated"]
    assert last["exitCode"] == 3 and last["containerID"] == old_id, last
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["status"]["startTime"] == before["status"]["startTime"]
    assert wait_for(lambda: podd.log("chg", "app") == "v1\n")
    assert podd.log("chg", "app", previous="true") == "v1\nbye\n"
    messages = [e["message"] for e in podd.get("/api/v1/namespaces/default/events").json()["items"]
                if e["involvedObject"]["name"] == "chg" and e["reason"] == "Killing"]
    assert "Container app definition changed, will be restarted" in messages, messages
    assert not any(m.startswith("Stopping pod") for m in messages), messages
    # The removed container's logs went; the kept one's runs are numbered on.
    logs = next((podd.state_dir / "logs").glob("default_chg_*"))
    assert sorted(os.listdir(logs)) == ["app"] and sorted(os.listdir(logs / "app")) == ["0.log", "1.log"]
    # Replaced twice in a row: the spec between never runs, and the last goes on from the run
    # that did, as it ended.
    for image in ("busybox", "busybox:latest"):
        pod = podd.pod("chg")
        pod["spec"]["containers"][0]["image"] = image
        r = podd.request("PUT", "/api/v1/namespaces/default/pods/chg", pod)
        assert r.status == 200, r.text
    final = wait_for(lambda: (p := podd.pod("chg")) and p["status"]["containerStatuses"][0].get("restartCount") == 2
                     and "running" in p["status"]["containerStatuses"][0]["state"] and p, timeout=20)
    last = final["status"]["containerStatuses"][0]["lastState"]["terminated"]
    assert last["exitCode"] == 3 and last["containerID"] == app["containerID"] and last.get("startedAt"), last


def test_a_pods_monitor_keeps_its_private_memory_small(podd):
    """Issue 9's goal: each monitor under 150 kB of private memory. Its table of 64 container
    records (over 2 KiB each) is static and stays untouched but for the slots in use; written
    whole at start (a memset, each slot's fds set to -1) it made every monitor 176 kB."""
    manifest = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "small"},
                "spec": {"containers": [{"name": n, "image": "busybox", "command": ["sleep", "3600"]} for n in ("a", "b")]}}
    assert podd.create(manifest).status == 201
    podd.wait_running("small")
    uid = podd.pod("small")["metadata"]["uid"]
    pid = int((podd.run_dir / "pods" / uid / "monitor.pid").read_text().split()[0])
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    rss_anon_kb = int(status["RssAnon"].split()[0])
    assert rss_anon_kb < 150, f"the monitor of a 2-container pod has {rss_anon_kb} kB of private memory"


def test_set_hostname_as_fqdn(podd):
    """spec.setHostnameAsFQDN (refused before): with a subdomain the kernel's hostname, and so
    `hostname`, /etc/hostname and $HOSTNAME, is the pod's FQDN, as kubelet sets it; an FQDN
    longer than the kernel's 64 characters fails the sandbox with kubelet's message."""
    fqdn = "web-0.web.default.svc.cluster.local"
    m = pod_manifest("fqdn", [("app", "echo $HOSTNAME; hostname; cat /etc/hostname; exec sleep 3600")],
                     hostname="web-0", subdomain="web", setHostnameAsFQDN=True, terminationGracePeriodSeconds=0)
    assert podd.create(m).status == 201
    assert podd.pod("fqdn")["spec"]["setHostnameAsFQDN"] is True
    assert wait_for(lambda: podd.log("fqdn", "app").count("\n") >= 3 and podd.log("fqdn", "app")) == f"{fqdn}\n" * 3
    # Without a subdomain there is no FQDN: the hostname stays.
    short = pod_manifest("leaf", [("app", "hostname; exec sleep 3600")], setHostnameAsFQDN=True, terminationGracePeriodSeconds=0)
    assert podd.create(short).status == 201
    assert wait_for(lambda: podd.log("leaf", "app")) == "leaf\n"
    long = pod_manifest("long", [("app", "exec sleep 3600")], hostname="h" * 40, subdomain="s" * 20,
                        setHostnameAsFQDN=True, terminationGracePeriodSeconds=0)
    assert podd.create(long).status == 201
    name = f"{'h' * 40}.{'s' * 20}.default.svc.cluster.local"
    event = wait_for(lambda: next((e for e in podd.get("/api/v1/namespaces/default/events").json()["items"]
                                   if e["involvedObject"]["name"] == "long" and e["reason"] == "FailedCreatePodSandBox"), None),
                     what="the sandbox's failure")
    assert event["message"] == (f"Failed to create pod sandbox: failed to construct FQDN from pod hostname and cluster domain, "
                                f"FQDN {name} is too long (64 characters is the max, {len(name)} characters requested)"), event
    assert podd.pod("long")["status"]["phase"] == "Pending"
