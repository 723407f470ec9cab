/// The one node podd runs pods on, as the scheduler and kubelet see it: its name (the
/// machine's host name), its labels (kubelet's well-known ones, the config's `nodeLabels`,
/// and those set through the API), whether it is cordoned (`kubectl cordon`: it then has the
/// taint node.kubernetes.io/unschedulable:NoSchedule) and its own taints (`kubectl taint`).
public struct Node: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    /// spec.unschedulable: the scheduler places no new pod here (pods bound by their own
    /// nodeName, and those that tolerate the taint, excepted).
    public var unschedulable = false
    /// The taints set through the API (`kubectl taint`); the cordon's is not among them.
    public var taints: [Taint] = []
    /// What pods may request in all (status.allocatable), in thousandths of a unit; nil: not
    /// weighed (NodeResourcesFit).
    public var allocatable: [String: Int64]?

    public init(name: String, labels: [String: String], allocatable: [String: Int64]? = nil) {
        self.name = name
        self.labels = labels
        self.allocatable = allocatable
    }

    /// kubelet's labels for a node (kubernetes.io/hostname, os, arch and their beta forms),
    /// with `extra` (the config's nodeLabels) over them. `machine` is uname's.
    public static func labels(hostname: String, machine: String, extra: [String: String] = [:]) -> [String: String] {
        let arch = goArch(machine)
        var labels = ["kubernetes.io/hostname": hostname.lowercased(), "kubernetes.io/os": "linux", "kubernetes.io/arch": arch,
                      "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": arch]
        labels.merge(extra) { _, new in new }
        return labels
    }

    /// What is wrong with a label of the node (a config's nodeLabels entry), as the API server
    /// checks labels; nil when nothing.
    public static func labelProblem(key: String, value: String) -> String? {
        let problems = NameRules.qualifiedNameErrors(key).map { "key \"\(key)\": \($0)" }
            + NameRules.labelValueErrors(value).map { "value \"\(value)\": \($0)" }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Go's GOARCH for a uname machine, as kubelet names the architecture.
    static func goArch(_ machine: String) -> String {
        switch machine {
        case "x86_64": return "amd64"
        case "aarch64", "arm64": return "arm64"
        case "i386", "i486", "i586", "i686": return "386"
        case "ppc64le": return "ppc64le"
        case "s390x": return "s390x"
        case "riscv64": return "riscv64"
        default: return machine.hasPrefix("arm") ? "arm" : machine
        }
    }
}

/// Whether a pod runs on podd's node, decided as a one-node cluster decides it.
public enum NodeScheduling {
    public enum Outcome: Sendable, Equatable {
        /// It runs here (its spec.nodeName is, or becomes, the node's name).
        case scheduled
        /// Left unbound and untried while it has scheduling gates: Pending, condition
        /// PodScheduled False with reason SchedulingGated.
        case gated
        /// Left unbound, as the scheduler leaves a pod no node fits: Pending, condition
        /// PodScheduled False with reason Unschedulable and this message.
        case unschedulable(message: String)
        /// Bound to this node by its spec.nodeName but refused by kubelet's admission:
        /// Failed with this reason and message.
        case rejected(reason: String, message: String)
    }

    /// The scheduler's FailedScheduling message on a one-node cluster: why the node was
    /// filtered out, and what preemption found.
    static func unschedulable(_ reason: String, preemption: String) -> String {
        "0/1 nodes are available: 1 \(reason). preemption: 0/1 nodes are available: 1 \(preemption)."
    }

    /// Preemption's verdict when removing pods would not make the pod fit (its own rules).
    static let preemptionNotHelpful = "Preemption is not helpful for scheduling"
    /// Preemption's verdict when only pods of a lower priority could go: podd has none.
    static let noVictims = "No preemption victims found for incoming pod"

    /// The taint a cordoned node carries (the node lifecycle controller's TaintNodeUnschedulable).
    public static let unschedulableTaint = "node.kubernetes.io/unschedulable"

    /// The scheduler's message when the node is cordoned.
    public static let cordoned = unschedulable("node(s) were unschedulable", preemption: preemptionNotHelpful)

