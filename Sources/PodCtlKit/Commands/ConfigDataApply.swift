import PodModel

/// `apply` of a ConfigMap or Secret: created when missing, replaced when present; prints
/// `configmap/NAME created|configured|unchanged` as kubectl does.
enum ConfigDataApply {
    static func apply(_ object: JSONValue, resource: ResourceArguments.Resource, namespace: String, name: String,
                      client: PoddClient) throws -> String {
        let path = resource.path(namespace: namespace, name: name)
        let label = "\(resource.singular)/\(name)"
        // A controller may write the object between the read and the replace (the disruption
        // controller writes a budget's status as its pods change): read again and retry, as
        // kubectl retries a conflict.
        var attempt = 0
        while true {
            attempt += 1
            guard let existing = try client.getIfPresent(path) else {
                _ = try client.json("POST", resource.path(namespace: namespace), body: object)
                return "\(label) created"
            }
            var replacement = object
            // Replace what was read, not a newer version (the server refuses a stale one).
            replacement["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"] ?? .null
            do {
                let updated = try client.json("PUT", path, body: replacement)
                return isUnchanged(existing, updated) ? "\(label) unchanged" : "\(label) configured"
            } catch let error as APIStatusError where error.code == 409 && attempt < 5 {
                continue
            }
        }
    }

    /// Whether what a user writes (data, binaryData, type, immutable, a budget's spec, labels,
    /// annotations)
    /// is as it was.
    static func isUnchanged(_ before: JSONValue, _ after: JSONValue) -> Bool {
        let fields: [(JSONValue) -> JSONValue?] = [
            { $0["data"] }, { $0["binaryData"] }, { $0["type"] }, { $0["immutable"] }, { $0["spec"] }, { $0["value"] }, { $0["globalDefault"] }, { $0["description"] },
            { $0["metadata"]["labels"] }, { $0["metadata"]["annotations"] },
        ]
        func normalized(_ value: JSONValue?) -> JSONValue {
            guard let value, value.objectValue?.isEmpty != true else { return .null }
            return value.sortedKeys
        }
        return fields.allSatisfy { normalized($0(before)) == normalized($0(after)) }
    }
}
