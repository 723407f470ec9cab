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
        let fields = try Self.fieldTerms(r.queryValue("fieldSelector") ?? "")
        let items = [node].filter { item in
            selector.matches(item) && fields.allSatisfy { (item["metadata"]?["name"]?.stringValue == $0.value) == $0.equal }
        }
        return PodAPIHandler.list(items, kind: "NodeList", resourceVersion: "", form: form, table: table)
    }

    func get(_ r: APIRequest, name: String) throws(StatusError) -> APIResponse {
        guard name == report.node.name else { throw .notFound(name, kind: "nodes") }
        return try PodAPIHandler.single(r, report.json(now: RuntimeClock.now()), kind: .nodes, resourceVersion: "")
    }

    /// `metadata.name` terms (`=`, `==`, `!=`), the field podd's node is selected by
    /// (kubectl's `--field-selector metadata.name=NODE`); another field is 400, as for pods.
    static func fieldTerms(_ text: String) throws(StatusError) -> [(value: String, equal: Bool)] {
        var terms: [(value: String, equal: Bool)] = []
        for raw in text.split(separator: ",") {
            let term = String(raw)
            let equal = !term.contains("!=")
            let parts = term.splitOn(equal ? (term.contains("==") ? "==" : "=") : "!=")
            guard parts.count == 2 else { throw .badRequest("invalid field selector \"\(term)\"") }
            guard parts[0] == "metadata.name" else { throw .badRequest("field label not supported: \(parts[0])") }
            terms.append((parts[1], equal))
        }
        return terms
    }
}
