/// What a pod runs: its containers and volumes, how it restarts and how it stops.
///
/// Kubernetes fields podd does not implement (service account tokens, runtime classes,
/// resource claims, ...) are refused on decoding with their path, except when they hold the value the
/// API server fills in by default (schedulerName default-scheduler, enableServiceLinks true,
/// ...), which changes nothing.
public struct PodSpec: JSONConvertible {
    public var volumes: [Volume]
    /// Run one at a time, in order, each to completion, before the app containers (a native
    /// sidecar, restartPolicy Always, counts once started and keeps running).
    public var initContainers: [Container]
    /// The app containers.
    public var containers: [Container]
    /// Debug containers added while the pod runs.
    public var ephemeralContainers: [EphemeralContainer]
    public var restartPolicy: RestartPolicy
    /// Seconds between SIGTERM and SIGKILL when a container stops; default 30.
    public var terminationGracePeriodSeconds: Int64
    /// One PID namespace for the whole pod instead of one per container.
    public var shareProcessNamespace: Bool
    /// The pod's hostname; defaults to the pod's name.
    public var hostname: String?
    /// Defaults for every container's securityContext, and the pod's own (groups, sysctls).
    public var securityContext: PodSecurityContext?
    /// The host's PID namespace instead of the pod's or the container's own.
    public var hostPID: Bool
    /// The host's IPC namespace instead of the pod's.
    public var hostIPC: Bool
    /// false: the pod in a user namespace of its own (nil and true: the host's).
    public var hostUsers: Bool?
    /// The pod uses the host's network namespace (podIP is the host's).
    public var hostNetwork = false
    public var dnsPolicy = DNSPolicy.clusterFirst
    public var dnsConfig: PodDNSConfig?
    public var hostAliases: [HostAlias] = []
    /// With a subdomain, the pod's FQDN is HOSTNAME.SUBDOMAIN.NAMESPACE.svc.cluster.local.
    public var subdomain: String?
    /// Secrets (dockerconfigjson or dockercfg) whose registry credentials the pod's pulls use.
    public var imagePullSecrets: [LocalObjectReference] = []
    /// What the pod as a whole asks for and may use (pod-level resources), defaulted.
    public var resources: PodResources?
    /// How long the pod may be active, from its start, before it is stopped and Failed with
    /// reason DeadlineExceeded (as kubelet's pastActiveDeadline); nil: no deadline.
    public var activeDeadlineSeconds: Int64?
    /// The node the pod is bound to: podd's own (the machine's host name), set when the pod is
    /// admitted and fits there, as the scheduler's binding sets it; another node's is refused.
    public var nodeName: String?
    /// Labels podd's node must have for the pod to run there (NodeScheduling).
    public var nodeSelector: [String: String] = [:]
    /// Taints the pod tolerates; podd's node has none (Toleration).
    public var tolerations: [Toleration] = []
    /// `os.name`: the OS the pod is for ("linux" or "windows"); podd's node is Linux, and a
    /// Windows pod is rejected as kubelet rejects it (NodeScheduling).
    public var osName: String?
    /// Its node affinity and pod (anti-)affinity (NodeScheduling).
    public var affinity: Affinity?
    /// While any is left, the pod is not scheduled (NodeScheduling); they may only be removed.
    public var schedulingGates: [PodSchedulingGate] = []
    /// Conditions, set through the pod's status, that must be True for the pod to be Ready.
    public var readinessGates: [PodReadinessGate] = []
    /// A PriorityClass (PodPriority), and the priority and preemption policy it gives.
    public var priorityClassName: String?
    public var priority: Int32?
    /// "PreemptLowerPriority" or "Never", from the class.
    public var preemptionPolicy: String?
    /// How the pod and its kind may spread over topology domains (PodTopologySpread).
    public var topologySpreadConstraints: [TopologySpreadConstraint] = []
    /// The kernel's hostname is the pod's FQDN (with a subdomain) rather than its hostname
    /// (PodHostname).
    public var setHostnameAsFQDN: Bool?
    /// The pod's ServiceAccount, which must exist (`default` by default; the deprecated
    /// `serviceAccount` is read when this is empty, as the API server reads it).
    public var serviceAccountName = ServiceAccount.defaultName

