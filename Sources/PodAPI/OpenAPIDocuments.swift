import NIOHTTP1
import PodModel

/// `/openapi/v3`, `/openapi/v3/{group-version}` and `/openapi/v2`, all made from
/// docs/openapi.yaml (embedded at build time by the EmbedOpenAPI plugin), the one
/// description of podd's API: what kubectl reads to validate (`apply`, `create`, `replace`
/// find the `fieldValidation` parameter on the PATCH of the kind, so they let podd
/// validate), to compute strategic merge patches (`x-kubernetes-patch-merge-key`) and to
/// `explain` (`x-kubernetes-group-version-kind`).
///
/// The v3 document of a group-version is the file's paths under it, with the file's
/// components, parameters written in place (kubectl looks for `fieldValidation` among an
/// operation's own). The v2 document is the same in Swagger 2.0 form (definitions, body
/// parameters), served as JSON, or as protobuf to kubectl, which validates from it what v3
/// does not vouch for (OpenAPIProtobuf).
enum OpenAPIDocuments {
    /// A served document: its bytes and the hash clients cache it under.
    struct Served: Sendable {
        let bytes: [UInt8]
        let hash: String
    }

    /// The group-versions with a v3 document: the key in `/openapi/v3` and the path prefix.
    /// Every group-version podd serves, read from the discovery documents (`/api`, `/apis`)
    /// as the API server lists them, so a group added there is described here too.
    static let groupVersions: [(key: String, prefix: String)] = {
        var keys = (Discovery.apiVersions["versions"]?.arrayValue ?? []).compactMap(\.stringValue).map { "api/" + $0 }
        for group in Discovery.apiGroups["groups"]?.arrayValue ?? [] {
            for version in group["versions"]?.arrayValue ?? [] {
                if let groupVersion = version["groupVersion"]?.stringValue { keys.append("apis/" + groupVersion) }
            }
        }
        return keys.map { ($0, "/" + $0) }
    }()

    /// The document as the file says it; nil (and every route 500) if it does not read, which
    /// test_openapi.py rules out.
    static let source: JSONValue? = try? JSONValue.parseYAMLDocuments(embeddedOpenAPIDocument).first

    static let v3ByGroupVersion: [String: Served] = {
        guard let source else { return [:] }
        var out: [String: Served] = [:]
        for gv in groupVersions {
            let bytes = groupVersionDocument(source, prefix: gv.prefix).serialized()
            out[gv.key] = Served(bytes: bytes, hash: hash(bytes))
        }
        return out
    }()

    static let v3Discovery: [UInt8] = {
        var paths = JSONObject()
        for gv in groupVersions {
            guard let served = v3ByGroupVersion[gv.key] else { continue }
            paths[gv.key] = .object(JSONObject([("serverRelativeURL", .string("/openapi/v3/\(gv.key)?hash=\(served.hash)"))]))
        }
        return JSONValue.object(JSONObject([("paths", .object(paths))])).serialized()
    }()

    static let v2: Served? = {
        guard let source else { return nil }
        let bytes = swagger2(source).serialized()
        return Served(bytes: bytes, hash: hash(bytes))
    }()

    /// v2 as gnostic's protobuf Document, what kubectl asks for (OpenAPIProtobuf).
    static let v2Protobuf: Served? = {
        guard let source else { return nil }
        let bytes = OpenAPIProtobuf.document(swagger2(source))
        return Served(bytes: bytes, hash: hash(bytes))
    }()

    // MARK: - Answers

    static func respondV3Discovery() -> APIResponse {
        .full(status: .ok, contentType: "application/json", body: v3Discovery)
    }

    static func respondV3(_ groupVersion: String) throws(StatusError) -> APIResponse {
        guard let served = v3ByGroupVersion[groupVersion] else {
            throw StatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (GET /openapi/v3/\(groupVersion))")
        }
        return .full(status: .ok, contentType: "application/json", body: served.bytes,
                     headers: [("Cache-Control", "public, immutable"), ("Etag", "\"\(served.hash)\"")])
    }

    /// JSON when the client takes it, else the protobuf form when it asks for that (kubectl
    /// does, and only for it); 406 when it takes neither.
    static func respondV2(accept: String) throws(StatusError) -> APIResponse {
        let types = accept.split(separator: ",").map { $0.split(separator: ";").first.map { String($0).trimmingSpaces.lowercased() } ?? "" }
        let takesJSON = accept.isEmpty || types.contains { $0 == "application/json" || $0 == "*/*" || $0 == "application/*" }
        if !takesJSON, types.contains(where: { [OpenAPIProtobuf.mediaType.lowercased(), OpenAPIProtobuf.contentType].contains($0) }) {
            guard let v2Protobuf else { throw .internalError("docs/openapi.yaml, embedded at build time, does not read as YAML") }
            return .full(status: .ok, contentType: OpenAPIProtobuf.contentType, body: v2Protobuf.bytes, headers: [("Etag", "\"\(v2Protobuf.hash)\"")])
        }
        guard takesJSON else {
            throw StatusError(code: 406, reason: "NotAcceptable",
                              message: "only the following media types are accepted: application/json, \(OpenAPIProtobuf.mediaType)")
        }
        guard let v2 else { throw .internalError("docs/openapi.yaml, embedded at build time, does not read as YAML") }
        return .full(status: .ok, contentType: "application/json", body: v2.bytes, headers: [("Etag", "\"\(v2.hash)\"")])
    }

    // MARK: - Making the documents

