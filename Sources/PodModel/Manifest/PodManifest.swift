/// Reading pod manifests: text to documents, documents to pods, as `kubectl apply -f` and the
/// API server do.
public enum PodManifest {
    /// Reads a pod for creation or replacement: apiVersion must be v1 and kind Pod; status
    /// is dropped unread (the API server ignores it on create, and it may hold fields of a
    /// newer Kubernetes when the manifest came from `kubectl get -o yaml`).
    ///
    /// A manifest without a namespace lands in `defaultNamespace`: "default" for a file, the
    /// request's namespace for `POST /api/v1/namespaces/{ns}/pods` (the API server then
    /// refuses a body naming another namespace; `json["metadata"]?["namespace"]` tells).
    public static func decodePod(_ json: JSONValue, defaultNamespace: String = ObjectMeta.defaultNamespace) throws(ManifestError) -> Pod {
        guard case .object(var object) = json else {
            throw .decoding(message: "Object is not a Pod: expected a JSON object, got \(ObjectReader.article(json.typeName))")
        }
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let kind = object["kind"]?.stringValue ?? ""
        if kind.isEmpty {
            throw .decoding(message: "Object 'Kind' is missing in the Pod manifest", causes: [.required("kind")])
        }
        if kind != Pod.kind {
            throw .decoding(message: "the kind in the data (\(kind)) does not match the expected kind (\(Pod.kind))",
                            causes: [.invalid("kind", .string(kind), "must be Pod")])
        }
        if apiVersion.isEmpty {
            throw .decoding(message: "Object 'apiVersion' is missing in the Pod manifest", causes: [.required("apiVersion")])
        }
        if apiVersion != Pod.apiVersion {
            throw .decoding(message: "the API version in the data (\(apiVersion)) does not match the expected API version (\(Pod.apiVersion))",
                            causes: [.invalid("apiVersion", .string(apiVersion), "must be v1")])
        }
        object["status"] = nil
        do {
            var pod = try Pod(json: .object(object), path: .root)
            pod.status = PodStatus()
            if (object["metadata"]?["namespace"]?.stringValue ?? "").isEmpty { pod.metadata.namespace = defaultNamespace }
            return pod
        } catch {
            var named = error
            named.objectName = name
            throw named
        }
    }

    /// Reads a pod and validates it for creation: the pod, or every problem found, as one
    /// ManifestError (400 for malformed input, 422 for invalid).
    public static func decodeValidPod(_ json: JSONValue, defaultNamespace: String = ObjectMeta.defaultNamespace,
                                      allowEphemeralContainers: Bool = false) throws(ManifestError) -> Pod {
        let pod = try decodePod(json, defaultNamespace: defaultNamespace)
        let errors = PodValidation.validate(pod, allowEphemeralContainers: allowEphemeralContainers)
        guard errors.isEmpty else { throw .invalid(errors, objectName: pod.metadata.name) }
        return pod
    }

    /// Splits a manifest text into its objects: JSON (a value or a stream of values) or
    /// YAML (any number of documents, empty ones skipped); `kind: List` and `kind: PodList`
    /// (any `...List` with items) are expanded into their items, PodList items getting the
    /// apiVersion and kind they omit.
    public static func documents(fromText text: String) throws(ManifestError) -> [JSONValue] {
        let values: [JSONValue]
        do {
            if looksLikeJSON(text) {
                values = try JSONValue.parseStream(Array(text.utf8))
            } else {
                values = try JSONValue.parseYAMLDocuments(text)
            }
        } catch {
            let format = looksLikeJSON(text) ? "JSON" : "YAML"
            throw .decoding(message: "error parsing \(format): \(error)")
        }
        var documents: [JSONValue] = []
        for value in values { try expand(value, into: &documents, path: .root) }
        return documents
    }

    /// Reads every pod of a manifest text (see `documents(fromText:)` and `decodePod`).
    public static func pods(fromText text: String) throws(ManifestError) -> [Pod] {
        var pods: [Pod] = []
        for document in try documents(fromText: text) { pods.append(try decodePod(document)) }
        return pods
    }

    /// JSON starts with `{` or `[` (after whitespace); anything else is read as YAML.
    private static func looksLikeJSON(_ text: String) -> Bool {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "{"), UInt8(ascii: "["): return true
            default: return false
            }
        }
        return false
    }

    private static func expand(_ value: JSONValue, into documents: inout [JSONValue], path: FieldPath) throws(ManifestError) {
        guard case .object(let object) = value, let kind = object["kind"]?.stringValue, kind.hasSuffix("List"),
            let items = object["items"]
        else {
            documents.append(value)
            return
        }
        guard case .array(let elements) = items else {
            throw .decoding([.typeInvalid(path.child("items"), items, "must be an array")], objectKind: kind)
        }
        // A typed list (PodList) leaves apiVersion and kind out of its items.
        let itemKind = kind == "List" ? nil : String(kind.dropLast("List".count))
        let listVersion = object["apiVersion"]?.stringValue
        for (index, element) in elements.enumerated() {
            var item = element
            if let itemKind, case .object(var itemObject) = element {
                if itemObject["kind"] == nil { itemObject["kind"] = .string(itemKind) }
                if itemObject["apiVersion"] == nil, let listVersion { itemObject["apiVersion"] = .string(listVersion) }
                item = .object(itemObject)
            }
            try expand(item, into: &documents, path: path.child("items").index(index))
        }
    }
}
