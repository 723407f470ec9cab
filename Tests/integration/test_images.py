"""Real images (issue 10): the content-addressed store, `podctl image load` of OCI layouts,
oci-archives and docker-archives (made with skopeo, and podman where installed), the image
subcommands, the image config applied as kubelet does, and pulls as pods see them.

Pulls go through podd's `ImageFetching` seam; until the registry client is merged, these
tests serve OCI layouts on disk as a registry (PODD_IMAGE_LAYOUT_REGISTRY: podd's
LayoutDirectoryFetcher, which copies and verifies blobs as a registry client does, and has
a failing mode and a delay)."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from harness import Podd, wait_for


# --- OCI layouts, written by hand -----------------------------------------------------------

def _blob(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return "sha256:" + digest


def tar_layer(entries) -> bytes:
    """A layer's tar from (name, kind, data-or-target, mode) entries."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for entry in entries:
            name, kind = entry[0], entry[1]
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif kind == "file":
                data = entry[2].encode() if isinstance(entry[2], str) else entry[2]
                info.size, info.mode = len(data), entry[3] if len(entry) > 3 else 0o644
                t.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, entry[2]
                t.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, entry[2]
                t.addfile(info)
            elif kind == "chardev":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                t.addfile(info)
    return buf.getvalue()


def write_image(layout: Path, ref: str, layers, config=None, compress=True):
    """Adds an image to the OCI layout `layout` (made if needed) under the ref.name `ref`:
    `layers` are uncompressed tars (bottom first), gzip'd when `compress`. Returns the
    manifest digest."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    descriptors, diff_ids = [], []
    for raw in layers:
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        data = gzip.compress(raw, mtime=0) if compress else raw
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else ""),
                            "digest": _blob(layout, data), "size": len(data)})
    cfg = {"created": "2026-01-02T03:04:05Z", "architecture": host_arch(), "os": "linux",
           "config": config or {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg_bytes = json.dumps(cfg).encode()
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _blob(layout, cfg_bytes),
                           "size": len(cfg_bytes)},
                "layers": descriptors}
    m_bytes = json.dumps(manifest).encode()
    m_digest = _blob(layout, m_bytes)
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
    index["manifests"] = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != ref]
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m_digest,
                               "size": len(m_bytes), "annotations": {"org.opencontainers.image.ref.name": ref}})
    index_path.write_text(json.dumps(index))
    return m_digest


def host_arch():
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)


def store_files(d):
    """The store's blobs and unpacked layers (what a failed load must leave as it was)."""
    images = d.state_dir / "images"
    return (sorted(p.name for p in (images / "blobs" / "sha256").iterdir()),
            sorted(p.name for p in (images / "layers").iterdir()),
            sorted(p.name for p in (images / ".incoming").iterdir()))


def statuses(pod):
    return {s["name"]: s for s in pod["status"].get("containerStatuses", [])}


def waiting_reason(d, pod, container="app"):
    s = statuses(d.pod(pod)).get(container, {})
    return s.get("state", {}).get("waiting", {}).get("reason")


def events(d, pod):
    items = d.get(f"/api/v1/namespaces/default/events").json()["items"]
    return [(e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == pod]


def pod(name, containers, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1, "containers": containers, **spec}}


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture
def base_layer(busybox_tar):
    return Path(busybox_tar).read_bytes()


@pytest.fixture
def imaged(busybox_tar):
    """A podd whose 'registry' is a directory of OCI layouts, with busybox imported."""
    from conftest import require_root, _require_binaries
    require_root()
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="podd-", dir="/tmp"))
    registry = root / "registry"
    registry.mkdir()
    d = Podd(root / "d", env={"PODD_IMAGE_LAYOUT_REGISTRY": str(registry)}).start()
    d.registry = registry
    d.podctl("image", "import", "busybox", str(busybox_tar))
    yield d
    d.cleanup()
    shutil.rmtree(root, ignore_errors=True)


def finished_log(d, name, container="app", timeout=30):
    wait_for(lambda: statuses(d.pod(name)).get(container, {}).get("state", {}).get("terminated"), timeout=timeout,
             what=f"{name}/{container} to finish")
    return d.podctl("logs", name, "-c", container).stdout


