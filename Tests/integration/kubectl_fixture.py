"""kubectl pointed at a test's podd: a TCP relay to podd's Unix socket and a kubeconfig."""
import os
import shutil
import socket
import subprocess
import threading

import pytest


class UnixRelay:
    """127.0.0.1:PORT -> a Unix socket, a thread pair per connection (kubectl speaks TCP only)."""

    def __init__(self, unix_path):
        self.unix_path = unix_path
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.unix_path)
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.listener.close()


def kubectl_binary():
    """The machine's kubectl, or a loud skip."""
    path = shutil.which("kubectl")
    if not path:
        pytest.skip("needs kubectl (the machine's, or Debian's kubernetes-client): "
                    "scripts/install-deps.sh installs it; SKIPPING the kubectl tests")
    return path


class Kubectl:
    def __init__(self, podd, tmp_path):
        self.binary = kubectl_binary()
        self.relay = UnixRelay(podd.socket)
        self.config = tmp_path / "kubeconfig"
        self.config.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- cluster: {{server: 'http://127.0.0.1:{self.relay.port}'}}\n  name: podd\n"
            "contexts:\n- context: {cluster: podd, user: podd, namespace: default}\n  name: podd\n"
            "current-context: podd\nusers:\n- name: podd\n  user: {}\n")
        # A cache of its own: discovery and OpenAPI documents of another podd must not leak in.
        self.env = {**os.environ, "KUBECONFIG": str(self.config), "KUBECACHEDIR": str(tmp_path / "kube-cache"),
                    "HOME": str(tmp_path)}

    def run(self, *args, input=None, check=True, timeout=60):
        r = subprocess.run([self.binary, *args], input=input, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {r.returncode}:\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def popen(self, *args, **kwargs):
        return subprocess.Popen([self.binary, *args], env=self.env, **kwargs)


@pytest.fixture
def kubectl(podd, tmp_path):
    """The machine's kubectl pointed at this test's podd (a test module imports this fixture)."""
    kubectl_binary()
    k = Kubectl(podd, tmp_path)
    yield k
    k.relay.close()
