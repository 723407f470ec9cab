import Testing
@testable import PodModel

/// PodDisruptionBudgets: decoding and validation as the API server's, the disruption
/// controller's arithmetic for podd's controller-less pods, and the eviction subresource's
/// verdicts.
struct DisruptionBudgetTests {
    typealias View = DisruptionBudgets.PodView
    let t0 = Timestamp(seconds: 5_000_000)

    func budget(_ spec: PodDisruptionBudget.Spec, generation: Int64 = 1) -> PodDisruptionBudget {
        var b = PodDisruptionBudget(metadata: ObjectMeta(name: "web"), spec: spec)
        b.metadata.generation = generation
        return b
    }

    let web = LabelSelectorSpec(matchLabels: ["app": "web"])

    func pod(_ name: String, ready: Bool = true, phase: PodPhase = .running, terminating: Bool = false,
             labels: [String: String] = ["app": "web"]) -> View {
        View(name: name, labels: labels, phase: phase, ready: ready, terminating: terminating)
    }

    @Test func decodesAndWritesTheObject() throws {
        let json = try JSONValue.parse(Array("""
            {"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web"},
             "spec":{"minAvailable":"50%","selector":{"matchLabels":{"app":"web"}},"unhealthyPodEvictionPolicy":"AlwaysAllow"},
             "status":{"disruptedPods":{"web-1":"2026-12-07T10:00:00Z"},"disruptionsAllowed":1,"currentHealthy":2,
                       "desiredHealthy":1,"expectedPods":2,"observedGeneration":3}}
            """.utf8))
        let b = try ObjectManifest.decode(json, as: PodDisruptionBudget.self)
        #expect(b.spec.minAvailable == .string("50%") && b.spec.maxUnavailable == nil)
        #expect(b.spec.unhealthyPodEvictionPolicy == "AlwaysAllow" && b.metadata.namespace == "default")
        #expect(b.status.disruptedPods["web-1"] == Timestamp(rfc3339: "2026-12-07T10:00:00Z"))
        #expect(b.status.observedGeneration == 3 && b.status.expectedPods == 2)
        #expect(try PodDisruptionBudget(json: b.json, path: .root) == b)
        // Unknown fields are 400, as everywhere.
        let unknown = try JSONValue.parse(Array(#"{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"x"},"spec":{"minAvailabel":1}}"#.utf8))
        #expect(throws: ManifestError.self) { try ObjectManifest.decode(unknown, as: PodDisruptionBudget.self) }
        let core = try JSONValue.parse(Array(#"{"apiVersion":"v1","kind":"PodDisruptionBudget","metadata":{"name":"x"}}"#.utf8))
        #expect(throws: ManifestError.self) { try ObjectManifest.decode(core, as: PodDisruptionBudget.self) }
    }

    @Test func validatesAsTheAPIServer() {
        func messages(_ spec: PodDisruptionBudget.Spec) -> [String] {
            DisruptionBudgetValidation.validate(budget(spec)).map { "\($0.field): \($0.detail)" }
        }
        #expect(messages(.init(minAvailable: .int(1), selector: web)).isEmpty)
        #expect(messages(.init(maxUnavailable: .string("100%"), selector: web)).isEmpty)
        #expect(messages(.init(minAvailable: .int(1), maxUnavailable: .int(1))) == ["spec: minAvailable and maxUnavailable cannot be both set"])
        #expect(messages(.init(minAvailable: .int(-1))) == ["spec.minAvailable: must be greater than or equal to 0"])
        #expect(messages(.init(maxUnavailable: .string("101%"))) == ["spec.maxUnavailable: must not be greater than 100%"])
        #expect(messages(.init(maxUnavailable: .string("5"))) == ["spec.maxUnavailable: must be an integer or percentage (e.g '5%')"])
        #expect(messages(.init(maxUnavailable: .string("-5%"))) == ["spec.maxUnavailable: must be an integer or percentage (e.g '5%')"])
        #expect(messages(.init(unhealthyPodEvictionPolicy: "Sometimes")).count == 1)
        #expect(messages(.init(selector: LabelSelectorSpec(matchExpressions: [.init(key: "app", operator: "In")]))).count == 1)
    }

    @Test func anUpdateKeepsTheStatusAndCountsSpecChanges() {
        var old = budget(.init(minAvailable: .int(1), selector: web), generation: 4)
        old.status.disruptionsAllowed = 2
        var relabelled = old
        relabelled.status = .init()
        relabelled.metadata.labels = ["team": "a"]
        PodDisruptionBudget.prepareForUpdate(&relabelled, old: old)
        #expect(relabelled.status.disruptionsAllowed == 2 && relabelled.metadata.generation == 4)
        var changed = old
        changed.spec.minAvailable = .int(2)
        PodDisruptionBudget.prepareForUpdate(&changed, old: old)
        #expect(changed.metadata.generation == 5)
        var created = old
        PodDisruptionBudget.prepareForCreate(&created)
        #expect(created.metadata.generation == 1 && created.status == .init())
    }

    @Test func statusCountsHealthyPodsAgainstAnIntegerMinimum() {
        let b = budget(.init(minAvailable: .int(2), selector: web))
        let pods = [pod("a"), pod("b"), pod("c", ready: false), pod("d", terminating: true), pod("other", labels: ["app": "db"])]
        let s = DisruptionBudgets.status(of: b, pods: pods, now: t0)
        #expect((s.expectedPods, s.currentHealthy, s.desiredHealthy, s.disruptionsAllowed) == (4, 2, 2, 0))
        #expect(s.observedGeneration == 1)
        #expect(s.conditions.map { [$0.type, $0.status, $0.reason] } == [["DisruptionAllowed", "False", "InsufficientPods"]])
        let more = DisruptionBudgets.status(of: b, pods: pods + [pod("e")], now: t0.adding(seconds: 5))
        #expect(more.disruptionsAllowed == 1 && more.conditions[0].reason == "SufficientPods")
        #expect(more.conditions[0].lastTransitionTime == t0.adding(seconds: 5))
        // The condition keeps its time while its status stands.
        var kept = b
        kept.status = more
        #expect(DisruptionBudgets.status(of: kept, pods: pods + [pod("e")], now: t0.adding(seconds: 60)).conditions[0].lastTransitionTime
                == t0.adding(seconds: 5))
    }

    @Test func percentagesAndMaxUnavailableNeedControllersThatUnmanagedPodsLack() {
        let pods = [pod("a"), pod("b")]
        for spec in [PodDisruptionBudget.Spec(minAvailable: .string("50%"), selector: web),
                     PodDisruptionBudget.Spec(maxUnavailable: .int(1), selector: web)] {
            let s = DisruptionBudgets.status(of: budget(spec), pods: pods, now: t0)
            #expect((s.expectedPods, s.currentHealthy, s.desiredHealthy, s.disruptionsAllowed) == (0, 2, 0, 0))
            #expect(DisruptionBudgets.unmanagedWarning(budget(spec), pods: pods)?.contains("selector: app=web") == true)
        }
        #expect(DisruptionBudgets.unmanagedWarning(budget(.init(minAvailable: .int(1), selector: web)), pods: pods) == nil)
    }

    @Test func anEmptySelectorCoversNothing() {
        for selector in [nil, LabelSelectorSpec()] {
            let s = DisruptionBudgets.status(of: budget(.init(minAvailable: .int(0), selector: selector)), pods: [pod("a")], now: t0)
            #expect(s.expectedPods == 0 && s.disruptionsAllowed == 0)
        }
    }

    @Test func grantsHoldTwoMinutesOrUntilThePodGoes() {
        var b = budget(.init(minAvailable: .int(1), selector: web))
        b.status.disruptedPods = ["a": t0, "gone": t0, "b": t0]
        let pods = [pod("a"), pod("b", terminating: true), pod("c")]
        let soon = DisruptionBudgets.status(of: b, pods: pods, now: t0.adding(seconds: 60))
        // a is granted and not counted; b is going (dropped); "gone" is no pod any more.
        #expect(soon.disruptedPods == ["a": t0])
        #expect((soon.currentHealthy, soon.disruptionsAllowed) == (1, 0))
        let late = DisruptionBudgets.status(of: b, pods: pods, now: t0.adding(seconds: 121))
        #expect(late.disruptedPods.isEmpty && late.currentHealthy == 2 && late.disruptionsAllowed == 1)
    }

    @Test func evictionVerdicts() {
        func withStatus(_ spec: PodDisruptionBudget.Spec, pods: [View]) -> PodDisruptionBudget {
            var b = budget(spec)
            b.status = DisruptionBudgets.status(of: b, pods: pods, now: t0)
            return b
        }
        let pods = [pod("a"), pod("b"), pod("sick", ready: false)]
        let roomy = withStatus(.init(minAvailable: .int(1), selector: web), pods: pods)
        let tight = withStatus(.init(minAvailable: .int(2), selector: web), pods: pods)
        #expect(EvictionPolicy.verdict(pod: pod("a"), budgets: []) == .delete)
        #expect(EvictionPolicy.verdict(pod: pod("a"), budgets: [roomy]) == .spend(budget: "web"))
        guard case let .refuse(refusal) = EvictionPolicy.verdict(pod: pod("a"), budgets: [tight]) else {
            Issue.record("a tight budget must refuse")
            return
        }
        #expect(refusal.code == 429 && refusal.reason == "TooManyRequests")
        #expect(refusal.causes == [.init(type: "DisruptionBudget", message: "The disruption budget web needs 2 healthy pods and has 2 currently")])
        // Not running, or already going: no budget is asked.
        #expect(EvictionPolicy.verdict(pod: pod("p", phase: .pending), budgets: [tight]) == .deleteUnchanged(budget: nil))
        #expect(EvictionPolicy.verdict(pod: pod("s", phase: .succeeded), budgets: [tight]) == .delete)
        #expect(EvictionPolicy.verdict(pod: pod("a", terminating: true), budgets: [tight]) == .delete)
        // An unready pod: free while the budget is met, or when the budget always allows it.
        #expect(EvictionPolicy.verdict(pod: pod("sick", ready: false), budgets: [tight]) == .deleteUnchanged(budget: "web"))
        let unmet = withStatus(.init(minAvailable: .int(3), selector: web), pods: pods)
        guard case .refuse = EvictionPolicy.verdict(pod: pod("sick", ready: false), budgets: [unmet]) else {
            Issue.record("an unmet budget keeps even an unready pod")
            return
        }
        let always = withStatus(.init(minAvailable: .int(3), selector: web, unhealthyPodEvictionPolicy: "AlwaysAllow"), pods: pods)
        #expect(EvictionPolicy.verdict(pod: pod("sick", ready: false), budgets: [always]) == .deleteUnchanged(budget: "web"))
        // Two budgets: the API server's 500. A generation not yet observed: 429, try later.
        guard case let .refuse(two) = EvictionPolicy.verdict(pod: pod("a"), budgets: [roomy, roomy]) else {
            Issue.record("two budgets must refuse")
            return
        }
        #expect(two.code == 500)
        var stale = roomy
        stale.metadata.generation = 2
        guard case let .refuse(later) = EvictionPolicy.verdict(pod: pod("a"), budgets: [stale]) else {
            Issue.record("an unobserved generation must refuse")
            return
        }
        #expect(later.code == 429 && later.retryAfterSeconds == 10)
    }
}
