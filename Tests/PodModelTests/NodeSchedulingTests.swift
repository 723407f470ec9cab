import Testing

@testable import PodModel

/// nodeSelector, nodeName and tolerations on podd's one node (NodeScheduling,
/// SchedulingValidation): a fit is bound, a miss is the scheduler's Unschedulable, a pod bound
/// here that does not fit is kubelet's NodeAffinity rejection; tolerations are validated as
/// the API server validates them (what they decide against taints: TaintTests).
struct NodeSchedulingTests {
    let node = Node(name: "vm", labels: Node.labels(hostname: "VM", machine: "x86_64", extra: ["disktype": "ssd"]))

    func pod(_ yaml: String) throws -> Pod {
        try Fixture.pod(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n" + yaml))
    }

    @Test func theNodeHasKubeletsLabelsAndTheConfigsOver() {
        #expect(node.labels["kubernetes.io/hostname"] == "vm")
        #expect(node.labels["kubernetes.io/arch"] == "amd64" && node.labels["beta.kubernetes.io/os"] == "linux")
        #expect(node.labels["disktype"] == "ssd")
        #expect(Node.labels(hostname: "h", machine: "aarch64")["kubernetes.io/arch"] == "arm64")
        #expect(Node.labels(hostname: "h", machine: "x86_64", extra: ["kubernetes.io/os": "other"])["kubernetes.io/os"] == "other")
        #expect(Node.labelProblem(key: "disk type", value: "ssd") != nil && Node.labelProblem(key: "a/b", value: "-x") != nil)
        #expect(Node.labelProblem(key: "example.com/tier", value: "gold") == nil)
    }

    @Test func aFittingPodIsBoundAndAMissIsUnschedulable() throws {
        let fits = try pod("  nodeSelector: {kubernetes.io/os: linux, disktype: ssd}\n")
        #expect(NodeScheduling.outcome(fits, on: node, among: []) == .scheduled)
        #expect(NodeScheduling.bound(fits, to: node, among: []).spec.nodeName == "vm")
        #expect(NodeScheduling.status(.scheduled, spec: fits.spec, since: Timestamp(seconds: 1)) == nil)
        let misses = try pod("  nodeSelector: {disktype: hdd}\n")
        #expect(NodeScheduling.outcome(misses, on: node, among: []) == .unschedulable(message: NodeScheduling.selectorMismatch))
        #expect(NodeScheduling.bound(misses, to: node, among: []).spec.nodeName == nil)
        let status = try #require(NodeScheduling.status(NodeScheduling.outcome(misses, on: node, among: []), spec: misses.spec, since: Timestamp(seconds: 7)))
        #expect(status.phase == .pending && status.containerStatuses.isEmpty)
        #expect(status.conditions.map { "\($0.type) \($0.status) \($0.reason ?? "")" } == ["PodScheduled False Unschedulable"])
        #expect(status.conditions.first?.lastTransitionTime == Timestamp(seconds: 7))
    }

    @Test func aPodBoundHereThatDoesNotFitIsRejectedAsKubeletRejectsIt() throws {
        let bound = try pod("  nodeName: vm\n  nodeSelector: {disktype: hdd}\n")
        let outcome = NodeScheduling.outcome(bound, on: node, among: [])
        #expect(outcome == .rejected(reason: "NodeAffinity", message: "Pod was rejected: Predicate NodeAffinity failed"))
        let status = try #require(NodeScheduling.status(outcome, spec: bound.spec, since: Timestamp(seconds: 1)))
        #expect(status.phase == .failed && status.reason == "NodeAffinity")
    }

    @Test func aWindowsPodIsBoundThenRejectedAsKubeletRejectsIt() throws {
        #expect(NodeScheduling.outcome(try pod("  os: {name: linux}\n"), on: node, among: []) == .scheduled)
        let windows = NodeScheduling.bound(try pod("  os: {name: windows}\n"), to: node, among: [])
        #expect(windows.spec.nodeName == "vm")
        #expect(NodeScheduling.outcome(windows, on: node, among: [])
                == .rejected(reason: "PodOSNotSupported", message: "Failed to admit pod as the OS field doesn't match node OS"))
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n  os: {name: macos}\n"))
        #expect(refused == ["spec.os.name: Unsupported value: \"macos\": supported values: \"linux\", \"windows\""])
    }

