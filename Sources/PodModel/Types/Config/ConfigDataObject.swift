/// What ConfigMaps and Secrets have in common: named, namespaced objects holding keyed
/// bytes, stored and served by podd the same way.
public protocol ConfigDataObject: StoredObject {
    var immutable: Bool? { get }
    /// Every key with its bytes.
    var contents: [String: [UInt8]] { get }
}

extension ConfigDataObject {
    /// A writer holding kind, apiVersion, metadata and immutable, in the API server's order:
    /// the object's own fields follow.
    var headerWriter: ObjectWriter {
        var writer = typeAndMetadataWriter
        writer.set("immutable", immutable)
        return writer
    }
}

extension ObjectReader {
    /// A map of base64 strings (Secret data, ConfigMap binaryData), decoded; absent is empty.
    mutating func base64Map(_ key: String) -> [String: [UInt8]] {
        guard let value = value(key) else { return [:] }
        guard case .object(let members) = value else {
            malformed(.typeInvalid(path.child(key), value, "must be an object of base64 strings"))
            return [:]
        }
        var result: [String: [UInt8]] = [:]
        for (name, member) in members {
            if member.isNull {
                result[name] = []
                continue
            }
            guard case .string(let text) = member else {
                malformed(.typeInvalid(path.child(key).key(name), member, "must be a base64 string"))
                continue
            }
            do {
                result[name] = try Base64.decode(text)
            } catch {
                // The value is never echoed: it may be a secret.
                malformed(FieldError(type: .typeInvalid, field: path.child(key).key(name), badValue: nil, detail: error.description))
            }
        }
        return result
    }
}

extension ObjectWriter {
    /// A map of bytes as base64, keys sorted; written when not empty.
    mutating func set(_ key: String, bytes map: [String: [UInt8]]) {
        guard !map.isEmpty else { return }
        set(key, .object(JSONObject(map.keys.sorted().map { ($0, .string(Base64.encode(map[$0] ?? []))) })))
    }
}