# --- load and the layer stack --------------------------------------------------------------

def test_multilayer_layout_whiteouts_opaque_dirs_and_shared_layers(imaged, base_layer, tmp_path):
    l2 = tar_layer([("data", "dir"), ("data/a", "file", "A"), ("data/b", "file", "B"),
                    ("opq", "dir"), ("opq/x", "file", "X"), ("dev/sda", "chardev")])
    l3 = tar_layer([("data", "dir"), ("data/.wh.a", "file", ""), ("opq", "dir"), ("opq/.wh..wh..opq", "file", ""),
                    ("opq/y", "file", "Y"), ("hello", "file", "hi from layer 3\n"),
                    ("hl", "hardlink", "hello")])
    layout = tmp_path / "layout"
    write_image(layout, "multi:1.0", [base_layer, l2, l3])
    write_image(layout, "other:2.0", [base_layer, l2])     # shares two layers
    out = imaged.podctl("image", "load", "-i", str(layout)).stdout
    assert "Loaded image: localhost/multi:1.0" in out and "Loaded image: localhost/other:2.0" in out
    # Layers are stored once: busybox (the same tar as the import), l2, l3.
    blobs, layers, incoming = store_files(imaged)
    assert len(layers) == 3 and incoming == []
    imaged.create(pod("ml", [{"name": "app", "image": "multi:1.0",
                              "command": ["sh", "-c", "ls /data; ls /opq; cat /hello /hl; ls /dev/sda 2>&1 | head -1"]}]))
    log = finished_log(imaged, "ml")
    assert log.split("\n")[:4] == ["b", "y", "hi from layer 3", "hi from layer 3"], log
    assert "No such file" in log    # the image's device node was not created
    # The layer itself: overlayfs whiteout and opaque marker.
    multi = imaged.get("/apis/podd.io/v1/images/localhost/multi:1.0").json()
    top = imaged.state_dir / "images" / "layers" / multi["RootFS"]["Layers"][2].split(":")[1]
    st = os.lstat(top / "data" / "a")
    assert (st.st_mode & 0o170000) == 0o020000 and st.st_rdev == 0
    assert os.getxattr(top / "opq", "trusted.overlay.opaque") == b"y"
    s = statuses(imaged.pod("ml"))["app"]
    assert s["image"] == "localhost/multi:1.0"
    assert s["imageID"].startswith("localhost/multi@sha256:")


def test_image_config_applied_as_kubelet(imaged, base_layer, tmp_path):
    etc = tar_layer([("etc", "dir"), ("etc/passwd", "file", "root:x:0:0::/root:/bin/sh\napp:x:1234:2345::/home/app:/bin/sh\n"),
                     ("etc/group", "file", "root:x:0:\napp:x:2345:\n"), ("work", "dir")])
    config = {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["echo cmd FOO=$FOO BAR=$BAR; pwd"],
              "Env": ["FOO=from-image", "BAR=image-bar", "PATH=/bin:/usr/bin"], "WorkingDir": "/work", "User": "app"}
    write_image(tmp_path / "cfg", "cfg:1", [base_layer, etc], config)
    imaged.podctl("image", "load", "-i", str(tmp_path / "cfg"))
    c = lambda **kw: {"name": "app", "image": "cfg:1", **kw}
    imaged.create(pod("neither", [c(env=[{"name": "BAR", "value": "pod-bar"}])]))
    imaged.create(pod("command", [c(command=["echo", "command only $(BAR) $$(BAR) $(NOPE)"], env=[{"name": "BAR", "value": "x"}])]))
    imaged.create(pod("args", [c(args=["echo args via entrypoint; pwd"], workingDir="/tmp")]))
    imaged.create(pod("both", [c(command=["/bin/echo"], args=["both", "$(FOO)"], env=[{"name": "FOO", "value": "f"}])]))
    assert finished_log(imaged, "neither") == "cmd FOO=from-image BAR=pod-bar\n/work\n"
    assert finished_log(imaged, "command") == "command only x $(BAR) $(NOPE)\n"
    assert finished_log(imaged, "args") == "args via entrypoint\n/tmp\n"
    assert finished_log(imaged, "both") == "both f\n"
    inspect = json.loads(imaged.podctl("image", "inspect", "cfg:1").stdout)[0]
    assert inspect["Config"]["Entrypoint"] == ["/bin/sh", "-c"] and inspect["Config"]["User"] == "app"
    assert inspect["RepoTags"] == ["localhost/cfg:1"] and inspect["Os"] == "linux" and inspect["Size"] > 0
    # An image with neither Entrypoint nor Cmd, and a container without a command: kubelet's error.
    write_image(tmp_path / "nocmd", "nocmd:1", [base_layer])
    imaged.podctl("image", "load", "-i", str(tmp_path / "nocmd"))
    imaged.create(pod("nocmd", [{"name": "app", "image": "nocmd:1"}]))
    s = wait_for(lambda: statuses(imaged.pod("nocmd"))["app"]["state"].get("terminated"), timeout=20, what="nocmd to fail")
    assert "no command specified" in s["message"]


