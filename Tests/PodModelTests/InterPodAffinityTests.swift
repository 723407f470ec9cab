import Testing

@testable import PodModel

/// podAffinity and podAntiAffinity on podd's one node (InterPodAffinity): the scheduler's
/// filter with the node as the only topology domain, its messages, and the API server's
/// validation of the terms.
struct InterPodAffinityTests {
    let node = Node(name: "vm", labels: Node.labels(hostname: "vm", machine: "x86_64", extra: ["zone": "a"]))

    func pod(_ name: String, namespace: String = "default", labels: [String: String] = [:], affinity: String = "") throws -> Pod {
        var yaml = Fixture.minimal.replacingOccurrences(of: "name: web", with: "name: \(name)\n  namespace: \(namespace)")
        if !labels.isEmpty {
            yaml = yaml.replacingOccurrences(of: "metadata:\n", with: "metadata:\n  labels: {\(labels.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", "))}\n")
        }
        if !affinity.isEmpty { yaml = yaml.replacingOccurrences(of: "spec:\n", with: "spec:\n  affinity: \(affinity)\n") }
        return try Fixture.pod(yaml)
    }

    func anti(_ selector: String, key: String = "kubernetes.io/hostname", extra: String = "") -> String {
        "{podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: \(selector), topologyKey: \(key)\(extra)}]}}"
    }

    func with(_ selector: String, key: String = "kubernetes.io/hostname", extra: String = "") -> String {
        "{podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: \(selector), topologyKey: \(key)\(extra)}]}}"
    }

    func failure(_ p: Pod, _ placed: [Pod]) -> InterPodAffinity.Failure? {
        InterPodAffinity.failure(p, node: node, among: placed.map(PlacedPod.init))
    }

    @Test func antiAffinityKeepsAPodOffANodeWithAPodItSelects() throws {
        let db1 = try pod("db-1", labels: ["app": "db"])
        let db2 = try pod("db-2", labels: ["app": "db"], affinity: anti("{matchLabels: {app: db}}"))
        #expect(failure(db2, [db1]) == .antiAffinity)
        #expect(failure(db2, []) == nil)
        #expect(failure(db2, [try pod("web", labels: ["app": "web"])]) == nil)
        // Another namespace is not the term's unless it names it.
        #expect(failure(db2, [try pod("db-1", namespace: "other", labels: ["app": "db"])]) == nil)
        let named = try pod("db-2", labels: ["app": "db"], affinity: anti("{matchLabels: {app: db}}", extra: ", namespaces: [other]"))
        #expect(failure(named, [try pod("db-1", namespace: "other", labels: ["app": "db"])]) == .antiAffinity)
        let everywhere = try pod("db-2", labels: ["app": "db"], affinity: anti("{matchLabels: {app: db}}", extra: ", namespaceSelector: {}"))
        #expect(failure(everywhere, [try pod("db-1", namespace: "other", labels: ["app": "db"])]) == .antiAffinity)
        let byName = try pod("db-2", affinity: anti("{}", extra: ", namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}"))
        #expect(failure(byName, [try pod("x", namespace: "other")]) == .antiAffinity)
        #expect(failure(byName, [try pod("x")]) == nil)
        // A node without the topology label is in no domain: nothing there breaks the term.
        #expect(failure(try pod("db-2", labels: ["app": "db"], affinity: anti("{matchLabels: {app: db}}", key: "rack")), [db1]) == nil)
        // Without a labelSelector a term selects no pod.
        #expect(failure(try pod("db-2", affinity: "{podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone}]}}"), [db1]) == nil)
    }

    @Test func anExistingPodsAntiAffinityKeepsOthersOff() throws {
        let guarded = try pod("guard", labels: ["app": "db"], affinity: anti("{matchExpressions: [{key: team, operator: In, values: [x]}]}"))
        #expect(failure(try pod("intruder", labels: ["team": "x"]), [guarded]) == .existingAntiAffinity)
        #expect(failure(try pod("friend", labels: ["team": "y"]), [guarded]) == nil)
    }

    @Test func affinityNeedsAPodThatMatchesEveryTermOrIsTheFirstOfItsKind() throws {
        let web = try pod("web", labels: ["app": "web"])
        let cache = try pod("cache", affinity: with("{matchLabels: {app: web}}"))
        #expect(failure(cache, []) == .affinity)
        #expect(failure(cache, [web]) == nil)
        // The first of a group that runs together: no pod matches, and it matches its own term.
        let first = try pod("first", labels: ["app": "web"], affinity: with("{matchLabels: {app: web}}"))
        #expect(failure(first, []) == nil)
        // Once one matches, it must be there: a pod that matches none is not the first.
        #expect(failure(cache, [try pod("db", labels: ["app": "db"])]) == .affinity)
        // A node without the topology label satisfies no affinity term.
        #expect(failure(try pod("cache", affinity: with("{matchLabels: {app: web}}", key: "rack")), [web]) == .affinity)
        #expect(failure(try pod("cache", affinity: with("{matchLabels: {app: web}}", key: "zone")), [web]) == nil)
    }

