import Testing
@testable import PodModel

/// restore() and carryOver(): a pod taken over from an earlier podd carries on where it was.
struct PodLifecycleRestoreTests {
    typealias L = PodLifecycle
    typealias R = PodLifecycle.RestoredContainer
    let t0 = Timestamp(seconds: 2_000_000)

    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    func machine(inits: [String] = [], sidecars: [String] = [], apps: [String], policy: L.Policy = .always,
                 scope: L.RestartScope = .pod) -> L {
        var specs: [L.ContainerSpec] = inits.map { .init(name: $0, role: .initContainer) }
        specs += sidecars.map { .init(name: $0, role: .sidecar) }
        specs += apps.map { .init(name: $0, role: .app) }
        return L(podName: "p", podRef: "p_default(uid)", containers: specs, policy: policy, scope: scope,
                 gracePeriod: 2, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
    }

    func starts(_ actions: [L.Action]) -> [String] {
        actions.compactMap { if case let .start(n) = $0 { return n } else { return nil } }
    }

    func ended(_ code: Int32, _ start: Double, _ end: Double) -> L.Termination {
        .recorded(exitCode: code, signal: 0, reason: code == 0 ? "Completed" : "Error", message: nil,
                  startedAt: at(start), finishedAt: at(end), containerID: "old")
    }

    @Test func runningPodCarriesOnWithoutStartingAnything() {
        var m = machine(inits: ["i"], sidecars: ["s"], apps: ["a", "b"])
        let actions = m.restore([
            R(name: "i", state: .terminated(ended(0, 0, 1)), everStarted: true),
            R(name: "s", state: .running(since: at(1), started: true, ready: true), restartCount: 2, everStarted: true, containerID: "s3"),
            R(name: "a", state: .running(since: at(2), started: true, ready: true), restartCount: 1, everStarted: true, containerID: "a2"),
            R(name: "b", state: .running(since: at(2), started: true, ready: true), everStarted: true, containerID: "b1"),
        ], finished: false, at: at(100))
        #expect(starts(actions).isEmpty)
        #expect(m.stage == .running)
        #expect(m.container("a")?.restartCount == 1 && m.container("a")?.starts == 2)
        #expect(m.container("s")?.restartCount == 2 && m.container("s")?.containerID == "s3")
        #expect(m.container("b")?.isRunning == true && m.container("b")?.ready == true)
        // An exit reported afterwards goes through the policy: pod scope restarts the pod.
        let next = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(2), finishedAt: at(101)), at: at(101))
        #expect(next.contains(.terminate("b")))
        #expect(m.isStoppingForRestart)
    }

    @Test func initSequenceResumesAtTheNextInitContainer() {
        var m = machine(inits: ["i1", "i2", "i3"], apps: ["a"])
        let actions = m.restore([
            R(name: "i1", state: .terminated(ended(0, 0, 1)), everStarted: true),
            R(name: "i2", state: .terminated(ended(0, 1, 2)), everStarted: true),
        ], finished: false, at: at(3))
        #expect(starts(actions) == ["i3"])
        #expect(m.stage == .initializing)
        #expect(m.container("i1")?.restartCount == 0)
    }

    @Test func runningInitContainerIsWaitedFor() {
        var m = machine(inits: ["i1", "i2"], apps: ["a"])
        let actions = m.restore([
            R(name: "i1", state: .terminated(ended(0, 0, 1)), everStarted: true),
            R(name: "i2", state: .running(since: at(1), started: true, ready: true), everStarted: true),
        ], finished: false, at: at(3))
        #expect(starts(actions).isEmpty)
        #expect(starts(m.handle(.exited("i2", exitCode: 0, signal: 0, startedAt: at(1), finishedAt: at(4)), at: at(4))) == ["a"])
    }

    @Test func freshPodWithALiveMonitorStartsItsInitSequence() {
        var m = machine(inits: ["i"], apps: ["a"])
        #expect(starts(m.restore([], finished: false, at: at(0))) == ["i"])
    }

    @Test func endedAppWhoseExitCallsForARestartIsHandledAgain() {
        // The earlier podd saw `a` fail and was stopping the pod to restart it when it died.
        var m = machine(apps: ["a", "b"], policy: .always)
        let actions = m.restore([
            R(name: "a", state: .terminated(ended(2, 0, 5)), everStarted: true),
            R(name: "b", state: .running(since: at(0), started: true, ready: true), everStarted: true),
        ], finished: false, at: at(6))
        #expect(actions.contains(.terminate("b")))
        #expect(m.isStoppingForRestart)
    }

    @Test func endedAppUnderNeverStaysEnded() {
        var m = machine(apps: ["a", "b"], policy: .never)
        let actions = m.restore([
            R(name: "a", state: .terminated(ended(0, 0, 5)), everStarted: true),
            R(name: "b", state: .running(since: at(0), started: true, ready: true), everStarted: true),
        ], finished: false, at: at(6))
        #expect(actions.isEmpty || starts(actions).isEmpty)
        #expect(m.stage == .running)
        #expect(m.container("b")?.isRunning == true)
    }

    @Test func finishedPodStaysFinished() {
        var m = machine(apps: ["a"], policy: .never)
        let actions = m.restore([R(name: "a", state: .terminated(ended(0, 0, 1)), everStarted: true)], finished: true, at: at(9))
        #expect(starts(actions).isEmpty)
        #expect(m.isFinished)
    }

    @Test func containerScopeBackoffIsDueNow() {
        var m = machine(apps: ["a"], scope: .container)
        let actions = m.restore([R(name: "a", state: .waiting(reason: "CrashLoopBackOff", message: "back-off"),
                                   lastTermination: ended(1, 0, 1), restartCount: 3, everStarted: true)],
                                finished: false, at: at(2))
        #expect(starts(actions) == ["a"])
        #expect(m.container("a")?.restartCount == 4)
    }

    @Test func ephemeralContainerIsAddedAndNeverRestarted() {
        var m = machine(apps: ["a"])
        _ = m.restore([R(name: "a", state: .running(since: at(0), started: true, ready: true), everStarted: true),
                       R(name: "debug", state: .running(since: at(1), started: true, ready: true), everStarted: true)], finished: false, at: at(2))
        #expect(m.container("debug")?.spec.role == .ephemeral)
        let actions = m.handle(.exited("debug", exitCode: 1, signal: 0, startedAt: at(1), finishedAt: at(3)), at: at(3))
        #expect(starts(actions).isEmpty && m.stage == .running)
    }

    @Test func carryOverKeepsCountsAndRecordsTheLostRun() {
        var m = machine(inits: ["i"], apps: ["a"])
        let lost = L.Termination.recorded(exitCode: 137, signal: 0, reason: "ContainerStatusUnknown", message: nil,
                                          startedAt: nil, finishedAt: at(5), containerID: nil)
        m.carryOver([R(name: "i", state: .terminated(ended(0, 0, 1)), everStarted: true),
                     R(name: "a", state: .running(since: at(1), started: true, ready: true), restartCount: 2, everStarted: true, containerID: "a3")], lost: lost)
        #expect(m.stage == .created)
        #expect(starts(m.handle(.admit, at: at(6))) == ["i"])
        #expect(m.container("i")?.restartCount == 1)
        _ = m.handle(.started("i", containerID: "i2"), at: at(6))
        let apps = m.handle(.exited("i", exitCode: 0, signal: 0, startedAt: at(6), finishedAt: at(7)), at: at(7))
        #expect(starts(apps) == ["a"])
        #expect(m.container("a")?.restartCount == 3)
        #expect(m.container("a")?.lastTermination?.reason == "ContainerStatusUnknown")
        #expect(m.container("a")?.lastTermination?.containerID == "a3")
    }

    // MARK: - Issue 9, item 9: re-adoption after a kill -9 during creates

    func machine(_ specs: [L.ContainerSpec], scope: L.RestartScope = .pod) -> L {
        L(podName: "p", podRef: "p_default(uid)", containers: specs, policy: .always, scope: scope,
          gracePeriod: 30, backoff: .init(initial: 10, max: 40, resetAfter: 300), now: t0)
    }

    /// A run the earlier podd never saw start (recorded as ContainerCreating: neither started
    /// nor ready) that the monitor runs: without a startup probe it is started, without a
    /// readiness probe ready, as kubelet computes them.
    @Test func runningContainerWithoutProbesIsStartedAndReady() {
        var m = machine(apps: ["a"])
        let actions = m.restore([R(name: "a", state: .running(since: at(1), started: false, ready: false), everStarted: true,
                                   started: false, ready: false)], finished: false, at: at(5))
        #expect(starts(actions).isEmpty)
        #expect(m.container("a")?.started == true && m.container("a")?.ready == true)
    }

    /// With a readiness probe it is started but not ready until the probe passes; with a
    /// startup probe neither, and its probes begin with the startup probe.
    @Test func runningContainerWithProbesWaitsForThem() {
        var m = machine([.init(name: "r", role: .app, readinessProbe: .init()),
                         .init(name: "s", role: .app, startupProbe: .init(), livenessProbe: .init())])
        let actions = m.restore([
            R(name: "r", state: .running(since: at(1), started: false, ready: false), everStarted: true, started: false, ready: false),
            R(name: "s", state: .running(since: at(1), started: false, ready: false), everStarted: true, started: false, ready: false),
        ], finished: false, at: at(5))
        #expect(m.container("r")?.started == true && m.container("r")?.ready == false)
        #expect(m.container("s")?.started == false && m.container("s")?.ready == false)
        #expect(actions.contains(.probes("r", [.readiness])))
        #expect(actions.contains(.probes("s", [.startup])))
        _ = m.handle(.probeResult("r", kind: .readiness, ok: true, message: ""), at: at(6))
        #expect(m.container("r")?.ready == true)
    }

    /// A container past its startup probe goes on with liveness and readiness, not with the
    /// startup probe again.
    @Test func startedContainerContinuesWithItsSteadyProbes() {
        var m = machine([.init(name: "a", role: .app, startupProbe: .init(), livenessProbe: .init(), readinessProbe: .init())])
        let actions = m.restore([R(name: "a", state: .running(since: at(1), started: true, ready: true), everStarted: true,
                                   started: true, ready: true)], finished: false, at: at(5))
        #expect(actions.contains(.probes("a", [.liveness, .readiness])))
        #expect(m.container("a")?.started == true && m.container("a")?.ready == true)
    }

    /// A spawn that was sent but that the monitor never ran (recorded ContainerCreating,
    /// unknown to the monitor) is started now, and the start that never happened is no
    /// restart.
    @Test func spawnNeverRunIsStartedWithoutCountingARestart() {
        var m = machine(apps: ["a"])
        let actions = m.restore([R(name: "a", state: .starting, everStarted: true)], finished: false, at: at(5))
        #expect(starts(actions) == ["a"])
        #expect(m.container("a")?.restartCount == 0)
        var again = machine(apps: ["a"])
        _ = again.restore([R(name: "a", state: .starting, restartCount: 2, everStarted: true)], finished: false, at: at(5))
        #expect(again.container("a")?.restartCount == 2)
    }

    /// A pod being deleted whose preStop hook already ran in this run: its stop resumes with
    /// SIGTERM, the hook does not run again; one whose hook had not run gets it.
    @Test func preStopRunsOncePerRunAcrossARestoredDeletion() {
        let specs: [L.ContainerSpec] = [.init(name: "a", role: .app, hasPreStop: true), .init(name: "b", role: .app, hasPreStop: true)]
        var m = machine(specs)
        let actions = m.restore([
            R(name: "a", state: .running(since: at(1), started: true, ready: true), everStarted: true, containerID: "a1", preStopRan: true),
            R(name: "b", state: .running(since: at(1), started: true, ready: true), everStarted: true, containerID: "b1"),
        ], finished: false, deletion: at(30), at: at(5))
        #expect(!actions.contains(.runPreStop("a")))
        #expect(actions.contains(.terminate("a")))
        #expect(actions.contains(.runPreStop("b")))
        // A later, shorter delete does not run it again either.
        let shorter = m.handle(.delete(deadline: at(6)), at: at(6))
        #expect(!shorter.contains(.runPreStop("a")) && !shorter.contains(.runPreStop("b")))
    }

    /// In one machine as well: a run's preStop hook runs once, a new run's again.
    @Test func preStopRunsOncePerRun() {
        var m = machine([.init(name: "a", role: .app, hasPreStop: true)], scope: .container)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "a1"), at: at(0))
        #expect(m.handle(.delete(deadline: at(30)), at: at(1)).contains(.runPreStop("a")))
        #expect(m.container("a")?.preStopRan == true)
    }

    /// Container scope: a container waiting out its backoff keeps waiting until the recorded
    /// time, instead of starting at once.
    @Test func pendingContainerBackoffIsRestoredFromItsRecordedTime() {
        var m = machine([.init(name: "a", role: .app), .init(name: "b", role: .app)], scope: .container)
        let actions = m.restore([
            R(name: "a", state: .waiting(reason: "CrashLoopBackOff", message: nil), lastTermination: ended(1, 0, 4),
              restartCount: 1, everStarted: true, backoffUntil: at(14)),
            R(name: "b", state: .running(since: at(0), started: true, ready: true), everStarted: true),
        ], finished: false, at: at(5))
        #expect(starts(actions).isEmpty)
        #expect(actions.last == .wake(at: at(14)))
        #expect(starts(m.handle(.tick, at: at(14))) == ["a"])
        #expect(m.container("a")?.restartCount == 2)
    }

    /// Pod scope: a pod waiting out its restart backoff runs its init sequence again at the
    /// recorded time, not at once.
    @Test func pendingPodRestartIsRestoredFromItsRecordedTime() {
        var m = machine(inits: ["i"], apps: ["a"])
        let actions = m.restore([
            R(name: "i", state: .terminated(ended(0, 0, 1)), everStarted: true),
            R(name: "a", state: .waiting(reason: "CrashLoopBackOff", message: nil), lastTermination: ended(1, 1, 4),
              restartCount: 1, everStarted: true),
        ], finished: false, podRestartAt: at(6), at: at(5))
        #expect(starts(actions).isEmpty)
        #expect(m.stage == .restartingAt(at(6)))
        #expect(starts(m.handle(.tick, at: at(6))) == ["i"])
    }
}
