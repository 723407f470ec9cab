import Testing
@testable import PodModel

/// Stops, probes, hooks, a lost monitor and deletions, as the machine decides them; and the
/// lifecycle bugs fixed so far, each at this level (commit named).
struct PodLifecycleStopTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 4_000_000)

    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    func machine(_ specs: [L.ContainerSpec], policy: L.Policy = .always, scope: L.RestartScope = .pod, grace: Int64 = 10) -> L {
        L(podName: "p", podRef: "p_default(uid)", containers: specs, policy: policy, scope: scope, gracePeriod: grace,
          backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
    }

    func app(_ name: String, preStop: Bool = false, postStart: Bool = false, liveness: L.ProbeThresholds? = nil,
             readiness: L.ProbeThresholds? = nil, startup: L.ProbeThresholds? = nil) -> L.ContainerSpec {
        .init(name: name, role: .app, startupProbe: startup, livenessProbe: liveness, readinessProbe: readiness,
              hasPostStart: postStart, hasPreStop: preStop)
    }

    /// A machine with its containers started (and past postStart) at t0.
    func running(_ specs: [L.ContainerSpec], policy: L.Policy = .always, scope: L.RestartScope = .pod, grace: Int64 = 10) -> L {
        var m = machine(specs, policy: policy, scope: scope, grace: grace)
        _ = m.handle(.admit, at: at(0))
        for s in specs where s.role != .initContainer {
            _ = m.handle(.started(s.name, containerID: s.name + "-1"), at: at(0))
            if s.hasPostStart { _ = m.handle(.postStartDone(s.name, ok: true, message: ""), at: at(0)) }
        }
        return m
    }

    func events(_ actions: [L.Action]) -> [String] {
        actions.compactMap { if case let .event(_, reason, message, _) = $0 { return "\(reason): \(message)" } else { return nil } }
    }

    func wake(_ actions: [L.Action]) -> Timestamp? {
        actions.compactMap { if case let .wake(at) = $0 { return at } else { return nil } }.min()
    }

    // MARK: - preStop, SIGTERM, SIGKILL at one deadline

    @Test func preStopThenTermThenKillAtTheDeletionsDeadline() {
        var m = running([app("a", preStop: true)])
        let del = m.handle(.delete(deadline: at(5)), at: at(1))
        #expect(del.contains(.runPreStop("a")) && !del.contains(.terminate("a")))
        #expect(wake(del) == at(5))
        let done = m.handle(.preStopDone("a", ok: true, message: ""), at: at(2))
        #expect(done.contains(.terminate("a")))
        #expect(wake(done) == at(5))
        #expect(m.handle(.tick, at: at(4.9)).filter { if case .kill = $0 { return true } else { return false } }.isEmpty)
        #expect(m.handle(.tick, at: at(5)).contains(.kill("a")))
        // SIGKILL goes once.
        #expect(!m.handle(.tick, at: at(6)).contains(.kill("a")))
        #expect(m.handle(.exited("a", exitCode: 137, signal: 9, startedAt: at(0), finishedAt: at(6)), at: at(6)).contains(.stopped))
    }

    @Test func aReplacedSpecIsToldAsKubeletTellsAChangedDefinition() {
        var m = running([app("a"), app("b")])
        let replace = m.handle(.replace(deadline: at(5)), at: at(1))
        #expect(replace.contains(.terminate("a")) && replace.contains(.terminate("b")))
        #expect(events(replace) == ["Killing: Container a definition changed, will be restarted",
                                    "Killing: Container b definition changed, will be restarted"])
        // A deletion is told as before.
        var deleted = running([app("a")])
        #expect(events(deleted.handle(.delete(deadline: at(5)), at: at(1))) == ["Killing: Stopping pod p", "Killing: Stopping container a"])
    }

    @Test func aReplacedSpecsRunsCarryOverAndItsNextStartIsARestart() {
        var old = running([app("a")])
        _ = old.handle(.replace(deadline: at(5)), at: at(1))
        let stopped = L.Termination.recorded(exitCode: 3, signal: 0, reason: "Error", message: nil, startedAt: at(0),
                                             finishedAt: at(2), containerID: "a-1")
        var new = machine([app("a"), app("c")])
        new.carryOver([.init(name: "a", state: .terminated(stopped), restartCount: 0, everStarted: true, containerID: "a-1")],
                      lost: stopped)
        #expect(new.handle(.admit, at: at(3)).contains(.start("a")))
        _ = new.handle(.started("a", containerID: "a-2"), at: at(3))
        _ = new.handle(.started("c", containerID: "c-1"), at: at(3))
        #expect(new.container("a")?.restartCount == 1 && new.container("a")?.lastTermination == stopped)
        // A container the old spec did not have starts fresh.
        #expect(new.container("c")?.restartCount == 0 && new.container("c")?.lastTermination == nil)
    }

    @Test func aPreStopPastTheDeadlineIsCutShortBySigkill() {
        var m = running([app("a", preStop: true)])
        _ = m.handle(.delete(deadline: at(3)), at: at(1))
        let tick = m.handle(.tick, at: at(3))
        #expect(tick.contains(.kill("a")) && !tick.contains(.terminate("a")))
        // The hook's late report changes nothing.
        #expect(m.handle(.preStopDone("a", ok: true, message: ""), at: at(4)).filter { if case .terminate = $0 { return true } else { return false } }.isEmpty)
    }

    /// 85ade1a: every podd-initiated stop ends in SIGKILL after the grace period (a container
    /// stopped for a failed postStart hook that ignores SIGTERM).
    @Test func aFailedPostStartHookEndsInSigkillAfterTheGracePeriod() {
        var m = machine([app("a", postStart: true)], policy: .never, grace: 10)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "x"), at: at(0))
        let failed = m.handle(.postStartDone("a", ok: false, message: "exit 1"), at: at(1))
        #expect(failed.contains(.terminate("a")))
        #expect(events(failed).contains("FailedPostStartHook: PostStartHook failed: exit 1"))
        #expect(wake(failed) == at(11))
        #expect(m.handle(.tick, at: at(11)).contains(.kill("a")))
        _ = m.handle(.exited("a", exitCode: 137, signal: 9, startedAt: at(0), finishedAt: at(11)), at: at(11))
        guard case let .terminated(t)? = m.container("a")?.state else {
            Issue.record("not terminated")
            return
        }
        #expect(t.reason == "PostStartHookError")
    }

    @Test func deletionWithGraceZeroKillsAtOnce() {
        var m = running([app("a", preStop: true)])
        let del = m.handle(.delete(deadline: at(1)), at: at(1))
        #expect(del.contains(.kill("a")) && !del.contains(.runPreStop("a")))
    }

    // MARK: - Shortening a deletion (issue 9, item 13)

    @Test func aShorterDeletionMovesTheDeadlineEarlierNeverLater() {
        var m = running([app("a")])
        _ = m.handle(.delete(deadline: at(61)), at: at(1))
        #expect(m.deletionDeadline == at(61))
        let later = m.handle(.delete(deadline: at(200)), at: at(2))
        #expect(m.deletionDeadline == at(61))
        #expect(wake(later) == at(61))
        let sooner = m.handle(.delete(deadline: at(3)), at: at(2))
        #expect(m.deletionDeadline == at(3))
        #expect(wake(sooner) == at(3))
        #expect(m.handle(.tick, at: at(3)).contains(.kill("a")))
    }

    @Test func aDeletionShortenedToThePastKillsAtOnce() {
        var m = running([app("a"), app("b")])
        _ = m.handle(.delete(deadline: at(61)), at: at(1))
        let now = m.handle(.delete(deadline: at(1)), at: at(2))
        #expect(now.contains(.kill("a")) && now.contains(.kill("b")))
    }

    @Test func sidecarsStopAfterTheAppsInReverseOrderThenAllAreKilledAtTheDeadline() {
        var m = machine([.init(name: "s1", role: .sidecar), .init(name: "s2", role: .sidecar), app("a")])
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("s1", containerID: "1"), at: at(0))
        _ = m.handle(.started("s2", containerID: "2"), at: at(0))
        _ = m.handle(.started("a", containerID: "3"), at: at(0))
        let del = m.handle(.delete(deadline: at(10)), at: at(1))
        #expect(del.contains(.terminate("a")) && !del.contains(.terminate("s2")) && !del.contains(.terminate("s1")))
        let afterApp = m.handle(.exited("a", exitCode: 143, signal: 15, startedAt: at(0), finishedAt: at(2)), at: at(2))
        #expect(afterApp.contains(.terminate("s2")) && !afterApp.contains(.terminate("s1")))
        let kill = m.handle(.tick, at: at(10))
        #expect(kill.contains(.kill("s2")) && kill.contains(.kill("s1")))
    }

    @Test func aProbesOwnGracePeriodBoundsTheKillItCauses() {
        var m = running([app("a", liveness: .init(success: 1, failure: 1, gracePeriod: 2))], grace: 60)
        let kill = m.handle(.probeResult("a", kind: .liveness, ok: false, message: "down"), at: at(1))
        #expect(kill.contains(.terminate("a")))
        #expect(wake(kill) == at(3))
        #expect(m.handle(.tick, at: at(3)).contains(.kill("a")))
        // Without one, the pod's.
        var plain = running([app("a", liveness: .init(success: 1, failure: 1))], grace: 60)
        #expect(wake(plain.handle(.probeResult("a", kind: .liveness, ok: false, message: "down"), at: at(1))) == at(61))
    }

    // MARK: - Probes counted by the machine

    @Test func livenessKillsAfterFailureThresholdInARowOnly() {
        var m = running([app("a", liveness: .init(success: 1, failure: 3))], scope: .container)
        func probe(_ ok: Bool, _ t: Double) -> [L.Action] {
            m.handle(.probeResult("a", kind: .liveness, ok: ok, message: "connection refused"), at: at(t))
        }
        #expect(!probe(false, 1).contains(.terminate("a")))
        #expect(!probe(false, 2).contains(.terminate("a")))
        _ = probe(true, 3)   // a success resets the count
        #expect(!probe(false, 4).contains(.terminate("a")))
        #expect(!probe(false, 5).contains(.terminate("a")))
        let third = probe(false, 6)
        #expect(third.contains(.terminate("a")))
        #expect(third.contains(.probes("a", [])))
        #expect(events(third) == ["Unhealthy: Liveness probe failed: connection refused",
                                  "Killing: Container a failed liveness probe, will be restarted"])
        #expect(m.container("a")?.ready == false)
        // Its exit is a failure: restarted per policy.
        let exit = m.handle(.exited("a", exitCode: 143, signal: 15, startedAt: at(0), finishedAt: at(7)), at: at(7))
        #expect(exit.contains(.start("a")))
    }

    @Test func readinessCountsSuccessAndFailureThresholds() {
        var m = running([app("a", readiness: .init(success: 2, failure: 2))])
        func probe(_ ok: Bool, _ t: Double) { _ = m.handle(.probeResult("a", kind: .readiness, ok: ok, message: "no"), at: at(t)) }
        #expect(m.container("a")?.ready == false)
        probe(true, 1)
        #expect(m.container("a")?.ready == false)
        probe(true, 2)
        #expect(m.container("a")?.ready == true)
        probe(false, 3)
        #expect(m.container("a")?.ready == true)
        probe(false, 4)
        #expect(m.container("a")?.ready == false)
    }

    @Test func startupFailureStopsTheRunAndStartupSuccessStartsTheOtherProbes() {
        var m = machine([app("a", liveness: .init(), readiness: .init(), startup: .init(success: 1, failure: 2))], scope: .container)
        _ = m.handle(.admit, at: at(0))
        #expect(m.handle(.started("a", containerID: "x"), at: at(0)).contains(.probes("a", [.startup])))
        // Liveness results before startup passed do not count.
        #expect(m.handle(.probeResult("a", kind: .liveness, ok: false, message: "x"), at: at(0.5)).isEmpty)
        let passed = m.handle(.probeResult("a", kind: .startup, ok: true, message: ""), at: at(1))
        #expect(passed.contains(.probes("a", [.liveness, .readiness])))
        #expect(m.container("a")?.started == true && m.container("a")?.ready == false)

        var n = machine([app("a", startup: .init(success: 1, failure: 2))], scope: .container)
        _ = n.handle(.admit, at: at(0))
        _ = n.handle(.started("a", containerID: "x"), at: at(0))
        _ = n.handle(.probeResult("a", kind: .startup, ok: false, message: "x"), at: at(1))
        let failed = n.handle(.probeResult("a", kind: .startup, ok: false, message: "x"), at: at(2))
        #expect(failed.contains(.terminate("a")))
        #expect(events(failed).contains("Killing: Container a failed startup probe, will be restarted"))
    }

    // MARK: - A lost monitor

    @Test func aLostMonitorEndsEveryRunAndThePodRestartsInANewSandbox() {
        var m = running([app("a"), app("b")])
        let lost = m.handle(.sandboxLost, at: at(5))
        for name in ["a", "b"] {
            #expect(m.container(name)?.lastTermination?.exitCode == 137)
            #expect(m.container(name)?.lastTermination?.message == "the pod's monitor exited")
        }
        // One pod restart (not one per container), in a new sandbox made before the starts.
        guard let recreate = lost.firstIndex(of: .recreateSandbox), let first = lost.firstIndex(of: .start("a")) else {
            Issue.record("no recreateSandbox then start: \(lost)")
            return
        }
        #expect(recreate < first)
        #expect(m.container("a")?.restartCount == 1 && m.container("b")?.restartCount == 1)
    }

    @Test func aLostMonitorRightAfterARestartWaitsOutItsBackoffThenStartsInTheNewSandbox() {
        var m = running([app("c0")])
        var log: [String] = []
        func step(_ e: L.Event, _ t: Double) { log.append("\(e) -> \(m.handle(e, at: at(t)))") }
        step(.exited("c0", exitCode: 137, signal: 9, startedAt: at(0), finishedAt: at(1)), 1)
        step(.started("c0", containerID: "c0-2"), 1.01)
        step(.sandboxLost, 1.02)
        step(.admit, 1.03)
        let due = m.handle(.tick, at: at(2.1))
        #expect(due.contains(.start("c0")), "\(log.joined(separator: "\n")) \n tick -> \(due)")
    }

    @Test func aLostMonitorWhileDeletingEndsThePod() {
        var m = running([app("a")])
        _ = m.handle(.delete(deadline: at(30)), at: at(1))
        let lost = m.handle(.sandboxLost, at: at(2))
        #expect(lost.contains(.stopped))
        #expect(!lost.contains(.recreateSandbox))
    }

    @Test func aLostMonitorOfAFinishedPodRestartsNothing() {
        var m = running([app("a")], policy: .never)
        _ = m.handle(.exited("a", exitCode: 0, signal: 0, startedAt: at(0), finishedAt: at(1)), at: at(1))
        #expect(m.isFinished)
        #expect(m.handle(.sandboxLost, at: at(2)).filter { $0 == .recreateSandbox }.isEmpty)
    }

    @Test func aSandboxThatCannotBeMadeIsTriedAgainLater() {
        var m = machine([app("a")])
        let failed = m.handle(.sandboxFailed(message: "disk full"), at: at(0))
        #expect(events(failed) == ["FailedCreatePodSandBox: Failed to create pod sandbox: disk full"])
        #expect(wake(failed) == at(L.sandboxRetryDelay))
        #expect(!m.handle(.tick, at: at(5)).contains(.recreateSandbox))
        #expect(m.handle(.tick, at: at(L.sandboxRetryDelay)).contains(.recreateSandbox))
        #expect(m.handle(.admit, at: at(L.sandboxRetryDelay)).contains(.start("a")))
        // A deleted pod is not retried.
        var n = machine([app("a")])
        _ = n.handle(.sandboxFailed(message: "disk full"), at: at(0))
        #expect(n.handle(.delete(deadline: at(1)), at: at(1)).contains(.stopped))
        #expect(!n.handle(.tick, at: at(20)).contains(.recreateSandbox))
    }

    // MARK: - Bugs fixed before

    /// d654fc8: a hook's exec runs while the container's postStart hook does (the container
    /// is not Running yet); the API's exec still needs a running container.
    @Test func execIsAcceptedDuringPostStartForHooksOnly() {
        var m = machine([app("a", preStop: true, postStart: true)])
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("a", containerID: "x"), at: at(0))
        let c = m.container("a")
        #expect(c?.acceptsExec(duringPostStart: true) == true)
        #expect(c?.acceptsExec(duringPostStart: false) == false)
        // And during a preStop hook (the container is being stopped).
        _ = m.handle(.postStartDone("a", ok: true, message: ""), at: at(1))
        _ = m.handle(.delete(deadline: at(30)), at: at(2))
        #expect(m.container("a")?.acceptsExec(duringPostStart: false) == true)
    }

    /// 10fe405: re-adoption stops containers the stored spec does not have.
    @Test func restoreKillsContainersTheSpecDoesNotHave() {
        var m = machine([app("a")])
        let actions = m.restore([.init(name: "a", state: .running(since: at(0), started: true, ready: true), everStarted: true)],
                                finished: false, strangers: ["old"], at: at(5))
        #expect(actions.contains(.kill("old")))
        #expect(m.container("old") == nil)
        #expect(!actions.contains(.start("a")))
    }

    /// A started container whose exit is reported while the pod restarts does not stay
    /// running: every report of an end ends the run, whatever the state it finds.
    @Test func anExitOfAStartingContainerEndsTheRun() {
        var m = machine([app("a")], scope: .container)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.exited("a", exitCode: 1, signal: 0, startedAt: at(0), finishedAt: at(0.1)), at: at(0.1))
        #expect(m.container("a")?.lastTermination?.exitCode == 1)
        #expect(m.container("a")?.restartCount == 1 && m.container("a")?.state == .starting)
    }

    /// A container started while the pod is being deleted is stopped as soon as it is
    /// reported started.
    @Test func startedDuringDeletionIsStoppedAtOnce() {
        var m = machine([app("a")])
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.delete(deadline: at(10)), at: at(1))
        #expect(m.handle(.started("a", containerID: "x"), at: at(2)).contains(.terminate("a")))
        #expect(m.handle(.tick, at: at(10)).contains(.kill("a")))
    }

    /// f9c72a9: a container recorded as running that the surviving monitor does not know is
    /// gone: its run ended (137) and the restart policy follows.
    @Test func restoreEndsARunTheMonitorDoesNotKnow() {
        var m = machine([app("a", liveness: .init())], scope: .container)
        let actions = m.restore([.init(name: "a", state: .running(since: at(0), started: true, ready: true), everStarted: true)],
                                finished: false, vanished: ["a"], at: at(5))
        #expect(m.container("a")?.lastTermination?.exitCode == 137)
        #expect(actions.contains(.start("a")))
        #expect(!actions.contains(.probes("a", [.liveness])))
    }

    // MARK: - A deletion resumed by a new podd (issue 9, items 4 and 14)

    @Test func restoreResumesADeletionWithTheTimeLeft() {
        var m = machine([app("a"), app("b")])
        let actions = m.restore([.init(name: "a", state: .running(since: at(0), started: true, ready: true), everStarted: true),
                                 .init(name: "b", state: .terminated(.recorded(exitCode: 1, signal: 0, reason: "Error", message: nil,
                                                                                startedAt: at(0), finishedAt: at(1), containerID: "b")),
                                       everStarted: true)],
                                finished: false, deletion: at(20), at: at(5))
        #expect(m.isTerminating && m.deletionDeadline == at(20))
        #expect(actions.contains(.terminate("a")))
        // b's exit would have restarted the pod: not while it is deleted.
        #expect(!actions.contains(.start("b")) && !m.isStoppingForRestart)
        #expect(wake(actions) == at(20))
    }

    @Test func restoreOfADeletionPastItsDeadlineKillsAtOnce() {
        var m = machine([app("a")])
        let actions = m.restore([.init(name: "a", state: .running(since: at(0), started: true, ready: true), everStarted: true)],
                                finished: false, deletion: at(3), at: at(5))
        #expect(actions.contains(.kill("a")))
    }

    @Test func aDeletedPodWithNothingLeftIsStoppedWithoutStarting() {
        var m = machine([app("a")])
        let actions = m.handle(.delete(deadline: at(3)), at: at(5))
        #expect(actions.contains(.stopped))
        #expect(!actions.contains(.start("a")))
    }
}
