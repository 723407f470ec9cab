"""podd and podctl read a YAML manifest the same way: Kubernetes' (sigs.k8s.io/yaml) rules.

They used to differ: podd resolved plain scalars with Yams' rules (`y` a string, `1:30` the
integer 90), podctl with go-yaml's. Now one reader serves both; this drives both doors.
"""
from harness import wait_for

MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations: {{octal: "0777", word: "yes"}}
spec:
  terminationGracePeriodSeconds: 0o17
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: [sh, -c, "cat"]
    stdin: y
    stdinOnce: No
    env:
    - {{name: TIME, value: 2026-11-25T14:11:12Z}}
    - {{name: CLOCK, value: "1:30"}}
"""


def read_back(pod):
    c = pod["spec"]["containers"][0]
    return (pod["spec"]["terminationGracePeriodSeconds"], c.get("stdin"), c.get("stdinOnce", False),
            [(e["name"], e["value"]) for e in c["env"]], pod["metadata"]["annotations"])


def test_podctl_and_podd_read_yaml_alike(podd, tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(MANIFEST.format(name="via-podctl"))
    podd.podctl("apply", "-f", str(f))
    r = podd.request("POST", "/api/v1/namespaces/default/pods", MANIFEST.format(name="via-api"),
                     {"Content-Type": "application/yaml"})
    assert r.status == 201, r.text
    a, b = podd.pod("via-podctl"), podd.pod("via-api")
    expected = (15, True, False, [("TIME", "2026-11-25T14:11:12Z"), ("CLOCK", "1:30")], {"octal": "0777", "word": "yes"})
    assert read_back(a) == expected
    assert read_back(b) == expected


def test_get_yaml_reads_back_through_apply(podd, tmp_path):
    """`podctl get -o yaml` output, applied again, changes nothing."""
    f = tmp_path / "pod.yaml"
    f.write_text(MANIFEST.format(name="round"))
    podd.podctl("apply", "-f", str(f))
    # Read back once the pod has started: the output carries its resourceVersion, which
    # each status change moves on, and an apply of a stale one is a conflict (as on a cluster).
    before = podd.wait_running("round")
    yaml_text = podd.podctl("get", "pod", "round", "-o", "yaml").stdout
    assert 'octal: "0777"' in yaml_text and 'word: "yes"' in yaml_text
    out = tmp_path / "back.yaml"
    out.write_text(yaml_text)
    r = podd.podctl("apply", "-f", str(out))
    assert "pod/round unchanged" in r.stdout or "pod/round configured" in r.stdout
    after = podd.pod("round")
    assert after["spec"] == before["spec"]
    assert after["metadata"]["annotations"] == {"octal": "0777", "word": "yes"}
