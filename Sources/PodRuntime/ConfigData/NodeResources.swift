import Glibc
import PodModel

/// What the machine offers, kubelet's node allocatable: the values the downward API gives for
/// `limits.*` of a container without limits (podd sets none).
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

    /// The value of `selector` as kubelet writes it: cpu rounded up to whole divisors, memory
    /// and storage likewise; requests without a value are 0.
    func value(_ selector: ResourceFieldSelector) -> String {
        let divisor = selector.divisor.flatMap { DownwardAPIField.divisorMillis($0, resource: selector.resource) } ?? 1000
        let millis: Int64
        switch selector.resource {
        case "limits.cpu": millis = cpuMillis
        case "limits.memory": millis = memoryBytes.multipliedReportingOverflow(by: 1000).partialValue
        case "limits.ephemeral-storage": millis = ephemeralStorageBytes.multipliedReportingOverflow(by: 1000).partialValue
        default: millis = 0
        }
        guard divisor > 0 else { return "0" }
        return String((millis + divisor - 1) / divisor)
    }
}
