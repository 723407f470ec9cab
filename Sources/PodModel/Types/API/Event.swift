/// A core/v1 Event: something that happened to a pod (Created, Started, Killing, BackOff,
/// Unhealthy, ...), as `kubectl describe` and `kubectl get events` show them.
public struct Event: JSONConvertible {
    /// The API version this object is served under.
    public static let apiVersion = "v1"
    /// The kind written in the object.
    public static let kind = "Event"

    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    /// A short CamelCase word: Created, Started, BackOff, ...
    public var reason: String
    /// What happened, for a person.
    public var message: String
    public var source: EventSource
    public var firstTimestamp: Timestamp?
    public var lastTimestamp: Timestamp?
    /// How many times it happened between firstTimestamp and lastTimestamp.
    public var count: Int32
    public var type: EventType
    /// When it was first observed, with microseconds (MicroTime).
    public var eventTime: Timestamp?
    public var reportingComponent: String
    public var reportingInstance: String

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        metadata: ObjectMeta,
        involvedObject: ObjectReference,
        reason: String,
        message: String,
        source: EventSource = EventSource(),
        firstTimestamp: Timestamp? = nil,
        lastTimestamp: Timestamp? = nil,
        count: Int32 = 1,
        type: EventType = .normal,
        eventTime: Timestamp? = nil,
        reportingComponent: String = "",
        reportingInstance: String = ""
    ) {
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.source = source
        self.firstTimestamp = firstTimestamp
        self.lastTimestamp = lastTimestamp
        self.count = count
        self.type = type
        self.eventTime = eventTime
        self.reportingComponent = reportingComponent
        self.reportingInstance = reportingInstance
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        _ = reader.string("apiVersion")
        _ = reader.string("kind")
        let metadata = reader.decode("metadata", as: ObjectMeta.self) ?? ObjectMeta()
        let involvedObject = reader.decode("involvedObject", as: ObjectReference.self) ?? ObjectReference()
        let reason = reader.string("reason") ?? ""
        let message = reader.string("message") ?? ""
        let source = reader.decode("source", as: EventSource.self) ?? EventSource()
        let firstTimestamp = reader.timestamp("firstTimestamp")
        let lastTimestamp = reader.timestamp("lastTimestamp")
        let count = reader.int32("count") ?? 0
        let type = reader.enumeration("type", EventType.self) ?? .normal
        let eventTime = reader.timestamp("eventTime")
        let reportingComponent = reader.string("reportingComponent") ?? ""
        let reportingInstance = reader.string("reportingInstance") ?? ""
        reader.ignore(["series", "action", "related"])
        try reader.finish()
        self.init(metadata: metadata, involvedObject: involvedObject, reason: reason, message: message, source: source,
                  firstTimestamp: firstTimestamp, lastTimestamp: lastTimestamp, count: count, type: type,
                  eventTime: eventTime, reportingComponent: reportingComponent, reportingInstance: reportingInstance)
    }

    /// The event as the API server writes it (eventTime null when unset, the reporting
    /// fields always present).
    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("kind", .string(Self.kind))
        writer.set("apiVersion", .string(Self.apiVersion))
        writer.set("metadata", metadata.json)
        writer.set("involvedObject", involvedObject.json)
        writer.set("reason", nonEmpty: reason)
        writer.set("message", nonEmpty: message)
        writer.set("source", source.json)
        writer.set("firstTimestamp", firstTimestamp)
        writer.set("lastTimestamp", lastTimestamp)
        if count != 0 { writer.set("count", .int(Int64(count))) }
        writer.set("type", .string(type.rawValue))
        writer.set("eventTime", eventTime.map { JSONValue.string($0.rfc3339Micro) } ?? .null)
        writer.set("reportingComponent", .string(reportingComponent))
        writer.set("reportingInstance", .string(reportingInstance))
        return writer.json
    }
}

/// Normal or Warning.
public enum EventType: String, Sendable, CaseIterable {
    case normal = "Normal"
    case warning = "Warning"
}

/// The object an event is about; fieldPath names a container: `spec.containers{app}`.
public struct ObjectReference: JSONConvertible {
    public var kind: String
    public var namespace: String?
    public var name: String
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(kind: String = "Pod", namespace: String? = nil, name: String = "", uid: String? = nil,
                apiVersion: String? = "v1", resourceVersion: String? = nil, fieldPath: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
        self.resourceVersion = resourceVersion
        self.fieldPath = fieldPath
    }

    /// A reference to `pod`, optionally to one of its containers (`spec.containers{name}`,
    /// `spec.initContainers{name}`, `spec.ephemeralContainers{name}` as kubelet writes).
    public init(pod: Pod, fieldPath: String? = nil) {
        self.init(kind: Pod.kind, namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid,
                  apiVersion: Pod.apiVersion, resourceVersion: pod.metadata.resourceVersion, fieldPath: fieldPath)
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let kind = reader.string("kind") ?? ""
        let namespace = reader.string("namespace")
        let name = reader.string("name") ?? ""
        let uid = reader.string("uid")
        let apiVersion = reader.string("apiVersion")
        let resourceVersion = reader.string("resourceVersion")
        let fieldPath = reader.string("fieldPath")
        try reader.finish()
        self.init(kind: kind, namespace: namespace, name: name, uid: uid, apiVersion: apiVersion,
                  resourceVersion: resourceVersion, fieldPath: fieldPath)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("kind", nonEmpty: kind)
        writer.set("namespace", nonEmpty: namespace)
        writer.set("name", nonEmpty: name)
        writer.set("uid", nonEmpty: uid)
        writer.set("apiVersion", nonEmpty: apiVersion)
        writer.set("resourceVersion", nonEmpty: resourceVersion)
        writer.set("fieldPath", nonEmpty: fieldPath)
        return writer.json
    }
}

/// Who reported an event: component (kubelet, podd) and host.
public struct EventSource: JSONConvertible {
    public var component: String?
    public var host: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(component: String? = nil, host: String? = nil) {
        self.component = component
        self.host = host
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let component = reader.string("component")
        let host = reader.string("host")
        try reader.finish()
        self.init(component: component, host: host)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("component", nonEmpty: component)
        writer.set("host", nonEmpty: host)
        return writer.json
    }
}