def test_archives_from_skopeo_and_podman(imaged, base_layer, tmp_path):
    if not shutil.which("skopeo"):
        pytest.skip("needs skopeo")
    write_image(tmp_path / "src", "src:1", [base_layer, tar_layer([("marker", "file", "skopeo\n")])], {"Cmd": ["cat", "/marker"]})
    docker = tmp_path / "d.tar"
    oci = tmp_path / "o.tar"
    subprocess.run(["skopeo", "copy", "-q", f"oci:{tmp_path / 'src'}:src:1", f"docker-archive:{docker}:app/dock:7"], check=True)
    subprocess.run(["skopeo", "copy", "-q", f"oci:{tmp_path / 'src'}:src:1", f"oci-archive:{oci}:registry.example/oci:8"], check=True)
    subprocess.run(f"gzip -k {docker}", shell=True, check=True)
    # skopeo writes RepoTags normalised (docker.io/app/dock:7); a bare name would be localhost's.
    assert "Loaded image: docker.io/app/dock:7" in imaged.podctl("image", "load", "-i", str(docker) + ".gz").stdout
    assert "Loaded image: registry.example/oci:8" in imaged.podctl("image", "load", "-i", str(oci)).stdout
    ls = imaged.podctl("image", "ls").stdout.splitlines()
    assert ls[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert any(l.split()[:2] == ["docker.io/app/dock", "7"] for l in ls)
    # Both are one image: the same config, hence the same ID.
    dock = imaged.get("/apis/podd.io/v1/images/docker.io/app/dock:7").json()
    assert imaged.get("/apis/podd.io/v1/images/registry.example/oci:8").json()["Id"] == dock["Id"]
    imaged.create(pod("dock", [{"name": "app", "image": "app/dock:7"}]))
    assert finished_log(imaged, "dock") == "skopeo\n"
    digests = imaged.podctl("image", "ls", "--digests").stdout
    assert "sha256:" in digests.splitlines()[1]
    items = json.loads(imaged.podctl("image", "ls", "-o", "json").stdout)["items"]
    assert {"docker.io/app/dock:7", "registry.example/oci:8"} <= {t for i in items for t in i["RepoTags"]}
    if shutil.which("podman"):
        saved = tmp_path / "podman.tar"
        subprocess.run(["podman", "pull", "-q", f"oci:{tmp_path / 'src'}:src:1"], check=True, capture_output=True)
        subprocess.run(["podman", "tag", "localhost/src:1", "localhost/fromman:3"], check=False, capture_output=True)
        r = subprocess.run(["podman", "save", "-o", str(saved), "localhost/fromman:3"], capture_output=True)
        if r.returncode == 0:
            assert "localhost/fromman:3" in imaged.podctl("image", "load", "-i", str(saved)).stdout


# --- bad input: a clear error, nothing changed -----------------------------------------------

def test_bad_archives_change_nothing(imaged, base_layer, tmp_path):
    before = store_files(imaged)
    listing = imaged.get("/apis/podd.io/v1/images").json()["items"]

    def refused(path, words):
        r = imaged.podctl("image", "load", "-i", str(path), check=False)
        assert r.returncode == 1, r.stdout
        assert all(w in r.stderr for w in words), r.stderr
        assert store_files(imaged) == before
        assert imaged.get("/apis/podd.io/v1/images").json()["items"] == listing

    # A corrupted layer blob.
    bad = tmp_path / "corrupt"
    write_image(bad, "bad:1", [base_layer, tar_layer([("x", "file", "x")])])
    index = json.loads((bad / "index.json").read_text())
    manifest = json.loads((bad / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
    victim = bad / "blobs" / "sha256" / manifest["layers"][1]["digest"][7:]
    data = bytearray(gzip.decompress(victim.read_bytes()))
    data[600] ^= 0xff
    victim.write_bytes(gzip.compress(bytes(data)))
    refused(bad, ["corrupted"])
    # A truncated archive.
    oci = tmp_path / "ok"
    write_image(oci, "ok:1", [base_layer])
    archive = tmp_path / "ok.tar"
    subprocess.run(["tar", "-C", str(oci), "-cf", str(archive), "."], check=True)
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused(truncated, ["truncated"])
    # A layer that climbs out with "..".
    write_image(tmp_path / "dotdot", "dotdot:1", [tar_layer([("../../../../tmp/podd-escape", "file", "x")])])
    refused(tmp_path / "dotdot", [".."])
    # A layer that writes through its own symlink to /.
    escape = tar_layer([("evil", "symlink", "/"), ("evil/tmp/podd-escape-link", "file", "x")])
    write_image(tmp_path / "link", "link:1", [escape])
    refused(tmp_path / "link", ["symlink"])
    assert not os.path.exists("/tmp/podd-escape") and not os.path.exists("/tmp/podd-escape-link")
    # Not an archive at all.
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"hello" * 300)
    refused(junk, ["not a tar archive"])


def test_full_disk_during_load_leaves_nothing(busybox_tar, base_layer, tmp_path):
    from conftest import require_root, _require_binaries
    require_root()
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="podd-", dir="/tmp"))
    state = root / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(state)], check=True)
    d = Podd(root).start()
    try:
        d.podctl("image", "import", "busybox", str(busybox_tar))
        before = store_files(d)
        big = tar_layer([("big", "file", os.urandom(5 << 20))])
        write_image(tmp_path / "big", "big:1", [base_layer, big], compress=False)
        r = d.podctl("image", "load", "-i", str(tmp_path / "big"), check=False)
        assert r.returncode == 1 and ("space" in r.stderr or "Insufficient" in r.stderr), r.stderr
        assert store_files(d) == before
        assert [i["RepoTags"] for i in d.get("/apis/podd.io/v1/images").json()["items"]] == [["localhost/busybox:latest"]]
    finally:
        d.cleanup()
        subprocess.run(["umount", "-l", str(state)], check=False)
        shutil.rmtree(root, ignore_errors=True)


