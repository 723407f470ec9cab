import PodModel

/// Why the runtime refused or failed a request, in the runtime's own terms: which object,
/// and what is wrong. The API turns each case into a Kubernetes Status (PodAPI's
/// `StatusError`); nothing here knows about HTTP.
public enum RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One field at fault in an `invalid` object.
    public struct Cause: Sendable, Equatable {
        /// Kubernetes' cause type: FieldValueInvalid, FieldValueRequired, FieldValueNotFound...
        public var reason: String
        public var message: String
        /// The field path (`spec.containers[0].image`), nil when the cause is the whole object.
        public var field: String?

        public init(reason: String, message: String, field: String?) {
            self.reason = reason
            self.message = message
            self.field = field
        }

        /// The cause of a validation error of the model.
        public init(_ error: FieldError) {
            self.init(reason: error.reason, message: error.message, field: error.field.description)
        }
    }

    /// The object does not exist. `detail` replaces the usual `pods "x" not found` wording
    /// when the missing thing is a part of the object (an ephemeral container).
    case notFound(kind: String, name: String, detail: String? = nil)
    /// An object of that name exists already.
    case alreadyExists(kind: String, name: String)
    /// The object's state does not allow the request now (modified since it was read,
    /// terminating, a container still running); `reason` says which and what to do.
    case conflict(kind: String, name: String, reason: String)
    /// The object breaks the rules: one cause per field.
    case invalid(kind: String, name: String, causes: [Cause])
    /// The request cannot be carried out as asked (no such container, a container that does
    /// not run); `reason` is the whole sentence a user reads.
    case invalidRequest(String)
    /// The request is not allowed on this object (a static pod changed through the API).
    case forbidden(kind: String, name: String, reason: String)
    /// The state could not be written to disk (disk full, an I/O error): `what` was not done.
    case insufficientStorage(what: String, reason: String)
    /// A failure of podd itself, not of the request.
    case internalError(String)

    public var description: String {
        switch self {
        case let .notFound(kind, name, detail): return detail ?? "\(kind) \"\(name)\" not found"
        case let .alreadyExists(kind, name): return "\(kind) \"\(name)\" already exists"
        case let .conflict(_, _, reason): return reason
        case let .invalid(kind, name, causes):
            let list = causes.map { c in c.field.map { "\($0): \(c.message)" } ?? c.message }
            let singular = kind.hasSuffix("s") ? String(kind.dropLast()) : kind
            let title = singular.prefix(1).uppercased() + singular.dropFirst()
            return list.count == 1 ? "\(title) \"\(name)\" is invalid: \(list[0])"
                                   : "\(title) \"\(name)\" is invalid: [\(list.joined(separator: ", "))]"
        case let .invalidRequest(message): return message
        case let .forbidden(_, _, reason): return reason
        case let .insufficientStorage(what, reason): return "\(what): \(reason)"
        case let .internalError(message): return "Internal error occurred: \(message)"
        }
    }

    /// The sentence a user reads (the Status message).
    public var message: String { description }

    /// A pod modified since the caller read it: Kubernetes' optimistic concurrency refusal.
    public static func modified(pod name: String) -> RuntimeError {
        .conflict(kind: "pods", name: name,
                  reason: "Operation cannot be fulfilled on pods \"\(name)\": the object has been modified; please apply your changes to the latest version and try again")
    }
}
