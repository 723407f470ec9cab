/// A container's state, as Kubernetes' ContainerState: at most one of waiting, running and
/// terminated is set (none set is read as waiting, as kubectl does).
public struct ContainerState: JSONConvertible {
    public var waiting: ContainerStateWaiting?
    public var running: ContainerStateRunning?
    public var terminated: ContainerStateTerminated?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(waiting: ContainerStateWaiting? = nil, running: ContainerStateRunning? = nil, terminated: ContainerStateTerminated? = nil) {
        self.waiting = waiting
        self.running = running
        self.terminated = terminated
    }

    /// Whether no state is set (`lastState: {}` of a container that never ended).
    public var isEmpty: Bool { waiting == nil && running == nil && terminated == nil }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let waiting = reader.decode("waiting", as: ContainerStateWaiting.self)
        let running = reader.decode("running", as: ContainerStateRunning.self)
        let terminated = reader.decode("terminated", as: ContainerStateTerminated.self)
        try reader.finish()
        self.init(waiting: waiting, running: running, terminated: terminated)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("waiting", waiting)
        writer.set("running", running)
        writer.set("terminated", terminated)
        return writer.json
    }
}

/// Not running yet: reason ContainerCreating, PodInitializing, CrashLoopBackOff,
/// ErrImageNeverPull, ...
public struct ContainerStateWaiting: JSONConvertible {
    public var reason: String?
    public var message: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(reason: String? = nil, message: String? = nil) {
        self.reason = reason
        self.message = message
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let reason = reader.string("reason")
        let message = reader.string("message")
        try reader.finish()
        self.init(reason: reason, message: message)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("reason", nonEmpty: reason)
        writer.set("message", nonEmpty: message)
        return writer.json
    }
}

/// Running since `startedAt`.
public struct ContainerStateRunning: JSONConvertible {
    public var startedAt: Timestamp?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(startedAt: Timestamp? = nil) {
        self.startedAt = startedAt
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let startedAt = reader.timestamp("startedAt")
        try reader.finish()
        self.init(startedAt: startedAt)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("startedAt", startedAt)
        return writer.json
    }
}

/// Ended: reason Completed (exit 0), Error, OOMKilled, StartError, ...
public struct ContainerStateTerminated: JSONConvertible {
    public var exitCode: Int32
    /// The signal that ended it, if one did.
    public var signal: Int32?
    public var reason: String?
    public var message: String?
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    public var containerID: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        exitCode: Int32,
        signal: Int32? = nil,
        reason: String? = nil,
        message: String? = nil,
        startedAt: Timestamp? = nil,
        finishedAt: Timestamp? = nil,
        containerID: String? = nil
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.reason = reason
        self.message = message
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.containerID = containerID
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let exitCode = reader.int32("exitCode") ?? 0
        let signal = reader.int32("signal")
        let reason = reader.string("reason")
        let message = reader.string("message")
        let startedAt = reader.timestamp("startedAt")
        let finishedAt = reader.timestamp("finishedAt")
        let containerID = reader.string("containerID")
        try reader.finish()
        self.init(exitCode: exitCode, signal: signal, reason: reason, message: message,
                  startedAt: startedAt, finishedAt: finishedAt, containerID: containerID)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        // exitCode is required by the API, so written even when 0.
        writer.set("exitCode", .int(Int64(exitCode)))
        if let signal, signal != 0 { writer.set("signal", .int(Int64(signal))) }
        writer.set("reason", nonEmpty: reason)
        writer.set("message", nonEmpty: message)
        writer.set("startedAt", startedAt)
        writer.set("finishedAt", finishedAt)
        writer.set("containerID", nonEmpty: containerID)
        return writer.json
    }
}
