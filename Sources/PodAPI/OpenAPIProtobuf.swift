import PodModel

/// `/openapi/v2` in the protobuf form kubectl asks for (gnostic's `openapi.v2.Document`,
/// `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`). kubectl reads v3 first,
/// but validates on the client, from v2, what v3 cannot vouch for: a `kind: List` manifest
/// (what `kubectl get -o yaml` writes of several objects) and kinds podd does not serve (a
/// Deployment). Without v2 it stopped with "the server was unable to respond with a content
/// type that the client supports"; with it, a List's items are checked against podd's
/// schemas and sent, and an unknown kind gets kubectl's own "no matches for kind".
///
/// The document holds what kubectl's validation reads (kube-openapi's proto models): the
/// definitions, each Schema with its type, properties, items, references, required fields,
/// enums and vendor extensions (`x-kubernetes-group-version-kind`). Paths are left out: v3
/// describes them, and kubectl reads them there.
enum OpenAPIProtobuf {
    /// What kubectl's Accept names.
    static let mediaType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    /// What the answer's Content-Type says, as the API server's (Go's media type parser
    /// refuses the '@' of the other).
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    /// The Swagger 2.0 document `swagger` (OpenAPIDocuments.swagger2) as a Document message.
    static func document(_ swagger: JSONValue) -> [UInt8] {
        var document = ProtobufWriter()
        document.string(1, swagger["swagger"]?.stringValue ?? "2.0")
        var info = ProtobufWriter()
        info.string(1, swagger["info"]?["title"]?.stringValue ?? "")
        info.string(2, swagger["info"]?["version"]?.stringValue ?? "")
        document.message(2, info)
        for media in swagger["consumes"]?.arrayValue ?? [] { document.string(6, media.stringValue ?? "") }
        for media in swagger["produces"]?.arrayValue ?? [] { document.string(7, media.stringValue ?? "") }
        var definitions = ProtobufWriter()
        for (name, schema) in swagger["definitions"]?.objectValue ?? JSONObject() {
            definitions.message(1, named(name, schema: schema))
        }
        document.message(9, definitions)
        return document.bytes
    }

    /// A NamedSchema: name (1), Schema (2).
    private static func named(_ name: String, schema: JSONValue) -> ProtobufWriter {
        var pair = ProtobufWriter()
        pair.string(1, name)
        pair.message(2, self.schema(schema))
        return pair
    }

    /// A Schema message, by the field numbers of OpenAPIv2.proto.
    static func schema(_ json: JSONValue) -> ProtobufWriter {
        var s = ProtobufWriter()
        guard let object = json.objectValue else { return s }
        for (key, value) in object {
            switch key {
            case "$ref": s.string(1, value.stringValue ?? "")
            case "format": s.string(2, value.stringValue ?? "")
            case "title": s.string(3, value.stringValue ?? "")
            case "description": s.string(4, value.stringValue ?? "")
            case "default": s.message(5, any(value))
            case "multipleOf": s.double(6, value.doubleValue ?? 0)
            case "maximum": s.double(7, value.doubleValue ?? 0)
            case "exclusiveMaximum": s.bool(8, value == .bool(true))
            case "minimum": s.double(9, value.doubleValue ?? 0)
            case "exclusiveMinimum": s.bool(10, value == .bool(true))
            case "maxLength": s.int(11, value.intValue ?? 0)
            case "minLength": s.int(12, value.intValue ?? 0)
            case "pattern": s.string(13, value.stringValue ?? "")
            case "maxItems": s.int(14, value.intValue ?? 0)
            case "minItems": s.int(15, value.intValue ?? 0)
            case "uniqueItems": s.bool(16, value == .bool(true))
            case "maxProperties": s.int(17, value.intValue ?? 0)
            case "minProperties": s.int(18, value.intValue ?? 0)
            case "required": for field in value.arrayValue ?? [] { s.string(19, field.stringValue ?? "") }
            case "enum": for option in value.arrayValue ?? [] { s.message(20, any(option)) }
            case "additionalProperties":
                // AdditionalPropertiesItem: a Schema (1) or a boolean (2).
                var item = ProtobufWriter()
                if case .bool(let allowed) = value { item.bool(2, allowed, always: true) } else { item.message(1, schema(value)) }
                s.message(21, item)
            case "type":
                // TypeItem: repeated string (1).
                var types = ProtobufWriter()
                for type in value.arrayValue ?? [value] { types.string(1, type.stringValue ?? "") }
                s.message(22, types)
            case "items":
                // ItemsItem: repeated Schema (1).
                var items = ProtobufWriter()
                for item in value.arrayValue ?? [value] { items.message(1, schema(item)) }
                s.message(23, items)
            case "allOf": for part in value.arrayValue ?? [] { s.message(24, schema(part)) }
            case "properties":
                // Properties: repeated NamedSchema (1).
                var properties = ProtobufWriter()
                for (name, property) in value.objectValue ?? JSONObject() { properties.message(1, named(name, schema: property)) }
                s.message(25, properties)
            case "readOnly": s.bool(27, value == .bool(true))
            case "example": s.message(30, any(value))
            default:
                guard key.hasPrefix("x-") else { continue }
                // NamedAny: name (1), Any (2).
                var pair = ProtobufWriter()
                pair.string(1, key)
                pair.message(2, any(value))
                s.message(31, pair)
            }
        }
        return s
    }

    /// An Any message holding the value as YAML (2): JSON is YAML, and kube-openapi reads it so.
    private static func any(_ value: JSONValue) -> ProtobufWriter {
        var any = ProtobufWriter()
        any.string(2, value.serializedString(), always: true)
        return any
    }
}

/// Protocol buffers' wire format, for the few messages podd writes: varints (0), doubles
/// (1, little-endian) and length-delimited fields (2). Empty and zero values are left out, as
/// proto3 writes them, unless `always`.
struct ProtobufWriter {
    var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    mutating func string(_ field: Int, _ text: String, always: Bool = false) {
        guard always || !text.isEmpty else { return }
        tag(field, 2)
        let utf8 = Array(text.utf8)
        varint(UInt64(utf8.count))
        bytes += utf8
    }

    mutating func message(_ field: Int, _ body: ProtobufWriter) {
        tag(field, 2)
        varint(UInt64(body.bytes.count))
        bytes += body.bytes
    }

    mutating func bool(_ field: Int, _ value: Bool, always: Bool = false) {
        guard always || value else { return }
        tag(field, 0)
        varint(value ? 1 : 0)
    }

    /// An int64: negative numbers take ten bytes, as two's complement.
    mutating func int(_ field: Int, _ value: Int64) {
        guard value != 0 else { return }
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        guard value != 0 else { return }
        tag(field, 1)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
    }
}
