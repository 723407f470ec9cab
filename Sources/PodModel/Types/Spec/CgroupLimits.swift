/// The cgroup settings that carry out a container's or a pod's resources, converted as
/// kubelet converts them (pkg/kubelet/cm/helpers_linux.go): cpu.shares from the cpu
/// request, a CFS quota per 100 ms period from the cpu limit, the memory limit as is, and
/// cgroup v2's cpu.weight from the shares as runc maps them. Pure: the OS layer writes the
/// files (v2 or v1, whichever the machine has).
public struct CgroupLimits: Sendable, Equatable {
    /// memory.max / memory.limit_in_bytes, in bytes; nil: unlimited.
    public var memoryBytes: Int64?
    /// cpu.max's quota / cpu.cfs_quota_us, in microseconds per `cpuPeriodMicros`; nil: unlimited.
    public var cpuQuotaMicros: Int64?
    /// cpu.shares (v1); nil: left at the kernel's default.
    public var cpuShares: Int64?
    /// pids.max; nil: unlimited.
    public var pidsMax: Int64?
    /// hugetlb.<size>.max / .limit_in_bytes: page size in bytes to bytes.
    public var hugepages: [HugepageLimit] = []

    /// One hugepage size's limit.
    public struct HugepageLimit: Sendable, Equatable {
        public var pageSize: Int64
        public var bytes: Int64
    }

    /// kubelet's CFS period (100 ms).
    public static let cpuPeriodMicros: Int64 = 100_000
    /// The smallest quota the kernel takes (1 ms), kubelet's MinQuotaPeriod.
    public static let minQuotaMicros: Int64 = 1_000
    /// cpu.shares bounds (kubelet's MinShares, MaxShares).
    public static let minShares: Int64 = 2
    public static let maxShares: Int64 = 262_144

    public init(memoryBytes: Int64? = nil, cpuQuotaMicros: Int64? = nil, cpuShares: Int64? = nil, pidsMax: Int64? = nil,
                hugepages: [HugepageLimit] = []) {
        self.memoryBytes = memoryBytes
        self.cpuQuotaMicros = cpuQuotaMicros
        self.cpuShares = cpuShares
        self.pidsMax = pidsMax
        self.hugepages = hugepages
    }

    /// Nothing to set.
    public var isEmpty: Bool { memoryBytes == nil && cpuQuotaMicros == nil && cpuShares == nil && pidsMax == nil && hugepages.isEmpty }

    /// cgroup v2's cpu.weight for `cpuShares` (1 + ((shares − 2) × 9999) / 262142, as runc).
    public var cpuWeight: Int64? { cpuShares.map(Self.weight(shares:)) }

    /// cgroup v2's cpu.max: "QUOTA PERIOD" or "max PERIOD".
    public var cpuMax: String {
        "\(cpuQuotaMicros.map(String.init) ?? "max") \(Self.cpuPeriodMicros)"
    }

    // MARK: Conversions

    /// kubelet's MilliCPUToShares: 1024 shares a core, at least 2, at most 262144.
    public static func shares(milliCPU: Int64) -> Int64 {
        if milliCPU <= 0 { return minShares }
        let shares = milliCPU.multipliedReportingOverflow(by: 1024).overflow ? maxShares : milliCPU * 1024 / 1000
        return Swift.min(Swift.max(shares, minShares), maxShares)
    }

    /// kubelet's MilliCPUToQuota: microseconds per period, at least 1 ms; nil for no limit.
    public static func quota(milliCPU: Int64, periodMicros: Int64 = cpuPeriodMicros) -> Int64? {
        guard milliCPU > 0 else { return nil }
        let (product, overflow) = milliCPU.multipliedReportingOverflow(by: periodMicros)
        guard !overflow else { return nil }
        return Swift.max(product / 1000, minQuotaMicros)
    }

    /// runc's ConvertCPUSharesToCgroupV2Value: shares 2...262144 onto weight 1...10000.
    public static func weight(shares: Int64) -> Int64 {
        guard shares > 0 else { return 100 }   // unset: the kernel's default weight
        let clamped = Swift.min(Swift.max(shares, minShares), maxShares)
        return 1 + ((clamped - 2) * 9999) / 262_142
    }

    // MARK: From a spec

    /// A container's settings: only what its resources set (a container without any keeps
    /// the pod's).
    public static func container(_ resources: ResourceRequirements) -> CgroupLimits {
        var limits = CgroupLimits()
        guard !resources.isEmpty else { return limits }
        limits.memoryBytes = resources.memoryLimitBytes.flatMap { $0 > 0 ? $0 : nil }
        limits.cpuQuotaMicros = resources.cpuLimitMillis.flatMap { quota(milliCPU: $0) }
        // As kubelet: the request's shares, or the limit's when only a limit is set.
        let request = resources.cpuRequestMillis ?? 0
        limits.cpuShares = shares(milliCPU: request == 0 ? (resources.cpuLimitMillis ?? 0) : request)
        limits.hugepages = resources.hugepageLimits.map { HugepageLimit(pageSize: $0.pageSize, bytes: $0.bytes) }
        return limits
    }

