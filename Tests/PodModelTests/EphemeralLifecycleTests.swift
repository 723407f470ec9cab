import Testing
@testable import PodModel

/// Ephemeral (debug) containers in the pod state machine: started at once, never
/// restarted, left alone by a pod restart, stopped with the pod, pruned once ended.
struct EphemeralLifecycleTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 1_000_000)

    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    /// A pod of a crash-looping app and a healthy sidecar-like app, running.
    func running() -> L {
        var m = L(podName: "p", podRef: "p_default(uid)",
                  containers: [.init(name: "app", role: .app), .init(name: "side", role: .app)],
                  policy: .always, scope: .pod, gracePeriod: 30, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("app", containerID: "a"), at: at(0.1))
        _ = m.handle(.started("side", containerID: "s"), at: at(0.1))
        return m
    }

    func signals(_ actions: [L.Action]) -> [String] {
        actions.compactMap {
            switch $0 {
            case let .terminate(n): return "\(n):15"
            case let .kill(n): return "\(n):9"
            default: return nil
            }
        }
    }

    @Test func startsAtOnceAndIsNeverRestarted() {
        var m = running()
        let actions = m.addEphemeral("dbg", at: at(1))
        #expect(actions.contains(.start("dbg")))
        _ = m.handle(.started("dbg", containerID: "d"), at: at(1.1))
        let after = m.handle(.exited("dbg", exitCode: 3, signal: 0, startedAt: at(1.1), finishedAt: at(2)), at: at(2))
        #expect(!after.contains(.start("dbg")))
        if case let .terminated(t)? = m.container("dbg")?.state { #expect(t.exitCode == 3) } else { Issue.record("not terminated") }
        #expect(m.stage == .running)
        let removed = m.removeEphemeral("dbg")
        #expect(removed)
        #expect(m.container("dbg") == nil)
    }

    /// Debugging a crash-looping pod: the debug container may start while the pod stops its
    /// other containers for a restart (which can last a grace period); it must not be stopped.
    @Test func startedWhileThePodRestartsItRunsOn() {
        var m = running()
        let crash = m.handle(.exited("app", exitCode: 1, signal: 0, startedAt: at(0.1), finishedAt: at(1)), at: at(1))
        #expect(signals(crash) == ["side:15"])
        #expect(m.isStoppingForRestart)
        _ = m.addEphemeral("dbg", at: at(1.5))
        let started = m.handle(.started("dbg", containerID: "d"), at: at(1.6))
        #expect(signals(started).isEmpty)
        // The pod's restart neither waits for it nor stops it.
        let stopped = m.handle(.exited("side", exitCode: 143, signal: 15, startedAt: at(0.1), finishedAt: at(2)), at: at(2))
        #expect(signals(stopped).isEmpty)
        #expect(m.container("dbg")?.isRunning == true)
    }

    @Test func stoppedWithThePodAndRefusedOnceTerminating() {
        var m = running()
        _ = m.addEphemeral("dbg", at: at(1))
        _ = m.handle(.started("dbg", containerID: "d"), at: at(1.1))
        let delete = m.handle(.delete(deadline: at(7.0)), at: at(2))
        #expect(signals(delete).contains("dbg:15"))
        let late = m.addEphemeral("late", at: at(3))
        #expect(late.isEmpty)
        let removed = m.removeEphemeral("dbg")
        #expect(!removed)  // still running
    }
}
