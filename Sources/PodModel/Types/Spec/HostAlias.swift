/// `spec.hostAliases[]`: extra lines of the pod's /etc/hosts.
public struct HostAlias: JSONConvertible {
    public var ip: String
    public var hostnames: [String]

    public init(ip: String, hostnames: [String]) {
        self.ip = ip
        self.hostnames = hostnames
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let ip = reader.string("ip") ?? ""
        let hostnames = reader.strings("hostnames")
        try reader.finish()
        self.init(ip: ip, hostnames: hostnames)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("ip", .string(ip))
        writer.set("hostnames", strings: hostnames)
        return writer.json
    }
}
