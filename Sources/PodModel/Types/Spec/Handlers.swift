/// Runs a command inside the container (probes and hooks).
struct ExecAction: JSONConvertible {
    var command: [String]

    init(command: [String]) { self.command = command }

    init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let command = reader.strings("command")
        try reader.finish()
        self.init(command: command)
    }

    var json: JSONValue {
        // Written even when empty: the API server keeps `exec: {command: []}` as given.
        .object(["command": .array(command.map(JSONValue.string))])
    }
}

/// An HTTP GET against the pod (probes and hooks); success is a status in 200 ..< 400.
public struct HTTPGetAction: JSONConvertible {
    /// Defaults to "/".
    public var path: String
    /// A port number or the name of a container port.
    public var port: IntOrString
    /// Defaults to the pod's IP (in podd, its loopback).
    public var host: String?
    public var scheme: URIScheme
    public var httpHeaders: [HTTPHeader]

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(path: String = "/", port: IntOrString, host: String? = nil, scheme: URIScheme = .http, httpHeaders: [HTTPHeader] = []) {
        self.path = path
        self.port = port
        self.host = host
        self.scheme = scheme
        self.httpHeaders = httpHeaders
    }

    public init(json: JSONValue, path fieldPath: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: fieldPath)
        let path = reader.string("path") ?? ""
        // A missing port reads as 0, which validation then reports as out of range, as
        // Kubernetes does.
        let port = reader.intOrString("port") ?? .int(0)
        let host = reader.string("host")
        let scheme = reader.enumeration("scheme", URIScheme.self) ?? .http
        let headers = reader.list("httpHeaders", of: HTTPHeader.self)
        try reader.finish()
        self.init(path: path.isEmpty ? "/" : path, port: port, host: host, scheme: scheme, httpHeaders: headers)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("path", .string(path))
        writer.set("port", port.json)
        writer.set("host", nonEmpty: host)
        writer.set("scheme", .string(scheme.rawValue))
        writer.set("httpHeaders", list: httpHeaders)
        return writer.json
    }
}

/// The scheme of an HTTP GET.
public enum URIScheme: String, Sendable, CaseIterable {
    case http = "HTTP"
    case https = "HTTPS"
}

/// A header sent with an HTTP GET.
public struct HTTPHeader: JSONConvertible {
    public var name: String
    public var value: String

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let value = reader.string("value") ?? ""
        try reader.finish()
        self.init(name: name, value: value)
    }

    public var json: JSONValue {
        .object(["name": .string(name), "value": .string(value)])
    }
}

/// A TCP connection to the pod; success is the connection being accepted.
public struct TCPSocketAction: JSONConvertible {
    public var port: IntOrString
    public var host: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(port: IntOrString, host: String? = nil) {
        self.port = port
        self.host = host
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let port = reader.intOrString("port") ?? .int(0)
        let host = reader.string("host")
        try reader.finish()
        self.init(port: port, host: host)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("port", port.json)
        writer.set("host", nonEmpty: host)
        return writer.json
    }
}

/// A gRPC health check (grpc.health.v1.Health/Check) against the pod.
public struct GRPCAction: JSONConvertible {
    public var port: Int32
    /// The service name sent in the request; empty checks the server as a whole. Defaulted
    /// to "" as the API server defaults it: clients read it without a nil check (kubectl
    /// describe dereferences it).
    public var service: String

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(port: Int32, service: String = "") {
        self.port = port
        self.service = service
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let port = reader.int32("port") ?? 0
        let service = reader.string("service") ?? ""
        try reader.finish()
        self.init(port: port, service: service)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("port", .int(Int64(port)))
        writer.set("service", .string(service))
        return writer.json
    }
}

/// A pause (preStop and postStart hooks).
struct SleepAction: JSONConvertible {
    var seconds: Int64

    init(seconds: Int64) { self.seconds = seconds }

    init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let seconds = reader.int64("seconds") ?? 0
        try reader.finish()
        self.init(seconds: seconds)
    }

    var json: JSONValue { .object(["seconds": .int(seconds)]) }
}

/// Reads an object whose action is inlined as exactly one of several members (a probe's
/// exec/httpGet/tcpSocket/grpc, a hook's exec/httpGet/sleep), reporting none or several as
/// Kubernetes does.
enum HandlerReader {
    /// The one handler member present, or nil after recording why there is not exactly one.
    static func single(_ keys: [String], in reader: inout ObjectReader) -> String? {
        var chosen: String?
        for key in keys where reader.has(key) {
            if chosen == nil {
                chosen = key
            } else {
                _ = reader.value(key)
                reader.invalid(.forbidden(reader.path.child(key), "may not specify more than 1 handler type"))
            }
        }
        if chosen == nil { reader.invalid(.required(reader.path, "must specify a handler type")) }
        return chosen
    }
}