    /// The v3 document of the paths under `prefix`.
    static func groupVersionDocument(_ source: JSONValue, prefix: String) -> JSONValue {
        let components = source["components"] ?? .object(JSONObject())
        var paths = JSONObject()
        for (path, item) in source["paths"]?.objectValue ?? JSONObject() where path == prefix || path.hasPrefix(prefix + "/") {
            paths[path] = inlineParameters(item, components: components)
        }
        return .object(JSONObject([
            ("openapi", "3.0.0"), ("info", source["info"] ?? .object(JSONObject())),
            ("paths", .object(paths)), ("components", components),
        ]))
    }

    /// A path item with each `$ref` to `#/components/parameters/X` replaced by X.
    static func inlineParameters(_ item: JSONValue, components: JSONValue) -> JSONValue {
        func inline(_ list: JSONValue?) -> JSONValue? {
            guard let parameters = list?.arrayValue else { return list }
            return .array(parameters.map { parameter in
                guard let ref = parameter["$ref"]?.stringValue, ref.hasPrefix("#/components/parameters/") else { return parameter }
                return components["parameters"]?[String(ref.dropFirst("#/components/parameters/".count))] ?? parameter
            })
        }
        guard var object = item.objectValue else { return item }
        if let parameters = inline(object["parameters"]) { object["parameters"] = parameters }
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            guard var operation = object[method]?.objectValue else { continue }
            if let parameters = inline(operation["parameters"]) { operation["parameters"] = parameters }
            object[method] = .object(operation)
        }
        return .object(object)
    }

    /// The whole API as Swagger 2.0: schemas under `definitions`, request bodies as `body`
    /// parameters, each answer's JSON schema as its `schema`.
    static func swagger2(_ source: JSONValue) -> JSONValue {
        let components = source["components"] ?? .object(JSONObject())
        var paths = JSONObject()
        for (path, item) in source["paths"]?.objectValue ?? JSONObject() {
            guard case var .object(object) = inlineParameters(item, components: components) else { continue }
            if let parameters = object["parameters"]?.arrayValue { object["parameters"] = .array(parameters.map(v2Parameter)) }
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
                guard var operation = object[method]?.objectValue else { continue }
                var parameters = (operation["parameters"]?.arrayValue ?? []).map(v2Parameter)
                if let body = resolve(operation["requestBody"], components: components, section: "requestBodies"),
                   let (_, media) = body["content"]?.objectValue?.entries.first {
                    parameters.append(.object(JSONObject([("name", "body"), ("in", "body"), ("required", body["required"] ?? false),
                                                          ("schema", media["schema"] ?? .object(JSONObject()))])))
                }
                operation["requestBody"] = nil
                if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
                var responses = JSONObject()
                for (code, answer) in operation["responses"]?.objectValue ?? JSONObject() {
                    let resolved = resolve(answer, components: components, section: "responses") ?? answer
                    var v2 = JSONObject([("description", resolved["description"] ?? "")])
                    if let (_, media) = resolved["content"]?.objectValue?.entries.first, let schema = media["schema"] { v2["schema"] = schema }
                    responses[code] = .object(v2)
                }
                operation["responses"] = .object(responses)
                object[method] = .object(operation)
            }
            paths[path] = .object(object)
        }
        let document = JSONValue.object(JSONObject([
            ("swagger", "2.0"), ("info", source["info"] ?? .object(JSONObject())),
            ("consumes", ["application/json", "application/yaml"]), ("produces", ["application/json"]),
            ("paths", .object(paths)), ("definitions", components["schemas"] ?? .object(JSONObject())),
        ]))
        return swagger2Schemas(document)
    }

    /// A v3 parameter in v2 form: its schema's type at its own level.
    private static func v2Parameter(_ parameter: JSONValue) -> JSONValue {
        guard var object = parameter.objectValue, let schema = object["schema"]?.objectValue else { return parameter }
        object["schema"] = nil
        for (key, value) in schema where key != "$ref" { object[key] = value }
        if object["type"] == nil { object["type"] = "string" }
        return .object(object)
    }

    private static func resolve(_ value: JSONValue?, components: JSONValue, section: String) -> JSONValue? {
        guard let value else { return nil }
        guard let ref = value["$ref"]?.stringValue, ref.hasPrefix("#/components/\(section)/") else { return value }
        return components[section]?[String(ref.dropFirst("#/components/\(section)/".count))]
    }

    /// v3 schema spellings as v2 has them: `#/definitions/` references, and a `oneOf` of a
    /// number and a string (IntOrString) as Kubernetes writes it in v2.
    private static func swagger2Schemas(_ value: JSONValue) -> JSONValue {
        switch value {
        case let .array(items):
            return .array(items.map(swagger2Schemas))
        case let .object(object):
            if object["oneOf"] != nil {
                var replaced = JSONObject([("type", "string"), ("format", "int-or-string")])
                if let description = object["description"] { replaced["description"] = description }
                return .object(replaced)
            }
            var out = JSONObject()
            for (key, member) in object {
                if key == "$ref", let ref = member.stringValue, ref.hasPrefix("#/components/schemas/") {
                    out[key] = .string("#/definitions/" + ref.dropFirst("#/components/schemas/".count))
                } else if key == "nullable" {
                    continue
                } else {
                    out[key] = swagger2Schemas(member)
                }
            }
            return .object(out)
        default:
            return value
        }
    }

    /// FNV-1a (64 bits) of the bytes, as 16 hex digits: the cache key of a document.
    static func hash(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
