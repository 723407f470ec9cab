"""Two behaviours of kubelet podd follows (issue 13): a completed init container is ready, and
a pod under restartPolicy Never/OnFailure whose app containers have ended stops its native
sidecars (reverse order, preStop first) and reaches Succeeded/Failed, also when an ordinary
init container follows the sidecar in the init order."""
import pytest

from harness import wait_for


def sidecar_pod(name, policy, app_exit):
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
            "restartPolicy": policy, "terminationGracePeriodSeconds": 5,
            "initContainers": [
                {"name": "side", "image": "busybox", "restartPolicy": "Always",
                 # sh as PID 1 ignores SIGTERM unless it traps it: the sidecar leaves when told.
                 "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done"],
                 "lifecycle": {"preStop": {"sleep": {"seconds": 1}}}},
                {"name": "init", "image": "busybox", "command": ["true"]},
            ],
            "containers": [{"name": "app", "image": "busybox", "command": ["sh", "-c", f"sleep 1; exit {app_exit}"]}],
        },
    }


@pytest.mark.parametrize("policy,app_exit,phase", [("Never", 0, "Succeeded"), ("OnFailure", 0, "Succeeded"), ("Never", 3, "Failed")])
def test_sidecar_before_an_init_container_stops_and_the_pod_ends(podd, policy, app_exit, phase):
    name = f"side-{policy.lower()}-{app_exit}"
    r = podd.create(sidecar_pod(name, policy, app_exit))
    assert r.status == 201, r.body
    pod = wait_for(lambda: (p := podd.pod(name)) and p["status"]["phase"] == phase and p, timeout=30,
                   what=f"{name} to be {phase}")
    side, init = pod["status"]["initContainerStatuses"]
    assert "terminated" in side["state"], side
    assert pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == app_exit
    # The completed init container is ready, as kubelet reports it.
    assert init["state"]["terminated"]["exitCode"] == 0 and init["ready"] is True, init
    reasons = [e["reason"] for e in podd.get(f"/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D{name}").json()["items"]]
    assert "Killing" in reasons, reasons
