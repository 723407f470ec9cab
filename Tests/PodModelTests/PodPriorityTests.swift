import Testing

@testable import PodModel

/// The Priority admission (PodPriority) with the built-in classes and those created through
/// the API, a global default, preemption policies, PriorityClass validation, and
/// node-critical pods' OOM score.
struct PodPriorityTests {
    func spec(_ yaml: String) throws -> PodSpec {
        try Fixture.pod(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n" + yaml)).spec
    }

    func priorityClass(_ name: String, _ value: Int32, globalDefault: Bool? = nil, policy: String? = "PreemptLowerPriority") -> PriorityClass {
        PriorityClass(metadata: ObjectMeta(name: name, namespace: ""), value: value, globalDefault: globalDefault, preemptionPolicy: policy)
    }

    /// The admission with the built-in classes, `extra` classes and `globalDefault`.
    func admitted(_ spec: PodSpec, _ extra: [PriorityClass] = [], globalDefault: PriorityClass? = nil) -> Result<PodSpec, PodPriority.Refusal> {
        let all = PriorityClass.builtIns + extra
        return PodPriority.admitted(spec, classes: { name in all.first { $0.metadata.name == name } }, globalDefault: globalDefault)
    }

    @Test func theBuiltInClassesGiveThePriorityAndOthersAreRefused() throws {
        let critical = try admitted(try spec("  priorityClassName: system-cluster-critical\n")).get()
        #expect(critical.priority == 2_000_000_000 && critical.preemptionPolicy == "PreemptLowerPriority")
        #expect(try admitted(try spec("  priorityClassName: system-node-critical\n  priority: 2000001000\n")).get().priority == 2_000_001_000)
        #expect(try admitted(try spec("")).get().priority == nil)
        #expect(try admitted(try spec("  priority: 0\n")).get().priority == 0)
        #expect(admitted(try spec("  priorityClassName: gold\n")) == .failure(.init(message: "no PriorityClass with name gold was found")))
        #expect(admitted(try spec("  priority: 5\n")) == .failure(.init(message:
            "the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name")))
        #expect(try PodSpec(json: critical.json, path: .root) == critical)
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n  priorityClassName: Not_Valid\n"))
        #expect(refused.contains { $0.hasPrefix("spec.priorityClassName: Invalid value: \"Not_Valid\"") })
    }

    @Test func classesOfTheAPIAndTheGlobalDefault() throws {
        let gold = priorityClass("gold", 1000)
        let polite = priorityClass("polite", 500, policy: "Never")
        let base = priorityClass("base", 10, globalDefault: true)
        let named = try admitted(try spec("  priorityClassName: gold\n"), [gold, polite, base], globalDefault: base).get()
        #expect((named.priorityClassName, named.priority, named.preemptionPolicy) == ("gold", 1000, "PreemptLowerPriority"))
        // A pod naming none takes the default class, its name included.
        let unnamed = try admitted(try spec(""), [gold, base], globalDefault: base).get()
        #expect((unnamed.priorityClassName, unnamed.priority) == ("base", 10))
        #expect(try admitted(try spec("  priorityClassName: polite\n"), [polite]).get().preemptionPolicy == "Never")
        #expect(admitted(try spec("  priorityClassName: polite\n  preemptionPolicy: PreemptLowerPriority\n"), [polite]) == .failure(.init(message:
            "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name")))
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n  preemptionPolicy: Sometimes\n"))
        #expect(refused.contains { $0.hasPrefix("spec.preemptionPolicy: Unsupported value: \"Sometimes\"") })
    }

    @Test func priorityClassesAreValidatedAsTheAPIServerDoes() {
        func messages(_ object: PriorityClass, old: PriorityClass? = nil) -> [String] {
            PriorityClass.validate(object, old: old).map { "\($0.field): \($0.detail)" }
        }
        #expect(messages(priorityClass("gold", 1000)).isEmpty)
        #expect(messages(priorityClass("system-gold", 1000)) == ["metadata.name: priority class names with 'system-' prefix are reserved"])
        #expect(messages(priorityClass("huge", 1_000_000_001)) == ["value: maximum allowed value of a user defined priority is 1000000000"])
        #expect(messages(priorityClass("odd", 1, policy: "Sometimes")).count == 1)
        var namespaced = priorityClass("gold", 1)
        namespaced.metadata.namespace = "default"
        #expect(messages(namespaced) == ["metadata.namespace: not allowed on this type"])
        #expect(messages(priorityClass("gold", 2), old: priorityClass("gold", 1)) == ["value: may not be changed in an update."])
        #expect(messages(priorityClass("gold", 1, policy: "Never"), old: priorityClass("gold", 1)) == ["preemptionPolicy: field is immutable"])
        // One global default at most (the Priority admission plugin).
        let first = priorityClass("first", 1, globalDefault: true)
        #expect(PriorityClass.admissionRefusal(priorityClass("second", 2, globalDefault: true), among: [first])
                == "PriorityClass first is already marked as default. Only one default can exist")
        #expect(PriorityClass.admissionRefusal(first, among: [first]) == nil)
        #expect(PriorityClass.admissionRefusal(priorityClass("second", 2), among: [first]) == nil)
    }

    @Test func aNodeCriticalPodIsTheLastTheOOMKillerTakes() throws {
        let plain = try spec("")
        #expect(OOMScoreAdjust.container(named: "app", of: plain, memoryCapacity: 1 << 30) == OOMScoreAdjust.bestEffort)
        let node = try admitted(try spec("  priorityClassName: system-node-critical\n")).get()
        #expect(OOMScoreAdjust.container(named: "app", of: node, memoryCapacity: 1 << 30) == OOMScoreAdjust.guaranteed)
        let cluster = try admitted(try spec("  priorityClassName: system-cluster-critical\n")).get()
        #expect(OOMScoreAdjust.container(named: "app", of: cluster, memoryCapacity: 1 << 30) == OOMScoreAdjust.bestEffort)
    }
}