    /// The scheduler's NodeUnschedulable filter: a cordoned node takes only pods that
    /// tolerate its taint.
    static func admitsNew(_ spec: PodSpec, _ node: Node) -> Bool {
        !node.unschedulable || spec.tolerations.contains { $0.tolerates(key: unschedulableTaint, effect: "NoSchedule") }
    }

    /// The scheduler's TaintToleration filter: the first NoSchedule or NoExecute taint of the
    /// node that the pod does not tolerate; nil when it tolerates them all.
    public static func untoleratedTaint(_ spec: PodSpec, _ node: Node) -> Taint? {
        node.taints.first { ($0.effect == "NoSchedule" || $0.effect == "NoExecute") && !$0.isTolerated(by: spec.tolerations) }
    }

    /// The scheduler's message for a taint the pod does not tolerate.
    public static func untolerated(_ taint: Taint) -> String {
        unschedulable("node(s) had untolerated taint {\(taint.key): \(taint.value)}", preemption: preemptionNotHelpful)
    }

    /// The scheduler's message when no node matches a pod's nodeSelector.
    public static let selectorMismatch = unschedulable("node(s) didn't match Pod's node affinity/selector", preemption: preemptionNotHelpful)

    /// `pod` on `node`, with `placed` the pods running there (PlacedPod), as the scheduler's
    /// filters (`schedulerRefusal`) and kubelet's admission (`kubeletRejection`) decide it. A
    /// pod bound by its own spec.nodeName skips the scheduler, as it does on a cluster, and
    /// meets kubelet's admission only. A spec.nodeName naming another node is refused at
    /// admission (`PodRegistry.admissionErrors`), so here it is this node's or empty.
    /// `requested`: what the placed pods request together (NodeResourcesFit).
    public static func outcome(_ pod: Pod, on node: Node, among placed: [PlacedPod], requested: [String: Int64] = [:]) -> Outcome {
        let spec = pod.spec
        if spec.nodeName == nil {
            if let refusal = schedulerRefusal(pod, node: node, among: placed, requested: requested) { return refusal }
        } else if let rejection = kubeletRejection(spec, node: node, requested: requested) {
            return rejection
        }
        // The scheduler does not look at spec.os; kubelet's admission does.
        if let os = spec.osName, os != "linux" {
            return .rejected(reason: "PodOSNotSupported", message: "Failed to admit pod as the OS field doesn't match node OS")
        }
        return .scheduled
    }

    /// Why the scheduler does not place the unbound `pod` on `node`, its filters taken in the
    /// scheduler's order (gates, NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, then those
    /// weighing the placed pods); nil when it places it there.
    static func schedulerRefusal(_ pod: Pod, node: Node, among placed: [PlacedPod], requested: [String: Int64]) -> Outcome? {
        let spec = pod.spec
        // The scheduler takes no gated pod into its queue (PreEnqueue, SchedulingGates).
        if !spec.schedulingGates.isEmpty { return .gated }
        if !admitsNew(spec, node) { return .unschedulable(message: cordoned) }
        if let taint = untoleratedTaint(spec, node) { return .unschedulable(message: untolerated(taint)) }
        if !fits(spec, node) { return .unschedulable(message: selectorMismatch) }
        let short = shortfalls(spec, node, requested)
        if !short.isEmpty { return .unschedulable(message: NodeResourcesFit.unschedulableMessage(short)) }
        return otherPodsRefusal(pod, node: node, among: placed).map { .unschedulable(message: $0) }
    }

    /// kubelet's admission (lifecycle.NewPredicateAdmitHandler) of a pod bound to it by its own
    /// nodeName: its node affinity and its resources; nil when it admits it.
    static func kubeletRejection(_ spec: PodSpec, node: Node, requested: [String: Int64]) -> Outcome? {
        if !fits(spec, node) { return .rejected(reason: "NodeAffinity", message: "Pod was rejected: Predicate NodeAffinity failed") }
        return shortfalls(spec, node, requested).first.map(NodeResourcesFit.rejection)
    }

