import PodModel
import PodOS

/// A replaced spec (PUT, apply, a patch of the spec, `kubectl set image`) runs in place of
/// the old one: podd stops the old spec's containers and starts the new spec's, where kubelet
/// restarts the containers whose definition changed. The pod's history goes on as it does
/// there: each container's restart count and last state carry over (its next start is a
/// restart), and so do its log's run numbers (`logs --previous` shows the run the new spec
/// replaced); the pod keeps its start time and its conditions' transition times.
extension PodController {
    /// Seeds this controller, not yet admitted, from `replaced`: the old spec's last status,
    /// taken once its containers have stopped.
    func continueHistory(from replaced: PodStatus, now: Timestamp) {
        if let started = replaced.startTime { startTime = started }
        conditions.seed(from: replaced.conditions)
        let (restored, _, _) = restoredContainers(checkpoint: replaced, states: [:], now: now)
        seedRuns(restored, checkpoint: replaced)
        // Every run of the old spec has ended by now; one still shown running ended with its
        // monitor, killed.
        let killed = PodLifecycle.Termination.recorded(exitCode: 137, signal: 0, reason: "Error",
                                                        message: "The container was stopped to run the pod's new spec",
                                                        startedAt: nil, finishedAt: now, containerID: nil)
        lifecycle.carryOver(restored, lost: killed)
        removeLogsOfContainersGone()
    }

    /// The logs of containers the new spec no longer has: nothing can ask for them any more.
    private func removeLogsOfContainersGone() {
        let names = Set(pod.spec.initContainers.map(\.name) + pod.spec.containers.map(\.name)
                        + pod.spec.ephemeralContainers.map(\.name))
        for entry in FileSystem.listDirectory(layout.logDirectory) where !names.contains(entry) {
            let path = layout.logDirectory + "/" + entry
            do { try FileSystem.removeTree(path) } catch {
                context.logger.error("pod \(pod.metadata.namespace)/\(pod.metadata.name): removing \(path): \(error)")
            }
        }
    }
}
