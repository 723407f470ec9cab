import PodModel

/// An error the API returns as a Kubernetes Status object: HTTP code, reason, message, and
/// the fields at fault. Raised by the runtime (not found, already exists, a missing image)
/// and by manifest decoding and validation.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public struct Cause: Sendable {
        public var reason: String
        public var message: String
        public var field: String?

        public init(reason: String, message: String, field: String?) {
            self.reason = reason
            self.message = message
            self.field = field
        }
    }

    public var code: Int
    public var reason: String
    public var message: String
    public var name: String?
    public var kind: String?
    public var causes: [Cause] = []

    public init(code: Int, reason: String, message: String, name: String? = nil, kind: String? = nil, causes: [Cause] = []) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.kind = kind
        self.causes = causes
    }

    public var description: String { message }

    public static func notFound(_ name: String, kind: String = "pods") -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(kind) \"\(name)\" not found", name: name, kind: kind)
    }

    public static func alreadyExists(_ name: String, kind: String = "pods") -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(kind) \"\(name)\" already exists", name: name, kind: kind)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// 422 Invalid for a pod, with one cause per field, worded as the API server words it.
    public static func invalid(pod name: String, _ causes: [Cause], kind: String = "Pod") -> APIError {
        let list = causes.map { c in c.field.map { "\($0): \(c.message)" } ?? c.message }
        let message = list.count == 1 ? "\(kind) \"\(name)\" is invalid: \(list[0])"
                                      : "\(kind) \"\(name)\" is invalid: [\(list.joined(separator: ", "))]"
        return APIError(code: 422, reason: "Invalid", message: message, name: name, kind: kind.lowercased() + "s", causes: causes)
    }

    /// The Kubernetes Status object.
    public var json: JSONValue {
        var details = JSONObject()
        if let name { details["name"] = .string(name) }
        if let kind { details["kind"] = .string(kind) }
        if !causes.isEmpty {
            details["causes"] = .array(causes.map { c in
                var o = JSONObject([("reason", .string(c.reason)), ("message", .string(c.message))])
                if let f = c.field { o["field"] = .string(f) }
                return .object(o)
            })
        }
        var o = JSONObject([("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())),
                            ("status", "Failure"), ("message", .string(message)), ("reason", .string(reason))])
        if !details.isEmpty { o["details"] = .object(details) }
        o["code"] = .int(Int64(code))
        return .object(o)
    }
}
