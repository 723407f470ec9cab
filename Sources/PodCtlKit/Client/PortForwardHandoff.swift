import CPodShim
import Glibc

/// podctl's side of the port-forward handoff (docs/portforward-handoff.md): podctl listens on
/// an abstract Unix socket of its own, asks podd (`POST .../portforward?ports=PORT` with the
/// socket's name in `X-Podd-Portforward-Handoff`) to connect to the pod's port, and receives
/// the connected socket there (SCM_RIGHTS), from podd alone (its SO_PEERCRED is checked
/// against the API connection's). podctl then copies bytes itself, and podd is out of the
/// data path. Any failure other than the pod's own answer leaves podctl to the WebSocket.
enum PortForwardHandoff {
    /// The header that names podctl's socket.
    static let header = "X-Podd-Portforward-Handoff"
    /// `PODCTL_PORTFORWARD_HANDOFF=0` forwards through the WebSocket (tests, and a podd
    /// that runs in another network namespace, where the abstract socket cannot be reached).
    static let switchVariable = "PODCTL_PORTFORWARD_HANDOFF"

    enum Outcome {
        /// The pod's connected socket (podctl's to close).
        case connected(Int32)
        /// podd reached the pod but not the port: kubelet's message.
        case refused(String)
        /// No handoff (an older podd, an unreachable socket): forward through the WebSocket.
        case unavailable(String)
    }

    static var enabled: Bool {
        guard let value = getenv(switchVariable) else { return true }
        return String(cString: value) != "0"
    }

    /// Asks podd for a connection to `port` in the pod `target` names.
    static func request(_ target: ForwardTarget, port: UInt16) -> Outcome {
        let name = "podctl-portforward-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let listener = pod_listen_abstract(name)
        guard listener >= 0 else { return .unavailable("cannot listen on @\(name): \(errorText(errno))") }
        defer { close(listener) }
        let podd: pid_t
        do {
            let connection = try HTTPConnection(socketPath: target.socketPath)
            var owner: (pid: pid_t, uid: uid_t, gid: gid_t) = (0, 0, 0)
            guard pod_peer_credentials(connection.fd, &owner.pid, &owner.uid, &owner.gid) == 0 else {
                return .unavailable("cannot read podd's credentials: \(errorText(errno))")
            }
            podd = owner.pid
            try connection.send(method: "POST", target: target.path + PoddClient.queryString([("ports", String(port))]),
                                headers: [(header, name)], body: .none)
            let head = try connection.readHead()
            let body = try connection.readWholeBody(of: head, method: "POST", limit: 1 << 20)
            if head.status == 503 { return .refused(APIStatusError(code: head.status, body: body).message) }
            guard head.status == 200 else { return .unavailable(APIStatusError(code: head.status, body: body).description) }
        } catch {
            return .unavailable("\(error)")
        }
        // podd passed the socket before it answered: the connection waits in the backlog.
        let carrier = accept(listener, nil, nil)
        guard carrier >= 0 else { return .unavailable("podd answered but did not connect to @\(name): \(errorText(errno))") }
        _ = fcntl(carrier, F_SETFD, FD_CLOEXEC)
        defer { close(carrier) }
        var owner: (pid: pid_t, uid: uid_t, gid: gid_t) = (0, 0, 0)
        guard pod_peer_credentials(carrier, &owner.pid, &owner.uid, &owner.gid) == 0, owner.pid == podd else {
            return .unavailable("the connection to @\(name) is not podd's (process \(owner.pid), podd is \(podd))")
        }
        var tag: UInt8 = 0
        var fds: [Int32] = [-1]
        var count: Int32 = 0
        let received = pod_recv_message(carrier, &tag, 1, &fds, 1, &count)
        guard received == 1, count == 1, fds[0] >= 0 else {
            if count == 1, fds[0] >= 0 { close(fds[0]) }
            return .unavailable("podd's message on @\(name) carries no socket")
        }
        return .connected(fds[0])
    }
}
