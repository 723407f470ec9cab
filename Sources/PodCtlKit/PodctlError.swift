import PodModel

/// An error podctl reports to its user: one line on stderr, then exit status 1.
///
/// `line` is the whole line as printed, so client-side errors read `error: ...` and errors
/// from podd read as kubectl prints them: `Error from server (NotFound): pods "x" not found`.
public struct PodctlError: Error, CustomStringConvertible, Sendable {
    public var line: String

    /// A client-side error; `message` gets the `error: ` prefix.
    public init(_ message: String) {
        line = "error: " + message
    }

    public init(line: String) {
        self.line = line
    }

    public var description: String { line }
}

/// A failure status from podd: a Kubernetes `Status` object (or a bare HTTP status).
public struct APIStatusError: Error, CustomStringConvertible, Sendable {
    /// The HTTP status code.
    public var code: Int
    /// The Status `reason` (`NotFound`, `AlreadyExists`, `Invalid`, ...), possibly empty.
    public var reason: String
    public var message: String

    public var isNotFound: Bool { code == 404 || reason == "NotFound" }

    /// The line kubectl prints for this error.
    public var description: String {
        reason.isEmpty ? "Error from server: \(message)" : "Error from server (\(reason)): \(message)"
    }

    /// Reads the Status object in a failed response's body; falls back to the reason kubectl
    /// assigns to the bare HTTP code when the body is not a Status.
    public init(code: Int, body: [UInt8]) {
        self.code = code
        if let status = try? JSONValue.parse(body), status["kind"].string == "Status" {
            reason = status["reason"].string
            message = status["message"].string
            if let statusCode = status["code"].lenientInt, statusCode != 0 { self.code = statusCode }
            if message.isEmpty { message = Self.defaultMessage(code: code) }
            return
        }
        reason = Self.defaultReason(code: code)
        var text = String(decoding: body, as: UTF8.self)
        while let last = text.last, last == "\n" || last == "\r" || last == " " { text.removeLast() }
        if text.isEmpty || text.contains("\n") || text.count > 400 {
            message = Self.defaultMessage(code: code)
        } else {
            message = text
        }
    }

    public init(code: Int, reason: String, message: String) {
        self.code = code
        self.reason = reason
        self.message = message
    }

    /// kubectl's reasons for a bare HTTP status (apimachinery's NewGenericServerResponse).
    static func defaultReason(code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 406: return "NotAcceptable"
        case 409: return "Conflict"
        case 410: return "Expired"
        case 413: return "RequestEntityTooLarge"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return ""
        }
    }

    static func defaultMessage(code: Int) -> String {
        switch code {
        case 401: return "the server has asked for the client to provide credentials"
        case 403: return "the server does not allow access to the requested resource"
        case 404: return "the server could not find the requested resource"
        case 405: return "the server does not allow this method on the requested resource"
        case 409: return "the server reported a conflict"
        case 413: return "the server has rejected the request because it is too large"
        case 415: return "the server does not support the media type of the request"
        case 422: return "the server rejected our request due to an error in our request"
        case 429: return "the server has received too many requests and has asked us to try again later"
        case 500: return "an error on the server has prevented the request from succeeding"
        case 503: return "the server is currently unable to handle the request"
        case 504: return "the server was unable to return a response in the time allotted, but may still be processing the request"
        default: return "the server responded with the status code \(code) but did not return more information"
        }
    }
}
