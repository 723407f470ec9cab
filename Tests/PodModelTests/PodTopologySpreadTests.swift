import Testing

@testable import PodModel

/// topologySpreadConstraints on podd's one node (PodTopologySpread): the node is the only
/// domain, so a DoNotSchedule constraint refuses a pod only when the node lacks its label or
/// minDomains counts missing domains as empty; and the API server's validation.
struct PodTopologySpreadTests {
    let node = Node(name: "vm", labels: Node.labels(hostname: "vm", machine: "x86_64"))

    func pod(_ name: String, labels: [String: String] = ["app": "web"], spread: String = "") throws -> Pod {
        var yaml = Fixture.minimal.replacingOccurrences(of: "name: web", with: "name: \(name)")
        yaml = yaml.replacingOccurrences(of: "metadata:\n", with: "metadata:\n  labels: {\(labels.map { "\($0.key): \"\($0.value)\"" }.joined(separator: ", "))}\n")
        if !spread.isEmpty { yaml = yaml.replacingOccurrences(of: "spec:\n", with: "spec:\n  topologySpreadConstraints: \(spread)\n") }
        return try Fixture.pod(yaml)
    }

    func failure(_ p: Pod, _ placed: [Pod]) -> PodTopologySpread.Failure? {
        PodTopologySpread.failure(p, node: node, among: placed.map(PlacedPod.init))
    }

    @Test func oneDomainAlwaysSpreadsEvenlyUnlessMinDomainsAsksForMore() throws {
        let constraint = "[{maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]"
        let placed = try (1...3).map { try pod("web-\($0)") }
        #expect(failure(try pod("web-4", spread: constraint), placed) == nil)
        let zone = "[{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]"
        #expect(failure(try pod("web-4", spread: zone), []) == .missingLabel)
        #expect(failure(try pod("web-4", spread: zone.replacingOccurrences(of: "DoNotSchedule", with: "ScheduleAnyway")), []) == nil)
        // minDomains 3 with one domain: the missing two count as empty, so at most maxSkew here.
        let spreadOut = "[{maxSkew: 2, minDomains: 3, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]"
        #expect(failure(try pod("web-2", spread: spreadOut), [placed[0]]) == nil)
        #expect(failure(try pod("web-3", spread: spreadOut), Array(placed[0..<2])) == .skew)
        // Pods that do not match, of another namespace, or being deleted do not count; nor
        // does a pod that does not match its own selector count itself.
        var leaving = placed[1]
        leaving.metadata.deletionTimestamp = Timestamp(seconds: 5)
        #expect(failure(try pod("web-3", spread: spreadOut), [placed[0], leaving, try pod("db", labels: ["app": "db"])]) == nil)
        #expect(failure(try pod("other", labels: ["app": "other"], spread: spreadOut), Array(placed[0..<2])) == nil)
        // matchLabelKeys: only the pods with the same value of the pod's own label count.
        let byVersion = "[{maxSkew: 1, minDomains: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [version]}]"
        let v1 = try pod("v1", labels: ["app": "web", "version": "1"])
        #expect(failure(try pod("v1b", labels: ["app": "web", "version": "1"], spread: byVersion), [v1]) == .skew)
        #expect(failure(try pod("v2", labels: ["app": "web", "version": "2"], spread: byVersion), [v1]) == nil)
        #expect(PodTopologySpread.Failure.skew.message.contains("1 node(s) didn't match pod topology spread constraints. preemption"))
        #expect(NodeScheduling.outcome(try pod("web-4", spread: zone), on: node, among: [])
                == .unschedulable(message: PodTopologySpread.Failure.missingLabel.message))
    }

    @Test func constraintsAreValidatedAsTheAPIServerDoes() throws {
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: """
            spec:
              topologySpreadConstraints:
              - {maxSkew: 0, topologyKey: "", whenUnsatisfiable: Sometimes}
              - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2, nodeAffinityPolicy: Maybe}
              - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [app]}
              - {maxSkew: 1, topologyKey: rack, whenUnsatisfiable: DoNotSchedule, minDomains: 0, matchLabelKeys: [version]}

            """))
        let p = "spec.topologySpreadConstraints"
        #expect(refused.contains("\(p)[0].maxSkew: Invalid value: 0: must be greater than zero"))
        #expect(refused.contains("\(p)[0].topologyKey: Required value: can not be empty"))
        #expect(refused.contains("\(p)[0].whenUnsatisfiable: Unsupported value: \"Sometimes\": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""))
        #expect(refused.contains("\(p)[1].minDomains: Invalid value: 2: can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"))
        #expect(refused.contains("\(p)[1].nodeAffinityPolicy: Unsupported value: \"Maybe\": supported values: \"Honor\", \"Ignore\""))
        #expect(refused.contains("\(p)[1].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, ScheduleAnyway}\""))
        #expect(refused.contains("\(p)[2].matchLabelKeys[0]: Invalid value: \"app\": exists in both matchLabelKeys and labelSelector"))
        #expect(refused.contains("\(p)[3].minDomains: Invalid value: 0: must be greater than zero"))
        #expect(refused.contains("\(p)[3].matchLabelKeys: Forbidden: must not be specified when labelSelector is not set"))
        #expect(refused.count == 9, "\(refused)")
        let fine = try pod("p", spread: "[{maxSkew: 1, minDomains: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}, nodeAffinityPolicy: Honor, nodeTaintsPolicy: Ignore, matchLabelKeys: [version]}]")
        #expect(PodValidation.validate(fine).isEmpty)
        #expect(try PodSpec(json: fine.spec.json, path: .root) == fine.spec)
    }
}
