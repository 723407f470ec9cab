/// The OOM killer's bias (`/proc/PID/oom_score_adj`) for a container, as kubelet computes it
/// (pkg/kubelet/qos/policy.go, GetContainerOOMScoreAdjust): the kernel kills BestEffort
/// containers first, Burstable ones by how little memory they asked for, Guaranteed ones
/// last, and podd itself (`daemon`, kubelet's own -999) never before a container.
public enum OOMScoreAdjust {
    /// podd and its monitors: kubelet's and the container runtime's value.
    public static let daemon = -999
    public static let guaranteed = -997
    public static let bestEffort = 1000

    /// The value for the container `name` of `spec` (app, init or ephemeral: an ephemeral
    /// one requests nothing) on a machine with `memoryCapacity` bytes.
    public static func container(named name: String, of spec: PodSpec, memoryCapacity: Int64) -> Int {
        // A node-critical pod is the last to be killed, whatever it asked for.
        if PodPriority.isNodeCritical(spec) { return guaranteed }
        switch QOSClass(spec) {
        case .guaranteed: return guaranteed
        case .bestEffort: return bestEffort
        case .burstable: break
        }
        guard memoryCapacity > 0 else { return bestEffort - 1 }
        func score(_ request: Int64) -> Int64 {
            let share = request.multipliedReportingOverflow(by: 1000)
            return 1000 - (share.overflow ? Int64.max : share.partialValue) / memoryCapacity
        }
        let container = spec.containers.first { $0.name == name } ?? spec.initContainers.first { $0.name == name }
        var adjust = score(container.map(memoryRequest) ?? 0)
        // A native sidecar is killed no sooner than the app containers it serves.
        if let container, container.isSidecar, spec.initContainers.contains(where: { $0.name == name }),
           let smallest = spec.containers.map(memoryRequest).min() {
            adjust = min(adjust, score(smallest))
        }
        // Below every Guaranteed container's (-997 + 1000 at most), above none of BestEffort.
        if adjust < Int64(1000 + guaranteed) { return 1000 + guaranteed }
        if adjust >= Int64(bestEffort) { return bestEffort - 1 }
        return Int(adjust)
    }

    private static func memoryRequest(_ container: Container) -> Int64 {
        max(container.resources.requests[ResourceRequirements.memory]?.value ?? 0, 0)
    }
}
