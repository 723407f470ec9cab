import PodModel
import PodRuntime

/// Lists, watches and gets as kubectl and informers need them: every list carries the
/// resourceVersion it was read at (a watch from it misses nothing), and each answer comes in
/// the form the client asked for (`ResponseForm`: the objects, a Table, or their metadata).
extension PodAPIHandler {
    /// The name of this machine, the node of every pod (for the NODE column).
    var node: String { events.host }

    func listPods(_ r: APIRequest, namespace: String?) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        let fieldSelector = try FieldSelector(r.queryValue("fieldSelector") ?? "")
        let matches: @Sendable (JSONValue) -> Bool = { selector.matches($0) && fieldSelector.matches($0) }
        let table = try Self.tableBuilder(r, form: form, kind: .pods(node: node))
        if r.queryBool("watch") {
            let options = try WatchOptions(r)
            let selective = !selector.requirements.isEmpty || !fieldSelector.terms.isEmpty
            return await WatchRoute(source: registry, kind: "Pod", render: { $0.json }, matches: matches, selective: selective)
                .respond(namespace: namespace, options: options, table: table)
        }
        // Each pod's JSON is made once per change (PodRegistry.listJSON), for the selectors
        // and the answer alike.
        let page = try ListPage(r)
        let (all, version) = await registry.listJSON(namespace: namespace)
        let items = all.filter(matches)
        return Self.list(items, kind: "PodList", resourceVersion: version, form: form, table: table, page: page,
                         selective: !selector.requirements.isEmpty || !fieldSelector.terms.isEmpty)
    }

    func listEvents(_ r: APIRequest, namespace: String?) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        var terms: [(path: [String], value: String, equal: Bool)] = []
        for raw in (r.queryValue("fieldSelector") ?? "").split(separator: ",") {
            let term = String(raw)
            let equal = !term.contains("!=")
            let parts = term.splitOn(equal ? (term.contains("==") ? "==" : "=") : "!=")
            guard parts.count == 2 else { throw .badRequest("invalid field selector \"\(term)\"") }
            terms.append((parts[0].split(separator: ".").map(String.init), parts[1], equal))
        }
        let fieldTerms = terms
        let matches: @Sendable (JSONValue) -> Bool = { event in
            selector.matches(event) && fieldTerms.allSatisfy { term in
                var value: JSONValue? = event
                for key in term.path { value = value?[key] }
                return ((value?.stringValue ?? value.map { $0.description } ?? "") == term.value) == term.equal
            }
        }
        let table = try Self.tableBuilder(r, form: form, kind: .events)
        if r.queryBool("watch") {
            let options = try WatchOptions(r)
            let selective = !selector.requirements.isEmpty || !fieldTerms.isEmpty
            return await WatchRoute(source: events, kind: "Event", render: { $0 }, matches: matches, selective: selective)
                .respond(namespace: namespace, options: options, table: table)
        }
        let page = try ListPage(r)
        let (items, version) = await events.listWithVersion(namespace: namespace)
        return Self.list(items.filter(matches), kind: "EventList", resourceVersion: version, form: form, table: table, page: page,
                         selective: !selector.requirements.isEmpty || !fieldTerms.isEmpty)
    }

    /// One pod, in the form asked for.
    func podAnswer(_ r: APIRequest, _ pod: Pod) throws(StatusError) -> APIResponse {
        try Self.single(r, pod.json, kind: .pods(node: node), resourceVersion: pod.metadata.resourceVersion ?? "")
    }

    /// One object (its JSON form) in the form the request asked for: itself, its metadata
    /// (PartialObjectMetadata) or a Table of one row.
    static func single(_ r: APIRequest, _ json: JSONValue, kind: TableKind, resourceVersion: String) throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        switch form {
        case .object:
            return Self.json(200, json)
        case let .metadata(apiVersion):
            var partial = TableBuilder.partialMetadata(json)
            partial["apiVersion"] = .string(apiVersion)
            return Self.json(200, partial)
        case .table:
            guard let table = try Self.tableBuilder(r, form: form, kind: kind) else { return Self.json(200, json) }
            return Self.json(200, table.table([json], resourceVersion: resourceVersion))
        }
    }

    /// The table builder for a request that asked for a Table; nil otherwise.
    static func tableBuilder(_ r: APIRequest, form: ResponseForm, kind: TableKind) throws(StatusError) -> TableBuilder? {
        guard case let .table(apiVersion) = form else { return nil }
        return TableBuilder(kind: kind, apiVersion: apiVersion, include: try TableObjectPolicy(r), clock: Self.nowSeconds)
    }

    static func nowSeconds() -> Double {
        let now = RuntimeClock.now()
        return Double(now.seconds) + Double(now.nanoseconds) / 1e9
    }

    /// A list answer: `KindList` (of `apiVersion`) with its resourceVersion, a Table, or a
    /// PartialObjectMetadataList; with `page`, the page of `items` it asks for (`limit`,
    /// `continue`: ListPagination.swift). `selective`: the items were filtered by a selector.
    static func list(_ items: [JSONValue], kind: String, apiVersion: String = "v1", resourceVersion: String,
                     form: ResponseForm, table: TableBuilder?, page: ListPage? = nil, selective: Bool = false) -> APIResponse {
        var (items, listMetadata) = (items, ListMetadata(resourceVersion: resourceVersion))
        if let page { (items, listMetadata) = page.page(items, resourceVersion: resourceVersion, selective: selective) }
        let metadata = listMetadata.json
        if let table {
            var answer = table.table(items, resourceVersion: listMetadata.resourceVersion)
            answer["metadata"] = metadata
            return json(200, answer)
        }
        if case let .metadata(apiVersion) = form {
            return json(200, .object(JSONObject([
                ("kind", "PartialObjectMetadataList"), ("apiVersion", .string(apiVersion)), ("metadata", metadata),
                ("items", .array(items.map { item in
                    var partial = TableBuilder.partialMetadata(item)
                    partial["apiVersion"] = .string(apiVersion)
                    return partial
                })),
            ])))
        }
        return json(200, .object(JSONObject([
            ("kind", .string(kind)), ("apiVersion", .string(apiVersion)), ("metadata", metadata), ("items", .array(items)),
        ])))
    }
}
