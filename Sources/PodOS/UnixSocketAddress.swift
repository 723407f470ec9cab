import Glibc

/// A filesystem Unix socket address, checked against sun_path's size (108 bytes on Linux).
public enum UnixSocketAddress {
    /// `stage` names the call in the error (`bind(PATH)`, `connect(PATH)`).
    public static func make(_ path: String, stage: String) throws(OSError) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw OSError("\(stage): path longer than \(MemoryLayout.size(ofValue: addr.sun_path) - 1) bytes", code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return addr
    }
}