    /// A container's settings in a pod that may set resources of its own: a cpu or memory
    /// limit the container does not set is the pod's (kubelet's getCPULimit and getMemoryLimit
    /// with pod-level resources), so that what reads the container's own cgroup (a JVM sizing
    /// its heap) sees the pod's size, and its shares follow that cpu limit as kubelet's do when
    /// no cpu is requested. Limits of its own stay.
    public static func container(_ resources: ResourceRequirements, podLevel: PodResources?) -> CgroupLimits {
        guard let podLevel, podLevel.isSet else { return container(resources) }
        var effective = resources
        for name in [ResourceRequirements.cpu, ResourceRequirements.memory] {
            guard effective.limits[name].map(\.isZero) ?? true, let podLimit = podLevel.limits[name], !podLimit.isZero else { continue }
            effective.limits[name] = podLimit
        }
        return container(effective)
    }

    /// The pod's settings, as kubelet's pod-level cgroup (ResourceConfigForPod): cpu.shares
    /// from the sum of requests; memory and cpu limits only when every container has one
    /// (the larger of the app containers' sum and the largest init container's); pids.max
    /// from podd's `podPidsLimit` (-1 or 0: none); hugepages summed. The pod's own
    /// `spec.resources` replace what they set (podLevel).
    public static func pod(_ spec: PodSpec, pidsLimit: Int64) -> CgroupLimits {
        var limits = CgroupLimits()
        limits.pidsMax = pidsLimit > 0 ? pidsLimit : nil
        let all = spec.initContainers + spec.containers
        if all.contains(where: { !$0.resources.isEmpty }) { limits.fromContainers(spec) }
        if let podLevel = spec.resources, podLevel.isSet { limits.apply(podLevel) }
        return limits
    }

    /// With pod-level resources, kubelet's PodRequests and PodLimits take the pod's amount of
    /// each resource it sets in place of its containers' total, and a pod-level limit counts
    /// as declared even when a container has none (ResourceConfigForPod): the pod's memory
    /// limit is memory.max, its cpu limit the quota, its cpu request the shares, its hugepage
    /// requests (equal to the limits) hugetlb's limits. Containers keep their own limits.
    mutating func apply(_ podLevel: PodResources) {
        let resources = podLevel.requirements
        if let memory = resources.memoryLimitBytes, memory > 0 { memoryBytes = memory }
        if let cpu = resources.cpuLimitMillis, cpu > 0 { cpuQuotaMicros = Self.quota(milliCPU: cpu) }
        if let request = resources.cpuRequestMillis { cpuShares = Self.shares(milliCPU: request) }
        var pages = Dictionary(hugepages.map { ($0.pageSize, $0.bytes) }, uniquingKeysWith: { $1 })
        for (name, quantity) in podLevel.requests {
            guard let size = ResourceRequirements.hugepageSize(name) else { continue }
            pages[size] = quantity.value
        }
        hugepages = pages.keys.sorted().compactMap { size in pages[size].map { HugepageLimit(pageSize: size, bytes: $0) } }
    }

    /// The settings the containers' resources make (the pod without resources of its own).
    private mutating func fromContainers(_ spec: PodSpec) {
        func total(_ amount: (ResourceRequirements) -> Int64?) -> Int64? {
            var apps: Int64 = 0
            for container in spec.containers {
                guard let value = amount(container.resources), value > 0 else { return nil }
                apps = apps.addingReportingOverflow(value).overflow ? Int64.max : apps + value
            }
            var largestInit: Int64 = 0
            for container in spec.initContainers {
                guard let value = amount(container.resources), value > 0 else { return nil }
                largestInit = Swift.max(largestInit, value)
            }
            return Swift.max(apps, largestInit)
        }
        memoryBytes = total { $0.memoryLimitBytes }
        cpuQuotaMicros = total { $0.cpuLimitMillis }.flatMap { Self.quota(milliCPU: $0) }
        let requested = spec.containers.reduce(Int64(0)) { sum, c in
            let request = c.resources.cpuRequestMillis ?? 0
            return sum &+ (request == 0 ? (c.resources.cpuLimitMillis ?? 0) : request)
        }
        cpuShares = Self.shares(milliCPU: requested)
        var pages: [Int64: Int64] = [:]
        for container in spec.containers {
            for page in container.resources.hugepageLimits { pages[page.pageSize, default: 0] &+= page.bytes }
        }
        hugepages = pages.keys.sorted().compactMap { size in pages[size].map { HugepageLimit(pageSize: size, bytes: $0) } }
    }

    /// The kernel's name of a hugepage size in hugetlb's control files ("2MB", "1GB").
    public static func hugetlbSizeName(_ pageSize: Int64) -> String {
        let units = ["KB", "MB", "GB", "TB"]
        var size = pageSize / 1024
        var unit = 0
        while size >= 1024 && size % 1024 == 0 && unit < units.count - 1 {
            size /= 1024
            unit += 1
        }
        return "\(size)\(units[unit])"
    }
}
