import PodModel
import PodNetwork

/// The config's `network:` key: the CNI network podd attaches its pods to, or `none` for
/// loopback-only pods (each pod's network namespace holds only `lo`, as before CNI).
public struct NetworkSettings: Sendable, Equatable {
    /// False for `network: none`.
    public var enabled = true
    public var cniConfDir = "/etc/podd/cni"
    public var cniBinDir = ["/usr/lib/cni", "/opt/cni/bin"]
    /// The name of the conflist the pods are attached to.
    public var defaultNetwork = "podd"
    /// The default network's subnet (used when podd writes its default conflist).
    public var subnet = IPv4Subnet.poddDefault

    public init() {}

    /// `network: none`.
    public static var none: NetworkSettings {
        var s = NetworkSettings()
        s.enabled = false
        return s
    }

    /// One line for `podd --check-config`.
    public var summary: String {
        enabled ? "network {cniConfDir \(cniConfDir), cniBinDir [\(cniBinDir.joined(separator: ", "))], defaultNetwork \(defaultNetwork), subnet \(subnet)}"
                : "network none"
    }

    static let keys = "cniConfDir, cniBinDir, defaultNetwork, subnet"

    static func parse(_ value: JSONValue, source: String) throws(PoddConfig.ConfigError) -> NetworkSettings {
        typealias Failure = PoddConfig.ConfigError
        if value.stringValue == "none" { return .none }
        guard let object = value.objectValue else {
            throw Failure(message: "\(source): network: expected `none` or a mapping with \(keys)")
        }
        var settings = NetworkSettings()
        for (key, v) in object {
            switch key {
            case "cniConfDir":
                guard let p = v.stringValue, p.hasPrefix("/") else {
                    throw Failure(message: "\(source): network.cniConfDir: must be an absolute directory, got \(v.stringValue ?? v.typeName)")
                }
                settings.cniConfDir = p
            case "cniBinDir":
                let entries = v.arrayValue ?? [v]
                let dirs = entries.compactMap(\.stringValue)
                guard !dirs.isEmpty, dirs.count == entries.count, dirs.allSatisfy({ $0.hasPrefix("/") && !$0.contains(":") }) else {
                    throw Failure(message: "\(source): network.cniBinDir: expected a list of absolute directories, such as [/usr/lib/cni, /opt/cni/bin]")
                }
                settings.cniBinDir = dirs
            case "defaultNetwork":
                guard let name = v.stringValue, !name.isEmpty, name.utf8.count <= 253,
                      name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
                    throw Failure(message: "\(source): network.defaultNetwork: expected a network name (letters, digits, - _ .), got \(v.stringValue ?? v.typeName)")
                }
                settings.defaultNetwork = name
            case "subnet":
                guard let text = v.stringValue, let subnet = IPv4Subnet(text) else {
                    throw Failure(message: "\(source): network.subnet: \"\(v.stringValue ?? v.typeName)\" is not an IPv4 network in CIDR form with room for pods (/8 to /30, host bits zero; example: 10.88.0.0/16)")
                }
                settings.subnet = subnet
            default:
                throw Failure(message: "\(source): network.\(key): unknown key (known: \(keys); or `network: none`)")
            }
        }
        return settings
    }
}
