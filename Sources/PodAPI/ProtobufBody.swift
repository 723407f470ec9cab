import PodModel

/// Request bodies in Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`),
/// turned into the JSON object the same request would have sent. kubectl's typed commands
/// send it without asking: `kubectl create configmap`, `kubectl create secret generic|tls|
/// docker-registry`, `kubectl create pdb` and `kubectl create priorityclass` POST a protobuf
/// ConfigMap, Secret, budget or class, and an API server that refuses it
/// leaves them with no fallback; so does `kubectl auth can-i` and `whoami` with their reviews
/// (AccessReviews), and `kubectl debug` with a Pod. podd decodes those kinds by their
/// messages' field numbers (ProtobufSchema.swift; server-set metadata is dropped, as the API
/// server ignores it on create); any other kind in protobuf is refused with 415, and the
/// message says to send JSON or YAML.
///
/// The encoding (k8s.io/apimachinery runtime/serializer/protobuf): the 4 bytes "k8s\0", then
/// a `runtime.Unknown` message: typeMeta (1: apiVersion 1, kind 2), raw (2: the object's own
/// message), contentEncoding (3), contentType (4). The objects' messages are those of
/// k8s.io/api/core/v1/generated.proto and apimachinery's meta/v1 (ObjectMeta).
enum ProtobufBody {
    static let mediaType = "application/vnd.kubernetes.protobuf"
    private static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The JSON form of a protobuf body.
    static func json(_ bytes: [UInt8]) throws(StatusError) -> JSONValue {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            throw .badRequest("the request body is not Kubernetes protobuf: it does not start with \"k8s\\0\"")
        }
        do {
            var apiVersion = "", kind = "", raw: ArraySlice<UInt8> = [], encoding = ""
            var envelope = Reader(bytes[magic.count...])
            while let field = try envelope.next() {
                switch field.number {
                case 1:
                    var typeMeta = Reader(try field.bytes())
                    while let f = try typeMeta.next() {
                        if f.number == 1 { apiVersion = try f.string() } else if f.number == 2 { kind = try f.string() }
                    }
                case 2: raw = try field.bytes()
                case 3: encoding = try field.string()
                default: break
                }
            }
            guard encoding.isEmpty else { throw Refusal.unsupported("content encoding \"\(encoding)\"") }
            switch (apiVersion, kind) {
            case ("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Pod"), ("v1", "ServiceAccount"),
                 (PodDisruptionBudget.apiVersion, PodDisruptionBudget.kind),
                 (PriorityClass.apiVersion, PriorityClass.kind),
                 (AccessReviews.authorizationVersion, "SelfSubjectAccessReview"),
                 (AccessReviews.authorizationVersion, "SelfSubjectRulesReview"),
                 (AccessReviews.authenticationVersion, "SelfSubjectReview"):
                return .object(try schemaMessage(raw, kind, into: JSONObject([("apiVersion", .string(apiVersion)), ("kind", .string(kind))]),
                                                 depth: 0))
            case ("v1", _), (_, ""): throw Refusal.unsupported(kind.isEmpty ? "an object without a kind" : "a \(kind)")
            default: throw Refusal.unsupported("\(kind) of apiVersion \"\(apiVersion)\"")
            }
        } catch let refusal as Refusal {
            switch refusal {
            case let .malformed(what):
                throw .badRequest("the request body is not valid Kubernetes protobuf: \(what)")
            case let .unsupported(what):
                throw .unsupportedMediaType("podd reads \(mediaType) bodies of Pods, ConfigMaps, Secrets, ServiceAccounts, PodDisruptionBudgets, PriorityClasses and access reviews only, not \(what): send application/json or application/yaml")
            }
        } catch {
            throw .badRequest("the request body is not valid Kubernetes protobuf: \(error)")
        }
    }

    /// A map entry: key 1 (string), value 2 (bytes; the caller says what they hold).
    static func mapEntry(_ raw: ArraySlice<UInt8>) throws -> (String, ArraySlice<UInt8>) {
        var key = "", value: ArraySlice<UInt8> = []
        var reader = Reader(raw)
        while let field = try reader.next() {
            if field.number == 1 { key = try field.string() } else if field.number == 2 { value = try field.bytes() }
        }
        return (key, value)
    }

    // MARK: Wire format

    enum Refusal: Error {
        case malformed(String)
        case unsupported(String)
    }

    /// One field as read: its number and wire type, and its payload (a varint's value, or
    /// the bytes of a length-delimited or fixed-size field).
    struct Field {
        let number: Int
        let wireType: UInt8
        let value: UInt64
        let payload: ArraySlice<UInt8>

        func bytes() throws -> ArraySlice<UInt8> {
            guard wireType == 2 else { throw Refusal.malformed("field \(number) is not length-delimited") }
            return payload
        }

        func string() throws -> String { try Reader.text(bytes()) }

        func varint() throws -> UInt64 {
            guard wireType == 0 else { throw Refusal.malformed("field \(number) is not a varint") }
            return value
        }

        /// Whether the field carries nothing (0, or no bytes).
        func isEmpty() throws -> Bool {
            switch wireType {
            case 0: return value == 0
            case 2: return payload.isEmpty
            default: return payload.allSatisfy { $0 == 0 }
            }
        }
    }

    /// Reads the fields of one message in turn.
    struct Reader {
        private var bytes: ArraySlice<UInt8>

        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

        static func text(_ bytes: ArraySlice<UInt8>) throws -> String {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw Refusal.malformed("a string is not UTF-8") }
            return text
        }

        private mutating func varint() throws -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.first {
                bytes = bytes.dropFirst()
                guard shift < 64 else { throw Refusal.malformed("a varint longer than 10 bytes") }
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            throw Refusal.malformed("the body ends inside a varint")
        }

        private mutating func take(_ count: UInt64) throws -> ArraySlice<UInt8> {
            guard count <= UInt64(bytes.count) else { throw Refusal.malformed("a field is longer than the body") }
            let taken = bytes.prefix(Int(count))
            bytes = bytes.dropFirst(Int(count))
            return taken
        }

        /// The next varint of a packed repeated field, or nil at its end.
        mutating func nextVarint() throws -> UInt64? {
            bytes.isEmpty ? nil : try varint()
        }

        /// The next field, or nil at the end of the message.
        mutating func next() throws -> Field? {
            guard !bytes.isEmpty else { return nil }
            let tag = try varint()
            let number = tag >> 3
            guard number > 0, number < 1 << 29 else { throw Refusal.malformed("field number \(number)") }
            let wireType = UInt8(tag & 7)
            switch wireType {
            case 0: return Field(number: Int(number), wireType: 0, value: try varint(), payload: [])
            case 1: return Field(number: Int(number), wireType: 1, value: 0, payload: try take(8))
            case 2: return Field(number: Int(number), wireType: 2, value: 0, payload: try take(varint()))
            case 5: return Field(number: Int(number), wireType: 5, value: 0, payload: try take(4))
            default: throw Refusal.malformed("wire type \(wireType) of field \(number)")
            }
        }
    }
}
