import Testing
@testable import PodModel

/// The pod state machine, driven with a fake clock and no processes.
struct PodLifecycleTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 1_000_000)

    func machine(inits: [String] = [], sidecars: [String] = [], apps: [String], policy: L.Policy = .always,
                 scope: L.RestartScope = .pod, backoff: RestartBackoff.Settings = .init(initial: 1, max: 4, resetAfter: 30)) -> L {
        var specs: [L.ContainerSpec] = inits.map { .init(name: $0, role: .initContainer) }
        specs += sidecars.map { .init(name: $0, role: .sidecar) }
        specs += apps.map { .init(name: $0, role: .app) }
        return L(podName: "p", podRef: "p_default(uid)", containers: specs, policy: policy, scope: scope,
                 gracePeriod: 2, backoff: backoff, now: t0)
    }

    func starts(_ actions: [L.Action]) -> [String] {
        actions.compactMap { if case let .start(n) = $0 { return n } else { return nil } }
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

    func wake(_ actions: [L.Action]) -> Timestamp? {
        actions.compactMap { if case let .wake(at) = $0 { return at } else { return nil } }.min()
    }

    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    @Test func initContainersRunInOrderThenAppsTogether() {
        var m = machine(inits: ["i1", "i2"], apps: ["a", "b"])
        #expect(starts(m.handle(.admit, at: at(0))) == ["i1"])
        _ = m.handle(.started("i1", containerID: "x"), at: at(0.1))
        #expect(starts(m.handle(.exited("i1", exitCode: 0, signal: 0, startedAt: at(0.1), finishedAt: at(1)), at: at(1))) == ["i2"])
        _ = m.handle(.started("i2", containerID: "y"), at: at(1.1))
        #expect(starts(m.handle(.exited("i2", exitCode: 0, signal: 0, startedAt: at(1.1), finishedAt: at(2)), at: at(2))) == ["a", "b"])
        #expect(m.stage == .running)
    }

    @Test func failingInitRestartsPodWithBackoffSchedule() {
        var m = machine(inits: ["i1"], apps: ["a"])
        _ = m.handle(.admit, at: at(0))
        var now = 0.0
        var gaps: [Double] = []
        var lastStart = 0.0
        for _ in 0..<5 {
            _ = m.handle(.started("i1", containerID: "x"), at: at(now))
            now += 0.1
            var actions = m.handle(.exited("i1", exitCode: 1, signal: 0, startedAt: at(now - 0.1), finishedAt: at(now)), at: at(now))
            if starts(actions).isEmpty {
                let due = wake(actions)
                #expect(due != nil)
                now = due.map { $0.seconds(since: t0) } ?? now
                actions = m.handle(.tick, at: at(now))
            }
            #expect(starts(actions) == ["i1"])
            gaps.append(now - lastStart - 0.1)
            lastStart = now
        }
        // 0, 1, 2, 4, 4 seconds (the first gap is measured from t0).
        #expect(gaps.map { ($0 * 10).rounded() / 10 } == [0, 1, 2, 4, 4])
        #expect(m.container("i1")?.restartCount == 5)
        #expect(m.container("a")?.starts == 0)
    }

    @Test func neverPolicyFailedInitFinishesPod() {
        var m = machine(inits: ["i1", "i2"], apps: ["a"], policy: .never)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("i1", containerID: "x"), at: at(0))
        _ = m.handle(.exited("i1", exitCode: 0, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))
        _ = m.handle(.started("i2", containerID: "y"), at: at(1))
        let actions = m.handle(.exited("i2", exitCode: 2, signal: 0, startedAt: at(1), finishedAt: at(2)), at: at(2))
        #expect(starts(actions).isEmpty)
        #expect(m.isFinished)
        #expect(m.container("a")?.starts == 0)
    }

    @Test func podScopeAppFailureStopsOthersAndRerunsInit() {
        var m = machine(inits: ["i1"], apps: ["a", "b"], policy: .onFailure)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("i1", containerID: "x"), at: at(0))
        _ = m.handle(.exited("i1", exitCode: 0, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))
        _ = m.handle(.started("a", containerID: "a1"), at: at(1))
        _ = m.handle(.started("b", containerID: "b1"), at: at(1))
        let stop = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(1), finishedAt: at(5)), at: at(5))
        #expect(signals(stop) == ["b:15"])
        let restart = m.handle(.exited("b", exitCode: 143, signal: 15, startedAt: at(1), finishedAt: at(5.1)), at: at(5.1))
        #expect(starts(restart) == ["i1"])   // first restart: no backoff
        #expect(m.container("i1")?.restartCount == 1)
    }

    @Test func containerScopeRestartsOnlyThatContainer() {
        var m = machine(inits: ["i1"], apps: ["a", "b"], scope: .container)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("i1", containerID: "x"), at: at(0))
        _ = m.handle(.exited("i1", exitCode: 0, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))
        _ = m.handle(.started("a", containerID: "a1"), at: at(1))
        _ = m.handle(.started("b", containerID: "b1"), at: at(1))
        let actions = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(1), finishedAt: at(2)), at: at(2))
        #expect(starts(actions) == ["a"])
        #expect(signals(actions).isEmpty)
        #expect(m.container("i1")?.restartCount == 0)
        #expect(m.container("a")?.lastTermination?.exitCode == 1)
    }

    @Test func crashLoopShowsWaitingReasonAndMessage() {
        var m = machine(apps: ["a"], scope: .container)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "a1"), at: at(0))
        _ = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))
        _ = m.handle(.started("a", containerID: "a2"), at: at(1))
        let actions = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(1), finishedAt: at(2)), at: at(2))
        #expect(wake(actions) == at(3))
        guard case let .backoff(until, reason, message)? = m.container("a")?.state else {
            Issue.record("not backing off")
            return
        }
        #expect(until == at(3))
        #expect(reason == "CrashLoopBackOff")
        #expect(message == "back-off 1s restarting failed container=a pod=p_default(uid)")
    }

    /// kubelet's reason cache: a start made after a backoff shows the backoff's reason until
    /// its run has begun; only a first start (or one without a wait before it) shows
    /// ContainerCreating.
    @Test func aStartAfterABackoffShowsTheBackoffsReasonUntilItRuns() {
        func shown(_ m: PodLifecycle) -> String? {
            PodStatusBuilder.containerStatus(name: "a", image: "busybox", imageID: "", record: m.container("a")).state.waiting?.reason
        }
        var m = machine(apps: ["a"], scope: .container)
        _ = m.handle(.admit, at: at(0))
        #expect(shown(m) == "ContainerCreating")
        _ = m.handle(.started("a", containerID: "a1"), at: at(0))
        // The first restart comes at once: ContainerCreating.
        _ = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))
        #expect(m.container("a")?.state == .starting)
        #expect(shown(m) == "ContainerCreating")
        _ = m.handle(.started("a", containerID: "a2"), at: at(1))
        _ = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(1), finishedAt: at(2)), at: at(2))
        #expect(shown(m) == "CrashLoopBackOff")
        let actions = m.handle(.tick, at: at(3))
        #expect(starts(actions) == ["a"])
        #expect(shown(m) == "CrashLoopBackOff")
        #expect(m.container("a")?.shownWhileStarting?.message == "back-off 1s restarting failed container=a pod=p_default(uid)")
        _ = m.handle(.started("a", containerID: "a3"), at: at(3))
        #expect(shown(m) == nil)
    }

    @Test func backoffResetsAfterLongRun() {
        var b = RestartBackoff(.init(initial: 1, max: 4, resetAfter: 30))
        #expect([b.next(ranFor: 0), b.next(ranFor: 0), b.next(ranFor: 0), b.next(ranFor: 0), b.next(ranFor: 0)] == [0, 1, 2, 4, 4])
        #expect(b.next(ranFor: 31) == 0)
        #expect(b.next(ranFor: 0) == 1)
    }

    @Test func deleteSignalsThenKillsAtDeadline() {
        var m = machine(apps: ["a"])
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "a1"), at: at(0))
        let term = m.handle(.delete(deadline: at(3.0)), at: at(1))
        #expect(signals(term) == ["a:15"])
        #expect(wake(term) == at(3))
        let kill = m.handle(.tick, at: at(3))
        #expect(signals(kill) == ["a:9"])
        let done = m.handle(.exited("a", exitCode: 137, signal: 9, startedAt: at(0), finishedAt: at(3.1)), at: at(3.1))
        #expect(done.contains(.stopped))
    }

    @Test func noRestartWhileTerminating() {
        var m = machine(apps: ["a", "b"])
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "a1"), at: at(0))
        _ = m.handle(.started("b", containerID: "b1"), at: at(0))
        _ = m.handle(.delete(deadline: at(31.0)), at: at(1))
        let a = m.handle(.exited("a", exitCode: 143, signal: 15, startedAt: at(0), finishedAt: at(1.1)), at: at(1.1))
        #expect(starts(a).isEmpty)
        let b = m.handle(.exited("b", exitCode: 143, signal: 15, startedAt: at(0), finishedAt: at(1.2)), at: at(1.2))
        #expect(starts(b).isEmpty && b.contains(.stopped))
    }

    @Test func sidecarStartsInOrderKeepsRunningAndStopsLast() {
        var m = machine(inits: ["i1"], sidecars: ["log"], apps: ["a"], policy: .never)
        // The sidecar is declared after i1 here: i1, then the sidecar, then the app.
        #expect(starts(m.handle(.admit, at: at(0))) == ["i1"])
        _ = m.handle(.started("i1", containerID: "x"), at: at(0))
        #expect(starts(m.handle(.exited("i1", exitCode: 0, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))) == ["log"])
        #expect(starts(m.handle(.started("log", containerID: "l"), at: at(1))) == ["a"])
        _ = m.handle(.started("a", containerID: "a1"), at: at(1))
        // The sidecar crashes: restarted whatever the policy.
        #expect(starts(m.handle(.exited("log", exitCode: 1, signal: 0, startedAt: at(1), finishedAt: at(2)), at: at(2))) == ["log"])
        _ = m.handle(.started("log", containerID: "l2"), at: at(2))
        // The app completes: the sidecar is stopped, the pod finishes.
        let end = m.handle(.exited("a", exitCode: 0, signal: 0, startedAt: at(1), finishedAt: at(3)), at: at(3))
        #expect(signals(end) == ["log:15"])
        #expect(m.isFinished)
    }

    @Test func missingImageWaitsAndRetries() {
        var m = machine(apps: ["a"])
        _ = m.handle(.admit, at: at(0))
        let actions = m.handle(.startFailed("a", reason: "ErrImageNeverPull", message: "no image", terminated: false), at: at(0))
        guard case let .backoff(_, reason, _)? = m.container("a")?.state else {
            Issue.record("not backing off")
            return
        }
        #expect(reason == "ErrImageNeverPull")
        #expect(wake(actions) != nil)
    }
}