    /// What `spec` requests beyond what `node` has left after `requested` (none when the
    /// node's resources are not weighed).
    static func shortfalls(_ spec: PodSpec, _ node: Node, _ requested: [String: Int64]) -> [NodeResourcesFit.Shortfall] {
        guard let allocatable = node.allocatable else { return [] }
        let wants = NodeResourcesFit.requests(spec)
        return wants.isEmpty ? [] : NodeResourcesFit.shortfalls(wants, used: requested, allocatable: allocatable)
    }

    /// Whether where `pod` may go depends on the pods placed on the node (`placed`): its
    /// required pod (anti-)affinity or DoNotSchedule spread constraints. (Placed pods'
    /// anti-affinity may refuse any pod.)
    public static func weighsOtherPods(_ pod: Pod) -> Bool {
        InterPodAffinity.hasRequiredTerms(pod) || PodTopologySpread.hasHardConstraints(pod)
    }

    /// The message of the first filter that weighs the placed pods and refuses `pod`, in the
    /// scheduler's order (PodTopologySpread, then InterPodAffinity); nil when none does.
    static func otherPodsRefusal(_ pod: Pod, node: Node, among placed: [PlacedPod]) -> String? {
        PodTopologySpread.failure(pod, node: node, among: placed)?.message ?? InterPodAffinity.failure(pod, node: node, among: placed)?.message
    }

    /// The status of a pod that does not run here (`outcome` not `.scheduled`), as the
    /// scheduler (Unschedulable, since `since`) or kubelet's admission (rejected) leaves it:
    /// no container statuses, since no container of it was ever made.
    public static func status(_ outcome: Outcome, spec: PodSpec, since: Timestamp) -> PodStatus? {
        var status = PodStatus()
        status.qosClass = QOSClass(spec).rawValue
        switch outcome {
        case .scheduled:
            return nil
        case .gated:
            status.phase = .pending
            status.conditions = [PodCondition(type: "PodScheduled", status: "False", lastTransitionTime: since,
                                              reason: "SchedulingGated", message: "Scheduling is blocked due to non-empty scheduling gates")]
        case let .unschedulable(message):
            status.phase = .pending
            status.conditions = [PodCondition(type: "PodScheduled", status: "False", lastTransitionTime: since,
                                              reason: "Unschedulable", message: message)]
        case let .rejected(reason, message):
            status.phase = .failed
            status.reason = reason
            status.message = message
        }
        return status
    }

    /// The scheduler's NodeAffinity filter: every nodeSelector label, and one of the required
    /// node affinity terms (when there are any). Preferred terms only rank nodes.
    public static func fits(_ spec: PodSpec, _ node: Node) -> Bool {
        guard spec.nodeSelector.allSatisfy({ node.labels[$0.key] == $0.value }) else { return false }
        guard let terms = spec.affinity?.nodeAffinity?.required else { return true }
        return terms.contains { matches($0, node) }
    }

    /// A term with neither expressions nor fields matches no node, as in the API.
    static func matches(_ term: NodeSelectorTerm, _ node: Node) -> Bool {
        guard !term.matchExpressions.isEmpty || !term.matchFields.isEmpty else { return false }
        return term.matchExpressions.allSatisfy { matches($0, value: node.labels[$0.key]) }
            && term.matchFields.allSatisfy { $0.key == "metadata.name" && matches($0, value: node.name) }
    }

    static func matches(_ r: NodeSelectorRequirement, value: String?) -> Bool {
        switch r.operator {
        case "Gt", "Lt":
            guard let value, let have = Int64(value), r.values.count == 1, let want = Int64(r.values[0]) else { return false }
            return r.operator == "Gt" ? have > want : have < want
        default:
            return r.matches(value)
        }
    }

    /// The pod as it is stored: bound to `node` (spec.nodeName set, as the scheduler's
    /// binding sets it) when the scheduler places it there (`outcome`) and it names no node
    /// itself.
    public static func bound(_ pod: Pod, to node: Node, among placed: [PlacedPod], requested: [String: Int64] = [:]) -> Pod {
        guard pod.spec.nodeName == nil, schedulerRefusal(pod, node: node, among: placed, requested: requested) == nil else { return pod }
        var pod = pod
        pod.spec.nodeName = node.name
        return pod
    }
}
