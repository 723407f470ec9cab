/// How a pod's /etc/resolv.conf is made (`spec.dnsPolicy`). podd has no cluster DNS, so
/// `ClusterFirst` and `ClusterFirstWithHostNet` mean the host's resolvers, as kubelet falls
/// back to them when it has no cluster DNS configured.
public enum DNSPolicy: String, Sendable, CaseIterable {
    case clusterFirstWithHostNet = "ClusterFirstWithHostNet"
    case clusterFirst = "ClusterFirst"
    case `default` = "Default"
    /// Only what `dnsConfig` says.
    case none = "None"
}

/// `spec.dnsConfig`: nameservers, search domains and options added to (or, with dnsPolicy
/// None, making up) the pod's resolv.conf.
public struct PodDNSConfig: JSONConvertible {
    public var nameservers: [String]
    public var searches: [String]
    public var options: [PodDNSConfigOption]

    public init(nameservers: [String] = [], searches: [String] = [], options: [PodDNSConfigOption] = []) {
        self.nameservers = nameservers
        self.searches = searches
        self.options = options
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let nameservers = reader.strings("nameservers")
        let searches = reader.strings("searches")
        let options = reader.list("options", of: PodDNSConfigOption.self)
        try reader.finish()
        self.init(nameservers: nameservers, searches: searches, options: options)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("nameservers", strings: nameservers)
        writer.set("searches", strings: searches)
        writer.set("options", list: options)
        return writer.json
    }
}

/// One resolver option (`ndots: "5"`, `edns0`).
public struct PodDNSConfigOption: JSONConvertible {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let value = reader.string("value")
        try reader.finish()
        self.init(name: name, value: value)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("value", value)
        return writer.json
    }
}
