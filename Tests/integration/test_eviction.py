"""Local storage eviction (issue 12), as kubelet's eviction manager does it: a pod past an
ephemeral-storage limit or an emptyDir sizeLimit is stopped, Failed with reason Evicted and
kubelet's message, a Warning event Evicted, never restarted, and listed until deleted (also
across a podd killed with -9). podd here measures every second (`eviction.checkInterval`)."""
import shutil
import signal
import tempfile
import time

import pytest

from harness import Podd, pod_manifest, processes_with, wait_for


@pytest.fixture
def fast_checks(busybox_tar):
    """A podd that measures local storage every second (kubelet: 10 s)."""
    root = tempfile.mkdtemp(prefix="podd-", dir="/tmp")
    d = Podd(root, extra_config="eviction: {checkInterval: 1s}\n").start()
    d.podctl("image", "import", "busybox", str(busybox_tar))
    yield d
    d.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def evicted(podd, name):
    pod = podd.pod(name)
    return pod if pod["status"].get("reason") == "Evicted" else None


def events_of(podd, name):
    items = podd.get("/api/v1/namespaces/default/events").json()["items"]
    return [e for e in items if e["involvedObject"]["name"] == name]


def test_a_container_writing_past_its_limit_is_evicted_and_not_restarted(fast_checks):
    podd = fast_checks
    tag = "evict-rootfs-tag"
    manifest = pod_manifest("hog", [{
        "name": "c", "command": ["sh", "-c", f"dd if=/dev/zero of=/big bs=1M count=5 && sync; sleep 1000; echo {tag}"],
        "resources": {"limits": {"ephemeral-storage": "1Mi"}}}], restartPolicy="Always")
    r = podd.create(manifest)
    assert r.status == 201, r.text
    pod = wait_for(lambda: evicted(podd, "hog"), timeout=60, what="the pod evicted")
    assert pod["status"]["phase"] == "Failed"
    # Its only container's limit is also the pod's total: kubelet checks the total first.
    assert pod["status"]["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. "
    warnings = [e for e in events_of(podd, "hog") if e["reason"] == "Evicted"]
    assert warnings and warnings[0]["type"] == "Warning" and warnings[0]["message"] == pod["status"]["message"]
    # Stopped (1 s grace), and never started again whatever the restartPolicy.
    wait_for(lambda: "terminated" in podd.pod("hog")["status"]["containerStatuses"][0]["state"], timeout=30,
             what="the container stopped")
    wait_for(lambda: not processes_with(tag), timeout=30, what="the container's processes gone")
    time.sleep(4)   # several checks, and this podd's restart backoff (1 s) several times over
    pod = podd.pod("hog")
    status = pod["status"]["containerStatuses"][0]
    assert status["restartCount"] == 0 and "terminated" in status["state"], status
    assert pod["status"]["phase"] == "Failed" and pod["status"]["reason"] == "Evicted"
    assert not processes_with(tag)
    # Listed until deleted, as an evicted pod is in Kubernetes.
    assert "hog" in podd.podctl("get", "pods").stdout
    assert podd.request("DELETE", "/api/v1/namespaces/default/pods/hog").status == 200
    podd.wait_gone("hog")


def test_a_container_past_its_own_limit_in_a_pod_under_the_total(fast_checks):
    podd = fast_checks
    manifest = pod_manifest("two", [
        {"name": "small", "command": ["sh", "-c", "dd if=/dev/zero of=/big bs=1M count=3 && sync; exec sleep 1000"],
         "resources": {"limits": {"ephemeral-storage": "2Mi"}}},
        {"name": "roomy", "command": ["sh", "-c", "exec sleep 1000"],
         "resources": {"limits": {"ephemeral-storage": "20Mi"}}}])
    assert podd.create(manifest).status == 201
    pod = wait_for(lambda: evicted(podd, "two"), timeout=60, what="the pod evicted")
    assert pod["status"]["message"] == 'Container small exceeded its local ephemeral storage limit "2Mi". '


@pytest.mark.parametrize("target", ["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"])
def test_the_pods_etc_files_count_toward_its_limit(fast_checks, target):
    # The three files are the pod's, bound writable into the container from podd's run dir:
    # writing 3 MiB into any of them is the pod's storage, as its layer is.
    podd = fast_checks
    manifest = pod_manifest("etc", [{
        "name": "c", "command": ["sh", "-c", f"dd if=/dev/zero of={target} bs=1M count=3 && sync; exec sleep 1000"],
        "resources": {"limits": {"ephemeral-storage": "2Mi"}}}], restartPolicy="Always")
    assert podd.create(manifest).status == 201
    pod = wait_for(lambda: evicted(podd, "etc"), timeout=60, what="the pod evicted")
    assert pod["status"]["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. "


def test_an_empty_dir_filled_past_its_size_limit_evicts(fast_checks):
    podd = fast_checks
    manifest = pod_manifest("filler", [{
        "name": "c", "command": ["sh", "-c", "dd if=/dev/zero of=/scratch/fill bs=1M count=3 && sync; exec sleep 1000"],
        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
        volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}}], restartPolicy="OnFailure")
    assert podd.create(manifest).status == 201
    pod = wait_for(lambda: evicted(podd, "filler"), timeout=60, what="the pod evicted")
    assert pod["status"]["phase"] == "Failed"
    assert pod["status"]["message"] == 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". '
    assert any(e["reason"] == "Evicted" for e in events_of(podd, "filler"))


def test_a_pod_under_its_limits_keeps_running(fast_checks):
    podd = fast_checks
    manifest = pod_manifest("tidy", [{
        "name": "c", "command": ["sh", "-c", "dd if=/dev/zero of=/small bs=1k count=100; echo written; exec sleep 1000"],
        "resources": {"limits": {"ephemeral-storage": "10Mi"}, "requests": {"ephemeral-storage": "1Mi"}},
        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]}],
        volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": "10Mi"}}])
    assert podd.create(manifest).status == 201
    podd.wait_running("tidy")
    wait_for(lambda: "written" in podd.log("tidy", "c"), what="the write done")
    time.sleep(4)   # several checks
    pod = podd.pod("tidy")
    assert pod["status"]["phase"] == "Running" and "reason" not in pod["status"], pod["status"]
    assert not any(e["reason"] == "Evicted" for e in events_of(podd, "tidy"))


def test_an_eviction_survives_kill_9_and_a_restart(fast_checks):
    podd = fast_checks
    tag = "evict-durable-tag"
    manifest = pod_manifest("gone", [{
        "name": "c", "command": ["sh", "-c", f"dd if=/dev/zero of=/big bs=1M count=5 && sync; sleep 1000; echo {tag}"],
        "resources": {"limits": {"ephemeral-storage": "1Mi"}}}])
    assert podd.create(manifest).status == 201
    wait_for(lambda: evicted(podd, "gone"), timeout=60, what="the pod evicted")
    wait_for(lambda: "terminated" in podd.pod("gone")["status"]["containerStatuses"][0]["state"], timeout=30,
             what="the container stopped")
    podd.stop(signal.SIGKILL)
    podd.start()
    pod = podd.pod("gone")
    assert pod["status"]["phase"] == "Failed" and pod["status"]["reason"] == "Evicted", pod["status"]
    assert pod["status"]["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. "
    time.sleep(3)
    pod = podd.pod("gone")
    assert pod["status"]["phase"] == "Failed" and pod["status"]["containerStatuses"][0]["restartCount"] == 0
    assert not processes_with(tag)


def test_config_map_volumes_count_toward_the_pod_total_and_secret_volumes_do_not(fast_checks):
    """kubelet's pod total counts configMap volumes (it writes them on disk; the etc-hosts
    file too, see EvictionTests), besides the containers and disk-backed emptyDirs; secret
    volumes it writes on a tmpfs (medium Memory) and does not count, so a pod mounting as
    much of a Secret stays."""
    podd = fast_checks
    blob = "x" * (900 * 1024)
    r = podd.request("POST", "/api/v1/namespaces/default/configmaps",
                     {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"blob": blob}})
    assert r.status == 201, r.text
    r = podd.request("POST", "/api/v1/namespaces/default/secrets",
                     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big"}, "stringData": {"blob": blob}})
    assert r.status == 201, r.text

    def mounting(name, source):
        # The same object twice: 1.8 MB of files, past the 1Mi the container limits.
        return pod_manifest(name, [{
            "name": "c", "command": ["sh", "-c", "exec sleep 1000"],
            "resources": {"limits": {"ephemeral-storage": "1Mi"}},
            "volumeMounts": [{"name": "one", "mountPath": "/one"}, {"name": "two", "mountPath": "/two"}]}],
            volumes=[{"name": "one", source: source_ref(source, "big")}, {"name": "two", source: source_ref(source, "big")}])

    def source_ref(kind, name):
        return {"name": name} if kind == "configMap" else {"secretName": name}

    assert podd.create(mounting("cms", "configMap")).status == 201
    assert podd.create(mounting("secrets", "secret")).status == 201
    pod = wait_for(lambda: evicted(podd, "cms"), timeout=60, what="the configMap pod evicted")
    assert pod["status"]["message"] == "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. "
    podd.wait_running("secrets")
    time.sleep(3)   # several more checks
    pod = podd.pod("secrets")
    assert pod["status"]["phase"] == "Running" and "reason" not in pod["status"], pod["status"]
