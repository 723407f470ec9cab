import PodModel

/// Protobuf bodies turned into their JSON form by a schema of the messages they reach: each
/// message's field numbers, JSON names and kinds. The schema of everything a Pod reaches is
/// generated from k8s.io/api's core/v1 generated.proto (ProtobufPodSchema.swift, by
/// scripts/gen-protobuf-pod-schema.py); ConfigMap, Secret, PodDisruptionBudget, PriorityClass, ServiceAccount,
/// the access reviews and ObjectMeta are written below (`baseSchemaText`), in the same form.
///
/// Go's encoder writes every non-pointer field, set or not; the JSON form leaves out what is
/// empty. Empty strings are left out here (no field gives "" a meaning of its own), while
/// numbers and booleans are kept (a pointer's 0 or false does mean something: runAsUser 0,
/// hostUsers false), and Kubernetes' defaults make a non-pointer's 0 or false the same as
/// leaving it out. A field the schema lacks is refused unless it is empty. The JSON then goes
/// through the same decoding and validation as a JSON body.
extension ProtobufBody {
    /// One field of a message in the schema.
    struct SchemaField {
        enum Kind: Equatable {
            case string, bool, int32, int64, bytes, strings, ints
            case message(String), inlined(String), messages(String)
            case stringMap, quantityMap, bytesMap
            /// Read and dropped: what the server sets itself (uid, resourceVersion, status).
            case dropped
        }
        let json: String
        let kind: Kind
    }

    /// The messages podd reads besides those a Pod reaches: kind `x` is a field read and
    /// dropped. ObjectMeta has the fields a client may set (name, generateName, namespace,
    /// labels, annotations, finalizers); what the server sets is dropped, as on create.
    static let baseSchemaText = """
        ObjectMeta 1:name:s 2:generateName:s 3:namespace:s 4:selfLink:x 5:uid:x 6:resourceVersion:x 7:generation:x 8:creationTimestamp:x 11:labels:P 12:annotations:P 14:finalizers:S
        ConfigMap 1:metadata:m:ObjectMeta 2:data:P 3:binaryData:Y 4:immutable:b
        Secret 1:metadata:m:ObjectMeta 2:data:Y 3:type:s 4:stringData:P 5:immutable:b
        PodDisruptionBudget 1:metadata:m:ObjectMeta 2:spec:m:PodDisruptionBudgetSpec 3:status:x
        PriorityClass 1:metadata:m:ObjectMeta 2:value:i 3:globalDefault:b 4:description:s 5:preemptionPolicy:s
        ServiceAccount 1:metadata:m:ObjectMeta 2:secrets:M:ObjectReference 3:imagePullSecrets:M:LocalObjectReference 4:automountServiceAccountToken:b
        ObjectReference 1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s 6:resourceVersion:s 7:fieldPath:s
        PodDisruptionBudgetSpec 1:minAvailable:m:IntOrString 2:selector:m:LabelSelector 3:maxUnavailable:m:IntOrString 4:unhealthyPodEvictionPolicy:s
        SelfSubjectAccessReview 1:metadata:m:ObjectMeta 2:spec:m:SelfSubjectAccessReviewSpec 3:status:x
        SelfSubjectAccessReviewSpec 1:resourceAttributes:m:ResourceAttributes 2:nonResourceAttributes:m:NonResourceAttributes
        ResourceAttributes 1:namespace:s 2:verb:s 3:group:s 4:version:s 5:resource:s 6:subresource:s 7:name:s 8:fieldSelector:x 9:labelSelector:x
        NonResourceAttributes 1:path:s 2:verb:s
        SelfSubjectRulesReview 1:metadata:m:ObjectMeta 2:spec:m:SelfSubjectRulesReviewSpec 3:status:x
        SelfSubjectRulesReviewSpec 1:namespace:s
        SelfSubjectReview 1:metadata:m:ObjectMeta 2:status:x
        """

