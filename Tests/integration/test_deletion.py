"""Deletion is durable and can be shortened (issue 9, items 4, 13 and 14): once a DELETE is
answered, the pod is stored with its deletionTimestamp and deletionGracePeriodSeconds, so a
podd restarted (or killed) meanwhile carries the termination on with the time that is left
instead of running the pod again; a second DELETE with a shorter grace period wins, as on
Kubernetes."""
import json
import os
import signal
import subprocess
import time

import pytest

from harness import pod_manifest, processes_with, wait_for

# A container that ignores SIGTERM: only the grace period's end (SIGKILL) stops it.
STUBBORN = "trap '' TERM; while true; do sleep 0.2; done"


def delete(podd, name, grace=None):
    q = "" if grace is None else f"?gracePeriodSeconds={grace}"
    r = podd.request("DELETE", f"/api/v1/namespaces/default/pods/{name}{q}")
    assert r.status == 200, r.text
    return r.json()


def stored(podd, uid):
    """The pod as podd stored it (what a restarted podd reads)."""
    return json.loads((podd.state_dir / "pods" / uid / "pod.json").read_text())


def restart(podd, sig=signal.SIGTERM):
    podd.stop(sig)
    podd.start()


def monitors(podd):
    out = subprocess.run(["pgrep", "-f", f"podd-monitor --pod-dir {podd.run_dir}/"], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def never_running_undeleted(podd, name, seconds):
    """For `seconds`, the pod is either gone or still marked for deletion: never back to
    Running without its deletionTimestamp."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        p = podd.pod(name)
        if p is None:
            return
        assert p["metadata"].get("deletionTimestamp"), f"pod {name} is back without its deletion: {p['status']}"
        time.sleep(0.1)


def test_delete_preconditions_refuse_a_newer_object_and_change_nothing(podd):
    """DeleteOptions.preconditions (uid, resourceVersion), as client-go sends them: a mismatch
    is 409 Conflict in the API server's words and leaves the object as it was; they held and
    were ignored before, so a client deleting what it had read deleted whatever had the name."""
    assert podd.create(pod_manifest("pre", [("app", "sleep 3600")], terminationGracePeriodSeconds=0)).status == 201
    pod = podd.wait_running("pre")
    uid = pod["metadata"]["uid"]
    path = "/api/v1/namespaces/default/pods/pre"
    for preconditions, words in (({"uid": "a-pod-since-deleted"}, f"UID in precondition: a-pod-since-deleted, UID in object meta: {uid}"),
                                 ({"uid": uid, "resourceVersion": "1"}, "ResourceVersion in precondition: 1")):
        r = podd.request("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": preconditions})
        assert r.status == 409 and r.json()["reason"] == "Conflict", r.text
        assert r.json()["message"].startswith('Operation cannot be fulfilled on pods "pre": Precondition failed: ') and words in r.json()["message"]
        assert "deletionTimestamp" not in podd.pod("pre")["metadata"]
    r = podd.request("DELETE", path, {"propagationPolicy": "Sometimes"})
    assert r.status == 422 and r.json()["details"]["causes"][0]["field"] == "propagationPolicy", r.text
    assert "deletionTimestamp" not in podd.pod("pre")["metadata"]
    r = podd.request("DELETE", path, {"preconditions": {"uid": uid, "resourceVersion": podd.pod("pre")["metadata"]["resourceVersion"]},
                                      "propagationPolicy": "Background", "gracePeriodSeconds": 0})
    assert r.status == 200, r.text
    podd.wait_gone("pre")
    # ConfigMaps and Secrets alike.
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"a": "b"}}
    assert podd.request("POST", "/api/v1/namespaces/default/configmaps", cm).status == 201
    r = podd.request("DELETE", "/api/v1/namespaces/default/configmaps/cfg", {"preconditions": {"uid": "other"}})
    assert r.status == 409 and "Precondition failed: UID in precondition: other" in r.json()["message"], r.text
    assert podd.get("/api/v1/namespaces/default/configmaps/cfg").status == 200


def test_a_graceful_deletion_survives_a_restart_of_podd(podd):
    podd.create(pod_manifest("slow", [("c", STUBBORN)], terminationGracePeriodSeconds=60))
    uid = podd.wait_running("slow")["metadata"]["uid"]
    answered = delete(podd, "slow", 60)
    assert answered["metadata"]["deletionGracePeriodSeconds"] == 60
    # Stored before the answer.
    on_disk = stored(podd, uid)["metadata"]
    assert on_disk["deletionTimestamp"] == answered["metadata"]["deletionTimestamp"]
    assert on_disk["deletionGracePeriodSeconds"] == 60

    restart(podd)
    p = podd.pod("slow")
    assert p is not None and p["metadata"]["uid"] == uid
    assert p["metadata"]["deletionTimestamp"] == answered["metadata"]["deletionTimestamp"]
    assert p["metadata"]["deletionGracePeriodSeconds"] == 60
    never_running_undeleted(podd, "slow", 2)
    # The deletion goes on: a shorter one ends it now.
    delete(podd, "slow", 0)
    podd.wait_gone("slow", timeout=20)
    assert not (podd.state_dir / "pods" / uid).exists()


def test_the_time_left_is_kept_across_a_restart(podd):
    podd.create(pod_manifest("short", [("c", STUBBORN)], terminationGracePeriodSeconds=60))
    podd.wait_running("short")
    delete(podd, "short", 4)
    restart(podd)
    assert podd.pod("short")["metadata"]["deletionGracePeriodSeconds"] == 4
    # SIGKILL at the deadline, not a new grace period of 60 s.
    podd.wait_gone("short", timeout=30)
    assert monitors(podd) == []


def test_a_shorter_grace_period_shortens_a_pending_deletion(podd):
    podd.create(pod_manifest("shorten", [("c", STUBBORN)], terminationGracePeriodSeconds=60))
    podd.wait_running("shorten")
    first = delete(podd, "shorten", 60)["metadata"]
    # A longer grace period changes nothing.
    again = delete(podd, "shorten", 120)["metadata"]
    assert again["deletionGracePeriodSeconds"] == 60
    assert again["deletionTimestamp"] == first["deletionTimestamp"]
    time.sleep(1)
    assert podd.pod("shorten") is not None
    # A shorter one wins: the deletion moves earlier and the container is killed.
    shorter = delete(podd, "shorten", 0)["metadata"]
    assert shorter["deletionGracePeriodSeconds"] == 0
    assert shorter["deletionTimestamp"] < first["deletionTimestamp"]
    podd.wait_gone("shorten", timeout=20)


def test_a_fast_deletion_followed_by_sigterm_to_podd_stays_deleted(podd):
    for i in range(3):
        name = f"fast{i}"
        podd.create(pod_manifest(name, [("c", STUBBORN)], terminationGracePeriodSeconds=60))
        podd.wait_running(name)
        delete(podd, name, 0)
        restart(podd, signal.SIGTERM if i < 2 else signal.SIGKILL)
        never_running_undeleted(podd, name, 1)
        podd.wait_gone(name, timeout=20)
    assert monitors(podd) == []


def test_a_deletion_whose_monitor_is_gone_ends_at_the_restart(podd):
    podd.create(pod_manifest("orphan", [("c", STUBBORN)], terminationGracePeriodSeconds=60))
    uid = podd.wait_running("orphan")["metadata"]["uid"]
    delete(podd, "orphan", 60)
    podd.stop(signal.SIGKILL)
    for pid in monitors(podd):
        subprocess.run(["kill", "-9", str(pid)])
    wait_for(lambda: monitors(podd) == [], what="the monitor to go")
    podd.start()
    # Nothing of it runs any more: it goes without starting again.
    never_running_undeleted(podd, "orphan", 1)
    podd.wait_gone("orphan", timeout=20)
    assert not (podd.state_dir / "pods" / uid).exists()


# A deletion that cannot be stored is refused, and changes nothing.
from test_api_limits import fill, make_podd, on_small_tmpfs  # noqa: E402,F401  (fixture)


def test_a_deletion_that_cannot_be_stored_is_refused_with_507_and_changes_nothing(make_podd, busybox_tar):
    d = make_podd(before_start=on_small_tmpfs("32m"))
    d.podctl("image", "import", "busybox", str(busybox_tar))
    assert d.create(pod_manifest("kept", [("app", "exec sleep 3600")])).status == 201
    before = d.wait_running("kept")
    uid = before["metadata"]["uid"]
    filler = fill(d.state_dir)
    r = d.request("DELETE", "/api/v1/namespaces/default/pods/kept?gracePeriodSeconds=0")
    assert r.status == 507, r.text
    assert r.json()["reason"] == "InsufficientStorage"
    assert "deletion of pod \"kept\"" in r.json()["message"]
    # Nothing changed: not marked, still running, the stored pod as it was.
    time.sleep(1)
    now = d.pod("kept")
    assert now["metadata"].get("deletionTimestamp") is None
    assert now["status"]["phase"] == "Running"
    assert "deletionTimestamp" not in stored(d, uid)["metadata"]
    # With room again, the deletion goes through.
    filler.unlink()
    delete(d, "kept", grace=0)
    d.wait_gone("kept", timeout=20)


@pytest.mark.parametrize("pause", [0, 0.5])
def test_a_pod_deleted_while_its_new_spec_waits_leaves_nothing_running(podd, tmp_path, pause):
    """An apply that changes the spec stops the old spec's containers (its grace period) and
    runs the new one after. A DELETE in between used to run the new spec anyway, with no pod
    left in the API to stop it: a monitor that stayed for good, with its run dir and cgroup."""
    f = tmp_path / "pod.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: respec}\nspec:\n  terminationGracePeriodSeconds: 1\n"
                 "  containers: [{name: a, image: busybox, command: [sh, -c, 'echo v1; sleep 3600']}]\n")
    podd.podctl("apply", "-f", str(f))
    uid = podd.wait_running("respec")["metadata"]["uid"]
    f.write_text(f.read_text().replace("echo v1", "echo v2"))
    assert "configured" in podd.podctl("apply", "-f", str(f)).stdout
    time.sleep(pause)
    podd.podctl("delete", "pod", "respec", "--grace-period", "0")
    podd.wait_gone("respec")
    # Whatever was on its way has had the time to start.
    time.sleep(1.5)
    assert not monitors(podd), "a monitor outlived the deleted pod"
    assert not processes_with(uid), "processes of the deleted pod are left"
    assert not (podd.run_dir / "pods" / uid).exists()
    assert not (podd.state_dir / "pods" / uid).exists()
    assert podd.pod("respec") is None


def test_a_pod_whose_logs_filled_the_state_dir_can_still_be_deleted(make_podd, busybox_tar):
    """A container writing without pause fills the state dir with its log; deleting the pod is
    how its user frees the space, and it was refused with 507 (storing the deletion needed room).
    Its logs are emptied to make that room: the deletion is stored, and the pod goes."""
    d = make_podd(before_start=on_small_tmpfs("24m"))
    d.podctl("image", "import", "busybox", str(busybox_tar))
    assert d.create(pod_manifest("writer", [("app", "yes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")])).status == 201
    uid = d.wait_running("writer")["metadata"]["uid"]

    def full():
        st = os.statvfs(d.state_dir)
        return st.f_bavail * st.f_frsize < 64 * 1024
    wait_for(full, timeout=60, what="the state dir full of the pod's log")
    r = d.request("DELETE", "/api/v1/namespaces/default/pods/writer?gracePeriodSeconds=0")
    assert r.status == 200, r.text
    d.wait_gone("writer", timeout=30)
    assert not (d.state_dir / "pods" / uid).exists()
    # The space is back: a new pod can be stored.
    assert d.create(pod_manifest("after", [("app", "exec sleep 3600")])).status == 201
