/// A named, namespaced API object other than a pod that podd stores and serves with the
/// usual verbs (ObjectRegistry, ObjectRoutes): ConfigMaps, Secrets, PodDisruptionBudgets.
public protocol StoredObject: JSONConvertible {
    /// "v1", "policy/v1".
    static var apiVersion: String { get }
    /// "ConfigMap", "PodDisruptionBudget".
    static var kind: String { get }
    /// The API's plural resource name: "configmaps", "poddisruptionbudgets".
    static var resource: String { get }
    var metadata: ObjectMeta { get set }
    /// The API server's validation of a create (`old` nil) or an update.
    static func validate(_ object: Self, old: Self?) -> [FieldError]
    /// What the API server's strategy sets on a create: fields the client may not choose
    /// (generation, status).
    static func prepareForCreate(_ object: inout Self)
    /// What the API server's strategy keeps or sets on an update of the object (not of its
    /// status subresource): a controller-owned status stays, the generation counts spec changes.
    static func prepareForUpdate(_ object: inout Self, old: Self)
    /// An update of the status subresource: `old` with the status of `new`.
    static func withStatus(of new: Self, on old: Self) -> Self
    /// false for a cluster-scoped kind (PriorityClass): its objects have the namespace "".
    static var namespaced: Bool { get }
    /// Objects every cluster has (the system PriorityClasses): served, never stored, and
    /// neither changed nor deleted through the API.
    static var builtIns: [Self] { get }
    /// What an admission plugin refuses of a create or update given the other objects of the
    /// kind (one globalDefault PriorityClass at most); nil when nothing.
    static func admissionRefusal(_ object: Self, among others: [Self]) -> String?
}

extension StoredObject {
    /// The API group, as Kubernetes' messages name a resource with it ("policy"; "" for the
    /// core group).
    public static var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// "namespace/name".
    public var key: String { "\(metadata.namespace)/\(metadata.name)" }

    /// The lower-case kind as kubelet writes it in messages ("configmap", "secret").
    public static var lowercasedKind: String { kind.lowercased() }

    /// Objects without a generation or a status: nothing to set.
    public static func prepareForCreate(_ object: inout Self) { object.metadata.generation = nil }
    public static func prepareForUpdate(_ object: inout Self, old: Self) { object.metadata.generation = nil }
    public static var namespaced: Bool { true }
    public static var builtIns: [Self] { [] }
    public static func admissionRefusal(_ object: Self, among others: [Self]) -> String? { nil }

    /// Objects without a status: an update of it changes nothing.
    public static func withStatus(of new: Self, on old: Self) -> Self { old }

    /// A writer holding kind, apiVersion and metadata, in the API server's order: the
    /// object's own fields follow.
    var typeAndMetadataWriter: ObjectWriter {
        var writer = ObjectWriter()
        writer.set("kind", .string(Self.kind))
        writer.set("apiVersion", .string(Self.apiVersion))
        writer.set("metadata", metadata.json)
        return writer
    }

    /// Reads the fields every such object starts with: apiVersion and kind (taken as given:
    /// the route decides the kind) and the metadata.
    static func readHeader(_ reader: inout ObjectReader) -> ObjectMeta {
        _ = reader.string("apiVersion")
        _ = reader.string("kind")
        return reader.decode("metadata", as: ObjectMeta.self) ?? ObjectMeta()
    }
}
