import CPodShim
import Glibc
import PodOS

/// podctl's fast path for port-forward (docs/portforward-handoff.md): instead of carrying
/// every byte through a WebSocket, podd connects to the pod's port as for any forward and
/// passes the connected socket (SCM_RIGHTS) to the caller, which then copies between it and
/// its local connection itself. podd reaches the caller through an abstract Unix socket the
/// caller names, and hands the descriptor over only when that socket's owner is the very
/// process whose API request asked for it (SO_PEERCRED on both), so the descriptor goes to
/// no one the API did not already allow to forward to the pod.
extension PodDialer {
    /// Why a connection could not be handed over.
    public enum HandoffError: Error, Sendable, CustomStringConvertible {
        /// The pod's port could not be reached (kubelet's words, as for every forward).
        case dial(DialError)
        /// The named socket is another process's: nothing was dialled or passed.
        case notCaller(String)
        /// The caller's socket could not be used: the handoff did not happen, and the caller
        /// may forward through the WebSocket instead.
        case socket(String)

        public var description: String {
            switch self {
            case let .dial(error): error.description
            case let .notCaller(reason), let .socket(reason): reason
            }
        }
    }

    /// The longest socket name accepted (the abstract name has 107 bytes of room).
    static let maxSocketNameLength = 100

    /// Whether `name` is a socket name podctl makes: 1 to 100 of `A-Z a-z 0-9 . _ -`.
    public static func isHandoffSocketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return !bytes.isEmpty && bytes.count <= maxSocketNameLength && bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// Connects to `port` in the pod and passes the connected socket to the process listening
    /// on the abstract Unix socket `socketName`, which must be `caller` (the API request's
    /// peer). podd keeps no copy of the descriptor.
    public func handOff(port: Int, socketName: String, caller pid: Int32, uid: UInt32) async throws(HandoffError) {
        guard Self.isHandoffSocketName(socketName) else {
            throw .socket("the handoff socket name \"\(socketName)\" is not 1 to \(Self.maxSocketNameLength) of A-Z a-z 0-9 . _ -")
        }
        // The caller's socket is checked before the pod is dialled: a wrong name costs the pod nothing.
        let peer = pod_connect_abstract(socketName)
        guard peer >= 0 else {
            throw .socket("cannot connect to the handoff socket @\(socketName): \(OSError.last("connect"))")
        }
        defer { close(peer) }
        var owner: (pid: pid_t, uid: uid_t, gid: gid_t) = (0, 0, 0)
        guard pod_peer_credentials(peer, &owner.pid, &owner.uid, &owner.gid) == 0 else {
            throw .socket("cannot read the owner of the handoff socket @\(socketName): \(OSError.last("SO_PEERCRED"))")
        }
        guard owner.pid == pid, owner.uid == uid else {
            throw .notCaller("the handoff socket @\(socketName) belongs to process \(owner.pid) (uid \(owner.uid)), not to the caller (process \(pid), uid \(uid))")
        }
        let fd: Int32
        do throws(DialError) {
            fd = try await dial(port: port)
        } catch {
            throw .dial(error)
        }
        defer { close(fd) }
        var tag: UInt8 = UInt8(ascii: "1")
        var fds: [Int32] = [fd]
        let sent = pod_send_message(peer, &tag, 1, &fds, 1)
        guard sent == 1 else {
            throw .socket("cannot pass the connection to the handoff socket @\(socketName): \(OSError.last("sendmsg"))")
        }
    }
}
