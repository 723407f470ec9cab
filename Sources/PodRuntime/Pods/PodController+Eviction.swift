import PodModel
import PodOS

/// Local storage limits, watched as kubelet's eviction manager watches them: every
/// `eviction.checkInterval` (10 s) the writable layer and log files of each container, each
/// disk-backed emptyDir and configMap volume and the hosts file of the pod are measured (one
/// walk each, on a thread of its own),
/// and a limit exceeded evicts the pod through the lifecycle machine (`.evict`). Only pods
/// that set such a limit are measured, and only while they are active: without one there is
/// no timer at all, so podd stays idle.
extension PodController {
    /// What to measure, as kubelet's pod stats count it: each container's writable layer and
    /// log directory (and the termination log podd binds into it), each disk-backed emptyDir
    /// and configMap volume (kept in the run dir), and the pod's etc files (hosts, hostname,
    /// resolv.conf).
    struct StorageTargets: Sendable {
        var containers: [(name: String, paths: [String])] = []
        var volumes: [(name: String, path: String)] = []
        var etcDirectory: String?

        /// Walks every target (blocking: run it off the actor's threads).
        func measure() -> EphemeralStorageLimits.Usage {
            var usage = EphemeralStorageLimits.Usage()
            for c in containers { usage.containers[c.name] = c.paths.reduce(0) { $0 + DiskUsage.bytes(under: $1) } }
            for v in volumes { usage.volumes[v.name] = DiskUsage.bytes(under: v.path) }
            if let etcDirectory { usage.etcFiles = DiskUsage.bytes(under: etcDirectory) }
            return usage
        }
    }

    /// Starts the periodic check when the pod has a limit to watch and is active (not
    /// finished, evicted or being deleted), and ends it once it is not. Called after each
    /// batch of actions and after a re-adoption.
    func watchStorage() {
        let active = !gone && !lifecycle.isFinished && !lifecycle.isTerminating
        guard active else {
            storageWatch?.cancel()
            storageWatch = nil
            return
        }
        guard storageWatch == nil, !storageLimits.isEmpty else { return }
        let interval = Int64((context.config.eviction.checkInterval * 1000).rounded())
        storageWatch = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(interval))
                guard !Task.isCancelled, let targets = await self?.storageTargets() else { return }
                let usage = await Self.measure(targets)
                guard !Task.isCancelled else { return }
                await self?.storageMeasured(usage)
            }
        }
    }

    /// The paths to measure now, or nil when the pod is no longer watched.
    func storageTargets() -> StorageTargets? {
        guard storageWatch != nil, !gone else { return nil }
        var targets = StorageTargets()
        for c in lifecycle.containers {
            let name = c.spec.name
            targets.containers.append((name, [layout.containerDirectories(name).upper, layout.logDirectory + "/" + name,
                                              layout.terminationLog(name)]))
        }
        for v in EphemeralStorageLimits.countedVolumes(pod.spec) {
            targets.volumes.append((v.name, layout.volumeSource(v)))
        }
        targets.etcDirectory = layout.runDirectory + "/etc"
        return targets
    }

    /// Measures on a thread of its own: a large tree takes a while to walk, and no thread of
    /// the cooperative pool waits for it.
    static func measure(_ targets: StorageTargets) async -> EphemeralStorageLimits.Usage {
        await withCheckedContinuation { (done: CheckedContinuation<EphemeralStorageLimits.Usage, Never>) in
            do throws(OSError) {
                try DetachedThread.start { done.resume(returning: targets.measure()) }
            } catch {
                done.resume(returning: targets.measure())
            }
        }
    }

    /// A measurement: past a limit, the machine evicts the pod.
    func storageMeasured(_ usage: EphemeralStorageLimits.Usage) {
        guard !gone, storageWatch != nil, let message = storageLimits.violation(usage) else { return }
        context.logger.info("pod \(pod.metadata.namespace)/\(pod.metadata.name): evicted: \(message)")
        apply(lifecycle.handle(.evict(message: message), at: RuntimeClock.now()))
    }
}
