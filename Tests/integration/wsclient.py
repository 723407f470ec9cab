"""A small WebSocket client (RFC 6455) over podd's Unix socket, speaking Kubernetes' channel
subprotocols as client-go does: for tests that drive exec and attach without podctl."""
import base64
import hashlib
import json
import os
import socket
import struct
import time
from urllib.parse import urlencode

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeRefused(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body[:500]!r}")
        self.status = status
        self.body = body

    def json(self):
        return json.loads(self.body)


class ChannelSession:
    """One exec or attach session: send(channel, bytes), and read() collects what arrives
    per channel until podd closes the session."""

    def __init__(self, socket_path, path, query, protocols=("v5.channel.k8s.io", "v4.channel.k8s.io"), timeout=30):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.timeout = timeout
        self.sock.settimeout(timeout)
        self.sock.connect(socket_path)
        key = base64.b64encode(os.urandom(16)).decode()
        headers = [f"GET {path}?{urlencode(query, doseq=True)} HTTP/1.1", "Host: localhost",
                   "Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                   f"Sec-WebSocket-Key: {key}"]
        if protocols:
            headers.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise HandshakeRefused(0, self.buf)
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        if status != 101:
            length = int(self.headers.get("content-length", "0"))
            while len(self.buf) < length:
                self.buf += self.sock.recv(65536)
            raise HandshakeRefused(status, self.buf[:length])
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        assert self.headers["sec-websocket-accept"] == accept
        self.protocol = self.headers.get("sec-websocket-protocol", "")
        self.channels = {}
        self.closed = False

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send(self, channel, data):
        self.send_frame(0x2, bytes([channel]) + (data.encode() if isinstance(data, str) else data))

    def resize(self, width, height):
        self.send(4, json.dumps({"Width": width, "Height": height}))

    def close_stdin(self):
        self.send_frame(0x2, bytes([255, 0]))

    def _frame(self):
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                n, off = b1 & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
                if n < 126 or off > 2:
                    assert not b1 & 0x80, "server frames are not masked"
                    if len(self.buf) >= off + n:
                        payload = self.buf[off:off + n]
                        self.buf = self.buf[off + n:]
                        return b0 & 0x0F, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk

    def read(self, until=None, timeout=30):
        """Reads frames until podd closes (or `until(self)` is true); returns self.channels."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            if until and until(self):
                break
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            frame = self._frame()
            if frame is None:
                self.closed = True
                break
            opcode, payload = frame
            if opcode == 0x8:
                self.closed = True
                break
            if opcode in (0x1, 0x2) and payload:
                self.channels[payload[0]] = self.channels.get(payload[0], b"") + payload[1:]
        # What was left of this read's deadline is not the next send's or read's timeout.
        self.sock.settimeout(self.timeout)
        return self.channels

    def text(self, channel):
        return self.channels.get(channel, b"").decode(errors="replace")

    def status(self):
        raw = self.channels.get(3)
        return json.loads(raw) if raw else None

    def close(self):
        self.sock.close()


def exec_session(podd, pod, command, container=None, stdin=False, tty=False, stdout=True, stderr=None,
                 namespace="default", protocols=("v5.channel.k8s.io", "v4.channel.k8s.io")):
    query = [("command", c) for c in command]
    if container:
        query.append(("container", container))
    query += [("stdin", str(stdin).lower()), ("stdout", str(stdout).lower()),
              ("stderr", str(stderr if stderr is not None else not tty).lower()), ("tty", str(tty).lower())]
    return ChannelSession(podd.socket, f"/api/v1/namespaces/{namespace}/pods/{pod}/exec", query, protocols)


def attach_session(podd, pod, container=None, stdin=False, tty=False, namespace="default"):
    query = [("stdin", str(stdin).lower()), ("stdout", "true"), ("stderr", str(not tty).lower()),
             ("tty", str(tty).lower())]
    if container:
        query.append(("container", container))
    return ChannelSession(podd.socket, f"/api/v1/namespaces/{namespace}/pods/{pod}/attach", query)
