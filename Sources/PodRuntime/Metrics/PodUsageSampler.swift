import Glibc
import PodModel
import PodOS
import Synchronization

/// CPU and memory of pods and their containers, read from their cgroups when asked (no
/// timer: podd stays idle between scrapes). CPU is a rate, as metrics-server reports it:
/// the usage between this sample and the last one kept for the same pod or container (at
/// least `minimumWindow` old), or since the container started when there is none yet.
public final class PodUsageSampler: Sendable {
    /// One container's or pod's figures.
    public struct Usage: Sendable {
        public var name: String
        /// Cumulative CPU time, nanoseconds.
        public var cpuNanoseconds: UInt64
        /// CPU in use over `windowSeconds`, in millicores.
        public var cpuMillicores: Int64
        public var memoryWorkingSetBytes: Int64
        public var oomKills: Int64
        public var windowSeconds: Double
    }

    private struct Sample {
        var cpu: UInt64
        var at: Double
    }

    let cgroups: CgroupHierarchy?
    /// Per key (uid or uid/container): the last sample and the one before it.
    private let samples = Mutex<[String: (last: Sample, previous: Sample?)]>([:])
    /// The metrics' reader of control files, which keeps them open between scrapes.
    private let reader = Mutex(CgroupStatReader())
    /// The uids of the last `retain`.
    private let retained = Mutex<Set<String>>([])
    /// The shortest window a rate is taken over.
    static let minimumWindow = 1.0

    public init(cgroups: CgroupHierarchy?) {
        self.cgroups = cgroups
    }

    /// The usage of `pod` and of each of its containers that has one; nil when the pod has
    /// no cgroup (not running, or a machine without one).
    public func usage(of pod: Pod) -> (pod: Usage, containers: [Usage])? {
        // A pod without groups (not running) reads no cpu figure below: nil.
        guard let cgroups, let uid = pod.metadata.uid else { return nil }
        let now = RuntimeClock.monotonic()
        // The groups count from the pod's start (a container's group outlives its restarts).
        func started(_ name: String?) -> Double? {
            pod.status.startTime.map { RuntimeClock.now().seconds(since: $0) }
        }
        func figure(_ name: String, key: String, _ raw: CgroupHierarchy.Usage, ranFor: Double?) -> Usage? {
            guard let cpu = raw.cpuNanoseconds else { return nil }
            let (rate, window) = rate(key: key, cpu: cpu, at: now, ranFor: ranFor)
            return Usage(name: name, cpuNanoseconds: cpu, cpuMillicores: rate, memoryWorkingSetBytes: raw.memoryWorkingSetBytes ?? 0,
                         oomKills: raw.oomKills ?? 0, windowSeconds: window)
        }
        // The control files are read under the reader's lock, the figures made after.
        let raw = reader.withLock { reader in
            (pod: cgroups.usage(uid: uid, container: nil, reader: reader),
             containers: pod.status.containerStatuses.filter { $0.state.running != nil }.map {
                 (name: $0.name, usage: cgroups.usage(uid: uid, container: $0.name, reader: reader))
             })
        }
        guard let podUsage = figure(pod.metadata.name, key: uid, raw.pod, ranFor: started(nil)) else { return nil }
        var containers: [Usage] = []
        var withoutMemory: [Int] = []
        for (name, raw) in raw.containers {
            if var u = figure(name, key: uid + "/" + name, raw, ranFor: started(name)) {
                if raw.memoryWorkingSetBytes == nil {
                    withoutMemory.append(containers.count)
                    u.oomKills = podUsage.oomKills
                }
                containers.append(u)
            } else {
                // No cpu figure of its own either (no v2 group): the pod's, when it is alone.
                var u = podUsage
                u.name = name
                containers.append(u)
            }
        }
        // On v1, a container without resources has no memory group of its own: what the
        // pod's group holds beyond the others' is its (the monitor's ~150 kB included),
        // shared evenly when several are without.
        if !withoutMemory.isEmpty {
            let known = containers.indices.filter { !withoutMemory.contains($0) }.reduce(Int64(0)) { $0 + containers[$1].memoryWorkingSetBytes }
            let rest = max(podUsage.memoryWorkingSetBytes - known, 0)
            for i in withoutMemory { containers[i].memoryWorkingSetBytes = rest / Int64(withoutMemory.count) }
        }
        return (podUsage, containers)
    }

    /// Millicores over the window ending now, and the window's length.
    /// The machine's usage, as metrics-server reports a node's: CPU from /proc/stat (every
    /// CPU's time but idle and iowait) as a rate like a pod's, and memory as the root
    /// cgroup's working set (in use, page cache included, less the inactive file pages).
    public func nodeUsage(name: String) -> Usage? {
        guard let stat = FileSystem.readString("/proc/stat"),
              let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is inside user and nice)
        let ticks = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard ticks.count >= 8 else { return nil }
        let busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
        let hertz = UInt64(max(1, sysconf(Int32(_SC_CLK_TCK))))
        let cpu = busy * (1_000_000_000 / hertz)
        let uptime = FileSystem.readString("/proc/uptime").flatMap { Double($0.split(separator: " ").first ?? "") }
        let (rate, window) = self.rate(key: "node:" + name, cpu: cpu, at: RuntimeClock.monotonic(), ranFor: uptime)
        let fields = MemoryInfo.read()
        let memory = max(0, (fields["MemTotal"] ?? 0) - (fields["MemFree"] ?? 0) - (fields["Inactive(file)"] ?? 0))
        return Usage(name: name, cpuNanoseconds: cpu, cpuMillicores: rate, memoryWorkingSetBytes: memory, oomKills: 0, windowSeconds: window)
    }

    private func rate(key: String, cpu: UInt64, at now: Double, ranFor: Double?) -> (Int64, Double) {
        samples.withLock { all in
            let kept = all[key]
            var base: Sample?
            if let kept {
                if now - kept.last.at >= Self.minimumWindow {
                    base = kept.last
                    all[key] = (Sample(cpu: cpu, at: now), kept.last)
                } else {
                    base = kept.previous
                }
            } else {
                all[key] = (Sample(cpu: cpu, at: now), nil)
            }
            if let base, now > base.at, cpu >= base.cpu {
                let window = now - base.at
                return (Int64(Double(cpu - base.cpu) / window / 1e6), window)
            }
            // No sample yet: the average since the container started.
            let window = max(ranFor ?? 1, 0.001)
            return (Int64(Double(cpu) / window / 1e6), window)
        }
    }

    /// Forgets the samples of pods that are gone (keys not in `uids`), and closes their
    /// control files.
    public func retain(uids: Set<String>) {
        // Nothing to forget when the pods are those of the last call (every scrape but a few).
        guard retained.withLock({ last in
            defer { last = uids }
            return last != uids
        }) else { return }
        reader.withLock { $0.forget(keeping: uids) }
        samples.withLock { all in
            all = all.filter { key, _ in uids.contains(String(key.prefix { $0 != "/" })) }
        }
    }
}
