import NIOHTTP1
import PodModel
import PodRuntime

/// `GET /api/v1/nodes[/{name}]`: podd's one node (NodeReport), read when asked, as an object,
/// a Table (kubectl's NAME STATUS ROLES AGE VERSION) or metadata. There is no other node to
/// register and nothing to change: other verbs are 405, saying why.
struct NodeRoutes {
    let report: NodeReport

    static func readOnly(_ method: HTTPMethod, _ path: String) -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed",
                    message: "podd's node is the machine itself, read-only: its labels come from the config's nodeLabels (\(method) \(path))")
    }

    func list(_ r: APIRequest) throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let table = try PodAPIHandler.tableBuilder(r, form: form, kind: .nodes)
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        let node = report.json(now: RuntimeClock.now())
        let items = [node].filter { selector.matches($0) && Self.fieldsMatch(r.queryValue("fieldSelector") ?? "", $0) }
        return PodAPIHandler.list(items, kind: "NodeList", resourceVersion: "", form: form, table: table)
    }

    func get(_ r: APIRequest, name: String) throws(StatusError) -> APIResponse {
        guard name == report.node.name else { throw .notFound(name, kind: "nodes") }
        return try PodAPIHandler.single(r, report.json(now: RuntimeClock.now()), kind: .nodes, resourceVersion: "")
    }

    /// `metadata.name` terms, the field selector nodes take everywhere (kubectl's
    /// `--field-selector metadata.name=NODE`); another field matches nothing.
    static func fieldsMatch(_ text: String, _ node: JSONValue) -> Bool {
        text.split(separator: ",").allSatisfy { term in
            let negated = term.contains("!=")
            let parts = term.split(separator: negated ? "!" : "=", maxSplits: 1)
            guard parts.count == 2 else { return false }
            let value = parts[1].drop { $0 == "=" }
            guard parts[0] == "metadata.name" else { return false }
            return (node["metadata"]?["name"]?.stringValue == String(value)) != negated
        }
    }
}
