import CPodShim
import Glibc

/// Who called on the API socket, as the kernel tells it (SO_PEERCRED).
public struct PeerCredentials: Sendable, Equatable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

/// Who may use the API: root, or a member of the socket's group (primary or supplementary),
/// as the socket's mode 0660 says. The check is made on the connection before any of the
/// request's body is read.
public struct CallerCheck: Sendable {
    /// The group that may call besides root; nil: root only.
    public let allowedGroup: UInt32?

    public init(allowedGroup: UInt32?) {
        self.allowedGroup = allowedGroup
    }

    /// The level and name of the socket option that reads a peer's credentials, for a
    /// server that reads options through its own API (NIO's `SocketOptionProvider`).
    public static let peerCredentialsOption = (level: SOL_SOCKET, name: SO_PEERCRED)

    /// The credentials from the raw SO_PEERCRED value (`struct ucred`) read by such a server.
    public static func credentials(_ raw: RawPeerCredentials) -> PeerCredentials {
        PeerCredentials(pid: raw.pid, uid: raw.uid, gid: raw.gid)
    }

    /// The credentials of the peer of a connected Unix socket, or nil when they cannot be read.
    public static func credentials(ofSocket fd: Int32) -> PeerCredentials? {
        var raw = RawPeerCredentials()
        var length = socklen_t(MemoryLayout<RawPeerCredentials>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &raw, &length) == 0 else { return nil }
        return credentials(raw)
    }

    /// Whether `caller` may use the API.
    public func allows(_ caller: PeerCredentials) -> Bool {
        if caller.uid == 0 { return true }
        guard let group = allowedGroup else { return false }
        if caller.gid == group { return true }
        // Supplementary groups, read from /proc/PID/status.
        return pod_process_in_group(caller.pid, group) == 1
    }

    /// Whether the peer of the connected socket `fd` may use the API.
    public func allows(socket fd: Int32) -> Bool {
        guard let caller = Self.credentials(ofSocket: fd) else { return false }
        return allows(caller)
    }

    /// Why a caller is refused, for the 403 answer.
    public static func refusal(_ caller: PeerCredentials?) -> String {
        "forbidden: the caller (uid \(caller.map { String($0.uid) } ?? "unknown")) is neither root nor in the podd socket's group"
    }
}

/// `struct ucred` as SO_PEERCRED fills it (Glibc's module hides the C type behind _GNU_SOURCE).
public typealias RawPeerCredentials = pod_ucred
