import CSystemd
import Glibc

/// Socket activation (sd_listen_fds(3)): the listening sockets systemd (or
/// systemd-socket-activate) passed to this process, from fd 3 on.
public enum SocketActivation {
    public struct PassedSocket: Sendable {
        public var fd: Int32
        /// LISTEN_FDNAMES' entry (FileDescriptorName= in the .socket unit), or "unknown".
        public var name: String
    }

    /// The passed listening Unix stream sockets. The LISTEN_* variables are removed from the
    /// environment (so no child inherits them) and every passed fd is made close-on-exec.
    /// Passed descriptors that are not listening Unix stream sockets are left out (and left
    /// open: they are not podd's to close).
    public static func unixStreamListeners() -> [PassedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                var i = 0
                while let p = names[i] {
                    free(p)
                    i += 1
                }
                free(names)
            }
        }
        guard n > 0 else { return [] }
        var out: [PassedSocket] = []
        for i in 0..<Int(n) {
            let fd = SD_LISTEN_FDS_START + Int32(i)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard sd_is_socket_unix(fd, Int32(SOCK_STREAM.rawValue), 1, nil, 0) > 0 else { continue }
            let name = names.flatMap { $0[i] }.map { String(cString: $0) } ?? "unknown"
            out.append(PassedSocket(fd: fd, name: name))
        }
        return out
    }

    /// The filesystem path a Unix socket is bound to, when it has one.
    public static func boundPath(_ fd: Int32) -> String? {
        var addr = sockaddr_un()
        var len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let rc = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        guard rc == 0, addr.sun_family == sa_family_t(AF_UNIX) else { return nil }
        let path = withUnsafeBytes(of: &addr.sun_path) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return path.isEmpty ? nil : path
    }
}