# --- tag, rm, prune ---------------------------------------------------------------------------

def test_tag_rm_in_use_and_prune(imaged, base_layer, tmp_path):
    write_image(tmp_path / "t", "tagme:1", [base_layer, tar_layer([("only-here", "file", "x")])])
    imaged.podctl("image", "load", "-i", str(tmp_path / "t"))
    imaged.podctl("image", "tag", "tagme:1", "second:2")
    assert imaged.get("/apis/podd.io/v1/images/localhost/second:2").json()["RepoTags"] == ["localhost/tagme:1", "localhost/second:2"]
    imaged.create(pod("user", [{"name": "app", "image": "second:2", "command": ["sleep", "3600"]}], restartPolicy="Always"))
    imaged.wait_running("user")
    # The image in use by ID is refused: that would remove all its names.
    image_id = imaged.get("/apis/podd.io/v1/images/localhost/second:2").json()["Id"]
    r = imaged.podctl("image", "rm", image_id.split(":")[1][:12], check=False)
    assert r.returncode == 1 and "in use by pod default/user" in r.stderr, r.stderr
    # One of its names just goes (as docker and podman rmi), even the one the pod named; its
    # last name is refused while the pod uses it.
    assert imaged.podctl("image", "rm", "second:2").stdout == "Untagged: localhost/second:2\n"
    r = imaged.podctl("image", "rm", "tagme:1", check=False)
    assert r.returncode == 1 and "in use by pod default/user" in r.stderr, r.stderr
    # --force untags it anyway; the image stays while the pod uses it.
    imaged.podctl("image", "rm", "--force", "tagme:1")
    assert "tagme" not in imaged.podctl("image", "ls").stdout
    layers = len(store_files(imaged)[1])
    imaged.podctl("image", "prune")
    assert len(store_files(imaged)[1]) == layers          # untagged, but in use: kept
    imaged.request("DELETE", "/api/v1/namespaces/default/pods/user?gracePeriodSeconds=0")
    wait_for(lambda: imaged.get("/api/v1/namespaces/default/pods/user").status == 404, timeout=30, what="pod to go")
    out = imaged.podctl("image", "prune").stdout
    assert "Total reclaimed space" in out
    assert len(store_files(imaged)[1]) == layers - 1       # its own layer went, busybox's stayed
    assert [i["RepoTags"] for i in imaged.get("/apis/podd.io/v1/images").json()["items"]] == [["localhost/busybox:latest"]]


