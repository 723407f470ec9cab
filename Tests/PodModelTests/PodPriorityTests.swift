import Testing

@testable import PodModel

/// The Priority admission with the built-in classes only (PodPriority), and node-critical
/// pods' OOM score.
struct PodPriorityTests {
    func spec(_ yaml: String) throws -> PodSpec {
        try Fixture.pod(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n" + yaml)).spec
    }

    @Test func theBuiltInClassesGiveThePriorityAndOthersAreRefused() throws {
        let critical = try PodPriority.admitted(try spec("  priorityClassName: system-cluster-critical\n")).get()
        #expect(critical.priority == 2_000_000_000)
        #expect(try PodPriority.admitted(try spec("  priorityClassName: system-node-critical\n  priority: 2000001000\n")).get().priority == 2_000_001_000)
        #expect(try PodPriority.admitted(try spec("")).get().priority == nil)
        #expect(try PodPriority.admitted(try spec("  priority: 0\n")).get().priority == 0)
        #expect(PodPriority.admitted(try spec("  priorityClassName: gold\n")) == .failure(.init(message: "no PriorityClass with name gold was found")))
        #expect(PodPriority.admitted(try spec("  priority: 5\n")) == .failure(.init(message:
            "the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name")))
        #expect(try PodSpec(json: critical.json, path: .root) == critical)
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n  priorityClassName: Not_Valid\n"))
        #expect(refused.contains { $0.hasPrefix("spec.priorityClassName: Invalid value: \"Not_Valid\"") })
    }

    @Test func aNodeCriticalPodIsTheLastTheOOMKillerTakes() throws {
        let plain = try spec("")
        #expect(OOMScoreAdjust.container(named: "app", of: plain, memoryCapacity: 1 << 30) == OOMScoreAdjust.bestEffort)
        let node = try PodPriority.admitted(try spec("  priorityClassName: system-node-critical\n")).get()
        #expect(OOMScoreAdjust.container(named: "app", of: node, memoryCapacity: 1 << 30) == OOMScoreAdjust.guaranteed)
        let cluster = try PodPriority.admitted(try spec("  priorityClassName: system-cluster-critical\n")).get()
        #expect(OOMScoreAdjust.container(named: "app", of: cluster, memoryCapacity: 1 << 30) == OOMScoreAdjust.bestEffort)
    }
}
