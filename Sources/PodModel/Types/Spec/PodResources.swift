/// A pod's own `spec.resources` (Kubernetes' PodLevelResources: beta and on by default since
/// 1.34): what the pod as a whole asks for and may use at most, whatever its containers set.
/// Only `cpu`, `memory` and `hugepages-<size>` may be set (PodResourcesValidation); the pod's
/// cgroup carries the limits (CgroupLimits.pod) and the QoS class is computed from them
/// (QOSClass).
///
/// Decoding refuses `claims` with Kubernetes' message and applies none of a container's
/// defaulting: the pod's defaults depend on its containers (`defaulted(for:)`).
public struct PodResources: JSONConvertible {
    public var limits: [String: Quantity]
    public var requests: [String: Quantity]

    public init(limits: [String: Quantity] = [:], requests: [String: Quantity] = [:]) {
        self.limits = limits
        self.requests = requests
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let limits = ResourceRequirements.readList(&reader, "limits")
        let requests = ResourceRequirements.readList(&reader, "requests")
        if reader.value("claims") != nil {
            // validatePodResources' message: a claim is a container's, never the pod's.
            reader.invalid(.forbidden(path.child("claims"), "claims cannot be set for Resources at pod-level"))
        }
        try reader.finish()
        self.init(limits: limits, requests: requests)
    }

    public var json: JSONValue { requirements.json }

    /// The same amounts as a container's requirements (for their unit conversions).
    public var requirements: ResourceRequirements { ResourceRequirements(limits: limits, requests: requests) }

    // MARK: Supported resources

    /// The resources a pod may set for itself (SupportedPodLevelResources), as Kubernetes
    /// lists them in its message: `hugepages-` stands for every page size.
    public static let supportedNames = [ResourceRequirements.cpu, ResourceRequirements.hugepagesPrefix, ResourceRequirements.memory]

    /// IsSupportedPodLevelResource: cpu, memory, and hugepages of any size.
    public static func isSupported(_ name: String) -> Bool {
        name == ResourceRequirements.cpu || name == ResourceRequirements.memory || name.hasPrefix(ResourceRequirements.hugepagesPrefix)
    }

    /// Whether the pod sets any resource it may set (IsPodLevelResourcesSet): only then do
    /// its own amounts replace its containers' totals.
    public var isSet: Bool { limitsSet || requestsSet }

    /// Whether a limit of a supported resource is set (IsPodLevelLimitsSet).
    public var limitsSet: Bool { limits.keys.contains(where: Self.isSupported) }

    /// Whether a request of a supported resource is set (IsPodLevelRequestsSet).
    public var requestsSet: Bool { requests.keys.contains(where: Self.isSupported) }

    // MARK: Defaulting

    /// The API server's defaulting of pod-level resources (SetDefaults_Pod in
    /// pkg/apis/core/v1/defaults.go), run after the containers' own (a container's request
    /// defaults to its limit):
    /// - defaultHugePagePodLimits: a hugepage size the containers limit, which the pod
    ///   neither limits nor requests, is limited to the containers' total;
    /// - defaultPodRequests (only when the pod sets limits): a cpu or memory request the pod
    ///   leaves out is the containers' total request when they request it, else the pod's
    ///   limit (hugepages too).
    /// Applying it again changes nothing.
    public func defaulted(for spec: PodSpec) -> PodResources {
        var result = self
        if !limits.isEmpty || !requests.isEmpty {
            for (name, total) in ContainerResourceTotals.limits(spec) where ResourceRequirements.hugepageSize(name) != nil {
                guard requests[name] == nil, result.limits[name] == nil else { continue }
                result.limits[name] = total.quantity
            }
        }
        guard !result.limits.isEmpty else { return result }
        for (name, total) in ContainerResourceTotals.requests(spec) {
            // Hugepages cannot be overcommitted: their request follows the limit below.
            guard result.requests[name] == nil, Self.isSupported(name), ResourceRequirements.hugepageSize(name) == nil else { continue }
            result.requests[name] = total.quantity
        }
        for (name, limit) in result.limits where result.requests[name] == nil && Self.isSupported(name) {
            result.requests[name] = limit
        }
        return result
    }
}
