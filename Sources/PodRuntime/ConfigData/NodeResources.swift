import Glibc
import PodModel

/// What the machine offers, kubelet's node allocatable: the values the downward API gives for
/// `limits.*` of a container without limits of its own.
struct NodeResources: Sendable {
    var cpuMillis: Int64
    var memoryBytes: Int64
    var ephemeralStorageBytes: Int64

    static func detect(stateDir: String) -> NodeResources {
        let cpus = Int64(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let memory = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))
        var fs = statvfs()
        let disk = statvfs(stateDir, &fs) == 0 ? Int64(fs.f_blocks) * Int64(fs.f_frsize) : 0
        return NodeResources(cpuMillis: cpus * 1000, memoryBytes: memory, ephemeralStorageBytes: disk)
    }

    /// What stands for the machine's for the containers of a pod with `podLevel` resources:
    /// the pod's own cpu and memory limits where it sets them (kubelet's
    /// defaultPodLimitsForDownwardAPI with pod-level resources), else the machine's.
    func bounded(by podLevel: PodResources?) -> NodeResources {
        guard let podLevel, podLevel.limitsSet else { return self }
        var result = self
        let limits = podLevel.requirements
        if let cpu = limits.cpuLimitMillis, cpu > 0 { result.cpuMillis = cpu }
        if let memory = limits.memoryLimitBytes, memory > 0 { result.memoryBytes = memory }
        return result
    }

    /// The value of `selector` as kubelet writes it for a container with `resources`: its own
    /// limit or request where it sets one, else (limits) the machine's, as kubelet's node
    /// allocatable, and 0 for a request it does not set; rounded up to whole divisors.
    func value(_ selector: ResourceFieldSelector, resources: ResourceRequirements? = nil) -> String {
        let divisor = selector.divisor.flatMap { DownwardAPIField.divisorMillis($0, resource: selector.resource) } ?? 1000
        func scaled(_ bytes: Int64) -> Int64 { bytes.multipliedReportingOverflow(by: 1000).partialValue }
        let millis: Int64
        switch selector.resource {
        case "limits.cpu": millis = resources?.cpuLimitMillis ?? cpuMillis
        case "limits.memory": millis = scaled(resources?.memoryLimitBytes ?? memoryBytes)
        case "limits.ephemeral-storage": millis = scaled(resources?.ephemeralStorageLimitBytes ?? ephemeralStorageBytes)
        case "requests.cpu": millis = resources?.cpuRequestMillis ?? 0
        case "requests.memory": millis = scaled(resources?.requests[ResourceRequirements.memory]?.value ?? 0)
        case "requests.ephemeral-storage": millis = scaled(resources?.requests[ResourceRequirements.ephemeralStorage]?.value ?? 0)
        default: millis = 0
        }
        guard divisor > 0 else { return "0" }
        return String((millis + divisor - 1) / divisor)
    }
}

extension Pod {
    /// The resources of the app or init container `name` (the downward API's `containerName`).
    func containerResources(named name: String) -> ResourceRequirements? {
        (spec.containers + spec.initContainers).first { $0.name == name }?.resources
    }
}
