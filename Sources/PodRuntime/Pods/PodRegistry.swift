import Glibc
import Logging
import PodImages
import PodModel
import PodOS

/// The set of pods podd runs, by namespace and name: create, replace, get, list, delete,
/// watch. It validates what comes in, writes desired state to disk before answering, and
/// gives each pod a PodController.
public actor PodRegistry {
    public struct Key: Hashable, Sendable, Comparable {
        public var namespace: String
        public var name: String

        public init(_ namespace: String, _ name: String) {
            self.namespace = namespace
            self.name = name
        }

        public static func < (a: Key, b: Key) -> Bool { (a.namespace, a.name) < (b.namespace, b.name) }
    }

    var controllers: [Key: PodController] = [:]
    /// Pods as last published, for cheap list and get.
    var snapshots: [Key: Pod] = [:]
    /// The controller generation and sequence number of each pod's last published snapshot.
    private var publishedSequences: [Key: (generation: Int, sequence: Int)] = [:]
    /// The resourceVersion counter, the recent changes and the watches of pods.
    var hub = WatchHub<Pod>()
    /// Each snapshot as JSON with the resourceVersion it was made at, made when a list first
    /// needs it after the pod changed (a change always takes a new resourceVersion).
    var snapshotJSON: [Key: (version: String?, json: JSONValue)] = [:]
    /// Read-modify-write of a pod (PUT, PATCH, ephemeral containers, delete) runs one at a
    /// time per pod, so that two of them both apply rather than the second undoing the first.
    var podLocks = PodLocks<Key>()
    /// Pods admitted by a create that has not published them yet (it awaits their sandbox and
    /// their store): what they claim (hostPorts) is taken from admission on, so that a second
    /// create admitted meanwhile cannot claim it too.
    var creating: [Key: Pod] = [:]
    /// Pods whose required anti-affinity could keep others off the node (PodRegistry+Scheduling).
    var antiAffinityHolders: Set<Key> = []
    /// Pods the scheduler left unbound: tried again when the pods change (PodRegistry+Scheduling).
    var unscheduled: Set<Key> = []
    /// Whether a retry of `unscheduled` is already on its way.
    var retryingUnscheduled = false
    /// What each pod that requests resources requests, for the node's fit (PodRegistry+Scheduling).
    var podRequests: [Key: [String: Int64]] = [:]
    /// Pods to delete when their tolerations of the node's NoExecute taints run out
    /// (PodRegistry+TaintEviction): when, and the task that will.
    var taintEvictions: [Key: (due: Timestamp, task: Task<Void, Never>)] = [:]
    /// See `setPodChangeListener`.
    private var podChangeListener: (@Sendable (String) -> Void)?
    private var context: RuntimeContext?
    public nonisolated let features: PodFeatures
    /// Whether exec probes and hooks can run (they need exec into containers).
    public nonisolated let execHandlers: Bool

    public init(features: PodFeatures, execHandlers: Bool = false) {
        self.features = features
        self.execHandlers = execHandlers
    }

    /// Late binding: the context's publish callback refers back to this registry.
    public func bind(_ context: RuntimeContext) {
        self.context = context
        nodeSettings = NodeSettings.load(stateDir: context.config.stateDir) ?? NodeSettings(labels: context.node.labels)
        node = Self.node(context.node, with: nodeSettings)
    }

    /// podd's node (NodeScheduling), as the pods are bound to it: the context's, with the
    /// labels and cordon the API set (PodRegistry+Node).
    public internal(set) var node = Node(name: "", labels: [:])

    /// `base` (the machine and the config) with what the API set. kubelet's own labels and
    /// the config's are asserted again at every start, over what was stored, as kubelet
    /// asserts its labels when it registers.
    static func node(_ base: Node, with settings: NodeSettings?) -> Node {
        var node = base
        if let settings {
            node.labels = settings.labels.merging(base.labels) { _, own in own }
            node.unschedulable = settings.cordonedAt != nil
            node.taints = settings.taints
        }
        return node
    }

    /// What the API changed of the node (labels, cordon), as stored.
    var nodeSettings: NodeSettings?
    /// Open watches of the node, by id.
    var nodeWatchers: [Int: AsyncStream<Int64>.Continuation] = [:]
    var nextNodeWatcher = 0

    var ctx: RuntimeContext {
        guard let context else { preconditionFailure("PodRegistry used before bind(_:)") }
        return context
    }

    /// Takes the update lock of a pod (see `podLocks`), waiting for it while another update
    /// of the pod runs.
    func lockPod(_ key: Key) async {
        if podLocks.tryLock(key) { return }
        await withCheckedContinuation { podLocks.enqueue(key, $0) }
    }

    func unlockPod(_ key: Key) { podLocks.unlock(key) }

    // MARK: - Reads

    public func get(_ key: Key) -> Pod? { snapshots[key] }

    /// The pods (of a namespace, or all), ordered by namespace and name.
    public func list(namespace: String?) -> [Pod] {
        // The keys are sorted, not the pods: a sort moves its elements about, and moving a
        // whole Pod costs far more than a key (it was most of a `/metrics` scrape).
        snapshots.keys.filter { namespace == nil || $0.namespace == namespace }.sorted().compactMap { snapshots[$0] }
    }

    public func controller(_ key: Key) -> PodController? { controllers[key] }

    public var count: Int { controllers.count }

    // MARK: - Writes

    /// Checks a decoded pod against validation and the features podd implements. Returns the
    /// causes (empty when acceptable).
    public func admissionErrors(_ pod: Pod, allowEphemeralContainers: Bool = false) -> [RuntimeError.Cause] {
        let errors = PodValidation.validate(pod, allowEphemeralContainers: allowEphemeralContainers)
            + PodFeatures.unsupported(pod, supported: features)
        var causes = errors.map(RuntimeError.Cause.init) + HostPathPolicy(config: ctx.config).causes(pod)
        causes += hostPortConflicts(pod)
        if let named = pod.spec.nodeName, named != node.name {
            // The API server would take it, for that node's kubelet; podd has no other node.
            causes.append(.init(FieldError.invalid(FieldPath.root.child("spec").child("nodeName"), .string(named),
                                                   "podd runs pods on its own node only, \"\(node.name)\"")))
        }
        let all: [(String, Container)] = pod.spec.initContainers.enumerated().map { ("spec.initContainers[\($0.offset)]", $0.element) }
            + pod.spec.containers.enumerated().map { ("spec.containers[\($0.offset)]", $0.element) }
        for (path, c) in all {
            causes += unsupportedHandlers(c, path: path)
            // The image is not checked here: a pod is accepted whatever its image's state
            // (missing, to be pulled, or not even a valid reference), as by the Kubernetes
            // API; its containers report ErrImagePull, ErrImageNeverPull or InvalidImageName.
        }
        return causes
    }

    /// The pod bound to podd's node as the scheduler binds it (`scheduled`); a static pod (from
    /// the manifests dir) is bound whatever it asks, as kubelet's own pods are, so its
    /// nodeSelector is kubelet's admission's to judge (a miss is Failed, NodeAffinity).
    private func bound(_ pod: Pod, staticPod: Bool) -> Pod {
        var pod = pod
        if staticPod && pod.spec.nodeName == nil { pod.spec.nodeName = node.name }
        return scheduled(pod)
    }

    /// The spec with the priority its PriorityClass gives (PodPriority), as the API server's
    /// Priority admission sets it before validation; a class podd does not have is 403. A
    /// replacement of `old` keeps what the pod was admitted with (PodPriority.replaced).
    private func prioritized(_ pod: Pod, replacing old: PodSpec? = nil) throws(RuntimeError) -> PodSpec {
        let classes = ctx.scheduling
        let result = old.flatMap { PodPriority.replaced(pod.spec, old: $0) }
            ?? PodPriority.admitted(pod.spec, classes: { classes.priorityClass(named: $0) }, globalDefault: classes.globalDefault)
        switch result {
        case let .success(spec): return spec
        case let .failure(refusal):
            throw .forbidden(kind: "pods", name: pod.metadata.name, reason: "pods \"\(pod.metadata.name)\" is forbidden: \(refusal.message)")
        }
    }

    /// The ServiceAccount admission: the account the pod names must exist in its namespace
    /// (403 otherwise, in the API server's words), and a pod that lists no imagePullSecrets
    /// gets the account's. A replacement naming the account it had is not refused if the
    /// account has gone since (as a running pod keeps one deleted under it).
    private func withServiceAccount(_ pod: Pod, replacing old: PodSpec? = nil) throws(RuntimeError) -> PodSpec {
        var spec = pod.spec
        let (namespace, name) = (pod.metadata.namespace, spec.serviceAccountName)
        let found = ctx.accounts.admitted(namespace: namespace, name: name)
        if found == nil, let old, old.serviceAccountName == name { return spec }
        guard let account = found else {
            throw .forbidden(kind: "pods", name: pod.metadata.name,
                             reason: "pods \"\(pod.metadata.name)\" is forbidden: error looking up service account \(namespace)/\(name): serviceaccount \"\(name)\" not found")
        }
        if spec.imagePullSecrets.isEmpty { spec.imagePullSecrets = account.imagePullSecrets }
        return spec
    }

    /// Handlers podd cannot run are refused at admission, naming the field, rather than
    /// accepted and failing forever: exec handlers where exec is not available.
    private func unsupportedHandlers(_ c: Container, path: String) -> [RuntimeError.Cause] {
        var causes: [RuntimeError.Cause] = []
        func forbid(_ field: String, _ what: String) {
            causes.append(.init(reason: "FieldValueForbidden", message: "Forbidden: \(what) not supported by podd yet", field: "\(path).\(field)"))
        }
        for (name, probe) in [("startupProbe", c.startupProbe), ("livenessProbe", c.livenessProbe), ("readinessProbe", c.readinessProbe)] {
            if case .exec? = probe?.handler, !execHandlers { forbid("\(name).exec", "exec probes are") }
        }
        for (name, hook) in [("postStart", c.lifecycle?.postStart), ("preStop", c.lifecycle?.preStop)] {
            if case .exec? = hook, !execHandlers { forbid("lifecycle.\(name).exec", "exec hooks are") }
        }
        return causes
    }

    /// Creates a pod (POST). Returns the pod once it is on disk. `source` is the static pod
    /// file creating it (StaticPodSource); only that caller may set the `podd.io/source`
    /// annotation, which makes the pod undeletable through the API.
    /// With `dryRun` the pod is checked alike and answered as it would be created, but
    /// nothing is stored or started.
    public func create(_ input: Pod, source: String? = nil, dryRun: Bool = false) async throws(RuntimeError) -> Pod {
        var pod = input
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        if controllers[key] != nil { throw .alreadyExists(kind: "pods", name: pod.metadata.name) }
        if let claimed = pod.metadata.annotations[Self.sourceAnnotation], claimed != source {
            throw Self.sourceReserved(pod.metadata.name)
        }
        pod.spec = try prioritized(pod)
        pod.spec = try withServiceAccount(pod)
        let causes = admissionErrors(pod)
        if !causes.isEmpty { throw .invalid(kind: "pods", name: pod.metadata.name, causes: causes) }
        let now = RuntimeClock.now()
        pod.metadata.uid = Self.newUID()
        pod.metadata.creationTimestamp = now
        pod.metadata.deletionTimestamp = nil
        pod.metadata.deletionGracePeriodSeconds = nil
        pod.metadata.resourceVersion = String(hub.resourceVersion)
        pod.status = PodStatus()
        pod.spec = ImagePullPolicyDefaults.applied(to: pod.spec)
        pod = bound(pod, staticPod: source != nil)
        if dryRun { return pod }
        creating[key] = pod
        defer { creating[key] = nil }
        let controller = makeController(pod)
        // The name is taken at once (a second POST gets 409), but no container of the pod
        // starts before its desired state is durable: a pod that cannot be stored must leave
        // no monitor, container, cgroup or file behind (a 507 that still ran one did). The
        // sync (two fsyncs, most of a create's time) runs on a thread of its own, off the
        // cooperative pool, while the controller makes the sandbox (files, monitor,
        // namespaces), which it tears down again if the write fails.
        controllers[key] = controller
        let store = ctx.store
        let stored = pod
        // The pod's state directory first, with its own mode: the sandbox's files go below it.
        do throws(OSError) {
            try FileSystem.makeDirectories(store.directory(uid: pod.metadata.uid ?? ""), mode: 0o700)
        } catch {
            if controllers[key] === controller { controllers[key] = nil }
            throw .insufficientStorage(what: "cannot store pod \"\(pod.metadata.name)\"", reason: "\(error)")
        }
        async let saving: OSError? = withCheckedContinuation { done in
            DetachedThread.run {
                do throws(OSError) {
                    try store.save(stored)
                    done.resume(returning: nil)
                } catch {
                    // What the failed write left (the pod's directory, a temporary file) goes.
                    try? store.remove(uid: stored.metadata.uid ?? "")
                    done.resume(returning: error)
                }
            }
        }
        await controller.prepare()
        if let error = await saving {
            await controller.abandon()
            if controllers[key] === controller { controllers[key] = nil }
            throw .insufficientStorage(what: "cannot store pod \"\(pod.metadata.name)\"", reason: "\(error)")
        }
        commit("ADDED", pod)
        if input.spec.nodeName == nil && pod.spec.nodeName != nil && source == nil { await recordScheduled(pod) }
        await controller.admit()
        return snapshots[key] ?? pod
    }

    /// Replaces a pod (PUT). What changes decides what happens (`PodUpdate.classify`): a
    /// change of labels or annotations is applied in place; a change of the spec stops the
    /// pod's containers and starts them again from the new spec, keeping the pod's uid.
    /// `source`: the static pod file replacing it (StaticPodSource); a static pod is replaced
    /// from its file only.
    public func replace(_ input: Pod, source: String? = nil, dryRun: Bool = false) async throws(RuntimeError) -> Pod {
        let key = Key(input.metadata.namespace, input.metadata.name)
        do {
            return try await update(key, source: source, dryRun: dryRun) { (_: Pod) throws(RuntimeError) -> Pod in input }
        } catch {
            switch error {
            case let .change(e), let .runtime(e): throw e
            }
        }
    }

    /// Read-modify-write of a pod (PATCH, label, annotate, and PUT through `replace`): `change`
    /// gets the pod as it is now (with its status) and returns the new version, which is then
    /// checked and applied as a replace. Updates of one pod run one at a time, so `change`
    /// always sees the outcome of the previous one.
    /// With `dryRun` the new version is checked and answered, not applied.
    public func update<Failure: Error>(_ key: Key, source: String? = nil, dryRun: Bool = false,
                                       _ change: @Sendable (Pod) throws(Failure) -> Pod) async throws(PodUpdateError<Failure>) -> Pod {
        await lockPod(key)
        defer { unlockPod(key) }
        guard controllers[key] != nil, let current = snapshots[key] else {
            throw .runtime(.notFound(kind: "pods", name: key.name))
        }
        let input: Pod
        do { input = try change(current) } catch { throw .change(error) }
        guard input.metadata.namespace == key.namespace, input.metadata.name == key.name else {
            throw .runtime(.invalidRequest("the name of the object (\(input.metadata.name)) does not match the name on the URL (\(key.name))"))
        }
        do { return try await applyReplacement(input, source: source, dryRun: dryRun) } catch { throw .runtime(error) }
    }

    /// A replace, with the pod's update lock held.
    private func applyReplacement(_ input: Pod, source: String?, dryRun: Bool) async throws(RuntimeError) -> Pod {
        let key = Key(input.metadata.namespace, input.metadata.name)
        guard let old = controllers[key], let oldPod = snapshots[key] else { throw .notFound(kind: "pods", name: input.metadata.name) }
        // Ephemeral containers change only through their subresource: a replace (or a patch
        // of the pod) keeps them as they are, as the API server does.
        var input = input
        input.spec.ephemeralContainers = oldPod.spec.ephemeralContainers
        if let uid = input.metadata.uid, !uid.isEmpty, uid != oldPod.metadata.uid {
            throw .conflict(kind: "pods", name: input.metadata.name,
                            reason: "Operation cannot be fulfilled on pods \"\(input.metadata.name)\": the UID in the object (\(uid)) does not match the pod's (\(oldPod.metadata.uid ?? ""))")
        }
        // Optimistic concurrency, as the API server does it, checked here only: a new version
        // that names the version it was made from (a PUT of what was read, a patch applied
        // to the pod as stored, or one that sets it) is refused once the pod has changed since.
        if let version = input.metadata.resourceVersion, !version.isEmpty, version != oldPod.metadata.resourceVersion {
            throw .modified(pod: input.metadata.name)
        }
        if let managedBy = oldPod.metadata.annotations[Self.sourceAnnotation], source != managedBy {
            throw .forbidden(kind: "pods", name: input.metadata.name,
                             reason: "pod \"\(input.metadata.name)\" comes from the static pod file \(managedBy); edit that file instead")
        }
        if let claimed = input.metadata.annotations[Self.sourceAnnotation], claimed != source {
            throw Self.sourceReserved(input.metadata.name)
        }
        input.spec = try prioritized(input, replacing: oldPod.spec)
        input.spec = try withServiceAccount(input, replacing: oldPod.spec)
        let causes = admissionErrors(input, allowEphemeralContainers: true)
            + SchedulingValidation.gateUpdateErrors(old: oldPod.spec, new: input.spec).map(RuntimeError.Cause.init)
            + PodValidation.newFinalizerErrors(input.metadata, old: oldPod.metadata).map(RuntimeError.Cause.init)
        if !causes.isEmpty { throw .invalid(kind: "pods", name: input.metadata.name, causes: causes) }
        var pod = input
        pod.metadata.uid = oldPod.metadata.uid
        pod.metadata.creationTimestamp = oldPod.metadata.creationTimestamp
        // A deletion is the server's: kept as it is (a client can neither set nor undo it).
        pod.metadata.deletionTimestamp = oldPod.metadata.deletionTimestamp
        pod.metadata.deletionGracePeriodSeconds = oldPod.metadata.deletionGracePeriodSeconds
        pod.status = PodStatus()
        pod.spec = ImagePullPolicyDefaults.applied(to: pod.spec)
        // A bound pod stays bound (the scheduler never places a pod twice) while its node still
        // fits it: a new spec without nodeName (a PUT of the manifest as first sent) keeps it.
        if pod.spec.nodeName == nil, let bound = oldPod.spec.nodeName, NodeScheduling.fits(pod.spec, node) {
            pod.spec.nodeName = bound
        }
        var change = PodUpdate.classify(old: oldPod, new: pod)
        // A new spec is placed afresh; a waiting pod whose labels alone changed is left to the
        // scheduler's retry (PodRegistry+Scheduling), which binds it if it now fits.
        if change == .restart {
            pod = bound(pod, staticPod: source != nil)
            change = PodUpdate.classify(old: oldPod, new: pod)
        }
        if change == .unchanged { return oldPod }
        // A pod being deleted takes changes of its metadata only (a finalizer removed, a
        // label), as the API server's.
        if change == .restart && oldPod.metadata.deletionTimestamp != nil {
            throw .conflict(kind: "pods", name: input.metadata.name,
                            reason: "pod \"\(input.metadata.name)\" is terminating; wait for it to go, then create it again")
        }
        if dryRun {
            pod.status = oldPod.status
            pod.metadata.resourceVersion = oldPod.metadata.resourceVersion
            return pod
        }
        pod.metadata.resourceVersion = nextResourceVersion()
        do { try ctx.store.save(pod) } catch {
            throw .insufficientStorage(what: "cannot store pod \"\(pod.metadata.name)\"", reason: "\(error)")
        }
        if change == .metadataOnly {
            // Taken as the controller's snapshot of that sequence number: older ones still
            // on their way are dropped. A newer one taken while this waited for the
            // controller keeps its status, with the new metadata (`published` may have
            // dropped it as an unchanged status).
            let (current, sequence) = await old.updateMetadata(pod.metadata)
            return commitUpdated(key, controller: old, current, sequence: sequence)
        }
        // The spec changed: run the new spec in place of the old one. Until the old spec's
        // containers have stopped, the pod shows them as the old controller last did.
        pod.status = oldPod.status
        let controller = makeController(pod, replacing: old)
        controllers[key] = controller
        pod = commit("MODIFIED", pod)
        // Ungated, or changed to fit: the scheduler has placed it now.
        if oldPod.spec.nodeName == nil && pod.spec.nodeName != nil && source == nil { await recordScheduled(pod) }
        let grace = oldPod.spec.terminationGracePeriodSeconds
        Task {
            await old.stopForReplacement(gracePeriod: grace)
            await old.waitUntilGone()
            await controller.admit(replaced: await old.current().status)
        }
        return pod
    }

    /// Takes `current`, the pod as `controller` returned it after an update in place (metadata,
    /// conditions) with the sequence number it was published with: older snapshots still on
    /// their way are dropped. A newer one taken while this waited for the controller keeps its
    /// status, with the new metadata (`published` may have dropped it as an unchanged status).
    func commitUpdated(_ key: Key, controller: PodController, _ current: Pod, sequence: Int) -> Pod {
        guard controllers[key] === controller else { return current }
        var taken = current
        if let last = publishedSequences[key], last.generation == controller.generation, last.sequence > sequence,
           let newer = snapshots[key] {
            taken = newer
            taken.metadata = current.metadata
            taken.metadata.resourceVersion = newer.metadata.resourceVersion
        } else {
            publishedSequences[key] = (controller.generation, sequence)
        }
        return commit("MODIFIED", taken)
    }

    /// Deletes a pod (DELETE): graceful termination, then removal. Answers with the pod as it
    /// now is (deletionTimestamp set while it terminates).
    /// With `dryRun` the deletion is checked and the pod answered as it is.
    public func delete(_ key: Key, gracePeriod: Int64?, fromSource: String? = nil, preconditions: DeletePreconditions = .init(),
                       dryRun: Bool = false) async throws(RuntimeError) -> Pod {
        await lockPod(key)
        defer { unlockPod(key) }
        guard let controller = controllers[key], let pod = snapshots[key] else { throw .notFound(kind: "pods", name: key.name) }
        try preconditions.check(resource: "pods", name: key.name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion)
        if let source = pod.metadata.annotations["podd.io/source"], fromSource != source {
            throw .forbidden(kind: "pods", name: key.name,
                             reason: "pod \"\(key.name)\" is a static pod from \(source); remove or edit that file to delete it")
        }
        if let g = gracePeriod, g < 0 { throw .invalidRequest("gracePeriodSeconds must be >= 0") }
        if dryRun { return pod }
        var result = try await controller.delete(gracePeriod: gracePeriod)
        if controllers[key] === controller {
            // Marking the deletion is a change of the object: a newer resourceVersion.
            result = commit("MODIFIED", result)
        }
        return result
    }

    /// Called by controllers (through the context) whenever a pod changes. Only the
    /// controller now registered for the pod is heard: one being replaced is not. Calls come
    /// in their own tasks, in any order: a snapshot older (by `sequence`) than one already
    /// taken from that controller is dropped.
    public func published(_ type: String, _ pod: Pod, generation: Int, sequence: Int) {
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        guard let current = controllers[key], current.generation == generation, let existing = snapshots[key] else { return }
        if let last = publishedSequences[key], last.generation == generation, last.sequence >= sequence { return }
        publishedSequences[key] = (generation, sequence)
        if type == "DELETED" {
            controllers[key] = nil
            publishedSequences[key] = nil
            commit("DELETED", pod)
            return
        }
        // A deletion, once recorded here (delete() answers with it), only ever moves earlier:
        // a snapshot taken before it was marked is stale.
        if let marked = existing.metadata.deletionTimestamp, pod.metadata.deletionTimestamp.map({ $0 > marked }) ?? true { return }
        if existing.status == pod.status && existing.metadata.deletionTimestamp == pod.metadata.deletionTimestamp { return }
        commit("MODIFIED", pod)
    }

    /// The annotation that marks a static pod with its file.
    public static let sourceAnnotation = "podd.io/source"

    static func sourceReserved(_ name: String) -> RuntimeError {
        .invalid(kind: "pods", name: name,
                 causes: [.init(reason: "FieldValueForbidden",
                                message: "Forbidden: podd sets this annotation on static pods (files in the manifests directory); remove it",
                                field: "metadata.annotations[\(sourceAnnotation)]")])
    }

    // MARK: - Recovery

    /// Brings back the pods stored by an earlier podd. Returns how many, and errors for
    /// entries it could not read (those stay on disk for a human to look at).
    public func recover() async -> (count: Int, errors: [String]) {
        var errors: [String] = []
        var count = 0
        var recovering: [PodController] = []
        var bound: [Pod] = []
        var unbound: [Pod] = []
        var seen: Set<Key> = []
        // No retry of unscheduled pods while controllers take their pods back: one follows.
        retryingUnscheduled = true
        for (uid, result) in await ctx.store.loadAll(parts: Int(max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))) {
            switch result {
            case let .failure(e): errors.append(e.description)
            case let .success(pod):
                let key = Key(pod.metadata.namespace, pod.metadata.name)
                guard seen.insert(key).inserted else {
                    errors.append("stored pod \(uid) duplicates \(key.namespace)/\(key.name); left on disk")
                    continue
                }
                if pod.spec.nodeName == nil { unbound.append(pod) } else { bound.append(pod) }
            }
        }
        // Pods bound before first, then the unbound ones oldest first, as the scheduler takes
        // them: a pod stored unbound (it fitted no node, or pods it depends on kept it off)
        // is bound once it fits, against the pods placed before it.
        unbound.sort { ($0.metadata.creationTimestamp ?? .earliest) < ($1.metadata.creationTimestamp ?? .earliest) }
        for pod in bound + unbound {
            let key = Key(pod.metadata.namespace, pod.metadata.name)
            let wasBound = pod.spec.nodeName != nil
            var p = scheduled(pod)
            p.metadata.resourceVersion = nextResourceVersion()
            let controller = makeController(p, readmitted: wasBound)
            controllers[key] = controller
            snapshots[key] = p
            noteForScheduling("ADDED", p, previous: nil)
            count += 1
            recovering.append(controller)
        }
        // Each controller takes its pod back (re-adopts it through its monitor, or schedules a
        // fresh start) on its own, side by side.
        await withTaskGroup(of: Void.self) { group in
            let store = ctx.store
            for controller in recovering {
                group.addTask {
                    let conditions = store.loadConditions(uid: controller.uid)
                    if !conditions.isEmpty { await controller.restoreExternalConditions(conditions) }
                    await controller.recover()
                }
            }
        }
        retryingUnscheduled = false
        if !unscheduled.isEmpty {
            retryingUnscheduled = true
            Task { await retryUnscheduled() }
        }
        return (count, errors)
    }

    /// Removes what pods podd does not have left behind (PodLeftovers): run after `recover`,
    /// before the API serves, so that every pod podd has is known. Returns the uids swept and
    /// the errors.
    public func collectLeftovers() async -> (swept: [String], errors: [String]) {
        let known = Set(controllers.values.map(\.uid))
        let sweeper = PodLeftovers(runDir: ctx.config.runDir, stateDir: ctx.config.stateDir, cgroups: ctx.cgroups)
        return await withCheckedContinuation { done in
            DetachedThread.run {
                let found = sweeper.find(known: known)
                done.resume(returning: (found.map(\.uid), found.flatMap(sweeper.remove)))
            }
        }
    }

    // MARK: - Watch

    /// The resourceVersion of the latest change: what a list answered now carries, and the
    /// version to watch from to see every change after it.
    public var listResourceVersion: String { String(hub.resourceVersion) }

    /// Stamps a change of a pod with the next resourceVersion, takes it as the pod's
    /// snapshot (a DELETED one removes it), keeps it for watches that start at an older
    /// version and sends it to the open ones, all in one step of the actor: changes reach
    /// watchers in version order. Returns the pod as stamped.
    @discardableResult
    func commit(_ type: String, _ input: Pod) -> Pod {
        var pod = input
        let version = hub.nextVersion()
        pod.metadata.resourceVersion = String(version)
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        let previous = snapshots[key]
        snapshots[key] = type == "DELETED" ? nil : pod
        if type == "DELETED" { snapshotJSON[key] = nil }
        hub.record(WatchChange(type: type, resourceVersion: version, namespace: pod.metadata.namespace, object: pod, previous: previous))
        noteForScheduling(type, pod, previous: previous)
        if type == "ADDED" { weighTaintsOfNewPod(key) }
        if type == "DELETED", let scheduled = taintEvictions.removeValue(forKey: key) { scheduled.task.cancel() }
        podChangeListener?(pod.metadata.namespace)
        return pod
    }

    /// Hears of every change of a pod, by namespace (the disruption controller).
    public func setPodChangeListener(_ listener: @escaping @Sendable (String) -> Void) { podChangeListener = listener }

    /// Ends every watch (shutdown).
    public func closeWatches() { hub.endAll() }

    private var generations = 0

    /// `readmitted`: a pod an earlier podd stored, taken back. One bound then was admitted
    /// then: its resources are not weighed again (which pods have finished is not known yet).
    private func makeController(_ pod: Pod, replacing old: PodController? = nil, readmitted: Bool = false) -> PodController {
        generations += 1
        let outcome = schedulingOutcome(pod, weighResources: !(readmitted && pod.spec.nodeName != nil))
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        let requests = NodeResourcesFit.requests(pod.spec)
        podRequests[key] = requests.isEmpty ? nil : requests
        if case .unschedulable = outcome { unscheduled.insert(key) } else { unscheduled.remove(key) }
        return PodController(pod: pod, context: ctx, generation: generations, replacing: old, scheduling: outcome)
    }

    func nextResourceVersion() -> String {
        String(hub.nextVersion())
    }

    static func newUID() -> String {
        // A random (version 4) UUID, as the API server assigns.
        var g = SystemRandomNumberGenerator()
        var b = (0..<16).map { _ in UInt8.random(in: 0...255, using: &g) }
        b[6] = (b[6] & 0x0f) | 0x40
        b[8] = (b[8] & 0x3f) | 0x80
        let hex = b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return hex[0..<4].joined() + "-" + hex[4..<6].joined() + "-" + hex[6..<8].joined() + "-" + hex[8..<10].joined() + "-" + hex[10..<16].joined()
    }
}
