/// A container's lifecycle hooks: postStart runs right after the container starts (the
/// container is Running only once it succeeded), preStop before it is sent SIGTERM.
public struct Lifecycle: JSONConvertible {
    public var postStart: LifecycleHandler?
    public var preStop: LifecycleHandler?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(postStart: LifecycleHandler? = nil, preStop: LifecycleHandler? = nil) {
        self.postStart = postStart
        self.preStop = preStop
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let postStart = reader.decode("postStart", as: LifecycleHandler.self)
        let preStop = reader.decode("preStop", as: LifecycleHandler.self)
        reader.reject(["stopSignal"])
        try reader.finish()
        self.init(postStart: postStart, preStop: preStop)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("postStart", postStart)
        writer.set("preStop", preStop)
        return writer.json
    }
}

/// What a lifecycle hook does. Kubernetes' deprecated tcpSocket hook (which it never runs)
/// is refused as not supported.
public enum LifecycleHandler: JSONConvertible {
    /// Runs a command in the container; a non-zero exit fails the hook.
    case exec(command: [String])
    case httpGet(HTTPGetAction)
    /// Waits this many seconds.
    case sleep(seconds: Int64)

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        var handler: LifecycleHandler?
        switch HandlerReader.single(["exec", "httpGet", "sleep", "tcpSocket"], in: &reader) {
        case "exec": handler = reader.decode("exec", as: ExecAction.self).map { .exec(command: $0.command) }
        case "httpGet": handler = reader.decode("httpGet", as: HTTPGetAction.self).map(LifecycleHandler.httpGet)
        case "sleep": handler = reader.decode("sleep", as: SleepAction.self).map { .sleep(seconds: $0.seconds) }
        case "tcpSocket":
            _ = reader.value("tcpSocket")
            reader.invalid(.notSupportedByPodd(path.child("tcpSocket")))
        default: break
        }
        try reader.finish()
        // finish() has thrown unless a handler decoded.
        guard let handler else { throw ManifestError.invalid([.required(path, "must specify a handler type")], objectName: "") }
        self = handler
    }

    public var json: JSONValue {
        switch self {
        case .exec(let command): return .object(["exec": ExecAction(command: command).json])
        case .httpGet(let action): return .object(["httpGet": action.json])
        case .sleep(let seconds): return .object(["sleep": SleepAction(seconds: seconds).json])
        }
    }
}
