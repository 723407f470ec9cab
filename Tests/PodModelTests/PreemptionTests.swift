import Testing

@testable import PodModel

/// DefaultPreemption's choice of victims on one node: only pods of lower priority, the fewest
/// and least important that make room, none when even all of them would not.
struct PreemptionTests {
    let node: [String: Int64] = ["cpu": 2000, "memory": 4 << 30]

    func pod(_ name: String, _ priority: Int32, cpu: Int64, since: Int64) -> Preemption.Candidate {
        Preemption.Candidate(namespace: "default", name: name, priority: priority, startTime: Timestamp(seconds: since), requests: ["cpu": cpu])
    }

    @Test func theLeastImportantPodsThatMakeRoomGo() {
        let placed = [pod("old-low", 10, cpu: 600, since: 1), pod("new-low", 10, cpu: 600, since: 5), pod("lowest", 0, cpu: 300, since: 1),
                      pod("peer", 1000, cpu: 400, since: 1)]
        // 1,900 of 2,000 used; 700 wanted: 600 must go besides what is free. Put back in order of
        // importance: old-low (fits back), new-low (does not), lowest (fits back).
        let victims = Preemption.victims(for: ["cpu": 700], priority: 1000, allocatable: node, placed: placed)
        #expect(victims?.map(\.name) == ["new-low"])
        // More wanted: the lowest priority goes before the newer pod of a higher one.
        #expect(Preemption.victims(for: ["cpu": 1000], priority: 1000, allocatable: node, placed: placed)?.map(\.name) == ["new-low", "lowest"])
    }

    @Test func anyFilterDecidesWhoMustGo() {
        // An anti-affinity that only "db" breaks: it alone goes, whatever its importance.
        var db = pod("db", 10, cpu: 0, since: 1)
        db.labels = ["app": "db"]
        let placed = [pod("cache", 5, cpu: 0, since: 1), db, pod("peer", 1000, cpu: 0, since: 1)]
        let victims = Preemption.victims(priority: 1000, placed: placed) { kept in !kept.contains { $0.labels["app"] == "db" } }
        #expect(victims?.map(\.name) == ["db"])
        // A rule no victim can satisfy (it needs a pod that would go): preemption does not help.
        #expect(Preemption.victims(priority: 1000, placed: placed) { kept in kept.contains { $0.name == "db" } && kept.count == 2 } == nil)
    }

    @Test func equalOrHigherPriorityIsNeverAVictim() {
        let placed = [pod("peer", 1000, cpu: 1800, since: 1)]
        #expect(Preemption.victims(for: ["cpu": 500], priority: 1000, allocatable: node, placed: placed) == nil)
        // Even every lower pod going would not make room.
        let crowded = [pod("peer", 1000, cpu: 1800, since: 1), pod("low", 1, cpu: 100, since: 1)]
        #expect(Preemption.victims(for: ["cpu": 500], priority: 1000, allocatable: node, placed: crowded) == nil)
        #expect(Preemption.victims(for: ["cpu": 3000], priority: 1000, allocatable: node, placed: [pod("low", 1, cpu: 100, since: 1)]) == nil)
    }

    @Test func aPodABudgetProtectsIsSparedWhenAnotherMakesRoom() {
        var newer = pod("newer", 10, cpu: 1000, since: 5)
        newer.labels = ["app": "db"]
        let placed = [pod("older", 10, cpu: 1000, since: 1), newer]
        // Without a budget the less important (newer) pod goes.
        #expect(Preemption.victims(for: ["cpu": 1000], priority: 1000, allocatable: node, placed: placed)?.map(\.name) == ["newer"])
        var budget = PodDisruptionBudget(metadata: ObjectMeta(name: "db"), spec: .init(minAvailable: .int(1), selector: LabelSelectorSpec(matchLabels: ["app": "db"])))
        budget.status.disruptionsAllowed = 0
        #expect(Preemption.victims(for: ["cpu": 1000], priority: 1000, allocatable: node, placed: placed, budgets: [budget])?.map(\.name) == ["older"])
        // A budget that allows the disruption protects nothing; one that cannot be kept is broken.
        budget.status.disruptionsAllowed = 1
        #expect(Preemption.victims(for: ["cpu": 1000], priority: 1000, allocatable: node, placed: placed, budgets: [budget])?.map(\.name) == ["newer"])
        budget.status.disruptionsAllowed = 0
        #expect(Preemption.victims(for: ["cpu": 2000], priority: 1000, allocatable: node, placed: placed, budgets: [budget])?.map(\.name).sorted() == ["newer", "older"])
    }
}
