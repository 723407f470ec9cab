import Glibc
import PodJSON
import PodOS

/// The network podd sets up when the CNI configuration directory holds none: podman's
/// default network, podd's names. A bridge `podd0` as the pods' gateway, host-local IPAM on
/// the configured subnet (leases kept under podd's run directory: they end with the pods, at
/// reboot), outbound NAT (one MASQUERADE rule for the whole subnet, which podd keeps itself,
/// `OutboundNAT`, rather than the bridge plugin's ipMasq, which costs every pod's start and
/// stop nine iptables runs of its own), hairpin (a pod reaches itself through its own hostPort),
/// hostPorts through portmap, and, only where the host's FORWARD chain drops what it does not
/// accept (as Docker leaves it), the firewall plugin, which lets the pods' traffic through:
/// it costs a pod's start a dozen iptables runs, for nothing where forwarding is accepted.
public enum DefaultNetworkConfig {
    /// The conflist's file name in the configuration directory.
    public static let fileName = "87-podd-bridge.conflist"
    public static let bridgeName = "podd0"

    /// The default conflist for network `name` on `subnet` (an IPv4 CIDR), with IPAM leases
    /// under `ipamDataDir`.
    public static func json(name: String, subnet: IPv4Subnet, ipamDataDir: String, firewall: Bool = false) -> JSONValue {
        let range: JSONValue = .object(JSONObject([("subnet", .string(subnet.description)),
                                                   ("gateway", .string(subnet.host(1)))]))
        let ipam: JSONValue = .object(JSONObject([
            ("type", "host-local"),
            ("routes", .array([.object(JSONObject([("dst", "0.0.0.0/0")]))])),
            ("ranges", .array([.array([range])])),
            ("dataDir", .string(ipamDataDir)),
        ]))
        let bridge: JSONValue = .object(JSONObject([
            ("type", "bridge"), ("bridge", .string(bridgeName)), ("isGateway", true), ("ipMasq", false),
            ("hairpinMode", true), ("ipam", ipam),
        ]))
        let portmap: JSONValue = .object(JSONObject([("type", "portmap"), ("capabilities", .object(JSONObject([("portMappings", true)])))]))
        let firewallPlugin: JSONValue = .object(JSONObject([("type", "firewall"), ("backend", "iptables")]))
        let plugins = firewall ? [bridge, portmap, firewallPlugin] : [bridge, portmap]
        return .object(JSONObject([("cniVersion", "1.0.0"), ("name", .string(name)), ("plugins", .array(plugins))]))
    }
}

extension DefaultNetworkConfig {
    static func iptables() -> String? {
        let candidates: [String] = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/bin/iptables"]
        return candidates.first(where: { path in access(path, X_OK) == 0 })
    }

    /// Makes sure the default network's outbound NAT rule is in place (nat POSTROUTING:
    /// from the subnet to anywhere else, masqueraded), adding it once: the pods reach beyond
    /// the host with the host's address, as with the bridge plugin's ipMasq.
    public static func ensureOutboundNAT(subnet: IPv4Subnet, network: String, scratchFile: String) throws(CNIError) {
        guard let iptables = iptables() else { throw .runtime("iptables not found: the pods' outbound NAT cannot be set up (apt-get install iptables)") }
        let rule = ["-t", "nat", "POSTROUTING", "-s", subnet.description, "!", "-d", subnet.description,
                    "-m", "comment", "--comment", "podd: outbound NAT of network \(network)", "-j", "MASQUERADE"]
        var check = rule
        check.insert("-C", at: 2)
        if (try? ProcessControl.run(iptables, arguments: ["-w"] + check, outputPath: scratchFile)) == 0 { return }
        var add = rule
        add.insert("-A", at: 2)
        let status = try? ProcessControl.run(iptables, arguments: ["-w"] + add, outputPath: scratchFile)
        defer { unlink(scratchFile) }
        guard status == 0 else {
            throw .runtime("iptables \(add.joined(separator: " ")) failed: \(FileSystem.readString(scratchFile) ?? "")")
        }
    }

    /// Whether the filter table's FORWARD chain (of podd's network namespace) has policy
    /// DROP or REJECT, read with `iptables -S FORWARD`; false when it cannot be read.
    public static func forwardingIsDropped(scratchFile: String) -> Bool {
        guard let iptables = iptables(),
              let status = try? ProcessControl.run(iptables, arguments: ["-w", "-S", "FORWARD"], outputPath: scratchFile),
              status == 0 else { return false }
        defer { unlink(scratchFile) }
        let text = FileSystem.readString(scratchFile) ?? ""
        return text.contains("-P FORWARD DROP") || text.contains("-P FORWARD REJECT")
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
