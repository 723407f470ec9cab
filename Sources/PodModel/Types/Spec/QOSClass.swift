/// A pod's quality-of-service class, from its containers' requests and limits, as
/// Kubernetes' qos.GetPodQOS decides it (pkg/apis/core/helper/qos): only cpu and memory
/// count, and zero amounts count as unset.
public enum QOSClass: String, Sendable, CaseIterable {
    /// Every container has cpu and memory limits, and requests equal to them.
    case guaranteed = "Guaranteed"
    /// Some request or limit is set, but not enough for Guaranteed.
    case burstable = "Burstable"
    /// No container requests or limits cpu or memory.
    case bestEffort = "BestEffort"

    /// The class of a pod with `spec`: init and app containers count, ephemeral ones do not;
    /// when the pod sets resources of its own (cpu, memory or hugepages), those alone count
    /// (ComputePodQOS with PodLevelResources and PodLevelResourcesFixKubeletQOSClass).
    public init(_ spec: PodSpec) {
        let computeResources = [ResourceRequirements.cpu, ResourceRequirements.memory]
        // Totals in thousandths of a unit (millicores; bytes × 1000), saturating.
        var requests: [String: Int64] = [:]
        var limits: [String: Int64] = [:]
        var guaranteed = true
        if let podLevel = spec.resources, podLevel.isSet {
            for name in computeResources {
                if let request = podLevel.requests[name], !request.isZero { requests[name] = Self.add(nil, request) }
                if let limit = podLevel.limits[name], !limit.isZero { limits[name] = Self.add(nil, limit) }
            }
            // Pod limits, when there are any, must cover both cpu and memory; with none, the
            // requests alone make the pod Burstable below.
            if !podLevel.limits.isEmpty && limits.count < computeResources.count { guaranteed = false }
        } else {
            for container in spec.initContainers + spec.containers {
                for name in computeResources {
                    if let request = container.resources.requests[name], !request.isZero {
                        requests[name] = Self.add(requests[name], request)
                    }
                    if let limit = container.resources.limits[name], !limit.isZero {
                        limits[name] = Self.add(limits[name], limit)
                    } else {
                        guaranteed = false
                    }
                }
            }
        }
        if requests.isEmpty && limits.isEmpty {
            self = .bestEffort
        } else if guaranteed && limits.count == computeResources.count && requests.count == limits.count
            && requests.allSatisfy({ limits[$0.key] == $0.value })
        {
            self = .guaranteed
        } else {
            self = .burstable
        }
    }

    private static func add(_ total: Int64?, _ amount: Quantity) -> Int64 {
        let (sum, overflow) = (total ?? 0).addingReportingOverflow(amount.milliValue ?? Int64.max)
        return overflow ? Int64.max : sum
    }
}
