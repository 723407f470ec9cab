/// A Kubernetes `Status` object: the body of every error answer of the API (and of a few
/// successes, such as the exit status sent on an exec stream's error channel).
public struct APIStatus: JSONConvertible, Error {
    /// The API version this object is served under.
    public static let apiVersion = "v1"
    /// The kind written in the object.
    public static let kind = "Status"

    /// Success or Failure.
    public enum Outcome: String, Sendable, CaseIterable {
        case success = "Success"
        case failure = "Failure"
    }

    public var status: Outcome
    public var message: String?
    /// A CamelCase reason: NotFound, AlreadyExists, Invalid, BadRequest, Conflict, ...
    public var reason: String?
    public var details: StatusDetails?
    /// The HTTP status code.
    public var code: Int32?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(status: Outcome, message: String? = nil, reason: String? = nil, details: StatusDetails? = nil, code: Int32? = nil) {
        self.status = status
        self.message = message
        self.reason = reason
        self.details = details
        self.code = code
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        _ = reader.string("apiVersion")
        _ = reader.string("kind")
        reader.ignore(["metadata"])
        let status = reader.enumeration("status", Outcome.self) ?? .failure
        let message = reader.string("message")
        let reason = reader.string("reason")
        let details = reader.decode("details", as: StatusDetails.self)
        let code = reader.int32("code")
        try reader.finish()
        self.init(status: status, message: message, reason: reason, details: details, code: code)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("kind", .string(Self.kind))
        writer.set("apiVersion", .string(Self.apiVersion))
        writer.set("metadata", .object(JSONObject()))
        writer.set("status", .string(status.rawValue))
        writer.set("message", nonEmpty: message)
        writer.set("reason", nonEmpty: reason)
        writer.set("details", details)
        writer.set("code", code)
        return writer.json
    }
}

// MARK: - The errors podd answers with, worded as the API server words them

extension APIStatus {
    /// A failure.
    public static func failure(code: Int32, reason: String, message: String, details: StatusDetails? = nil) -> APIStatus {
        APIStatus(status: .failure, message: message, reason: reason, details: details, code: code)
    }

    /// 404: `pods "web" not found`.
    public static func notFound(resource: String = "pods", name: String) -> APIStatus {
        .failure(code: 404, reason: "NotFound", message: "\(resource) \(FieldError.goQuoted(name)) not found",
                 details: StatusDetails(name: name, kind: resource))
    }

    /// 409: `pods "web" already exists`.
    public static func alreadyExists(resource: String = "pods", name: String) -> APIStatus {
        .failure(code: 409, reason: "AlreadyExists", message: "\(resource) \(FieldError.goQuoted(name)) already exists",
                 details: StatusDetails(name: name, kind: resource))
    }

    /// 400 with a message.
    public static func badRequest(_ message: String) -> APIStatus {
        .failure(code: 400, reason: "BadRequest", message: message)
    }

    /// The answer for a refused manifest: 400 BadRequest or 422 Invalid with one cause per
    /// field, as the API server sends it.
    public init(_ error: ManifestError) {
        let causes = error.causes.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field.description) }
        let details: StatusDetails?
        switch error.kind {
        case .invalid:
            details = StatusDetails(name: error.objectName, kind: error.objectKind, causes: causes)
        case .decoding:
            details = causes.isEmpty ? nil : StatusDetails(causes: causes)
        }
        self.init(status: .failure, message: error.message, reason: error.reason, details: details, code: Int32(error.code))
    }
}

/// More about a failure: which object, and for Invalid, which fields.
public struct StatusDetails: JSONConvertible {
    public var name: String?
    public var group: String?
    public var kind: String?
    public var uid: String?
    public var causes: [StatusCause]
    public var retryAfterSeconds: Int32?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String? = nil, group: String? = nil, kind: String? = nil, uid: String? = nil,
                causes: [StatusCause] = [], retryAfterSeconds: Int32? = nil) {
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name")
        let group = reader.string("group")
        let kind = reader.string("kind")
        let uid = reader.string("uid")
        let causes = reader.list("causes", of: StatusCause.self)
        let retryAfterSeconds = reader.int32("retryAfterSeconds")
        try reader.finish()
        self.init(name: name, group: group, kind: kind, uid: uid, causes: causes, retryAfterSeconds: retryAfterSeconds)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", nonEmpty: name)
        writer.set("group", nonEmpty: group)
        writer.set("kind", nonEmpty: kind)
        writer.set("uid", nonEmpty: uid)
        writer.set("causes", list: causes)
        if let retryAfterSeconds, retryAfterSeconds != 0 { writer.set("retryAfterSeconds", .int(Int64(retryAfterSeconds))) }
        return writer.json
    }
}

/// One cause of a failure: the field, and what is wrong with it.
public struct StatusCause: JSONConvertible {
    /// FieldValueInvalid, FieldValueRequired, ... (or ExitCode on an exec stream).
    public var reason: String?
    public var message: String?
    public var field: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(reason: String? = nil, message: String? = nil, field: String? = nil) {
        self.reason = reason
        self.message = message
        self.field = field
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let reason = reader.string("reason")
        let message = reader.string("message")
        let field = reader.string("field")
        try reader.finish()
        self.init(reason: reason, message: message, field: field)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("reason", nonEmpty: reason)
        writer.set("message", nonEmpty: message)
        writer.set("field", nonEmpty: field)
        return writer.json
    }
}
