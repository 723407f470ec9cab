/// What a pod is doing, as Kubernetes' PodStatus. Always written with its phase.
public struct PodStatus: JSONConvertible {
    public var phase: PodPhase
    public var conditions: [PodCondition]
    public var message: String?
    public var reason: String?
    /// The node a pod that preempted others waits for (their graceful termination).
    public var nominatedNodeName: String?
    public var hostIP: String?
    public var podIP: String?
    public var startTime: Timestamp?
    public var initContainerStatuses: [ContainerStatus]
    public var containerStatuses: [ContainerStatus]
    /// Kubernetes' QoS class; podd sets no resources, so BestEffort when set.
    public var qosClass: String?
    public var ephemeralContainerStatuses: [ContainerStatus]

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        phase: PodPhase = .pending,
        conditions: [PodCondition] = [],
        message: String? = nil,
        reason: String? = nil,
        hostIP: String? = nil,
        podIP: String? = nil,
        startTime: Timestamp? = nil,
        initContainerStatuses: [ContainerStatus] = [],
        containerStatuses: [ContainerStatus] = [],
        qosClass: String? = nil,
        ephemeralContainerStatuses: [ContainerStatus] = []
    ) {
        self.phase = phase
        self.conditions = conditions
        self.message = message
        self.reason = reason
        self.hostIP = hostIP
        self.podIP = podIP
        self.startTime = startTime
        self.initContainerStatuses = initContainerStatuses
        self.containerStatuses = containerStatuses
        self.qosClass = qosClass
        self.ephemeralContainerStatuses = ephemeralContainerStatuses
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let phase = reader.enumeration("phase", PodPhase.self, order: [.pending, .running, .succeeded, .failed, .unknown]) ?? .pending
        let conditions = reader.list("conditions", of: PodCondition.self)
        let message = reader.string("message")
        let reason = reader.string("reason")
        let nominated = reader.string("nominatedNodeName")
        let hostIP = reader.string("hostIP")
        let podIP = reader.string("podIP")
        let startTime = reader.timestamp("startTime")
        let initContainerStatuses = reader.list("initContainerStatuses", of: ContainerStatus.self)
        let containerStatuses = reader.list("containerStatuses", of: ContainerStatus.self)
        let qosClass = reader.string("qosClass")
        let ephemeralContainerStatuses = reader.list("ephemeralContainerStatuses", of: ContainerStatus.self)
        // The plural forms repeat hostIP and podIP; they are written from them.
        reader.ignore(["hostIPs", "podIPs"])
        try reader.finish()
        self.init(phase: phase, conditions: conditions, message: message, reason: reason, hostIP: hostIP, podIP: podIP,
                  startTime: startTime, initContainerStatuses: initContainerStatuses, containerStatuses: containerStatuses,
                  qosClass: qosClass, ephemeralContainerStatuses: ephemeralContainerStatuses)
        nominatedNodeName = nominated
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("phase", .string(phase.rawValue))
        writer.set("conditions", list: conditions)
        writer.set("message", nonEmpty: message)
        writer.set("reason", nonEmpty: reason)
        writer.set("nominatedNodeName", nonEmpty: nominatedNodeName)
        if let hostIP, !hostIP.isEmpty {
            writer.set("hostIP", .string(hostIP))
            writer.set("hostIPs", .array([.object(["ip": .string(hostIP)])]))
        }
        if let podIP, !podIP.isEmpty {
            writer.set("podIP", .string(podIP))
            writer.set("podIPs", .array([.object(["ip": .string(podIP)])]))
        }
        writer.set("startTime", startTime)
        writer.set("initContainerStatuses", list: initContainerStatuses)
        writer.set("containerStatuses", list: containerStatuses)
        writer.set("qosClass", nonEmpty: qosClass)
        writer.set("ephemeralContainerStatuses", list: ephemeralContainerStatuses)
        return writer.json
    }
}

/// A pod's phase, as kubelet computes it.
public enum PodPhase: String, Sendable, CaseIterable {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"

    /// Whether no container of the pod will run again.
    public var isTerminal: Bool { self == .succeeded || self == .failed }
}

/// One condition of a pod: PodScheduled, Initialized, ContainersReady, Ready,
/// PodReadyToStartContainers.
public struct PodCondition: JSONConvertible {
    public var type: String
    /// "True", "False" or "Unknown".
    public var status: String
    public var lastProbeTime: Timestamp?
    public var lastTransitionTime: Timestamp?
    public var reason: String?
    public var message: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(type: String, status: String, lastProbeTime: Timestamp? = nil, lastTransitionTime: Timestamp? = nil,
                reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.lastProbeTime = lastProbeTime
        self.lastTransitionTime = lastTransitionTime
        self.reason = reason
        self.message = message
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let type = reader.string("type") ?? ""
        let status = reader.string("status") ?? ""
        let lastProbeTime = reader.timestamp("lastProbeTime")
        let lastTransitionTime = reader.timestamp("lastTransitionTime")
        let reason = reader.string("reason")
        let message = reader.string("message")
        reader.ignore(["observedGeneration"])
        try reader.finish()
        self.init(type: type, status: status, lastProbeTime: lastProbeTime, lastTransitionTime: lastTransitionTime,
                  reason: reason, message: message)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("type", .string(type))
        writer.set("status", .string(status))
        // The API server writes an unset probe time as null (a non-pointer metav1.Time).
        writer.set("lastProbeTime", lastProbeTime.map { JSONValue.string($0.rfc3339) } ?? .null)
        writer.set("lastTransitionTime", lastTransitionTime)
        writer.set("reason", nonEmpty: reason)
        writer.set("message", nonEmpty: message)
        return writer.json
    }
}

/// The pod conditions kubelet owns: a status update sets only the others (a controller's).
public enum PodConditionOwners {
    public static let kubelet: Set<String> = ["PodScheduled", "PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"]
}
