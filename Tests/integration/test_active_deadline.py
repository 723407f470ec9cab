"""activeDeadlineSeconds, as kubelet's pastActiveDeadline: once a pod has been active that long
since it started, it is stopped (its own grace period) and ends Failed with reason
DeadlineExceeded and kubelet's message, a Warning event of that reason, whatever its
restartPolicy, and stays so across podd restarts until deleted."""
import signal
import time
from datetime import datetime

from harness import pod_manifest, wait_for

MESSAGE = "Pod was active on the node longer than the specified deadline"


def deadline_pod(name, seconds, **spec):
    return pod_manifest(name, [{"name": "c", "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]}],
                        activeDeadlineSeconds=seconds, terminationGracePeriodSeconds=5, **spec)


def ended(podd, name):
    pod = podd.pod(name)
    return pod if pod["status"].get("reason") == "DeadlineExceeded" else None


def test_a_pod_past_its_active_deadline_is_stopped_and_fails(podd):
    created = time.monotonic()
    assert podd.create(deadline_pod("late", 2)).status == 201
    podd.wait_running("late")
    pod = wait_for(lambda: ended(podd, "late"), timeout=30, what="the pod past its deadline")
    assert time.monotonic() - created >= 2
    assert pod["status"]["phase"] == "Failed" and pod["status"]["message"] == MESSAGE, pod["status"]
    assert pod["spec"]["activeDeadlineSeconds"] == 2
    # Stopped with SIGTERM (it traps it: exit 0), and never started again (restartPolicy Always).
    state = wait_for(lambda: podd.pod("late")["status"]["containerStatuses"][0]["state"].get("terminated"), timeout=30,
                     what="the container stopped")
    assert state["exitCode"] == 0, state
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    assert any(e["reason"] == "DeadlineExceeded" and e["type"] == "Warning" and e["message"] == MESSAGE
               and e["involvedObject"]["name"] == "late" for e in events), events
    time.sleep(2)
    status = podd.pod("late")["status"]["containerStatuses"][0]
    assert status["restartCount"] == 0 and "terminated" in status["state"], status
    # It stays so across a podd killed with -9 and started again, until it is deleted.
    podd.stop(signal.SIGKILL)
    podd.start()
    pod = podd.pod("late")
    assert pod["status"]["phase"] == "Failed" and pod["status"]["reason"] == "DeadlineExceeded", pod["status"]
    assert podd.request("DELETE", "/api/v1/namespaces/default/pods/late?gracePeriodSeconds=0").status == 200
    podd.wait_gone("late")


def test_the_deadline_counts_from_the_first_start_across_a_podd_restart(podd):
    # podd is away for 3 of the pod's 4 seconds: counted from its start, the deadline passes
    # about 4 s after status.startTime; counted from podd's return it would be 7 s or more.
    assert podd.create(deadline_pod("kept", 4)).status == 201
    podd.wait_running("kept")
    podd.stop(signal.SIGTERM)
    time.sleep(3)
    podd.start()
    pod = wait_for(lambda: ended(podd, "kept"), timeout=30, what="the pod past its deadline")
    events = podd.get("/api/v1/namespaces/default/events").json()["items"]
    passed = next(e for e in events if e["reason"] == "DeadlineExceeded" and e["involvedObject"]["name"] == "kept")
    start = datetime.fromisoformat(pod["status"]["startTime"].replace("Z", "+00:00"))
    seen = datetime.fromisoformat((passed.get("eventTime") or passed["firstTimestamp"]).replace("Z", "+00:00"))
    assert 3 <= (seen - start).total_seconds() < 6.5, (start, seen)


def test_a_bad_active_deadline_is_refused(podd):
    for value in (0, -1, 2147483648):
        r = podd.create(deadline_pod("bad", value))
        assert r.status == 422, (value, r.text)
        assert "spec.activeDeadlineSeconds" in r.json()["message"] and "must be between 1 and 2147483647" in r.json()["message"], r.text
    assert podd.pod("bad") is None
