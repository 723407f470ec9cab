/// One problem with one field, worded as Kubernetes words it (apimachinery's field.Error),
/// so that a client sees the same message from podd as from an API server.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum ErrorType: String, Sendable, CaseIterable {
        case invalid
        case required
        case duplicate
        case notFound
        case notSupported
        case forbidden
        case tooLong
        case typeInvalid
        /// A field Kubernetes does not know at all (strict decoding).
        case unknownField
    }

    /// What kind of problem it is.
    public var type: ErrorType
    /// Where: `spec.containers[0].name`.
    public var field: FieldPath
    /// The offending value; nil where Kubernetes omits it (required, forbidden, too long).
    public var badValue: JSONValue?
    /// Why, e.g. "must be no more than 63 characters"; may be empty.
    public var detail: String

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(type: ErrorType, field: FieldPath, badValue: JSONValue?, detail: String) {
        self.type = type
        self.field = field
        self.badValue = badValue
        self.detail = detail
    }

    /// The StatusCause reason Kubernetes gives this kind of problem.
    public var reason: String {
        switch type {
        case .invalid: return "FieldValueInvalid"
        case .required: return "FieldValueRequired"
        case .duplicate: return "FieldValueDuplicate"
        case .notFound: return "FieldValueNotFound"
        case .notSupported: return "FieldValueNotSupported"
        case .forbidden: return "FieldValueForbidden"
        case .tooLong: return "FieldValueTooLong"
        case .typeInvalid: return "FieldValueTypeInvalid"
        // Kubernetes reports unknown fields in a BadRequest message without a cause type;
        // the nearest cause reason is an invalid value.
        case .unknownField: return "FieldValueInvalid"
        }
    }

    /// The message without the field, as a Kubernetes StatusCause carries it
    /// ("Invalid value: \"Foo\": a lowercase RFC 1123 label must ...").
    public var message: String {
        if type == .unknownField { return "unknown field \"\(field)\"" }
        var text = typeText
        switch type {
        case .required, .forbidden, .tooLong:
            break
        default:
            if let badValue { text += ": " + Self.render(badValue) }
        }
        if !detail.isEmpty { text += ": " + detail }
        return text
    }

    /// The whole message with its field: "spec.containers[0].name: Required value".
    public var description: String {
        type == .unknownField ? message : "\(field): \(message)"
    }

    /// Kubernetes' wording of the type.
    private var typeText: String {
        switch type {
        case .invalid, .typeInvalid: return "Invalid value"
        case .required: return "Required value"
        case .duplicate: return "Duplicate value"
        case .notFound: return "Not found"
        case .notSupported: return "Unsupported value"
        case .forbidden: return "Forbidden"
        case .tooLong: return "Too long"
        case .unknownField: return "Unknown field"
        }
    }

    /// A bad value as Go's field errors print it: strings quoted (%q), numbers and booleans
    /// bare, anything else as JSON.
    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return goQuoted(text)
        case .int(let number): return String(number)
        case .double(let number): return JSONSerializer.format(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "null"
        case .array, .object: return value.serializedString()
        }
    }

    /// `text` quoted as Go's strconv.Quote does.
    static func goQuoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\u{07}": quoted += "\\a"
            case "\u{08}": quoted += "\\b"
            case "\u{0C}": quoted += "\\f"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case "\u{0B}": quoted += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    quoted += "\\x" + (hex.count == 1 ? "0" : "") + hex
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}

// MARK: - Constructors, named after apimachinery's field.Invalid, field.Required, ...

extension FieldError {
    /// A malformed value (failed a format rule, out of range).
    public static func invalid(_ field: FieldPath, _ value: JSONValue, _ detail: String) -> FieldError {
        FieldError(type: .invalid, field: field, badValue: value, detail: detail)
    }

    /// A required value that is missing or empty.
    public static func required(_ field: FieldPath, _ detail: String = "") -> FieldError {
        FieldError(type: .required, field: field, badValue: nil, detail: detail)
    }

    /// A value that must be unique and is not.
    public static func duplicate(_ field: FieldPath, _ value: JSONValue) -> FieldError {
        FieldError(type: .duplicate, field: field, badValue: value, detail: "")
    }

    /// A reference to something that does not exist (a volume, a container).
    public static func notFound(_ field: FieldPath, _ value: JSONValue) -> FieldError {
        FieldError(type: .notFound, field: field, badValue: value, detail: "")
    }

    /// A value outside an enumeration; the detail lists the supported values, quoted.
    public static func notSupported(_ field: FieldPath, _ value: JSONValue, supported: [String]) -> FieldError {
        let detail = supported.isEmpty ? "" : "supported values: " + supported.map(goQuoted).joined(separator: ", ")
        return FieldError(type: .notSupported, field: field, badValue: value, detail: detail)
    }

    /// A well-formed value that is not allowed here.
    public static func forbidden(_ field: FieldPath, _ detail: String) -> FieldError {
        FieldError(type: .forbidden, field: field, badValue: nil, detail: detail)
    }

    /// A value longer than `maxLength` bytes.
    public static func tooLong(_ field: FieldPath, maxLength: Int) -> FieldError {
        FieldError(type: .tooLong, field: field, badValue: nil,
                   detail: "may not be more than \(maxLength) \(maxLength == 1 ? "byte" : "bytes")")
    }

    /// A value of the wrong JSON type.
    public static func typeInvalid(_ field: FieldPath, _ value: JSONValue, _ detail: String) -> FieldError {
        FieldError(type: .typeInvalid, field: field, badValue: value, detail: detail)
    }

    /// A field Kubernetes' Pod API does not have.
    public static func unknownField(_ field: FieldPath) -> FieldError {
        FieldError(type: .unknownField, field: field, badValue: nil, detail: "")
    }

    /// A Kubernetes field podd does not implement: rejected with its path, never ignored.
    public static func notSupportedByPodd(_ field: FieldPath) -> FieldError {
        .forbidden(field, "not supported by podd")
    }
}
