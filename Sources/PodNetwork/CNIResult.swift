import PodJSON

/// What an ADD answered (the CNI 1.0.0 result): the interfaces it made and the addresses
/// given to them. podd reads the sandbox's addresses for `status.podIPs`; the whole result is
/// saved as it came, for the DEL and CHECK that follow (their `prevResult`).
public struct CNIResult: Sendable, Equatable {
    public struct IPConfig: Sendable, Equatable {
        /// The address with its prefix length (`10.88.0.5/16`).
        public var address: String
        public var gateway: String?
        /// Index into `interfaces`, when given.
        public var interface: Int?

        /// The address alone (`10.88.0.5`).
        public var ip: String { String(address.split(separator: "/", maxSplits: 1).first ?? "") }
        public var isIPv6: Bool { ip.contains(":") }
    }

    public struct Interface: Sendable, Equatable {
        public var name: String
        public var mac: String?
        /// The namespace path for interfaces inside a sandbox; nil for host-side ones.
        public var sandbox: String?
    }

    /// How long one plugin of the ADD took (its process, start to exit): the breakdown of a
    /// pod's network set-up, for podd's debug log and the bench.
    public struct PluginTime: Sendable, Equatable {
        public var type: String
        public var seconds: Double
    }

    public var cniVersion: String
    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var json: JSONValue
    /// The ADD's plugins in the order they ran, with their times (not part of the result
    /// saved: empty for a result read back).
    public var pluginTimes: [PluginTime] = []

    public init(json: JSONValue) throws(CNIError) {
        guard case .object = json else { throw .runtime("the CNI result is not a JSON object") }
        cniVersion = json["cniVersion"]?.stringValue ?? ""
        interfaces = (json["interfaces"]?.arrayValue ?? []).compactMap { i in
            guard let name = i["name"]?.stringValue else { return nil }
            return Interface(name: name, mac: i["mac"]?.stringValue, sandbox: i["sandbox"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
        }
        var ips: [IPConfig] = []
        for (n, entry) in (json["ips"]?.arrayValue ?? []).enumerated() {
            guard let address = entry["address"]?.stringValue, address.contains("/") else {
                throw .runtime("the CNI result's ips[\(n)] has no address")
            }
            ips.append(IPConfig(address: address, gateway: entry["gateway"]?.stringValue,
                                interface: entry["interface"]?.intValue.map { Int($0) }))
        }
        self.ips = ips
        self.json = json
    }

    /// The pod's addresses: those on an interface inside the sandbox (or on no interface in
    /// particular), IPv4 first, as kubelet lists `podIPs`.
    public var podIPs: [String] {
        let inSandbox = ips.filter { ip in
            guard let i = ip.interface, interfaces.indices.contains(i) else { return true }
            return interfaces[i].sandbox != nil
        }
        return inSandbox.filter { !$0.isIPv6 }.map(\.ip) + inSandbox.filter(\.isIPv6).map(\.ip)
    }

    /// `pluginTimes` as one log phrase: `bridge 19.8 ms, portmap 7.1 ms`.
    public var pluginTimesText: String {
        pluginTimes.map { "\($0.type) \(Double(Int($0.seconds * 1e4)) / 10) ms" }.joined(separator: ", ")
    }
}
