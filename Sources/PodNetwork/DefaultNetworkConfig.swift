import PodJSON

/// The network podd sets up when the CNI configuration directory holds none: podman's
/// default network, podd's names. A bridge `podd0` as the pods' gateway, host-local IPAM on
/// the configured subnet (leases kept under podd's run directory: they end with the pods, at
/// reboot), outbound NAT (ipMasq), hairpin (a pod reaches itself through its own hostPort),
/// hostPorts through portmap, and the firewall plugin, which lets the pods' traffic through a
/// FORWARD chain whose policy is DROP (as Docker leaves it).
public enum DefaultNetworkConfig {
    /// The conflist's file name in the configuration directory.
    public static let fileName = "87-podd-bridge.conflist"
    public static let bridgeName = "podd0"

    /// The default conflist for network `name` on `subnet` (an IPv4 CIDR), with IPAM leases
    /// under `ipamDataDir`.
    public static func json(name: String, subnet: IPv4Subnet, ipamDataDir: String) -> JSONValue {
        let range: JSONValue = .object(JSONObject([("subnet", .string(subnet.description)),
                                                   ("gateway", .string(subnet.host(1)))]))
        let ipam: JSONValue = .object(JSONObject([
            ("type", "host-local"),
            ("routes", .array([.object(JSONObject([("dst", "0.0.0.0/0")]))])),
            ("ranges", .array([.array([range])])),
            ("dataDir", .string(ipamDataDir)),
        ]))
        let bridge: JSONValue = .object(JSONObject([
            ("type", "bridge"), ("bridge", .string(bridgeName)), ("isGateway", true), ("ipMasq", true),
            ("hairpinMode", true), ("ipam", ipam),
        ]))
        let portmap: JSONValue = .object(JSONObject([("type", "portmap"), ("capabilities", .object(JSONObject([("portMappings", true)])))]))
        let firewall: JSONValue = .object(JSONObject([("type", "firewall"), ("backend", "iptables")]))
        return .object(JSONObject([("cniVersion", "1.0.0"), ("name", .string(name)), ("plugins", .array([bridge, portmap, firewall]))]))
    }
}

/// An IPv4 network in CIDR form (`10.88.0.0/16`).
public struct IPv4Subnet: Sendable, Equatable, CustomStringConvertible {
    public let address: UInt32
    public let prefix: Int

    /// podd's default, podman's too: 10.88.0.0/16.
    public static let poddDefault = IPv4Subnet(address: 10 << 24 | 88 << 16, prefix: 16)

    private init(address: UInt32, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    /// Parses `A.B.C.D/N`; nil when it is not one, when N is above 30 (no room for a gateway
    /// and a pod) or when host bits are set.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), (8...30).contains(prefix) else { return nil }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for o in octets {
            guard let n = UInt32(o), n <= 255, String(n) == o else { return nil }
            value = value << 8 | n
        }
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefix)
        guard value & ~mask == 0 else { return nil }
        address = value
        self.prefix = prefix
    }

    /// The dotted address `n` hosts into the subnet.
    public func host(_ n: UInt32) -> String { Self.dotted(address + n) }

    public var description: String { "\(Self.dotted(address))/\(prefix)" }

    static func dotted(_ v: UInt32) -> String { "\(v >> 24 & 255).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)" }
}
