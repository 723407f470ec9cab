import PodModel

/// Server-side apply: `PATCH` with `application/apply-patch+yaml`, what `kubectl apply
/// --server-side` sends (with `?fieldManager=kubectl&force=false`). As on the API server, an
/// apply creates the object when there is none (201) and otherwise sets the fields the
/// configuration gives on the object as it is (200), through the same checks as any update.
///
/// What podd does not do: it keeps no managedFields, so an apply is merged as a strategic
/// merge patch of the configuration: it never removes a field an earlier apply set and the
/// configuration no longer has (delete the object, or use a JSON or merge patch, for that),
/// and it never answers 409 for a field another manager set (`force` is accepted and changes
/// nothing).
struct ApplyPatch {
    static let mediaType = "application/apply-patch+yaml"

    /// The applied configuration, named as the path names it, without `status` (an apply to
    /// the main resource never sets it).
    let configuration: JSONValue

    /// The apply of request `r` to object `name` of `kind`; nil when `r` is another patch.
    init?(_ r: APIRequest, kind: String, name: String) throws(StatusError) {
        let contentType = r.headers["Content-Type"].first ?? ""
        let media = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard media.trimmingSpaces.lowercased() == Self.mediaType else { return nil }
        // The API server's wording for each refusal.
        guard r.queryValue("fieldManager").map({ !$0.isEmpty }) == true else {
            throw StatusError(code: 422, reason: "Invalid",
                              message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                              causes: [StatusCause(reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager")])
        }
        if let force = r.queryValue("force"), force != "true", force != "false" {
            throw .badRequest("force: invalid value \"\(force)\": must be true or false")
        }
        let bytes = r.body.bytes
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty; send the configuration to apply as YAML or JSON") }
        let documents: [JSONValue]
        do {
            documents = try JSONValue.parseYAMLDocuments(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw .badRequest("error decoding YAML: \(error)")
        }
        guard documents.count == 1, case .object(var object)? = documents.first else {
            throw .badRequest("the configuration to apply must be one YAML or JSON object")
        }
        guard object["apiVersion"]?.stringValue == "v1", object["kind"]?.stringValue == kind else {
            let given = (object["apiVersion"]?.stringValue ?? "", object["kind"]?.stringValue ?? "")
            throw .badRequest("the configuration to apply is apiVersion \"\(given.0)\", kind \"\(given.1)\": this path applies v1 \(kind) objects")
        }
        if let given = object["metadata"]?["name"]?.stringValue, given != name {
            throw .badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        // The path names the object; the configuration may leave its name out.
        var metadata = object["metadata"]?.objectValue ?? JSONObject()
        metadata["name"] = .string(name)
        object["metadata"] = .object(metadata)
        object["status"] = nil
        configuration = .object(object)
    }

    /// The configuration applied to `live` (its JSON form).
    func applied(to live: JSONValue, schema: StrategicMergeSchema) throws(PatchError) -> JSONValue {
        try StrategicMergePatch.apply(configuration, to: live, schema: schema)
    }
}