    @Test func tolerationsAndSelectorsAreValidatedAsTheAPIServerDoes() throws {
        let admitted = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: """
            spec:
              tolerations:
              - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
              - {operator: Exists}
              - {key: dedicated, value: gpu, effect: NoSchedule}

            """))
        #expect(admitted.isEmpty)
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: """
            spec:
              nodeName: Not_A_Node
              nodeSelector: {"bad key": ok}
              tolerations:
              - {value: x}
              - {key: a, operator: Exists, value: x}
              - {key: a, operator: Sometimes}
              - {key: a, effect: NoSchedule, tolerationSeconds: 5}
              - {key: a, effect: Never}

            """))
        #expect(refused.contains { $0.hasPrefix("spec.nodeName: Invalid value: \"Not_A_Node\"") })
        #expect(refused.contains { $0.hasPrefix("spec.nodeSelector: Invalid value: \"bad key\"") })
        #expect(refused.contains("spec.tolerations[0].operator: Invalid value: \"\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
        #expect(refused.contains { $0.hasPrefix("spec.tolerations[1].operator: Invalid value: ") && $0.hasSuffix("value must be empty when `operator` is 'Exists'") })
        #expect(refused.contains("spec.tolerations[2].operator: Unsupported value: \"Sometimes\": supported values: \"Equal\", \"Exists\""))
        #expect(refused.contains("spec.tolerations[3].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"))
        #expect(refused.contains("spec.tolerations[4].effect: Unsupported value: \"Never\": supported values: \"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\""))
    }

    @Test func requiredNodeAffinityIsOneOfItsTermsAndPreferredOnesDecideNothing() throws {
        func outcome(_ terms: String) throws -> NodeScheduling.Outcome {
            NodeScheduling.outcome(try pod("  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n"
                + "        nodeSelectorTerms: \(terms)\n"), on: node, among: [])
        }
        let miss = NodeScheduling.Outcome.unschedulable(message: NodeScheduling.selectorMismatch)
        #expect(try outcome("[{matchExpressions: [{key: disktype, operator: In, values: [hdd, ssd]}]}]") == .scheduled)
        #expect(try outcome("[{matchExpressions: [{key: disktype, operator: NotIn, values: [ssd]}]}]") == miss)
        #expect(try outcome("[{matchExpressions: [{key: gpu, operator: NotIn, values: [a]}, {key: gpu, operator: DoesNotExist}]}]") == .scheduled)
        #expect(try outcome("[{matchExpressions: [{key: gpu, operator: Exists}]}]") == miss)
        // Terms are alternatives; the expressions of one term all hold.
        #expect(try outcome("[{matchExpressions: [{key: gpu, operator: Exists}]}, {matchFields: [{key: metadata.name, operator: In, values: [vm]}]}]") == .scheduled)
        #expect(try outcome("[{matchExpressions: [{key: disktype, operator: Exists}, {key: gpu, operator: Exists}]}]") == miss)
        // An empty term matches no node.
        #expect(try outcome("[{}]") == miss)
        let numbered = Node(name: "vm", labels: ["cores": "8"])
        let gt = try pod("  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: cores, operator: Gt, values: ['4']}]}]}}}\n")
        #expect(NodeScheduling.outcome(gt, on: numbered, among: []) == .scheduled)
        #expect(NodeScheduling.outcome(gt, on: Node(name: "vm", labels: ["cores": "2"]), among: []) != .scheduled)
        let preferred = try pod("  affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 50, preference: {matchExpressions: [{key: gpu, operator: Exists}]}}]}}\n")
        #expect(NodeScheduling.outcome(preferred, on: node, among: []) == .scheduled)
        #expect(try PodSpec(json: preferred.spec.json, path: .root) == preferred.spec)
    }

    @Test func nodeAffinityIsValidatedAsTheAPIServerDoes() throws {
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: """
            spec:
              affinity:
                nodeAffinity:
                  requiredDuringSchedulingIgnoredDuringExecution:
                    nodeSelectorTerms:
                    - matchExpressions:
                      - {key: a, operator: In}
                      - {key: a, operator: Exists, values: [x]}
                      - {key: a, operator: Gt, values: [x]}
                      - {key: a, operator: Near}
                      matchFields:
                      - {key: metadata.uid, operator: In, values: [x]}
                  preferredDuringSchedulingIgnoredDuringExecution:
                  - {weight: 0, preference: {}}

            """))
        let base = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"
        #expect(refused.contains("\(base).matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"))
        #expect(refused.contains("\(base).matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        #expect(refused.contains("\(base).matchExpressions[2].values[0]: Invalid value: \"x\": must be an integer"))
        #expect(refused.contains { $0.hasPrefix("\(base).matchExpressions[3].operator: Unsupported value: \"Near\"") })
        #expect(refused.contains("\(base).matchFields[0].key: Invalid value: \"metadata.uid\": not a valid field selector key"))
        #expect(refused.contains("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 0: must be in the range 1-100"))
    }

    @Test func aGatedPodWaitsUntriedAndGatesMayOnlyBeRemoved() throws {
        let gated = try pod("  schedulingGates: [{name: example.com/quota}]\n")
        #expect(NodeScheduling.outcome(gated, on: node, among: []) == .gated)
        #expect(NodeScheduling.bound(gated, to: node, among: []).spec.nodeName == nil)
        let status = try #require(NodeScheduling.status(.gated, spec: gated.spec, since: Timestamp(seconds: 3)))
        #expect(status.phase == .pending && status.conditions.map { "\($0.type) \($0.status) \($0.reason ?? "")" } == ["PodScheduled False SchedulingGated"])
        #expect(try PodSpec(json: gated.spec.json, path: .root) == gated.spec)
        let open = try pod("")
        #expect(SchedulingValidation.gateUpdateErrors(old: gated.spec, new: open.spec).isEmpty)
        #expect(SchedulingValidation.gateUpdateErrors(old: open.spec, new: gated.spec).map(\.description)
                == ["spec.schedulingGates: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/quota'"])
        let refused = try Fixture.validationMessages(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n  nodeName: vm\n  schedulingGates: [{name: a}, {name: a}, {name: 'not valid'}]\n"))
        #expect(refused.contains("spec.schedulingGates[1].name: Duplicate value: \"a\""))
        #expect(refused.contains { $0.hasPrefix("spec.schedulingGates[2].name: Invalid value: \"not valid\"") })
        #expect(refused.contains("spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"))
    }

    @Test func theFieldsRoundTrip() throws {
        let s = try pod("  os: {name: linux}\n  nodeName: vm\n  nodeSelector: {disktype: ssd}\n  tolerations: [{key: k, operator: Equal, value: v, effect: NoExecute, tolerationSeconds: 9}]\n")
        let again = try PodSpec(json: s.spec.json, path: .root)
        #expect(again == s.spec && again.tolerations.first?.tolerationSeconds == 9 && again.nodeSelector == ["disktype": "ssd"])
        #expect(again.osName == "linux")
    }
}