    /// The schema, parsed on first use.
    static let schema: [String: [Int: SchemaField]] = {
        var schema: [String: [Int: SchemaField]] = [:]
        for line in (baseSchemaText + "\n" + podSchemaText).split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let name = words.first else { continue }
            var fields: [Int: SchemaField] = [:]
            for word in words.dropFirst() {
                let parts = word.split(separator: ":").map(String.init)
                guard parts.count >= 3, let number = Int(parts[0]) else { continue }
                let type = parts.count > 3 ? parts[3] : ""
                let kind: SchemaField.Kind
                switch parts[2] {
                case "s": kind = .string
                case "b": kind = .bool
                case "i": kind = .int32
                case "l": kind = .int64
                case "y": kind = .bytes
                case "S": kind = .strings
                case "I": kind = .ints
                case "m": kind = .message(type)
                case "m!": kind = .inlined(type)
                case "M": kind = .messages(type)
                case "P": kind = .stringMap
                case "Q": kind = .quantityMap
                case "Y": kind = .bytesMap
                default: kind = .dropped
                }
                fields[number] = SchemaField(json: parts[1], kind: kind)
            }
            schema[String(name)] = fields
        }
        return schema
    }()

    /// `raw` as the JSON members of message `name`, added to `object`.
    static func schemaMessage(_ raw: ArraySlice<UInt8>, _ name: String, into object: JSONObject, depth: Int) throws -> JSONObject {
        guard depth < 32 else { throw Refusal.malformed("messages nested more than 32 deep") }
        switch name {
        case "LabelSelector": return try labelSelector(raw, into: object)
        default: break
        }
        guard let fields = schema[name] else { throw Refusal.unsupported("a message \(name)") }
        var object = object
        var maps: [String: JSONObject] = [:]
        var lists: [String: [JSONValue]] = [:]
        var reader = Reader(raw)
        while let field = try reader.next() {
            guard let spec = fields[field.number] else {
                guard try field.isEmpty() else { throw Refusal.unsupported("field \(field.number) of \(name)") }
                continue
            }
            switch spec.kind {
            case .dropped: break
            case .string:
                let text = try field.string()
                if !text.isEmpty { object[spec.json] = .string(text) }
            case .bool: object[spec.json] = .bool(try field.varint() != 0)
            case .int32: object[spec.json] = .int(Int64(Int32(truncatingIfNeeded: try field.varint())))
            case .int64: object[spec.json] = .int(Int64(bitPattern: try field.varint()))
            case .bytes: object[spec.json] = .string(Base64.encode(Array(try field.bytes())))
            case .strings: lists[spec.json, default: []].append(.string(try field.string()))
            case .ints:
                if field.wireType == 2 {
                    var packed = Reader(try field.bytes())
                    while let value = try packed.nextVarint() { lists[spec.json, default: []].append(.int(Int64(bitPattern: value))) }
                } else {
                    lists[spec.json, default: []].append(.int(Int64(bitPattern: try field.varint())))
                }
            case let .message(type):
                object[spec.json] = try external(field.bytes(), type) ?? .object(try schemaMessage(field.bytes(), type, into: JSONObject(), depth: depth + 1))
            case let .inlined(type):
                object = try schemaMessage(field.bytes(), type, into: object, depth: depth + 1)
            case let .messages(type):
                let item = try external(field.bytes(), type) ?? .object(try schemaMessage(field.bytes(), type, into: JSONObject(), depth: depth + 1))
                lists[spec.json, default: []].append(item)
            case .stringMap, .quantityMap, .bytesMap:
                let (key, value) = try mapEntry(field.bytes())
                let json: JSONValue
                switch spec.kind {
                case .stringMap: json = .string(try Reader.text(value))
                case .quantityMap: json = try quantity(value)
                default: json = .string(Base64.encode(Array(value)))
                }
                maps[spec.json, default: JSONObject()][key] = json
            }
        }
        for (member, map) in maps.sorted(by: { $0.key < $1.key }) { object[member] = .object(map) }
        for (member, list) in lists.sorted(by: { $0.key < $1.key }) { object[member] = .array(list) }
        return object
    }

    /// apimachinery's own messages with a JSON form other than an object of their fields.
    private static func external(_ raw: ArraySlice<UInt8>, _ type: String) throws -> JSONValue? {
        switch type {
        case "Quantity": return try quantity(raw)
        case "IntOrString":
            var kind: UInt64 = 0, number: Int64 = 0, text = ""
            var reader = Reader(raw)
            while let f = try reader.next() {
                switch f.number {
                case 1: kind = try f.varint()
                case 2: number = Int64(Int32(truncatingIfNeeded: try f.varint()))
                case 3: text = try f.string()
                default: break
                }
            }
            return kind == 1 ? .string(text) : .int(number)
        case "Time":
            var seconds: Int64 = 0, nanos: Int32 = 0
            var reader = Reader(raw)
            while let f = try reader.next() {
                if f.number == 1 { seconds = Int64(bitPattern: try f.varint()) } else if f.number == 2 { nanos = Int32(truncatingIfNeeded: try f.varint()) }
            }
            return .string(Timestamp(seconds: seconds, nanoseconds: nanos).rfc3339)
        case "Duration":
            var reader = Reader(raw)
            var nanoseconds: Int64 = 0
            while let f = try reader.next() {
                if f.number == 1 { nanoseconds = Int64(bitPattern: try f.varint()) }
            }
            return .string("\(nanoseconds / 1_000_000_000)s")
        default: return nil
        }
    }

    /// resource.Quantity: its one field, the string.
    private static func quantity(_ raw: ArraySlice<UInt8>) throws -> JSONValue {
        var reader = Reader(raw)
        var text = ""
        while let f = try reader.next() {
            if f.number == 1 { text = try f.string() }
        }
        return .string(text)
    }

    /// meta/v1 LabelSelector: matchLabels (1) and matchExpressions (2: key 1, operator 2, values 3).
    private static func labelSelector(_ raw: ArraySlice<UInt8>, into object: JSONObject) throws -> JSONObject {
        var object = object
        var labels = JSONObject()
        var expressions: [JSONValue] = []
        var reader = Reader(raw)
        while let f = try reader.next() {
            switch f.number {
            case 1:
                let (key, value) = try mapEntry(f.bytes())
                labels[key] = .string(try Reader.text(value))
            case 2:
                var key = "", op = "", values: [JSONValue] = []
                var inner = Reader(try f.bytes())
                while let g = try inner.next() {
                    switch g.number {
                    case 1: key = try g.string()
                    case 2: op = try g.string()
                    case 3: values.append(.string(try g.string()))
                    default: break
                    }
                }
                var e = JSONObject([("key", .string(key)), ("operator", .string(op))])
                if !values.isEmpty { e["values"] = .array(values) }
                expressions.append(.object(e))
            default: break
            }
        }
        if !labels.isEmpty { object["matchLabels"] = .object(labels) }
        if !expressions.isEmpty { object["matchExpressions"] = .array(expressions) }
        return object
    }
}
