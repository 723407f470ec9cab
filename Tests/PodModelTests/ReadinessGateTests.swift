import Testing
@testable import PodModel

/// spec.readinessGates: Ready only when every gate's condition (set through the status
/// subresource) is True as well as the containers, with kubelet's reasons and messages; the
/// conditions controllers set follow kubelet's.
struct ReadinessGateTests {
    typealias L = PodLifecycle
    let t0 = Timestamp(seconds: 4_000_000)

    func status(_ spec: PodSpec, external: [PodCondition]) -> PodStatus {
        var m = L(podName: "p", podRef: "p_default(uid)", containers: [.init(name: "a", role: .app)], policy: .always, scope: .pod,
                  gracePeriod: 30, backoff: .init(initial: 10, max: 300, resetAfter: 600), now: t0)
        _ = m.handle(.admit, at: t0)
        _ = m.handle(.started("a", containerID: "a"), at: t0.adding(seconds: 1))
        var clock = ConditionClock()
        var terminal: PodPhase?
        return PodStatusBuilder.build(spec: spec, lifecycle: m, startTime: t0, imageIDs: [:], conditions: &clock,
                                      terminalPhase: &terminal, now: t0.adding(seconds: 2), external: external)
    }

    func condition(_ s: PodStatus, _ type: String) -> PodCondition? { s.conditions.first { $0.type == type } }

    @Test func readyWaitsForEveryGate() throws {
        var spec = try Fixture.pod(Fixture.minimal.replacingOccurrences(of: "name: app", with: "name: a")).spec
        spec.readinessGates = [PodReadinessGate(conditionType: "example.com/lb"), PodReadinessGate(conditionType: "example.com/dns")]
        let none = status(spec, external: [])
        #expect(condition(none, "ContainersReady")?.status == "True")
        let ready = try #require(condition(none, "Ready"))
        #expect(ready.status == "False" && ready.reason == "ReadinessGatesNotReady")
        #expect(ready.message == "corresponding condition of pod readiness gate \"example.com/lb\" does not exist., corresponding condition of pod readiness gate \"example.com/dns\" does not exist.")
        let half = status(spec, external: [PodCondition(type: "example.com/lb", status: "True"), PodCondition(type: "example.com/dns", status: "False")])
        #expect(condition(half, "Ready")?.message == "the status of pod readiness gate \"example.com/dns\" is not \"True\", but False")
        let all = status(spec, external: [PodCondition(type: "example.com/lb", status: "True"), PodCondition(type: "example.com/dns", status: "True")])
        #expect(condition(all, "Ready")?.status == "True")
        // Set conditions follow kubelet's; one of kubelet's own types is not taken.
        #expect(all.conditions.map(\.type).suffix(2) == ["example.com/lb", "example.com/dns"])
        let forged = status(spec, external: [PodCondition(type: "Ready", status: "True")])
        #expect(forged.conditions.filter { $0.type == "Ready" }.count == 1 && condition(forged, "Ready")?.status == "False")
        #expect(try PodSpec(json: spec.json, path: .root) == spec)
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n  readinessGates: [{conditionType: 'not valid'}]\n"))
        #expect(refused.contains { $0.hasPrefix("spec.readinessGates[0].conditionType: Invalid value: \"not valid\"") })
    }
}
