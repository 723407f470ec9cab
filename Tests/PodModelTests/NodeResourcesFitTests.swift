import Testing

@testable import PodModel

/// NodeResourcesFit on podd's node: what a pod requests against what the node can allocate
/// less what the placed pods request; the scheduler's Insufficient messages for an unbound
/// pod, kubelet's OutOf rejection for one bound by its own nodeName.
struct NodeResourcesFitTests {
    let node = Node(name: "vm", labels: ["kubernetes.io/hostname": "vm"],
                    allocatable: ["cpu": 2000, "memory": 4096 * 1000 << 20, "ephemeral-storage": 10_000 * 1000 << 20, "hugepages-2Mi": 0])

    func pod(_ resources: String, extra: String = "") throws -> Pod {
        try Fixture.pod(Fixture.minimal.replacingOccurrences(of: "spec:\n", with: "spec:\n\(extra)")
                        + "\n    resources: \(resources)\n")
    }

    @Test func requestsAddUpAsKubernetesAddsThem() throws {
        let p = try pod("{requests: {cpu: 500m, memory: 64Mi}, limits: {ephemeral-storage: 1Gi}}")
        #expect(NodeResourcesFit.requests(p.spec) == ["cpu": 500, "memory": 64 * 1000 << 20, "ephemeral-storage": 1000 << 30])
        #expect(NodeResourcesFit.requests(try pod("{}").spec).isEmpty)
    }

    @Test func anUnboundPodThatDoesNotFitIsUnschedulable() throws {
        let p = try pod("{requests: {cpu: 1500m, memory: 1Gi}}")
        #expect(NodeScheduling.outcome(p, on: node, among: []) == .scheduled)
        #expect(NodeScheduling.outcome(p, on: node, among: [], requested: ["cpu": 400]) == .scheduled)
        #expect(NodeScheduling.outcome(p, on: node, among: [], requested: ["cpu": 600]) == .unschedulable(message:
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."))
        #expect(NodeScheduling.bound(p, to: node, among: [], requested: ["cpu": 600]).spec.nodeName == nil)
        #expect(NodeScheduling.bound(p, to: node, among: [], requested: ["cpu": 400]).spec.nodeName == "vm")
        // More than the node has at all: removing pods would not help.
        let huge = try pod("{requests: {cpu: '3', memory: 100Gi, hugepages-2Mi: 2Mi}, limits: {hugepages-2Mi: 2Mi}}")
        #expect(NodeScheduling.outcome(huge, on: node, among: []) == .unschedulable(message:
            "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient hugepages-2Mi, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."))
        // A node whose resources are not weighed takes anything.
        #expect(NodeScheduling.outcome(huge, on: Node(name: "vm", labels: [:]), among: []) == .scheduled)
    }

    @Test func aPodBoundByItsOwnNodeNameIsRejectedAsKubeletRejectsIt() throws {
        let p = try pod("{requests: {cpu: '1', memory: 1Gi}}", extra: "  nodeName: vm\n")
        #expect(NodeScheduling.outcome(p, on: node, among: [], requested: ["cpu": 1500]) == .rejected(reason: "OutOfcpu",
            message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000"))
        #expect(NodeScheduling.outcome(p, on: node, among: [], requested: ["memory": 4000 * 1000 << 20]) == .rejected(reason: "OutOfmemory",
            message: "Pod was rejected: Node didn't have enough resource: memory, requested: 1073741824, used: 4194304000, capacity: 4294967296"))
    }
}