/// Probes and hooks as the state machine sees them.
struct PodLifecycleProbeTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 2_000_000)
    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    func machine(_ specs: [L.ContainerSpec], policy: L.Policy = .always) -> L {
        L(podName: "p", podRef: "p_default(uid)", containers: specs, policy: policy, scope: .pod, gracePeriod: 2,
          backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
    }

    @Test func postStartGatesRunning() {
        var m = machine([.init(name: "a", role: .app, hasPostStart: true)])
        _ = m.handle(.admit, at: at(0))
        let actions = m.handle(.started("a", containerID: "x"), at: at(0.1))
        #expect(actions.contains(.runPostStart("a")))
        #expect(m.container("a")?.state == .postStart(since: at(0.1)))
        _ = m.handle(.postStartDone("a", ok: true, message: ""), at: at(0.5))
        #expect(m.container("a")?.state == .running(since: at(0.1), started: true, ready: true))
        #expect(m.container("a")?.ready == true)
    }

    @Test func failedPostStartStopsTheContainer() {
        var m = machine([.init(name: "a", role: .app, hasPostStart: true)], policy: .never)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "x"), at: at(0.1))
        let actions = m.handle(.postStartDone("a", ok: false, message: "boom"), at: at(0.2))
        #expect(actions.contains(.terminate("a")))
        _ = m.handle(.exited("a", exitCode: 137, signal: 9, startedAt: at(0.1), finishedAt: at(0.3)), at: at(0.3))
        guard case let .terminated(t)? = m.container("a")?.state else {
            Issue.record("not terminated")
            return
        }
        #expect(t.reason == "PostStartHookError")
    }

    @Test func readinessAndStartupGateReadyAndStarted() {
        var m = machine([.init(name: "a", role: .app, startupProbe: .init(success: 1, failure: 1), readinessProbe: .init(success: 1, failure: 1))])
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "x"), at: at(0.1))
        #expect(m.container("a")?.started == false && m.container("a")?.ready == false)
        _ = m.handle(.probeResult("a", kind: .readiness, ok: true, message: ""), at: at(0.2))
        #expect(m.container("a")?.ready == false)   // not before startup has passed
        _ = m.handle(.probeResult("a", kind: .startup, ok: true, message: ""), at: at(0.3))
        #expect(m.container("a")?.started == true && m.container("a")?.ready == false)
        _ = m.handle(.probeResult("a", kind: .readiness, ok: true, message: ""), at: at(0.4))
        #expect(m.container("a")?.ready == true)
        _ = m.handle(.probeResult("a", kind: .readiness, ok: false, message: ""), at: at(0.5))
        #expect(m.container("a")?.ready == false)
    }

    @Test func sidecarWithStartupProbeHoldsTheInitOrderUntilItPasses() {
        var m = machine([.init(name: "s", role: .sidecar, startupProbe: .init(success: 1, failure: 1)), .init(name: "a", role: .app)])
        #expect(m.handle(.admit, at: at(0)) == [.start("s")])
        let started = m.handle(.started("s", containerID: "x"), at: at(0.1))
        #expect(!started.contains(.start("a")))
        let passed = m.handle(.probeResult("s", kind: .startup, ok: true, message: ""), at: at(1))
        #expect(passed.contains(.start("a")))
    }
}
