import Glibc
import Logging
import PodModel
import PodOS

/// The API objects podd holds besides pods (ConfigMaps, Secrets, PodDisruptionBudgets,
/// PriorityClasses, ServiceAccounts), by kind, namespace ("" for a cluster-scoped kind) and
/// name: create, replace, update (PATCH), get, list, delete, watch. Each write is validated as
/// the API server does, stored (write-fsync-rename) before the answer, published to the
/// catalogs read without a hop to this actor (`catalog`: ConfigMaps and Secrets for pods;
/// `scheduling`: PriorityClasses and budgets for admission and preemption; `accounts`:
/// ServiceAccounts for admission), and announced through `changed`, the one place changes
/// leave this registry (watchers, and whoever acts on the object: the pods whose volumes use
/// it, the disruption controller).
public actor ObjectRegistry {
    /// A change of one object, for the pods that use it.
    public struct Change: Sendable {
        /// "configmaps", "secrets", "poddisruptionbudgets", "priorityclasses", "serviceaccounts".
        public var resource: String
        public var namespace: String
        public var name: String
    }

    private let store: ObjectStore
    public nonisolated let catalog: ConfigDataCatalog
    public nonisolated let scheduling: SchedulingCatalog
    public nonisolated let accounts: ServiceAccountCatalog
    private let onChange: @Sendable (Change) -> Void
    /// resource → "namespace/name" → object.
    private var objects: [String: [String: any StoredObject]] = [:]
    /// Per kind ("configmaps", "secrets", ...): its resourceVersions, recent changes and watches.
    private var hubs = Dictionary(uniqueKeysWithValues: ObjectRegistry.kinds.map { ($0.resource, WatchHub<JSONValue>()) })

    /// The kinds this registry holds, in the order they come back at a start.
    public static let kinds: [any StoredObject.Type] = [ConfigMap.self, Secret.self, PodDisruptionBudget.self, PriorityClass.self,
                                                        ServiceAccount.self]

    public init(store: ObjectStore, catalog: ConfigDataCatalog, scheduling: SchedulingCatalog = SchedulingCatalog(),
                accounts: ServiceAccountCatalog = ServiceAccountCatalog(), onChange: @escaping @Sendable (Change) -> Void) {
        self.store = store
        self.catalog = catalog
        self.scheduling = scheduling
        self.accounts = accounts
        self.onChange = onChange
        accounts.onDefaultWanted { [weak self] namespace in
            Task { await self?.makeDefaultServiceAccount(namespace: namespace) }
        }
    }

    /// Brings back what an earlier podd stored; returns how many, and the entries it could
    /// not read.
    public func load() -> (count: Int, errors: [String]) {
        var count = 0
        var errors: [String] = []
        func load<T: StoredObject>(_ type: T.Type) {
            let (loaded, failed) = store.loadAll(type)
            errors += failed
            for var object in loaded {
                // Deleted, and no finalizer holds it (podd stopped before it went): it goes.
                if object.metadata.deletionTimestamp != nil && !object.metadata.holdsDeletion {
                    try? store.remove(T.self, namespace: object.metadata.namespace, name: object.metadata.name)
                    continue
                }
                object.metadata.resourceVersion = nextVersion(T.self)
                put(object)
                count += 1
            }
        }
        for kind in Self.kinds { load(kind) }
        for var builtIn in PriorityClass.builtIns {
            builtIn.metadata.uid = PodRegistry.newUID()
            builtIn.metadata.creationTimestamp = RuntimeClock.now()
            builtIn.metadata.resourceVersion = nextVersion(PriorityClass.self)
            put(builtIn)
        }
        makeDefaultServiceAccount(namespace: "default")
        return (count, errors)
    }

    /// The ServiceAccount controller's part: each namespace that is used has a `default`
    /// account, made again when deleted. A failure to store it (a full disk) leaves it to the
    /// next use of the namespace; admission takes it as there meanwhile.
    public func makeDefaultServiceAccount(namespace: String) {
        guard get(ServiceAccount.self, namespace: namespace, name: ServiceAccount.defaultName) == nil else { return }
        _ = try? create(ServiceAccount.defaultAccount(namespace: namespace))
    }

    // MARK: - Reads

    public func get<T: StoredObject>(_ type: T.Type, namespace: String, name: String) -> T? {
        objects[T.resource]?["\(namespace)/\(name)"] as? T
    }

    public func list<T: StoredObject>(_ type: T.Type, namespace: String?) -> [T] {
        (objects[T.resource] ?? [:]).values.compactMap { $0 as? T }
            .filter { namespace == nil || $0.metadata.namespace == namespace }
            .sorted { ($0.metadata.namespace, $0.metadata.name) < ($1.metadata.namespace, $1.metadata.name) }
    }

    /// The objects of kind `T` (of one namespace, or all) and the resourceVersion they were
    /// read at, in one step: a watch from that version misses nothing after the list.
    public func listWithVersion<T: StoredObject>(_ type: T.Type, namespace: String?) -> (items: [T], resourceVersion: String) {
        (list(T.self, namespace: namespace), String(hubs[T.resource]?.resourceVersion ?? 0))
    }

    private func nextVersion<T: StoredObject>(_ type: T.Type) -> String {
        String(hubs[T.resource, default: WatchHub()].nextVersion())
    }

    // MARK: - Writes

    /// `dryRun` (`?dryRun=All`): checked and answered as if created, nothing stored or announced.
    public func create<T: StoredObject>(_ input: T, dryRun: Bool = false) throws(RuntimeError) -> T {
        var object = input
        if get(T.self, namespace: object.metadata.namespace, name: object.metadata.name) != nil {
            throw .alreadyExists(kind: T.resource, name: object.metadata.name)
        }
        let errors = T.validate(object, old: nil)
        if !errors.isEmpty { throw .invalid(kind: T.resource, name: object.metadata.name, causes: errors.map(RuntimeError.Cause.init)) }
        try admit(object)
        object.metadata.uid = PodRegistry.newUID()
        object.metadata.creationTimestamp = RuntimeClock.now()
        object.metadata.deletionTimestamp = nil
        object.metadata.deletionGracePeriodSeconds = nil
        T.prepareForCreate(&object)
        if dryRun { return object }
        object.metadata.resourceVersion = nextVersion(T.self)
        try save(object)
        put(object)
        changed("ADDED", object, previous: nil)
        if T.namespaced { makeDefaultServiceAccount(namespace: object.metadata.namespace) }
        return object
    }

    /// Replaces an object (PUT): it must exist; a resourceVersion in `input` must be the
    /// current one; validation sees the old object (immutability, Secret type).
    public func replace<T: StoredObject>(_ input: T, dryRun: Bool = false) throws(RuntimeError) -> T {
        do {
            return try update(T.self, namespace: input.metadata.namespace, name: input.metadata.name, dryRun: dryRun) { (_: T) throws(Never) -> T in input }
        } catch {
            switch error {
            case let .runtime(e): throw e
            }
        }
    }

    /// Read-modify-write (PATCH, and PUT through `replace`). The actor runs it without a
    /// suspension, so no other write of the object comes between the read and the write.
    public func update<T: StoredObject, Failure: Error>(_ type: T.Type, namespace: String, name: String, dryRun: Bool = false,
                                                     status: Bool = false, _ change: (T) throws(Failure) -> T) throws(ObjectUpdateError<Failure>) -> T {
        guard let old = get(T.self, namespace: namespace, name: name) else { throw .runtime(.notFound(kind: T.resource, name: name)) }
        if isBuiltIn(old) { throw .runtime(Self.builtInRefusal(old)) }
        var object: T
        do { object = try change(old) } catch { throw .change(error) }
        guard object.metadata.namespace == namespace, object.metadata.name == name else {
            throw .runtime(.invalidRequest("the name of the object (\(object.metadata.name)) does not match the name on the URL (\(name))"))
        }
        if let uid = object.metadata.uid, !uid.isEmpty, uid != old.metadata.uid {
            throw .runtime(.conflict(kind: T.resource, name: name,
                                     reason: "Operation cannot be fulfilled on \(T.resource) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(old.metadata.uid ?? "")"))
        }
        if let version = object.metadata.resourceVersion, !version.isEmpty, version != old.metadata.resourceVersion {
            throw .runtime(.conflict(kind: T.resource, name: name,
                                     reason: "Operation cannot be fulfilled on \(T.resource) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again"))
        }
        object.metadata.uid = old.metadata.uid
        object.metadata.creationTimestamp = old.metadata.creationTimestamp
        object.metadata.resourceVersion = old.metadata.resourceVersion
        // A deletion is the server's: kept as it was (a client can neither set nor undo it).
        object.metadata.deletionTimestamp = old.metadata.deletionTimestamp
        object.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds
        if status {
            // The status subresource: only the status changes (its owner is a controller).
            object = T.withStatus(of: object, on: old)
        } else {
            T.prepareForUpdate(&object, old: old)
        }
        let errors = T.validate(object, old: old) + PodValidation.newFinalizerErrors(object.metadata, old: old.metadata)
        if !errors.isEmpty { throw .runtime(.invalid(kind: T.resource, name: name, causes: errors.map(RuntimeError.Cause.init))) }
        do { try admit(object) } catch { throw .runtime(error) }
        // An update that changes nothing is no change, as in Kubernetes: same resourceVersion.
        if object == old || dryRun { return object == old ? old : object }
        // The last finalizer of a deleted object removed: the object goes.
        if object.metadata.deletionTimestamp != nil && !object.metadata.holdsDeletion {
            do { return try remove(object, old: old) } catch { throw .runtime(error) }
        }
        object.metadata.resourceVersion = nextVersion(T.self)
        do { try save(object) } catch { throw .runtime(error) }
        put(object)
        changed("MODIFIED", object, previous: old)
        return object
    }

    /// Deletes an object at once (ConfigMaps and Secrets have no graceful deletion); returns it.
    /// One a finalizer holds is marked instead (deletionTimestamp, grace 0) and stays until its
    /// last finalizer is removed, as the API server keeps it.
    public func delete<T: StoredObject>(_ type: T.Type, namespace: String, name: String, preconditions: DeletePreconditions = .init(),
                                            dryRun: Bool = false) throws(RuntimeError) -> T {
        guard let object = get(T.self, namespace: namespace, name: name) else { throw .notFound(kind: T.resource, name: name) }
        if isBuiltIn(object) { throw Self.builtInRefusal(object) }
        try preconditions.check(resource: T.resource, name: name, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion)
        if dryRun { return object }
        guard object.metadata.holdsDeletion else { return try remove(object, old: object) }
        var marked = object
        marked.metadata = object.metadata.markedForDeletion(at: RuntimeClock.now())
        guard marked != object else { return object }
        marked.metadata.resourceVersion = nextVersion(T.self)
        try save(marked)
        put(marked)
        changed("MODIFIED", marked, previous: object)
        return marked
    }

    /// Removes an object from the store and the catalogs, announced DELETED; the `default`
    /// ServiceAccount is made again.
    @discardableResult
    private func remove<T: StoredObject>(_ input: T, old: T) throws(RuntimeError) -> T {
        var object = input
        let (namespace, name) = (object.metadata.namespace, object.metadata.name)
        do { try store.remove(T.self, namespace: namespace, name: name) } catch {
            throw .insufficientStorage(what: "cannot delete \(T.resource) \"\(name)\"", reason: "\(error)")
        }
        objects[T.resource]?["\(namespace)/\(name)"] = nil
        if let data = T.self as? any ConfigDataObject.Type { unpublish(data, key: "\(namespace)/\(name)") }
        scheduling.set(T.self, key: "\(namespace)/\(name)", name: name, nil)
        if T.self == ServiceAccount.self { accounts.set(key: "\(namespace)/\(name)", nil) }
        object.metadata.resourceVersion = nextVersion(T.self)
        changed("DELETED", object, previous: old)
        if T.self == ServiceAccount.self && name == ServiceAccount.defaultName { makeDefaultServiceAccount(namespace: namespace) }
        return object
    }

    /// The kind's admission plugin (StoredObject.admissionRefusal): 403 when it refuses.
    private func admit<T: StoredObject>(_ object: T) throws(RuntimeError) {
        let others = list(T.self, namespace: nil)
        guard let refusal = T.admissionRefusal(object, among: others) else { return }
        throw .forbidden(kind: T.resource, name: object.metadata.name,
                         reason: "\(T.resource).\(T.group) \"\(object.metadata.name)\" is forbidden: \(refusal)")
    }

    private func isBuiltIn<T: StoredObject>(_ object: T) -> Bool {
        T.builtIns.contains { $0.metadata.name == object.metadata.name && $0.metadata.namespace == object.metadata.namespace }
    }

    private static func builtInRefusal<T: StoredObject>(_ object: T) -> RuntimeError {
        .forbidden(kind: T.resource, name: object.metadata.name,
                   reason: "\(T.resource).\(T.group) \"\(object.metadata.name)\" is forbidden: \(object.metadata.name) is a system \(T.kind), built in: it is neither changed nor deleted")
    }

    private func save<T: StoredObject>(_ object: T) throws(RuntimeError) {
        do { try store.save(object) } catch {
            // The error names the path and the system call, never the contents.
            throw .insufficientStorage(what: "cannot store \(T.resource) \"\(object.metadata.name)\"", reason: "\(error)")
        }
    }

    private func put<T: StoredObject>(_ object: T) {
        objects[T.resource, default: [:]][object.key] = object
        if let data = object as? any ConfigDataObject { publish(data) }
        scheduling.set(T.self, key: object.key, name: object.metadata.name, object)
        if let account = object as? ServiceAccount { accounts.set(key: object.key, account) }
    }

    /// ConfigMaps and Secrets are what pods read, through the catalog.
    private func publish<T: ConfigDataObject>(_ object: T) { catalog.set(T.self, key: object.key, object) }

    private func unpublish<T: ConfigDataObject>(_ type: T.Type, key: String) { catalog.set(T.self, key: key, nil) }

    // MARK: - Changes and watches

    /// The one place a change leaves the registry: to watchers of the kind (stamped with the
    /// version the object carries), then to the pods.
    private func changed<T: StoredObject>(_ type: String, _ object: T, previous: T?) {
        let version = Int64(object.metadata.resourceVersion ?? "") ?? 0
        hubs[T.resource, default: WatchHub()].record(WatchChange(type: type, resourceVersion: version, namespace: object.metadata.namespace,
                                                                 object: object.json, previous: previous?.json))
        onChange(Change(resource: T.resource, namespace: object.metadata.namespace, name: object.metadata.name))
    }

    /// The watches of one kind, for the API's watch route.
    public nonisolated func watchSource<T: StoredObject>(_ type: T.Type) -> ObjectWatchSource {
        ObjectWatchSource(registry: self, resource: T.resource)
    }

    func watch(resource: String, namespace: String?, from start: WatchStart, initialEventsEnd: Bool) throws(WatchExpired) -> WatchSubscription<JSONValue> {
        let current: [(namespace: String, object: JSONValue)] = (objects[resource] ?? [:]).values
            .filter { namespace == nil || $0.metadata.namespace == namespace }
            .sorted { ($0.metadata.namespace, $0.metadata.name) < ($1.metadata.namespace, $1.metadata.name) }
            .map { ($0.metadata.namespace, $0.json) }
        return try hubs[resource, default: WatchHub()].watch(namespace: namespace, from: start, current: { current },
                                                             initialEventsEnd: initialEventsEnd) { id in
            Task { await self.endWatch(resource: resource, id) }
        }
    }

    func bookmark(resource: String, id: Int) { hubs[resource]?.bookmark(id) }

    func endWatch(resource: String, _ id: Int) { hubs[resource]?.end(id) }

    /// Ends every watch (shutdown).
    public func closeWatches() {
        for resource in hubs.keys { hubs[resource]?.endAll() }
    }
}

/// The watches of one kind of ObjectRegistry (configmaps, secrets, ...), as the API's watch
/// route takes them.
public struct ObjectWatchSource: WatchSource {
    let registry: ObjectRegistry
    let resource: String

    public func watch(namespace: String?, from start: WatchStart, initialEventsEnd: Bool) async throws(WatchExpired) -> WatchSubscription<JSONValue> {
        try await registry.watch(resource: resource, namespace: namespace, from: start, initialEventsEnd: initialEventsEnd)
    }

    public func bookmark(watch id: Int) async { await registry.bookmark(resource: resource, id: id) }

    public func endWatch(_ id: Int) async { await registry.endWatch(resource: resource, id) }
}

/// Why a read-modify-write of a stored object failed: the change itself (a patch that
/// does not apply) or the registry (not found, conflict, invalid).
public enum ObjectUpdateError<Failure: Error>: Error {
    case change(Failure)
    case runtime(RuntimeError)
}