    /// Kubernetes' default grace period.
    public static let defaultTerminationGracePeriodSeconds: Int64 = 30

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        volumes: [Volume] = [],
        initContainers: [Container] = [],
        containers: [Container] = [],
        ephemeralContainers: [EphemeralContainer] = [],
        restartPolicy: RestartPolicy = .always,
        terminationGracePeriodSeconds: Int64 = PodSpec.defaultTerminationGracePeriodSeconds,
        shareProcessNamespace: Bool = false,
        hostname: String? = nil,
        securityContext: PodSecurityContext? = nil,
        hostPID: Bool = false,
        hostIPC: Bool = false,
        hostUsers: Bool? = nil
    ) {
        self.volumes = volumes
        self.initContainers = initContainers
        self.containers = containers
        self.ephemeralContainers = ephemeralContainers
        self.restartPolicy = restartPolicy
        self.terminationGracePeriodSeconds = terminationGracePeriodSeconds
        self.shareProcessNamespace = shareProcessNamespace
        self.hostname = hostname
        self.securityContext = securityContext
        self.hostPID = hostPID
        self.hostIPC = hostIPC
        self.hostUsers = hostUsers
    }

    /// Kubernetes PodSpec fields podd does not implement, with the defaults that mean "unset".
    static let unsupportedFields = [
        "automountServiceAccountToken",
        "schedulerName",
        "runtimeClassName",
        "enableServiceLinks",
        "overhead",
        "resourceClaims",
    ]
    static let serverDefaults: [String: JSONValue] = [
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "enableServiceLinks": true,
    ]

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let volumes = reader.list("volumes", of: Volume.self)
        let initContainers = reader.list("initContainers", of: Container.self)
        let containers = reader.list("containers", of: Container.self)
        let ephemeralContainers = reader.list("ephemeralContainers", of: EphemeralContainer.self)
        let restartPolicy = reader.enumeration("restartPolicy", RestartPolicy.self, order: [.always, .onFailure, .never]) ?? .always
        let grace = reader.int64("terminationGracePeriodSeconds") ?? Self.defaultTerminationGracePeriodSeconds
        let shareProcessNamespace = reader.bool("shareProcessNamespace") ?? false
        let hostname = reader.string("hostname")
        let securityContext = reader.decode("securityContext", as: PodSecurityContext.self)
        let hostPID = reader.bool("hostPID") ?? false
        let hostIPC = reader.bool("hostIPC") ?? false
        let hostUsers = reader.bool("hostUsers")
        let hostNetwork = reader.bool("hostNetwork") ?? false
        let dnsPolicy = reader.enumeration("dnsPolicy", DNSPolicy.self) ?? .clusterFirst
        let dnsConfig = reader.decode("dnsConfig", as: PodDNSConfig.self)
        let hostAliases = reader.list("hostAliases", of: HostAlias.self)
        let subdomain = reader.string("subdomain")
        let imagePullSecrets = reader.list("imagePullSecrets", of: LocalObjectReference.self)
        let resources = reader.decode("resources", as: PodResources.self)
        let activeDeadlineSeconds = reader.int64("activeDeadlineSeconds")
        let nodeName = reader.string("nodeName")
        let nodeSelector = reader.stringMap("nodeSelector")
        let tolerations = reader.list("tolerations", of: Toleration.self)
        let os = reader.decode("os", as: PodOS.self)
        let affinity = reader.decode("affinity", as: Affinity.self)
        let schedulingGates = reader.list("schedulingGates", of: PodSchedulingGate.self)
        let spread = reader.list("topologySpreadConstraints", of: TopologySpreadConstraint.self)
        let priorityClassName = reader.string("priorityClassName")
        let readinessGates = reader.list("readinessGates", of: PodReadinessGate.self)
        let priority = reader.int32("priority")
        let preemptionPolicy = reader.string("preemptionPolicy")
        let setHostnameAsFQDN = reader.bool("setHostnameAsFQDN")
        let serviceAccountName = reader.string("serviceAccountName")
        let deprecatedServiceAccount = reader.string("serviceAccount")
        reader.reject(Self.unsupportedFields, unlessEqual: Self.serverDefaults)
        try reader.finish()
        self.init(
            volumes: volumes,
            initContainers: initContainers,
            containers: containers,
            ephemeralContainers: ephemeralContainers,
            restartPolicy: restartPolicy,
            terminationGracePeriodSeconds: grace,
            shareProcessNamespace: shareProcessNamespace,
            hostname: hostname,
            securityContext: securityContext,
            hostPID: hostPID,
            hostIPC: hostIPC,
            hostUsers: hostUsers
        )
        self.hostNetwork = hostNetwork
        self.dnsPolicy = dnsPolicy
        self.dnsConfig = dnsConfig
        self.hostAliases = hostAliases
        self.subdomain = subdomain
        self.imagePullSecrets = imagePullSecrets
        self.resources = resources?.defaulted(for: self)
        self.activeDeadlineSeconds = activeDeadlineSeconds
        self.nodeName = nodeName.flatMap { $0.isEmpty ? nil : $0 }
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        osName = os?.name
        self.affinity = affinity.flatMap { $0 == Affinity() ? nil : $0 }
        self.schedulingGates = schedulingGates
        topologySpreadConstraints = spread
        self.priorityClassName = priorityClassName.flatMap { $0.isEmpty ? nil : $0 }
        self.priority = priority
        self.preemptionPolicy = preemptionPolicy
        self.readinessGates = readinessGates
        self.setHostnameAsFQDN = setHostnameAsFQDN
        for name in [serviceAccountName, deprecatedServiceAccount] {
            if let name, !name.isEmpty {
                self.serviceAccountName = name
                break
            }
        }
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("volumes", list: volumes)
        writer.set("initContainers", list: initContainers)
        writer.set("containers", .array(containers.map(\.json)))
        writer.set("ephemeralContainers", list: ephemeralContainers)
        writer.set("restartPolicy", .string(restartPolicy.rawValue))
        writer.set("terminationGracePeriodSeconds", .int(terminationGracePeriodSeconds))
        writer.set("activeDeadlineSeconds", activeDeadlineSeconds)
        writer.set("nodeSelector", map: nodeSelector)
        writer.set("nodeName", nonEmpty: nodeName)
        writer.set("shareProcessNamespace", ifTrue: shareProcessNamespace)
        writer.set("hostname", nonEmpty: hostname)
        writer.set("securityContext", securityContext)
        writer.set("hostPID", ifTrue: hostPID)
        writer.set("hostIPC", ifTrue: hostIPC)
        writer.set("hostUsers", hostUsers)
        writer.set("hostNetwork", ifTrue: hostNetwork)
        if dnsPolicy != .clusterFirst { writer.set("dnsPolicy", .string(dnsPolicy.rawValue)) }
        writer.set("dnsConfig", dnsConfig)
        writer.set("hostAliases", list: hostAliases)
        writer.set("subdomain", nonEmpty: subdomain)
        writer.set("imagePullSecrets", list: imagePullSecrets)
        writer.set("resources", resources)
        writer.set("tolerations", list: tolerations)
        writer.set("os", osName.map { PodOS(name: $0) })
        writer.set("affinity", affinity)
        writer.set("readinessGates", list: readinessGates)
        writer.set("setHostnameAsFQDN", setHostnameAsFQDN)
        writer.set("priorityClassName", nonEmpty: priorityClassName)
        writer.set("priority", priority)
        writer.set("preemptionPolicy", preemptionPolicy)
        writer.set("topologySpreadConstraints", list: topologySpreadConstraints)
        writer.set("schedulingGates", list: schedulingGates)
        // Written beside the deprecated field, as the API server writes both; `default` is
        // left out, as podd leaves out the other defaults.
        if serviceAccountName != ServiceAccount.defaultName {
            writer.set("serviceAccountName", .string(serviceAccountName))
            writer.set("serviceAccount", .string(serviceAccountName))
        }
        return writer.json
    }
}

/// When a pod's containers are restarted after they exit.
public enum RestartPolicy: String, Sendable, CaseIterable {
    /// After any exit.
    case always = "Always"
    /// After a non-zero exit.
    case onFailure = "OnFailure"
    /// Never.
    case never = "Never"
}

/// `spec.os`: the one field it has.
struct PodOS: JSONConvertible {
    var name: String

    init(name: String) { self.name = name }

    init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        try reader.finish()
        self.init(name: name)
    }

    var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        return writer.json
    }
}
