/// Why a manifest or request body was refused, shaped as the Kubernetes API server answers:
/// malformed text, unknown fields and wrong types are a 400 BadRequest (`.decoding`);
/// a well-formed object that breaks the rules is a 422 Invalid (`.invalid`), with one cause
/// per field.
public struct ManifestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// How the API answers: 400 or 422.
    public enum Kind: Sendable, Equatable {
        /// Malformed text, an unknown field, a wrong type: 400 BadRequest.
        case decoding
        /// Validation failed: 422 Invalid.
        case invalid
    }

    /// Malformed input (400) or invalid object (422).
    public var kind: Kind
    /// The field problems, in the order they were found.
    public var causes: [FieldError]
    /// The object's kind, for the message ("Pod").
    public var objectKind: String
    /// The object's name, for the message; may be empty.
    public var objectName: String
    /// A message that replaces the one derived from the causes (unparsable text, wrong kind).
    private var overrideMessage: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(kind: Kind, causes: [FieldError], objectKind: String = "Pod", objectName: String = "", message: String? = nil) {
        self.kind = kind
        self.causes = causes
        self.objectKind = objectKind
        self.objectName = objectName
        self.overrideMessage = message
    }

    /// A 400 for malformed input.
    public static func decoding(_ causes: [FieldError], objectKind: String = "Pod", objectName: String = "") -> ManifestError {
        ManifestError(kind: .decoding, causes: causes, objectKind: objectKind, objectName: objectName)
    }

    /// A 400 with a message of its own (text that is not JSON or YAML, a wrong kind).
    public static func decoding(message: String, causes: [FieldError] = []) -> ManifestError {
        ManifestError(kind: .decoding, causes: causes, message: message)
    }

    /// A 422 for an object that failed validation.
    public static func invalid(_ causes: [FieldError], objectKind: String = "Pod", objectName: String) -> ManifestError {
        ManifestError(kind: .invalid, causes: causes, objectKind: objectKind, objectName: objectName)
    }

    /// The HTTP status code: 400 or 422.
    public var code: Int { kind == .decoding ? 400 : 422 }

    /// The Kubernetes Status reason: BadRequest or Invalid.
    public var reason: String { kind == .decoding ? "BadRequest" : "Invalid" }

    /// The message as the API server writes it:
    /// - invalid: `Pod "web" is invalid: spec.containers[0].image: Required value`, several
    ///   causes in brackets and separated by ", ";
    /// - unknown fields: `strict decoding error: unknown field "spec.foo", unknown field "spec.bar"`;
    /// - wrong types: `Pod in version "v1" cannot be handled as a Pod: spec.x: Invalid value: ...`.
    public var message: String {
        if let overrideMessage { return overrideMessage }
        switch kind {
        case .invalid:
            let head = "\(objectKind) \(FieldError.goQuoted(objectName)) is invalid"
            let descriptions = Self.unique(causes.map(\.description))
            switch descriptions.count {
            case 0: return head
            case 1: return head + ": " + descriptions[0]
            default: return head + ": [" + descriptions.joined(separator: ", ") + "]"
            }
        case .decoding:
            let typeErrors = causes.filter { $0.type != .unknownField }
            if typeErrors.isEmpty {
                return "strict decoding error: " + Self.unique(causes.map(\.description)).joined(separator: ", ")
            }
            return "\(objectKind) in version \"v1\" cannot be handled as a \(objectKind): "
                + Self.unique(typeErrors.map(\.description)).joined(separator: ", ")
        }
    }

    public var description: String { message }

    /// Messages with repeats removed, first occurrence kept, as Kubernetes' aggregate does.
    private static func unique(_ messages: [String]) -> [String] {
        var seen = Set<String>()
        return messages.filter { seen.insert($0).inserted }
    }
}
