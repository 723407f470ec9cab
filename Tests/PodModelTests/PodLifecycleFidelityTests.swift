import Testing
@testable import PodModel

/// Two behaviours of kubelet podd follows (issue 13): a completed init container is ready,
/// and a pod whose app containers have all ended for good stops its native sidecars and
/// finishes, whatever the order of sidecars and init containers.
struct PodLifecycleFidelityTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 4_000_000)

    func run(_ m: inout L, _ events: [L.Event], clock: inout Timestamp) -> [L.Action] {
        var actions: [L.Action] = []
        for e in events {
            clock = clock.adding(seconds: 0.1)
            actions = m.handle(e, at: clock)
        }
        return actions
    }

    @Test(arguments: [L.Policy.never, .onFailure])
    func sidecarBeforeAnInitContainerIsStoppedWhenTheAppsEnd(_ policy: L.Policy) {
        var m = L(podName: "p", podRef: "p_default(uid)",
                  containers: [.init(name: "s", role: .sidecar, hasPreStop: true), .init(name: "i", role: .initContainer), .init(name: "a", role: .app)],
                  policy: policy, scope: .pod, gracePeriod: 30, backoff: .init(initial: 10, max: 300, resetAfter: 600), now: t0)
        var clock = t0
        _ = run(&m, [.admit, .started("s", containerID: "s"), .started("i", containerID: "i"),
                     .exited("i", exitCode: 0, signal: 0, startedAt: nil, finishedAt: clock), .started("a", containerID: "a")], clock: &clock)
        #expect(m.stage == L.Stage.running)
        let actions = run(&m, [.exited("a", exitCode: 0, signal: 0, startedAt: nil, finishedAt: clock)], clock: &clock)
        #expect(m.stage == L.Stage.finished)
        #expect(actions.contains { if case .runPreStop("s") = $0 { return true }; return false }, "\(actions)")
        _ = run(&m, [.preStopDone("s", ok: true, message: ""), .exited("s", exitCode: 143, signal: 0, startedAt: nil, finishedAt: clock)], clock: &clock)
        #expect(m.stage == L.Stage.finished)
    }

    @Test func aCompletedInitContainerIsReady() throws {
        let pod = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: p}
            spec:
              restartPolicy: Never
              initContainers:
              - {name: s, image: busybox, command: ["true"], restartPolicy: Always}
              - {name: i, image: busybox, command: ["true"]}
              - {name: j, image: busybox, command: ["false"]}
              containers:
              - {name: a, image: busybox, command: ["true"]}
            """)
        var m = L(podName: "p", podRef: "p_default(uid)",
                  containers: [.init(name: "s", role: .sidecar), .init(name: "i", role: .initContainer),
                               .init(name: "j", role: .initContainer), .init(name: "a", role: .app)],
                  policy: .never, scope: .pod, gracePeriod: 30, backoff: .init(initial: 10, max: 300, resetAfter: 600), now: t0)
        var clock = t0
        _ = run(&m, [.admit, .started("s", containerID: "s"), .started("i", containerID: "i"),
                     .exited("i", exitCode: 0, signal: 0, startedAt: nil, finishedAt: t0), .started("j", containerID: "j"),
                     .exited("j", exitCode: 1, signal: 0, startedAt: nil, finishedAt: t0)], clock: &clock)
        var conditions = ConditionClock()
        var terminal: PodPhase?
        let status = PodStatusBuilder.build(spec: pod.spec, lifecycle: m, startTime: t0, imageIDs: [:], conditions: &conditions,
                                            terminalPhase: &terminal, now: clock)
        let ready: [String: Bool] = Dictionary(uniqueKeysWithValues: status.initContainerStatuses.map { ($0.name, $0.ready) })
        // i completed: ready; j failed: not; the sidecar s keeps its run's readiness.
        #expect(ready == ["s": true, "i": true, "j": false])
    }
}
