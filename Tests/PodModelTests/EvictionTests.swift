import Testing
@testable import PodModel

/// Local storage eviction in the state machine: kubelet's order of checks and messages
/// (EphemeralStorageLimits), and what an eviction does to the pod (PodLifecycle+Eviction).
struct EvictionTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 4_000_000)

    func at(_ s: Double) -> Timestamp { t0.adding(seconds: s) }

    func running(_ policy: L.Policy, preStop: Bool = false) -> L {
        var m = L(podName: "p", podRef: "p_default(uid)",
                  containers: [.init(name: "app", role: .app, hasPreStop: preStop), .init(name: "side", role: .app)],
                  policy: policy, scope: .pod, gracePeriod: 30, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("app", containerID: "a"), at: at(0.1))
        _ = m.handle(.started("side", containerID: "s"), at: at(0.1))
        return m
    }

    static let message = "Container app exceeded its local ephemeral storage limit \"1Mi\". "

    @Test func anEvictionStopsEveryContainerWithinOneSecondAndNothingRestarts() {
        var m = running(.always)
        let actions = m.handle(.evict(message: Self.message), at: at(5))
        #expect(actions.first == .event(type: "Warning", reason: "Evicted", message: Self.message, container: nil))
        #expect(actions.contains(.terminate("app")) && actions.contains(.terminate("side")))
        #expect(actions.contains(.wake(at: at(6))))
        #expect(m.eviction == L.Eviction(message: Self.message, deadline: at(6)))
        // The grace period is kubelet's 1 s, not the pod's 30 s.
        #expect(m.handle(.tick, at: at(6)) == [.kill("app"), .kill("side")])
        // The exits restart nothing, whatever the policy (Always).
        #expect(m.handle(.exited("app", exitCode: 137, signal: 9, startedAt: at(0.1), finishedAt: at(6.1)), at: at(6.1)).isEmpty)
        #expect(m.handle(.exited("side", exitCode: 137, signal: 9, startedAt: at(0.1), finishedAt: at(6.1)), at: at(6.1)).isEmpty)
        #expect(m.handle(.tick, at: at(100)).isEmpty)
        #expect(m.isFinished && !m.containers.contains { $0.isRunning })
    }

    @Test func aPreStopHookRunsWithinTheEvictionsGracePeriod() {
        var m = running(.always, preStop: true)
        let actions = m.handle(.evict(message: Self.message), at: at(5))
        #expect(actions.contains(.runPreStop("app")))
        #expect(m.handle(.tick, at: at(6)).contains(.kill("app")))
    }

    @Test func theStatusIsFailedEvictedWithTheMessageFromTheStart() throws {
        var m = running(.always)
        let spec = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - {name: app, image: busybox}
              - {name: side, image: busybox}
            """).spec
        var clock = ConditionClock()
        var terminal: PodPhase?
        _ = m.handle(.evict(message: Self.message), at: at(5))
        var status = PodStatusBuilder.build(spec: spec, lifecycle: m, startTime: t0, imageIDs: [:], conditions: &clock,
                                           terminalPhase: &terminal, now: at(5))
        #expect(status.phase == .failed && status.reason == "Evicted" && status.message == Self.message)
        _ = m.handle(.exited("app", exitCode: 143, signal: 15, startedAt: at(0.1), finishedAt: at(5.2)), at: at(5.2))
        _ = m.handle(.exited("side", exitCode: 0, signal: 0, startedAt: at(0.1), finishedAt: at(5.2)), at: at(5.2))
        status = PodStatusBuilder.build(spec: spec, lifecycle: m, startTime: t0, imageIDs: [:], conditions: &clock,
                                       terminalPhase: &terminal, now: at(6))
        #expect(status.phase == .failed && status.reason == "Evicted")
        #expect(status.containerStatuses.allSatisfy { $0.state.terminated != nil })
    }

    @Test func aFinishedOrDeletedPodIsNotEvicted() {
        var finished = running(.never)
        _ = finished.handle(.exited("app", exitCode: 0, signal: 0, startedAt: at(0.1), finishedAt: at(1)), at: at(1))
        _ = finished.handle(.exited("side", exitCode: 0, signal: 0, startedAt: at(0.1), finishedAt: at(1)), at: at(1))
        #expect(finished.isFinished)
        #expect(finished.handle(.evict(message: Self.message), at: at(2)).isEmpty && finished.eviction == nil)
        var deleted = running(.always)
        _ = deleted.handle(.delete(deadline: at(30)), at: at(1))
        #expect(!deleted.handle(.evict(message: Self.message), at: at(2)).contains { if case .event = $0 { true } else { false } })
        #expect(deleted.eviction == nil)
        // A delete of an evicted pod goes on as usual.
        var evicted = running(.always)
        _ = evicted.handle(.evict(message: Self.message), at: at(5))
        _ = evicted.handle(.exited("app", exitCode: 143, signal: 15, startedAt: nil, finishedAt: at(5.1)), at: at(5.1))
        _ = evicted.handle(.exited("side", exitCode: 143, signal: 15, startedAt: nil, finishedAt: at(5.1)), at: at(5.1))
        #expect(evicted.handle(.delete(deadline: at(40)), at: at(10)).contains(.stopped))
    }

    @Test func aContainerBackingOffIsNotStartedAgain() {
        var m = L(podName: "p", podRef: "p_default(uid)", containers: [.init(name: "app", role: .app)],
                  policy: .always, scope: .container, gracePeriod: 30, backoff: .init(initial: 10, max: 40, resetAfter: 600), now: t0)
        _ = m.handle(.admit, at: at(0))
        _ = m.handle(.started("app", containerID: "a"), at: at(0.1))
        _ = m.handle(.exited("app", exitCode: 1, signal: 0, startedAt: at(0.1), finishedAt: at(1)), at: at(1))
        _ = m.handle(.started("app", containerID: "b"), at: at(1.1))
        _ = m.handle(.exited("app", exitCode: 1, signal: 0, startedAt: at(1.1), finishedAt: at(2)), at: at(2))
        guard case .backoff = m.container("app")?.state else {
            Issue.record("not backing off: \(String(describing: m.container("app")?.state))")
            return
        }
        #expect(m.handle(.evict(message: Self.message), at: at(3)).count == 1)
        #expect(!m.handle(.tick, at: at(60)).contains(.start("app")))
    }

    @Test func aRestoredEvictionStaysAndKillsWhatStillRuns() {
        var m = L(podName: "p", podRef: "p_default(uid)", containers: [.init(name: "app", role: .app)],
                  policy: .always, scope: .pod, gracePeriod: 30, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
        let actions = m.restore([.init(name: "app", state: .running(since: at(0), started: true, ready: true), everStarted: true)],
                                finished: true, evictedWith: (L.evictedReason, Self.message), at: at(10))
        #expect(actions.contains(.kill("app")))
        #expect(m.eviction?.message == Self.message && m.isFinished)
        #expect(m.handle(.exited("app", exitCode: 137, signal: 9, startedAt: at(0), finishedAt: at(10.1)), at: at(10.1)).isEmpty)
    }

    /// activeDeadlineSeconds (kubelet's pastActiveDeadline): once the deadline passes, an
    /// active pod is stopped with its own grace period and ends Failed, DeadlineExceeded,
    /// whatever its restartPolicy; nothing restarts.
    @Test func aPodPastItsActiveDeadlineIsStoppedAndFailsForGood() {
        var m = L(podName: "p", podRef: "p_default(uid)", containers: [.init(name: "app", role: .app)],
                  policy: .always, scope: .pod, gracePeriod: 5, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
        m.activeDeadline = at(10)
        let started = m.handle(.admit, at: at(0))
        #expect(started.contains(.start("app")) && started.contains(.wake(at: at(10))), "\(started)")
        _ = m.handle(.started("app", containerID: "c1"), at: at(0.1))
        #expect(!m.handle(.tick, at: at(9.9)).contains(.terminate("app")))
        let ended = m.handle(.tick, at: at(10))
        #expect(ended.contains(.terminate("app")), "\(ended)")
        #expect(ended.contains(.event(type: "Warning", reason: L.deadlineExceededReason, message: L.deadlineExceededMessage, container: nil)),
                "\(ended)")
        #expect(m.eviction?.reason == L.deadlineExceededReason && m.eviction?.deadline == at(15) && m.isFinished)
        _ = m.handle(.exited("app", exitCode: 143, signal: 15, startedAt: at(0.1), finishedAt: at(11)), at: at(11))
        #expect(!m.handle(.tick, at: at(60)).contains(.start("app")))
        // No deadline armed, or a finished pod: nothing of it.
        var other = L(podName: "q", podRef: "q_default(uid)", containers: [.init(name: "app", role: .app)],
                      policy: .always, scope: .pod, gracePeriod: 5, backoff: .init(initial: 1, max: 4, resetAfter: 30), now: t0)
        _ = other.handle(.admit, at: at(0))
        #expect(other.handle(.tick, at: at(1000)).allSatisfy { if case .event = $0 { return false }; return true })
        #expect(other.eviction == nil)
    }
}

/// kubelet's checks and messages, in its order.
struct EphemeralStorageLimitsTests {
    func limits(_ yaml: String) throws -> EphemeralStorageLimits {
        EphemeralStorageLimits(spec: try Fixture.pod("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n" + yaml).spec)
    }

    @Test func aPodWithoutLimitsHasNothingToWatch() throws {
        let l = try limits("""
              containers:
              - {name: c, image: busybox, resources: {requests: {ephemeral-storage: 1Mi}}}
              volumes:
              - {name: scratch, emptyDir: {}}
              - {name: mem, emptyDir: {medium: Memory, sizeLimit: 1Mi}}
            """)
        #expect(l.isEmpty)
    }

    @Test func emptyDirFirstThenThePodsTotalThenEachContainer() throws {
        let l = try limits("""
              containers:
              - {name: a, image: busybox, resources: {limits: {ephemeral-storage: 1Mi}}}
              - {name: b, image: busybox, resources: {limits: {ephemeral-storage: 2Mi}}}
              volumes:
              - {name: scratch, emptyDir: {sizeLimit: 1Mi}}
            """)
        #expect(l.pod?.bytes == 3 << 20)
        let mi: Int64 = 1 << 20
        #expect(l.violation(.init(containers: ["a": mi, "b": mi], volumes: ["scratch": mi])) == nil)
        #expect(l.violation(.init(containers: ["a": 0], volumes: ["scratch": mi + 4096]))
            == "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". ")
        #expect(l.violation(.init(containers: ["a": mi, "b": mi], volumes: ["scratch": mi + 4096]))
            == "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". ")
        #expect(l.violation(.init(containers: ["a": 2 * mi, "b": mi + 4096], volumes: ["scratch": 0]))
            == "Pod ephemeral local storage usage exceeds the total limit of containers 3Mi. ")
        #expect(l.violation(.init(containers: ["a": 2 * mi, "b": 0], volumes: [:]))
            == "Container a exceeded its local ephemeral storage limit \"1Mi\". ")
    }

    @Test func thePodsTotalCountsWhatKubeletsPodStatsCount() throws {
        let spec = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              containers:
              - {name: a, image: busybox, resources: {limits: {ephemeral-storage: 1Mi}}}
              volumes:
              - {name: disk, emptyDir: {}}
              - {name: mem, emptyDir: {medium: Memory}}
              - {name: cm, configMap: {name: cm}}
              - {name: sec, secret: {secretName: s}}
              - {name: dapi, downwardAPI: {items: [{path: name, fieldRef: {fieldPath: metadata.name}}]}}
              - {name: proj, projected: {sources: [{configMap: {name: cm}}]}}
              - {name: host, hostPath: {path: /srv}}
            """).spec
        // IsLocalEphemeralVolume: disk-backed emptyDirs and configMaps; kubelet keeps secret,
        // downwardAPI and projected files on a tmpfs.
        #expect(EphemeralStorageLimits.countedVolumes(spec).map(\.name) == ["disk", "cm"])
        let l = EphemeralStorageLimits(spec: spec)
        let half: Int64 = 1 << 19
        // Half of the 1Mi in the container, half in a configMap: at the limit, not past it;
        // the etc-hosts file's block tips it over (calcEphemeralStorage adds it).
        let usage = EphemeralStorageLimits.Usage(containers: ["a": half], volumes: ["cm": half])
        #expect(l.violation(usage) == nil)
        var withHosts = usage
        withHosts.etcFiles = 4096
        #expect(withHosts.total == (1 << 20) + 4096)
        #expect(l.violation(withHosts) == "Pod ephemeral local storage usage exceeds the total limit of containers 1Mi. ")
    }

    @Test func thePodsLimitAddsAppsAndSidecarsAndTakesTheLargestInitContainer() throws {
        let l = try limits("""
              initContainers:
              - {name: big, image: busybox, resources: {limits: {ephemeral-storage: 10Mi}}}
              - {name: side, image: busybox, restartPolicy: Always, resources: {limits: {ephemeral-storage: 1Mi}}}
              containers:
              - {name: a, image: busybox, resources: {limits: {ephemeral-storage: 2Mi}}}
              - {name: b, image: busybox}
            """)
        #expect(l.pod?.bytes == 10 << 20)
        #expect(l.containers.map(\.name) == ["a"])
        let small = try limits("""
              initContainers:
              - {name: side, image: busybox, restartPolicy: Always, resources: {limits: {ephemeral-storage: 1Mi}}}
              containers:
              - {name: a, image: busybox, resources: {limits: {ephemeral-storage: 2Mi}}}
            """)
        #expect(small.pod?.bytes == 3 << 20)
    }

    @Test func quantitiesAreWrittenAsKubernetesWritesThem() throws {
        #expect(try Quantity(parsing: "1Mi").canonical == "1Mi")
        #expect(try Quantity(parsing: "1024Ki").canonical == "1Mi")
        #expect(try Quantity(parsing: "1.5Mi").canonical == "1536Ki")
        #expect(try Quantity(parsing: "512Ki").canonical == "512Ki")
        #expect(try Quantity(parsing: "5000000").canonical == "5M")
        #expect(try Quantity(parsing: "1048576").canonical == "1048576")
        #expect(try Quantity(parsing: "1500k").canonical == "1500k")
        #expect(try Quantity(parsing: "1e6").canonical == "1e6")
        #expect(try Quantity(parsing: "2G").canonical == "2G")
        #expect(Quantity.canonical(100, format: .binarySI) == "100")
    }
}
