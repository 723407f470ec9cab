"""A terminated container's message, as kubelet makes it: what the container wrote to the file
at its terminationMessagePath (default /dev/termination-log, a file podd binds in, writable
whatever the user), its last 4 KiB; with terminationMessagePolicy FallbackToLogsOnError, when
that is empty and the container failed, the end of its log (last 80 lines, last 2 KiB)."""
from harness import pod_manifest, wait_for


def terminated(podd, name, container="c", last=False):
    pod = podd.pod(name)
    for s in pod["status"].get("containerStatuses", []):
        if s["name"] == container:
            state = s.get("lastState" if last else "state", {})
            return state.get("terminated")
    return None


def test_what_a_container_writes_to_dev_termination_log_is_its_message(podd):
    m = pod_manifest("says", [{"name": "c", "command": ["sh", "-c", "echo -n 'config file missing' > /dev/termination-log; exit 3"],
                               "securityContext": {"runAsUser": 1000}}], restartPolicy="Never")
    assert podd.create(m).status == 201
    t = wait_for(lambda: terminated(podd, "says"), what="the container to end")
    assert t["exitCode"] == 3 and t["reason"] == "Error" and t["message"] == "config file missing", t
    out = podd.podctl("describe", "pod", "says").stdout
    assert "Message:" in out and "config file missing" in out, out
    # Kept in the spec only where it is not the default, as it was given.
    spec = podd.pod("says")["spec"]["containers"][0]
    assert "terminationMessagePath" not in spec and "terminationMessagePolicy" not in spec, spec


def test_a_custom_path_each_run_starts_empty_and_only_the_last_4_kib_are_kept(podd):
    # The first run leaves 10,000 bytes ending in END and fails; the next run finds the file
    # empty (it is new for each run, as kubelet's is) and stays up.
    script = ("if [ -e /data/ran ]; then exec sleep 3600; fi; touch /data/ran; "
              "head -c 9997 /dev/zero | tr '\\0' x > /tmp/why; echo -n END >> /tmp/why; exit 5")
    m = pod_manifest("long", [{"name": "c", "command": ["sh", "-c", script], "terminationMessagePath": "/tmp/why",
                               "volumeMounts": [{"name": "d", "mountPath": "/data"}]}],
                     restartPolicy="OnFailure", volumes=[{"name": "d", "emptyDir": {}}])
    assert podd.create(m).status == 201
    first = wait_for(lambda: terminated(podd, "long", last=True), timeout=60, what="the first run to end")
    assert first["exitCode"] == 5 and len(first["message"]) == 4096 and first["message"].endswith("xEND"), first
    podd.wait_running("long")
    assert podd.podctl("exec", "long", "--", "wc", "-c", "/tmp/why").stdout.split()[0] == "0"
    assert podd.pod("long")["spec"]["containers"][0]["terminationMessagePath"] == "/tmp/why"


def test_fallback_to_logs_on_error_takes_the_end_of_the_log_of_a_failed_container(podd):
    lines = "; ".join(f"echo line{i}" for i in range(100))
    m = pod_manifest("fails", [
        {"name": "bad", "command": ["sh", "-c", f"{lines}; echo oops >&2; exit 1"], "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "good", "command": ["sh", "-c", "echo fine; exit 0"], "terminationMessagePolicy": "FallbackToLogsOnError"},
        {"name": "plain", "command": ["sh", "-c", "echo plain; exit 1"]},
    ], restartPolicy="Never")
    assert podd.create(m).status == 201
    bad = wait_for(lambda: terminated(podd, "fails", "bad"), what="bad to end")
    good = wait_for(lambda: terminated(podd, "fails", "good"), what="good to end")
    plain = wait_for(lambda: terminated(podd, "fails", "plain"), what="plain to end")
    # The last 80 lines (line21 .. line99 and oops), stdout and stderr as logs prints them.
    assert bad["message"].startswith("line21\n") and bad["message"].endswith("line99\noops\n"), bad["message"]
    assert len(bad["message"].splitlines()) == 80
    assert "message" not in good and "message" not in plain, (good, plain)
    assert podd.pod("fails")["spec"]["containers"][0]["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_the_file_written_wins_over_the_log_and_bad_fields_are_refused(podd):
    m = pod_manifest("both", [{"name": "c", "command": ["sh", "-c", "echo from-log; echo -n from-file > /dev/termination-log; exit 2"],
                               "terminationMessagePolicy": "FallbackToLogsOnError"}], restartPolicy="Never")
    assert podd.create(m).status == 201
    t = wait_for(lambda: terminated(podd, "both"), what="the container to end")
    assert t["message"] == "from-file", t
    for field, value, text in (("terminationMessagePolicy", "Sometimes", "Unsupported value"),
                               ("terminationMessagePath", "relative/path", "spec.containers[0].terminationMessagePath"),
                               ("terminationMessagePath", "/a/../../etc/x", "spec.containers[0].terminationMessagePath")):
        bad = pod_manifest("bad", [{"name": "c", "command": ["true"], field: value}])
        r = podd.create(bad)
        assert r.status == 422 and text in r.json()["message"], (field, value, r.text)
    assert podd.pod("bad") is None
