/// What kubelet's eviction manager checks of a pod's local storage (localStorageEviction in
/// pkg/kubelet/eviction/eviction_manager.go), and its verdict: the limits a pod sets
/// (emptyDir sizeLimits, its containers' ephemeral-storage limits and their total as
/// PodLimits adds them up) and, given what is in use, kubelet's eviction message for the
/// first one exceeded, in kubelet's order: emptyDir volumes, the pod's total, each container.
public struct EphemeralStorageLimits: Sendable, Equatable {
    /// A limit, with the format its quantity was written in (for kubelet's message).
    public struct Limit: Sendable, Equatable {
        public var name: String
        public var bytes: Int64
        public var format: Quantity.Format

        var text: String { Quantity.canonical(bytes, format: format) }
    }

    /// Disk-backed emptyDir volumes with a sizeLimit (a `medium: Memory` one is a tmpfs of
    /// that size: it cannot grow past it).
    public var emptyDirs: [Limit] = []
    /// The sum of the containers' limits (nil when none sets one), as kubelet's PodLimits:
    /// app containers and native sidecars added up, and no less than any init container
    /// with the sidecars before it.
    public var pod: Limit?
    /// App containers with a limit other than 0 (kubelet checks only those one by one).
    public var containers: [Limit] = []

    /// What is in use, in bytes (allocated blocks).
    public struct Usage: Sendable, Equatable {
        /// Per container (app, init and ephemeral): its writable layer and its log files.
        public var containers: [String: Int64]
        /// Per volume kubelet counts as the pod's local ephemeral storage
        /// (`countedVolumes`): disk-backed emptyDirs and configMaps.
        public var volumes: [String: Int64]
        /// The pod's /etc/hosts, /etc/hostname and /etc/resolv.conf, bound writable into each
        /// container: kubelet's pod stats count etc-hosts, and podd counts the other two as
        /// well, since a container can fill them as easily (they live in podd's run dir).
        public var etcFiles: Int64

        public init(containers: [String: Int64] = [:], volumes: [String: Int64] = [:], etcFiles: Int64 = 0) {
            self.containers = containers
            self.volumes = volumes
            self.etcFiles = etcFiles
        }

        /// The pod's total, as kubelet's pod stats sum it (calcEphemeralStorage): containers'
        /// layers and logs, local ephemeral volumes, and the etc-hosts file (with podd's other two).
        public var total: Int64 { containers.values.reduce(0, +) + volumes.values.reduce(0, +) + etcFiles }
    }

    /// The volumes kubelet counts in a pod's ephemeral storage: those IsLocalEphemeralVolume
    /// accepts (pkg/volume/util), a disk-backed emptyDir and a configMap (whose files kubelet
    /// writes on an emptyDir on disk). Secret, downwardAPI and projected volumes are written on
    /// a tmpfs by kubelet (their wrapped emptyDir has medium Memory) and do not count, nor
    /// does a hostPath (no usage is reported for it).
    public static func countedVolumes(_ spec: PodSpec) -> [Volume] {
        spec.volumes.filter { volume in
            switch volume.source {
            case let .emptyDir(e): return e.medium != .memory
            case .configMap: return true
            default: return false
            }
        }
    }

    public init(spec: PodSpec) {
        for volume in spec.volumes {
            guard case let .emptyDir(e) = volume.source, e.medium != .memory, let limit = e.sizeLimit, limit.value > 0 else { continue }
            emptyDirs.append(Limit(name: volume.name, bytes: limit.value, format: limit.format))
        }
        func limit(_ c: Container) -> Quantity? { c.resources.limits[ResourceRequirements.ephemeralStorage] }
        // PodLimits (k8s.io/component-helpers/resource): an added amount keeps the format of
        // the first one; the larger of two keeps its own.
        func add(_ total: Limit?, _ q: Quantity?) -> Limit? {
            guard let q else { return total }
            guard var total else { return Limit(name: "", bytes: q.value, format: q.format) }
            total.bytes += q.value
            return total
        }
        func larger(_ a: Limit?, _ b: Limit?) -> Limit? {
            guard let a else { return b }
            guard let b else { return a }
            return b.bytes > a.bytes ? b : a
        }
        var sum: Limit?
        for c in spec.containers { sum = add(sum, limit(c)) }
        var sidecars: Limit?
        var initMax: Limit?
        for c in spec.initContainers {
            if c.restartPolicy == .always {
                sum = add(sum, limit(c))
                sidecars = add(sidecars, limit(c))
                initMax = larger(initMax, sidecars)
            } else {
                var own = add(nil, limit(c))
                if let sidecars { own = add(own, Quantity(sidecars.bytes)) }
                initMax = larger(initMax, own)
            }
        }
        pod = larger(sum, initMax)
        for c in spec.containers {
            guard let q = limit(c), q.value != 0 else { continue }
            containers.append(Limit(name: c.name, bytes: q.value, format: q.format))
        }
    }

    /// Whether there is anything to watch (no timer otherwise).
    public var isEmpty: Bool { emptyDirs.isEmpty && pod == nil && containers.isEmpty }

    /// kubelet's eviction message for the first limit `usage` exceeds, or nil.
    public func violation(_ usage: Usage) -> String? {
        for v in emptyDirs {
            if let used = usage.volumes[v.name], used > v.bytes {
                return "Usage of EmptyDir volume \"\(v.name)\" exceeds the limit \"\(v.text)\". "
            }
        }
        if let pod, usage.total > pod.bytes {
            return "Pod ephemeral local storage usage exceeds the total limit of containers \(pod.text). "
        }
        for c in containers {
            if let used = usage.containers[c.name], used > c.bytes {
                return "Container \(c.name) exceeded its local ephemeral storage limit \"\(c.text)\". "
            }
        }
        return nil
    }
}
