/// A startup, liveness or readiness probe, with Kubernetes' defaults applied on decoding
/// (a field left out or set to 0 gets its default, as Kubernetes' defaulting does).
public struct Probe: JSONConvertible {
    public var handler: ProbeHandler
    /// Seconds after the container starts before the first probe; default 0.
    public var initialDelaySeconds: Int32
    /// Seconds before a probe attempt counts as failed; default 1.
    public var timeoutSeconds: Int32
    /// Seconds between attempts; default 10.
    public var periodSeconds: Int32
    /// Consecutive successes to count as passing after a failure; default 1 (and must be 1
    /// for liveness and startup probes).
    public var successThreshold: Int32
    /// Consecutive failures to count as failing; default 3.
    public var failureThreshold: Int32
    /// Liveness and startup probes: the grace period of the kill a failure causes, in place
    /// of the pod's (Kubernetes' ProbeTerminationGracePeriod); nil: the pod's.
    public var terminationGracePeriodSeconds: Int64?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        handler: ProbeHandler,
        initialDelaySeconds: Int32 = 0,
        timeoutSeconds: Int32 = 1,
        periodSeconds: Int32 = 10,
        successThreshold: Int32 = 1,
        failureThreshold: Int32 = 3
    ) {
        self.handler = handler
        self.initialDelaySeconds = initialDelaySeconds
        self.timeoutSeconds = timeoutSeconds
        self.periodSeconds = periodSeconds
        self.successThreshold = successThreshold
        self.failureThreshold = failureThreshold
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        var handler: ProbeHandler?
        switch HandlerReader.single(["exec", "httpGet", "tcpSocket", "grpc"], in: &reader) {
        case "exec": handler = reader.decode("exec", as: ExecAction.self).map { .exec(command: $0.command) }
        case "httpGet": handler = reader.decode("httpGet", as: HTTPGetAction.self).map(ProbeHandler.httpGet)
        case "tcpSocket": handler = reader.decode("tcpSocket", as: TCPSocketAction.self).map(ProbeHandler.tcpSocket)
        case "grpc": handler = reader.decode("grpc", as: GRPCAction.self).map(ProbeHandler.grpc)
        default: break
        }
        let initialDelaySeconds = reader.int32("initialDelaySeconds") ?? 0
        let timeoutSeconds = reader.int32("timeoutSeconds") ?? 0
        let periodSeconds = reader.int32("periodSeconds") ?? 0
        let successThreshold = reader.int32("successThreshold") ?? 0
        let failureThreshold = reader.int32("failureThreshold") ?? 0
        let grace = reader.int64("terminationGracePeriodSeconds")
        try reader.finish()
        // finish() has thrown unless a handler decoded.
        guard let handler else { throw ManifestError.invalid([.required(path, "must specify a handler type")], objectName: "") }
        self.init(
            handler: handler,
            initialDelaySeconds: initialDelaySeconds,
            timeoutSeconds: timeoutSeconds == 0 ? 1 : timeoutSeconds,
            periodSeconds: periodSeconds == 0 ? 10 : periodSeconds,
            successThreshold: successThreshold == 0 ? 1 : successThreshold,
            failureThreshold: failureThreshold == 0 ? 3 : failureThreshold
        )
        terminationGracePeriodSeconds = grace
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        switch handler {
        case .exec(let command): writer.set("exec", ExecAction(command: command).json)
        case .httpGet(let action): writer.set("httpGet", action.json)
        case .tcpSocket(let action): writer.set("tcpSocket", action.json)
        case .grpc(let action): writer.set("grpc", action.json)
        }
        if initialDelaySeconds != 0 { writer.set("initialDelaySeconds", .int(Int64(initialDelaySeconds))) }
        writer.set("timeoutSeconds", .int(Int64(timeoutSeconds)))
        writer.set("periodSeconds", .int(Int64(periodSeconds)))
        writer.set("successThreshold", .int(Int64(successThreshold)))
        writer.set("failureThreshold", .int(Int64(failureThreshold)))
        writer.set("terminationGracePeriodSeconds", terminationGracePeriodSeconds)
        return writer.json
    }
}

/// How a probe checks the container.
public enum ProbeHandler: Sendable, Equatable {
    /// Runs a command in the container; exit status 0 is success.
    case exec(command: [String])
    case httpGet(HTTPGetAction)
    case tcpSocket(TCPSocketAction)
    case grpc(GRPCAction)
}
