import PodOS

/// net.ipv4.ip_forward of podd's network namespace: a bridge network routes the pods'
/// traffic through the host, which the kernel does only with forwarding on.
public enum IPForwarding {
    static let path = "/proc/sys/net/ipv4/ip_forward"

    /// Turns forwarding on when it is off; says whether it changed anything.
    public static func enable() throws(OSError) -> Bool {
        if FileSystem.readString(path)?.hasPrefix("1") == true { return false }
        try FileSystem.write(path, Array("1\n".utf8))
        return true
    }
}
