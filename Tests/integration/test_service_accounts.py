"""ServiceAccounts (core/v1): stored and served with the usual verbs, a `default` one in each
namespace that is used (made again when deleted, as the ServiceAccount controller does), and
the ServiceAccount admission of pods: the account a pod names must exist (403 in the API
server's words, nothing created), and a pod listing no imagePullSecrets gets the account's.
podd issues no tokens."""
import json

from harness import pod_manifest, wait_for
from kubectl_fixture import kubectl  # noqa: F401  (fixture)

ACCOUNTS = "/api/v1/namespaces/default/serviceaccounts"


def account(name, namespace=None, **fields):
    metadata = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata, **fields}


def test_every_used_namespace_has_a_default_account_made_again_when_deleted(podd):
    d = podd
    first = d.get(f"{ACCOUNTS}/default")
    assert first.status == 200, first.text
    assert first.json()["kind"] == "ServiceAccount" and first.json()["metadata"]["uid"]
    # A namespace that gets its first pod gets its default account too.
    assert d.create(pod_manifest("p", [("c", "exec sleep 3600")]), namespace="team").status == 201
    wait_for(lambda: d.get("/api/v1/namespaces/team/serviceaccounts/default").status == 200, what="team's default account")
    names = sorted((a["metadata"]["namespace"], a["metadata"]["name"]) for a in d.get("/api/v1/serviceaccounts").json()["items"])
    assert names == [("default", "default"), ("team", "default")], names
    # Deleted: made again at once, a new object (a watch sees it go and come back).
    version = d.get(ACCOUNTS).json()["metadata"]["resourceVersion"]
    r = d.request("DELETE", f"{ACCOUNTS}/default")
    assert r.status == 200, r.text
    again = wait_for(lambda: (r := d.get(f"{ACCOUNTS}/default")).status == 200 and r.json(), what="the default account again")
    assert again["metadata"]["uid"] != first.json()["metadata"]["uid"]
    lines = d.get(f"{ACCOUNTS}?watch=true&timeoutSeconds=1&resourceVersion={version}").body.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["DELETED", "ADDED"], lines


def test_a_pod_must_name_an_account_that_exists_and_gets_its_pull_secrets(podd):
    d = podd
    missing = pod_manifest("lost", [("c", "exec sleep 3600")], serviceAccountName="builder")
    r = d.create(missing)
    assert r.status == 403, r.text
    assert r.json()["message"] == ('pods "lost" is forbidden: error looking up service account default/builder: '
                                   'serviceaccount "builder" not found'), r.text
    assert d.pod("lost") is None
    # Bad accounts are refused as the API server refuses them.
    r = d.request("POST", ACCOUNTS, account("Not_Valid"))
    assert r.status == 422 and 'ServiceAccount "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid"' in r.json()["message"], r.text
    r = d.request("POST", ACCOUNTS, {**account("x"), "tokens": []})
    assert r.status == 400 and 'unknown field "tokens"' in r.json()["message"], r.text

    r = d.request("POST", ACCOUNTS, account("builder", imagePullSecrets=[{"name": "regcred"}]))
    assert r.status == 201, r.text
    # The pod's env reads its account through the downward API.
    env = [{"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}}]
    m = pod_manifest("built", [{"name": "c", "command": ["sh", "-c", "echo account=$SA; exec sleep 3600"], "env": env}],
                     serviceAccountName="builder")
    r = d.create(m)
    assert r.status == 201, r.text
    spec = r.json()["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("builder", "builder")
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    wait_for(lambda: "account=builder" in d.log("built", "c"), what="the account in the container's env")
    # A pod's own pull secrets are kept; the deprecated field names the account when the
    # new one is left out.
    own = pod_manifest("own", [("c", "exec sleep 3600")], serviceAccount="builder", imagePullSecrets=[{"name": "mine"}])
    r = d.create(own)
    assert r.status == 201, r.text
    assert r.json()["spec"]["serviceAccountName"] == "builder" and r.json()["spec"]["imagePullSecrets"] == [{"name": "mine"}]
    # Tokens are still not issued: asking for one is refused, naming the field.
    r = d.create(pod_manifest("token", [("c", "exec sleep 3600")], automountServiceAccountToken=True))
    assert r.status == 422 and "spec.automountServiceAccountToken" in r.json()["message"], r.text

    # Stored: a restarted podd has the account, and a pod running as it is re-adopted.
    d.stop()
    d.start()
    assert d.get(f"{ACCOUNTS}/builder").json()["imagePullSecrets"] == [{"name": "regcred"}]
    assert d.pod("built")["spec"]["serviceAccountName"] == "builder"
    # An account deleted under its pods leaves them running, as on Kubernetes.
    assert d.request("DELETE", f"{ACCOUNTS}/builder").status == 200
    assert d.pod("built")["status"]["phase"] == "Running"


def test_kubectl_and_podctl_create_list_describe_and_delete_accounts(podd, kubectl, tmp_path):
    d = podd
    # kubectl create sends a protobuf body; podctl's generator makes what kubectl's does.
    out = kubectl.run("create", "serviceaccount", "deployer").stdout
    assert out.strip() == "serviceaccount/deployer created"
    generated = d.podctl("create", "serviceaccount", "ci", "--dry-run=client", "-o", "yaml").stdout
    assert generated == kubectl.run("create", "serviceaccount", "ci", "--dry-run=client", "-o", "yaml").stdout
    assert d.podctl("create", "sa", "ci").stdout.strip() == "serviceaccount/ci created"
    manifest = tmp_path / "sa.yaml"
    manifest.write_text("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: puller\n  labels: {team: a}\n"
                        "imagePullSecrets: [{name: regcred}]\nsecrets: [{name: mounted}]\n")
    assert d.podctl("apply", "-f", str(manifest)).stdout.strip() == "serviceaccount/puller created"
    assert d.request("POST", "/api/v1/namespaces/default/secrets",
                     {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mounted"}}).status == 201
    rows = [line.split()[:2] for line in kubectl.run("get", "sa").stdout.splitlines()]
    assert rows == [["NAME", "SECRETS"], ["ci", "0"], ["default", "0"], ["deployer", "0"], ["puller", "1"]], rows
    podctl_rows = [line.split()[:2] for line in d.podctl("get", "serviceaccounts").stdout.splitlines()]
    assert podctl_rows == rows
    # kubectl's describer, byte for byte: a secret the namespace lacks is "(not found)".
    described = d.podctl("describe", "sa", "puller").stdout
    assert described == kubectl.run("describe", "sa", "puller").stdout
    assert "Image pull secrets:  regcred (not found)\n" in described and "Mountable secrets:   mounted\n" in described, described
    assert d.podctl("delete", "sa", "deployer").stdout.strip() == 'serviceaccount "deployer" deleted'
    assert kubectl.run("get", "sa", "deployer", check=False).returncode != 0
    assert kubectl.run("auth", "can-i", "create", "serviceaccounts").stdout.strip() == "yes"