    @Test func matchAndMismatchLabelKeysTakeTheOwnersValues() throws {
        let v1 = try pod("v1", labels: ["app": "web", "version": "1"])
        let sameVersion = try pod("cache", labels: ["version": "1"], affinity: with("{matchLabels: {app: web}}", extra: ", matchLabelKeys: [version]"))
        #expect(failure(sameVersion, [v1]) == nil)
        let otherVersion = try pod("cache", labels: ["version": "2"], affinity: with("{matchLabels: {app: web}}", extra: ", matchLabelKeys: [version]"))
        #expect(failure(otherVersion, [v1]) == .affinity)
        let notBeside = try pod("cache", labels: ["version": "1"], affinity: anti("{matchLabels: {app: web}}", extra: ", mismatchLabelKeys: [version]"))
        #expect(failure(notBeside, [v1]) == nil)
        #expect(failure(notBeside, [try pod("v2", labels: ["app": "web", "version": "2"])]) == .antiAffinity)
    }

    @Test func theOutcomeAndMessagesAreTheSchedulers() throws {
        let db1 = try pod("db-1", labels: ["app": "db"])
        var db2 = try pod("db-2", labels: ["app": "db"], affinity: anti("{matchLabels: {app: db}}"))
        #expect(NodeScheduling.outcome(db2, on: node, among: [PlacedPod(db1)]) == .unschedulable(message:
            "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."))
        #expect(NodeScheduling.bound(db2, to: node, among: [PlacedPod(db1)]).spec.nodeName == nil)
        #expect(NodeScheduling.bound(db2, to: node, among: []).spec.nodeName == "vm")
        #expect(InterPodAffinity.Failure.affinity.message.contains("1 node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."))
        #expect(InterPodAffinity.Failure.existingAntiAffinity.message.contains("1 node(s) didn't satisfy existing pods anti-affinity rules."))
        // A pod bound by its own nodeName skips the scheduler, and kubelet does not weigh pods.
        db2.spec.nodeName = "vm"
        #expect(NodeScheduling.outcome(db2, on: node, among: [PlacedPod(db1)]) == .scheduled)
        // Finished pods and pods of another node do not count.
        var done = db1
        done.spec.nodeName = "vm"
        #expect(PlacedPod.counts(done, node: "vm"))
        done.status.phase = .succeeded
        #expect(!PlacedPod.counts(done, node: "vm") && !PlacedPod.counts(db1, node: "vm"))
    }

    @Test func termsAreValidatedAsTheAPIServerDoes() throws {
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: """
            spec:
              affinity:
                podAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                  - {labelSelector: {matchExpressions: [{key: a, operator: Near}, {key: b, operator: In}]}, topologyKey: ""}
                  - {topologyKey: zone, matchLabelKeys: [version]}
                  - {labelSelector: {}, topologyKey: "bad key", namespaces: [Not_A_Namespace], matchLabelKeys: [v], mismatchLabelKeys: [v]}
                podAntiAffinity:
                  preferredDuringSchedulingIgnoredDuringExecution:
                  - {weight: 101, podAffinityTerm: {labelSelector: {matchLabels: {"bad key": x}}, topologyKey: zone}}

            """))
        let base = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        #expect(refused.contains("\(base)[0].labelSelector.matchExpressions[0].operator: Invalid value: \"Near\": not a valid selector operator"))
        #expect(refused.contains("\(base)[0].labelSelector.matchExpressions[1].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"))
        #expect(refused.contains("\(base)[0].topologyKey: Required value: can not be empty"))
        #expect(refused.contains("\(base)[1].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"))
        #expect(refused.contains { $0.hasPrefix("\(base)[2].topologyKey: Invalid value: \"bad key\"") })
        #expect(refused.contains { $0.hasPrefix("\(base)[2].namespace: Invalid value: \"Not_A_Namespace\"") })
        #expect(refused.contains("\(base)[2].mismatchLabelKeys[0]: Invalid value: \"v\": exists in both matchLabelKeys and mismatchLabelKeys"))
        let preferred = "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
        #expect(refused.contains("\(preferred).weight: Invalid value: 101: must be in the range 1-100"))
        #expect(refused.contains { $0.hasPrefix("\(preferred).podAffinityTerm.labelSelector.matchLabels: Invalid value: \"bad key\"") })
        #expect(refused.count == 9, "\(refused)")
    }

    @Test func theFieldsRoundTrip() throws {
        let p = try pod("p", affinity: """
            {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: web}, matchExpressions: [{key: tier, operator: NotIn, values: [x]}]}, namespaces: [a], topologyKey: zone, namespaceSelector: {}, matchLabelKeys: [v], mismatchLabelKeys: [w]}]}, podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 5, podAffinityTerm: {labelSelector: {matchLabels: {app: db}}, topologyKey: kubernetes.io/hostname}}]}}
            """)
        let again = try PodSpec(json: p.spec.json, path: .root)
        #expect(again == p.spec)
        #expect(again.affinity?.podAffinity?.required.first?.namespaceSelector == LabelSelectorSpec())
        #expect(again.affinity?.podAntiAffinity?.preferred.first?.weight == 5)
        #expect(p.spec.json["affinity"]?["podAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?[0]?["namespaceSelector"] == .object(JSONObject()))
    }
}
