import Glibc
import PodOS
import Synchronization

/// The host's own address, for `status.hostIP` (and the podIP of a hostNetwork pod): the
/// IPv4 address of the interface that holds the default route in podd's network namespace,
/// else the first non-loopback IPv4 address, as kubelet picks a node's address.
public enum HostAddress {
    private static let cache = Mutex<(address: String?, at: Double)>((nil, -1e9))

    /// `primaryIPv4()`, read again at most every 10 s: every pod's status carries it, and a
    /// podd re-adopting a thousand pods must not read the interfaces a thousand times.
    public static func current() -> String? {
        let now = RuntimeMonotonic.now()
        if let hit = cache.withLock({ now - $0.at < 10 ? $0.address : nil }) { return hit }
        let address = primaryIPv4()
        cache.withLock { $0 = (address, now) }
        return address
    }

    /// The host's name (gethostname), for a hostNetwork pod.
    public static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: name, as: UTF8.self)
    }

    public static func primaryIPv4() -> String? {
        let defaultInterface = FileSystem.readString("/proc/net/route").flatMap { table in
            table.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let f = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
                return f.count > 2 && f[1] == "00000000" ? String(f[0]) : nil
            }.first
        }
        var first: String?
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == UInt16(AF_INET) else { continue }
            let name = String(cString: entry.pointee.ifa_name)
            let address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> String in
                let v = UInt32(bigEndian: sin.pointee.sin_addr.s_addr)
                return "\(v >> 24 & 255).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)"
            }
            if address.hasPrefix("127.") { continue }
            if name == defaultInterface { return address }
            if first == nil { first = address }
        }
        return first
    }
}