def test_rm_of_an_extra_tag_untags_it_while_a_pod_uses_the_image(podd):
    """`podctl image tag busybox mytag:1` then `podctl image rm mytag:1` while a pod runs
    busybox: the extra name goes, the image and its other name stay; removing its last name
    is refused (the pod uses it) unless --force."""
    podd.podctl("image", "tag", "busybox", "mytag:1")
    podd.create(pod("user", [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}], restartPolicy="Always"))
    podd.wait_running("user")
    r = podd.podctl("image", "rm", "mytag:1", check=False)
    assert r.returncode == 0 and r.stdout == "Untagged: localhost/mytag:1\n", (r.stdout, r.stderr)
    tags = [i["RepoTags"] for i in podd.get("/apis/podd.io/v1/images").json()["items"]]
    assert tags == [["localhost/busybox:latest"]], tags
    r = podd.podctl("image", "rm", "busybox", check=False)
    assert r.returncode == 1 and "Error from server (Conflict)" in r.stderr and "in use by pod default/user" in r.stderr, r.stderr
    assert podd.get("/apis/podd.io/v1/images/busybox").status == 200
    # The same through the API: 200 untagging an extra name, 409 for the last.
    podd.podctl("image", "tag", "busybox", "other:2")
    r = podd.request("DELETE", "/apis/podd.io/v1/images/localhost/busybox:latest")
    assert r.status == 200 and r.json()["untagged"] == ["localhost/busybox:latest"] and r.json()["deleted"] == [], r.text
    assert podd.request("DELETE", "/apis/podd.io/v1/images/other:2").status == 409
    assert podd.pod("user")["status"]["phase"] == "Running"


# --- pulls as pods see them ---------------------------------------------------------------------

