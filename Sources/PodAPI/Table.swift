import PodModel

/// A column of a server-side `Table` (meta.k8s.io TableColumnDefinition). Priority 0 columns
/// are printed by default, higher ones with `-o wide`.
struct TableColumn: Sendable {
    var name: String
    var type = "string"
    var format = ""
    var description: String
    var priority = 0

    var json: JSONValue {
        .object(JSONObject([("name", .string(name)), ("type", .string(type)), ("format", .string(format)),
                            ("description", .string(description)), ("priority", .int(Int64(priority)))]))
    }
}

/// How one kind of object is printed as a table: its columns, and a row's cells from an
/// object (as JSON, so that every kind, typed or not, can be printed). A new kind adds a
/// value here (`TableKind.pods`, `.events`, ...) and the list, get and watch routes serve
/// tables of it.
struct TableKind: Sendable {
    /// The kind of the objects (`Pod`), for bookmarks of a table watch.
    var kind: String
    var columns: [TableColumn]
    /// The cells of one object's row, `now` in seconds since the epoch (ages are computed
    /// by the server, as the API server does).
    var cells: @Sendable (_ object: JSONValue, _ now: Double) -> [JSONValue]
}

/// What a row of a table carries of its object (`?includeObject=`).
enum TableObjectPolicy: String, Sendable {
    /// Nothing.
    case none = "None"
    /// The object's metadata as a `PartialObjectMetadata` (the default, as the API server).
    case metadata = "Metadata"
    /// The whole object.
    case object = "Object"

    init(_ r: APIRequest) throws(StatusError) {
        guard let value = r.queryValue("includeObject"), !value.isEmpty else {
            self = .metadata
            return
        }
        guard let policy = TableObjectPolicy(rawValue: value) else {
            throw .badRequest("includeObject: Unsupported value: \"\(value)\": supported values: \"None\", \"Metadata\", \"Object\"")
        }
        self = policy
    }
}

/// Builds `meta.k8s.io` Tables: one per list or get, one (of one row) per watch event.
struct TableBuilder: Sendable {
    let kind: TableKind
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`, as the client asked.
    let apiVersion: String
    let include: TableObjectPolicy
    /// The time in seconds since the epoch, read for each table built: a watch lives for
    /// minutes, and each event's ages are those of the moment it is sent, as the API server
    /// prints them (a time fixed when the watch opened made later rows `<invalid>`).
    let clock: @Sendable () -> Double

    /// A table of `objects` read at `resourceVersion` (nil for a watch event's table), its
    /// ages computed from the clock now. `withColumns: false` leaves out the column
    /// definitions (watch events after the first: kubectl keeps the last ones it saw, as the
    /// API server expects).
    func table(_ objects: [JSONValue], resourceVersion: String?, withColumns: Bool = true) -> JSONValue {
        let now = clock()
        var table = JSONObject([("kind", "Table"), ("apiVersion", .string(apiVersion))])
        var metadata = JSONObject()
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        table["metadata"] = .object(metadata)
        if withColumns { table["columnDefinitions"] = .array(kind.columns.map(\.json)) }
        table["rows"] = .array(objects.map { row($0, now: now) })
        return .object(table)
    }

    func row(_ object: JSONValue, now: Double) -> JSONValue {
        var row = JSONObject([("cells", .array(kind.cells(object, now)))])
        switch include {
        case .none: break
        case .metadata: row["object"] = Self.partialMetadata(object)
        case .object: row["object"] = object
        }
        return .object(row)
    }

    /// A `PartialObjectMetadata`: the object's metadata under its own kind.
    static func partialMetadata(_ object: JSONValue) -> JSONValue {
        .object(JSONObject([("kind", "PartialObjectMetadata"), ("apiVersion", "meta.k8s.io/v1"),
                            ("metadata", object["metadata"] ?? .object(JSONObject()))]))
    }

    /// The table of a watch BOOKMARK: no rows, the version reached.
    func bookmark(resourceVersion: String) -> JSONValue {
        .object(JSONObject([("kind", "Table"), ("apiVersion", .string(apiVersion)),
                            ("metadata", .object(JSONObject([("resourceVersion", .string(resourceVersion))]))),
                            ("rows", .array([]))]))
    }
}
