import NIOHTTP1
import PodModel
import PodRuntime

/// An error answer of the API: a Kubernetes `Status` object and its HTTP code. The routes
/// throw it; the runtime's errors become one through `init(_: RuntimeError)`, the only place
/// where a runtime failure gets an HTTP code.
public struct StatusError: Error, Sendable, CustomStringConvertible {
    public var status: APIStatus
    /// Seconds after which the client may try again (429): also sent as `Retry-After`.
    public var retryAfter: Int?

    public init(code: Int, reason: String, message: String, name: String? = nil, kind: String? = nil,
                causes: [StatusCause] = [], retryAfter: Int? = nil) {
        let details = StatusDetails(name: name, kind: kind, causes: causes, retryAfterSeconds: retryAfter.map { Int32($0) })
        let empty = name == nil && kind == nil && causes.isEmpty && retryAfter == nil
        status = .failure(code: Int32(code), reason: reason, message: message, details: empty ? nil : details)
        self.retryAfter = retryAfter
    }

    /// The HTTP status code.
    public var code: Int { Int(status.code ?? 500) }
    public var reason: String { status.reason ?? "" }
    public var message: String { status.message ?? "" }
    public var description: String { message }

    /// The Status for a runtime error, worded as the API server words each case.
    public init(_ error: RuntimeError) {
        let message = error.message
        switch error {
        case let .notFound(kind, name, _):
            self.init(code: 404, reason: "NotFound", message: message, name: name, kind: kind)
        case let .alreadyExists(kind, name):
            self.init(code: 409, reason: "AlreadyExists", message: message, name: name, kind: kind)
        case let .conflict(kind, name, _):
            self.init(code: 409, reason: "Conflict", message: message, name: name, kind: kind)
        case let .invalid(kind, name, causes):
            // An Invalid Status names the kind (Pod), where the others name the resource
            // (pods): kubectl prints `The Pod "web" is invalid: ...` from it.
            self.init(code: 422, reason: "Invalid", message: message, name: name, kind: Self.kind(ofResource: kind),
                      causes: causes.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field) })
        case .invalidRequest:
            self.init(code: 400, reason: "BadRequest", message: message)
        case let .forbidden(kind, name, _):
            self.init(code: 403, reason: "Forbidden", message: message, name: name, kind: kind)
        case .insufficientStorage:
            self.init(code: 507, reason: "InsufficientStorage", message: message)
        case .internalError:
            self.init(code: 500, reason: "InternalError", message: message)
        }
    }

    /// The answer for a manifest refused by decoding (400) or validation (422).
    init(_ error: ManifestError, name: String) {
        let causes = error.causes.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field.description) }
        if error.kind == .decoding {
            self.init(code: 400, reason: "BadRequest", message: error.message, name: name, kind: "pods", causes: causes)
        } else {
            self.init(code: 422, reason: "Invalid", message: error.message, name: name, kind: "Pod", causes: causes)
        }
    }

    /// The kind a resource holds (pods: Pod), as an Invalid Status names it.
    static func kind(ofResource resource: String) -> String {
        ["pods": "Pod", "nodes": "Node", "configmaps": "ConfigMap", "secrets": "Secret", "events": "Event", "namespaces": "Namespace",
         "poddisruptionbudgets": "PodDisruptionBudget", "priorityclasses": "PriorityClass",
         "serviceaccounts": "ServiceAccount"][resource] ?? resource
    }

    static func badRequest(_ message: String) -> StatusError {
        StatusError(code: 400, reason: "BadRequest", message: message)
    }

    static func notFound(_ name: String, kind: String = "pods") -> StatusError {
        StatusError(.notFound(kind: kind, name: name))
    }

    static func noRoute(_ method: HTTPMethod, _ path: String) -> StatusError {
        StatusError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(method) \(path))")
    }

    static func methodNotAllowed(_ method: HTTPMethod, _ path: String) -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed",
                    message: "the server does not allow this method on the requested resource (\(method) \(path))")
    }

    static func unsupportedMediaType(_ message: String) -> StatusError {
        StatusError(code: 415, reason: "UnsupportedMediaType", message: message)
    }

    static func tooLarge(_ message: String) -> StatusError {
        StatusError(code: 413, reason: "RequestEntityTooLarge", message: message)
    }

    static func forbidden(_ message: String) -> StatusError {
        StatusError(code: 403, reason: "Forbidden", message: message)
    }

    /// 429: the server takes no more connections now.
    static func tooManyConnections(limit: Int) -> StatusError {
        StatusError(code: 429, reason: "TooManyRequests",
                    message: "podd serves at most \(limit) connections at a time (api.maxConnections); close idle connections or try again later",
                    retryAfter: 1)
    }

    static func internalError(_ message: String) -> StatusError {
        StatusError(.internalError(message))
    }

    /// The answer carrying this Status.
    var response: APIResponse {
        var headers: [(String, String)] = []
        if let retryAfter { headers.append(("Retry-After", String(retryAfter))) }
        return .full(status: HTTPResponseStatus(statusCode: code), contentType: "application/json",
                     body: status.json.serialized(), headers: headers)
    }
}

/// Runs a runtime call, its error turned into the API's answer.
func runtime<T>(_ call: () async throws(RuntimeError) -> T) async throws(StatusError) -> T {
    do { return try await call() } catch { throw StatusError(error) }
}