def test_pull_policies_waiting_reasons_and_events(imaged, base_layer):
    reg = imaged.registry / "registry.test:5000" / "team" / "app"
    write_image(reg, "1.0", [base_layer, tar_layer([("v", "file", "one\n")])], {"Cmd": ["cat", "/v"]})
    (imaged.registry / "delay").write_text("2")
    r = imaged.create(pod("pulled", [{"name": "app", "image": "registry.test:5000/team/app:1.0"}]))
    assert r.status == 201
    assert r.json()["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    wait_for(lambda: waiting_reason(imaged, "pulled") == "ContainerCreating", timeout=10, what="ContainerCreating while pulling")
    assert finished_log(imaged, "pulled") == "one\n"
    ev = events(imaged, "pulled")
    assert ("Pulling", 'Pulling image "registry.test:5000/team/app:1.0"') in ev
    pulled = [m for reason, m in ev if reason == "Pulled"]
    assert pulled and pulled[0].startswith('Successfully pulled image "registry.test:5000/team/app:1.0" in ')
    assert "including waiting). Image size: " in pulled[0] and pulled[0].endswith(" bytes.")
    s = statuses(imaged.pod("pulled"))["app"]
    assert s["image"] == "registry.test:5000/team/app:1.0" and s["imageID"].startswith("registry.test:5000/team/app@sha256:")
    (imaged.registry / "delay").unlink()
    # IfNotPresent, present: no pull.
    fetches = (imaged.registry / "fetches").read_text().count("\n")
    imaged.create(pod("again", [{"name": "app", "image": "registry.test:5000/team/app:1.0"}]))
    assert finished_log(imaged, "again") == "one\n"
    assert ("Pulled", 'Container image "registry.test:5000/team/app:1.0" already present on machine') in events(imaged, "again")
    assert (imaged.registry / "fetches").read_text().count("\n") == fetches
    # Never, absent: ErrImageNeverPull.
    imaged.create(pod("never", [{"name": "app", "image": "registry.test:5000/team/app:2.0", "imagePullPolicy": "Never"}]))
    wait_for(lambda: waiting_reason(imaged, "never") == "ErrImageNeverPull", timeout=20, what="ErrImageNeverPull")
    msg = statuses(imaged.pod("never"))["app"]["state"]["waiting"]["message"]
    # kubelet's words, then what to do about it (DESIGN: how to pull, load or import it).
    assert msg == ('Container image "registry.test:5000/team/app:2.0" is not present with pull policy of Never: '
                   'pull it (podctl image pull registry.test:5000/team/app:2.0) or load it from a docker or OCI '
                   'archive (podctl image load -i ARCHIVE)')
    # A local name not in the store: never pulled (localhost is no registry), and the message
    # says how to load or import it.
    imaged.create(pod("nolocal", [{"name": "app", "image": "localhost/nothere:1"}]))
    wait_for(lambda: waiting_reason(imaged, "nolocal") in ("ErrImagePull", "ImagePullBackOff"), timeout=20, what="ErrImagePull")
    msg = statuses(imaged.pod("nolocal"))["app"]["state"]["waiting"]["message"]
    assert ('a local image (localhost/...) is never pulled, and "localhost/nothere:1" is not in the store; '
            'load it from a docker or OCI archive (podctl image load -i ARCHIVE), or import a root file system '
            'as it (podctl image import localhost/nothere:1 ROOTFS.tar)') in msg, msg
    # A reference that does not parse: accepted, then InvalidImageName.
    r = imaged.create(pod("invalid", [{"name": "app", "image": "Not A Valid/ref::x"}]))
    assert r.status == 201
    wait_for(lambda: waiting_reason(imaged, "invalid") == "InvalidImageName", timeout=20, what="InvalidImageName")
    # A short name matching a local image: used whatever the policy (busybox has :latest: Always).
    r = imaged.create(pod("local", [{"name": "app", "image": "busybox", "command": ["true"]}]))
    assert r.json()["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    finished_log(imaged, "local")
    assert "busybox" not in (imaged.registry / "fetches").read_text()


def test_failed_pull_backs_off_and_recovers(imaged, base_layer):
    (imaged.registry / "fail").write_text("dial tcp 127.0.0.1:5000: connect: connection refused")
    imaged.create(pod("flaky", [{"name": "app", "image": "registry.test:5000/team/late:1"}]))
    wait_for(lambda: waiting_reason(imaged, "flaky") == "ErrImagePull", timeout=20, what="ErrImagePull")
    s = statuses(imaged.pod("flaky"))["app"]["state"]["waiting"]
    assert "connection refused" in s["message"]
    assert s["message"].endswith("; load it from a docker or OCI archive (podctl image load -i ARCHIVE)"), s["message"]
    wait_for(lambda: waiting_reason(imaged, "flaky") == "ImagePullBackOff", timeout=30, what="ImagePullBackOff")
    assert ("BackOff", 'Back-off pulling image "registry.test:5000/team/late:1"') in events(imaged, "flaky")
    assert ("Failed", "Error: ErrImagePull") in events(imaged, "flaky")
    # Its log is refused with kubelet's words for either pull failure.
    r = imaged.get("/api/v1/namespaces/default/pods/flaky/log")
    assert r.status == 400, r.text
    assert r.json()["message"] in ('container "app" in pod "flaky" is waiting to start: trying and failing to pull image',
                                   'container "app" in pod "flaky" is waiting to start: image can\'t be pulled'), r.text
    # The registry comes back with the image: the next retry pulls it and the pod runs.
    write_image(imaged.registry / "registry.test:5000" / "team" / "late", "1", [base_layer], {"Cmd": ["echo", "late"]})
    (imaged.registry / "fail").unlink()
    assert finished_log(imaged, "flaky", timeout=60) == "late\n"


def test_two_pods_one_download(imaged, base_layer):
    reg = imaged.registry / "registry.test:5000" / "shared"
    write_image(reg, "1", [base_layer, tar_layer([("s", "file", "shared\n")])], {"Cmd": ["cat", "/s"]})
    (imaged.registry / "delay").write_text("2")
    imaged.create(pod("one", [{"name": "app", "image": "registry.test:5000/shared:1"}]))
    imaged.create(pod("two", [{"name": "app", "image": "registry.test:5000/shared:1"},
                              {"name": "side", "image": "registry.test:5000/shared:1"}]))
    assert finished_log(imaged, "one") == "shared\n"
    assert finished_log(imaged, "two") == "shared\n" and finished_log(imaged, "two", "side") == "shared\n"
    assert (imaged.registry / "fetches").read_text().splitlines().count("registry.test:5000/shared:1") == 1


def test_pull_route_streams_progress(imaged, base_layer):
    reg = imaged.registry / "registry.test:5000" / "streamed"
    write_image(reg, "1", [base_layer, tar_layer([("z", "file", "z")])])
    r = imaged.request("POST", "/apis/podd.io/v1/images/pull?image=registry.test:5000/streamed:1")
    assert r.status == 200
    lines = [json.loads(l) for l in r.body.decode().splitlines() if l.strip()]
    kinds = [l["type"] for l in lines]
    assert kinds[0] == "resolved" and kinds[-1] == "pulled" and "progress" in kinds and "done" in kinds
    assert lines[-1]["image"]["RepoTags"] == ["registry.test:5000/streamed:1"]
    r = imaged.request("POST", "/apis/podd.io/v1/images/pull?image=registry.test:5000/missing:1")
    last = json.loads(r.body.decode().splitlines()[-1])
    assert last["type"] == "error" and "not found" in last["message"]


def test_full_disk_during_a_pull_leaves_nothing(busybox_tar, base_layer, tmp_path):
    from conftest import require_root, _require_binaries
    require_root()
    _require_binaries()
    root = Path(tempfile.mkdtemp(prefix="podd-", dir="/tmp"))
    state = root / "state"
    state.mkdir()
    registry = root / "registry"
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(state)], check=True)
    d = Podd(root, env={"PODD_IMAGE_LAYOUT_REGISTRY": str(registry)}).start()
    try:
        d.podctl("image", "import", "busybox", str(busybox_tar))
        before = store_files(d)
        write_image(registry / "registry.test" / "big", "1", [base_layer, tar_layer([("big", "file", os.urandom(5 << 20))])],
                    compress=False)
        d.create(pod("big", [{"name": "app", "image": "registry.test/big:1"}]))
        wait_for(lambda: waiting_reason(d, "big") == "ErrImagePull", timeout=30, what="ErrImagePull")
        msg = statuses(d.pod("big"))["app"]["state"]["waiting"]["message"]
        assert "No space left on device" in msg, msg
        assert store_files(d) == before
    finally:
        d.cleanup()
        subprocess.run(["umount", "-l", str(state)], check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_deep_image_over_a_page_of_mount_options(imaged, base_layer, tmp_path):
    """45 layers: their absolute paths overflow overlay's one-page mount data, so the monitor
    mounts them by names relative to the store's layers directory."""
    layers = [base_layer] + [tar_layer([(f"layer{k}", "file", f"{k}\n")]) for k in range(44)]
    write_image(tmp_path / "deep", "deep:45", layers)
    imaged.podctl("image", "load", "-i", str(tmp_path / "deep"))
    paths = sum(len(str(imaged.state_dir / "images" / "layers")) + 66 for _ in layers)
    assert paths > 4096
    imaged.create(pod("deep", [{"name": "app", "image": "deep:45", "command": ["sh", "-c", "cat /layer0 /layer43; ls / | grep -c layer"]}]))
    assert finished_log(imaged, "deep") == "0\n43\n44\n"
