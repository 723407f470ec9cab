/// A port a container listens on: informational, as in Kubernetes, unless it has a hostPort,
/// which podd publishes on the host (CNI portmap; hostIP narrows it to one address).
public struct ContainerPort: JSONConvertible {
    public var name: String?
    public var containerPort: Int32
    /// Defaults to TCP, as Kubernetes' defaulting does.
    public var `protocol`: PortProtocol
    public var hostPort: Int32?
    public var hostIP: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String? = nil, containerPort: Int32, protocol: PortProtocol = .tcp) {
        self.name = name
        self.containerPort = containerPort
        self.protocol = `protocol`
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name")
        let containerPort = reader.int32("containerPort") ?? 0
        let portProtocol = reader.enumeration("protocol", PortProtocol.self, order: [.sctp, .tcp, .udp]) ?? .tcp
        let hostPort = reader.int32("hostPort")
        let hostIP = reader.string("hostIP")
        try reader.finish()
        self.init(name: name, containerPort: containerPort, protocol: portProtocol)
        self.hostPort = hostPort == 0 ? nil : hostPort
        self.hostIP = hostIP
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", nonEmpty: name)
        writer.set("containerPort", .int(Int64(containerPort)))
        writer.set("protocol", .string(`protocol`.rawValue))
        writer.set("hostPort", hostPort)
        writer.set("hostIP", nonEmpty: hostIP)
        return writer.json
    }
}

/// A port's protocol.
public enum PortProtocol: String, Sendable, CaseIterable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"
}
