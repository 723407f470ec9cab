import Testing

@testable import PodModel

/// The node's own taints (`kubectl taint node`): validated as the API server validates a
/// node's taints, weighed by the scheduler's TaintToleration filter, and, for NoExecute, by
/// the taint eviction controller's verdict.
struct TaintTests {
    let node = Node(name: "vm", labels: Node.labels(hostname: "vm", machine: "x86_64"))

    func pod(_ yaml: String) throws -> Pod {
        try Fixture.pod(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n" + yaml))
    }

    @Test func taintsAreValidatedAsTheAPIServerDoes() {
        func messages(_ taints: [Taint]) -> [String] {
            Taint.errors(taints, path: FieldPath("spec").child("taints")).map { "\($0.field): \($0.detail)" }
        }
        #expect(messages([Taint(key: "dedicated", value: "gpu", effect: "NoSchedule"), Taint(key: "example.com/x", effect: "NoExecute")]).isEmpty)
        #expect(messages([Taint(key: "", effect: "NoSchedule")]) == ["spec.taints[0].key: "])
        #expect(messages([Taint(key: "a", effect: "")]) == ["spec.taints[0].effect: "])
        #expect(messages([Taint(key: "a", effect: "Sometimes")]).count == 1)
        #expect(messages([Taint(key: "bad key", effect: "NoSchedule")]).count == 1)
        #expect(messages([Taint(key: "a", value: "-x", effect: "NoSchedule")]).count == 1)
        // The same key with another effect is another taint; the same pair twice is not.
        #expect(messages([Taint(key: "a", value: "1", effect: "NoSchedule"), Taint(key: "a", value: "2", effect: "NoExecute")]).isEmpty)
        #expect(messages([Taint(key: "a", value: "1", effect: "NoSchedule"), Taint(key: "a", value: "2", effect: "NoSchedule")])
                == ["spec.taints[1]: taints must be unique by key and effect pair"])
        let taint = Taint(key: "a", value: "1", effect: "NoExecute", timeAdded: Timestamp(seconds: 9))
        #expect(Taint(json: taint.json) == taint)
    }

    @Test func theSchedulerPlacesOnlyPodsThatTolerateNoScheduleAndNoExecuteTaints() throws {
        var tainted = node
        tainted.taints = [Taint(key: "soft", effect: "PreferNoSchedule"), Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")]
        let plain = try pod("")
        #expect(NodeScheduling.outcome(plain, on: tainted, among: [])
                == .unschedulable(message: "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."))
        let tolerant = try pod("  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]\n")
        #expect(NodeScheduling.outcome(tolerant, on: tainted, among: []) == .scheduled)
        let wrongValue = try pod("  tolerations: [{key: dedicated, value: cpu}]\n")
        #expect(NodeScheduling.outcome(wrongValue, on: tainted, among: []) != .scheduled)
        // A pod bound by its own nodeName skips the scheduler (the eviction controller weighs
        // NoExecute taints for it).
        let named = try pod("  nodeName: vm\n")
        #expect(NodeScheduling.outcome(named, on: tainted, among: []) == .scheduled)
    }

    @Test func noExecuteTaintsEvictWhatDoesNotTolerateThemOrOnlyForAWhile() {
        let taints = [Taint(key: "maintenance", value: "now", effect: "NoExecute"), Taint(key: "soft", effect: "NoSchedule")]
        func verdict(_ tolerations: [Toleration]) -> TaintEviction.Verdict { TaintEviction.verdict(tolerations, taints: taints) }
        #expect(TaintEviction.verdict([], taints: [Taint(key: "soft", effect: "NoSchedule")]) == .keep)
        #expect(verdict([]) == .evictNow)
        #expect(verdict([Toleration(key: "maintenance", operator: "Exists", effect: "NoExecute")]) == .keep)
        #expect(verdict([Toleration(operator: "Exists")]) == .keep)
        #expect(verdict([Toleration(key: "maintenance", operator: "Exists", tolerationSeconds: 30),
                         Toleration(key: "maintenance", value: "now", effect: "NoExecute", tolerationSeconds: 10)]) == .evictAfter(seconds: 10))
        #expect(verdict([Toleration(key: "maintenance", operator: "Exists", tolerationSeconds: 0)]) == .evictNow)
        #expect(verdict([Toleration(key: "maintenance", value: "later", effect: "NoExecute")]) == .evictNow)
    }
}
