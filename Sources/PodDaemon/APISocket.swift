import Glibc
import PodOS
import PodSystemd

/// The API socket: inherited from systemd (socket activation) or made here, mode 0660 and
/// owned by the podd group, so that root and that group's members may call podd.
public enum APISocket {
    public struct Bound: Sendable {
        public var fd: Int32
        public var path: String
        public var activated: Bool
        /// The group allowed besides root (the socket file's group).
        public var group: gid_t?
    }

    public static func make(path: String, groupName: String) throws(OSError) -> Bound {
        if let passed = activatedSocket(path: path) {
            // The socket unit set mode and group (podd.socket: 0660, group podd); the group
            // allowed is the socket file's.
            let actual = SocketActivation.boundPath(passed.fd) ?? path
            var st = stat()
            let group: gid_t? = stat(actual, &st) == 0 ? st.st_gid : lookupGroup(groupName)
            return Bound(fd: passed.fd, path: actual, activated: true, group: group == 0 ? nil : group)
        }
        try FileSystem.makeDirectories(FileSystem.parent(path), mode: 0o755)
        if FileSystem.exists(path) {
            // A live podd answers on it: refuse to steal its socket. A stale file is removed
            // (a failed connect is the answer "nobody serves here", not an error).
            if let probe = try? connectStream(path) {
                close(probe)
                throw OSError("bind(\(path)): another podd is already serving on this socket", code: EADDRINUSE)
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OSError.last("socket") }
        var addr = try address(path)
        // Created 0600 (umask) then opened up to 0660: never briefly world-accessible.
        let oldMask = umask(0o177)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(oldMask)
        guard rc == 0 else {
            let e = OSError.last("bind(\(path))")
            close(fd)
            throw e
        }
        let group = lookupGroup(groupName)
        if let group { chown(path, 0, group) }
        chmod(path, 0o660)
        guard listen(fd, 256) == 0 else {
            let e = OSError.last("listen(\(path))")
            close(fd)
            throw e
        }
        return Bound(fd: fd, path: path, activated: false, group: group)
    }

    /// The socket systemd passed (sd_listen_fds(3)): the one bound to `path` if several were
    /// passed, else the one named "podd" (FileDescriptorName=), else the first listening Unix
    /// stream socket.
    static func activatedSocket(path: String) -> SocketActivation.PassedSocket? {
        let passed = SocketActivation.unixStreamListeners()
        return passed.first { SocketActivation.boundPath($0.fd) == path }
            ?? passed.first { $0.name == "podd" }
            ?? passed.first
    }

    static func lookupGroup(_ name: String) -> gid_t? {
        guard let g = getgrnam(name) else { return nil }
        return g.pointee.gr_gid
    }

    static func address(_ path: String) throws(OSError) -> sockaddr_un {
        try UnixSocketAddress.make(path, stage: "bind(\(path))")
    }

    static func connectStream(_ path: String) throws(OSError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OSError.last("socket") }
        var addr = try address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = OSError.last("connect(\(path))")
            close(fd)
            throw e
        }
        return fd
    }
}
