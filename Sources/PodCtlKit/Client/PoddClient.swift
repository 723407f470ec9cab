import PodModel
import Glibc

/// podd's API as podctl uses it: Kubernetes paths, JSONValue bodies, failures as `Status` objects.
struct PoddClient {
    let socketPath: String

    /// Starts a request and reads the response head. A failure status is turned into its
    /// `APIStatusError` here, so callers only ever see success responses.
    private func open(
        _ method: String, _ path: String, query: [(String, String)], body: HTTPRequestBody
    ) throws -> (HTTPConnection, HTTPResponseHead) {
        let connection = try HTTPConnection(socketPath: socketPath)
        try connection.send(method: method, target: path + Self.queryString(query), body: body)
        let head = try connection.readHead()
        if !head.isSuccess {
            let errorBody = (try? connection.readWholeBody(of: head, method: method, limit: 1024 * 1024)) ?? []
            throw APIStatusError(code: head.status, body: errorBody)
        }
        return (connection, head)
    }

    /// A request whose answer is a JSONValue object.
    func json(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil) throws -> JSONValue {
        let requestBody: HTTPRequestBody = body.map { .bytes($0.compactBytes, contentType: "application/json") } ?? .none
        return try json(method, path, query: query, requestBody: requestBody)
    }

    func json(_ method: String, _ path: String, query: [(String, String)] = [], requestBody: HTTPRequestBody) throws -> JSONValue {
        let (connection, head) = try open(method, path, query: query, body: requestBody)
        let bytes = try connection.readWholeBody(of: head, method: method)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .null }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw PodctlError("podd answered \(method) \(path) with a body that is not JSON (\(error))")
        }
    }

    /// GET of an object that may not exist: nil on NotFound.
    func getIfPresent(_ path: String) throws -> JSONValue? {
        do {
            return try json("GET", path)
        } catch let error as APIStatusError where error.isNotFound {
            return nil
        }
    }

    /// Streams a response body as it arrives (logs, with or without `follow`).
    func stream(
        _ method: String, _ path: String, query: [(String, String)] = [], beforeWaiting: (() -> Void)? = nil,
        onData: (ArraySlice<UInt8>) throws -> Void
    ) throws {
        let (connection, head) = try open(method, path, query: query, body: .none)
        connection.beforeWaiting = beforeWaiting
        try connection.readBody(of: head, method: method, onData: onData)
    }

    /// Follows a watch: newline-delimited JSONValue `WatchEvent`s, each handed to `onEvent` as soon
    /// as its line is complete; `onIdle` runs whenever everything received has been handed
    /// over and podctl waits for more. Returns when podd ends the stream.
    func watch(
        _ path: String, query: [(String, String)] = [], onIdle: (() -> Void)? = nil, onEvent: (JSONValue) throws -> Void
    ) throws {
        var pending: [UInt8] = []
        defer { onIdle?() }
        try stream("GET", path, query: query + [("watch", "true")], beforeWaiting: onIdle) { chunk in
            pending.append(contentsOf: chunk)
            var lineStart = pending.startIndex
            while let newline = pending[lineStart...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[lineStart..<newline]
                lineStart = newline + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                try onEvent(try Self.watchEvent(line))
            }
            pending.removeFirst(lineStart - pending.startIndex)
        }
        if !pending.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            try onEvent(try Self.watchEvent(pending[...]))
        }
    }

    /// Opens a watch to read its events one at a time (`WatchStream.next()`), in between
    /// other requests.
    func openWatch(_ path: String, query: [(String, String)] = []) throws -> WatchStream {
        try requestWatch(path, query: query).stream()
    }

    /// Sends a watch request without waiting for its answer, so that podd sets the watch up
    /// while podctl goes on with another request (podctl debug: the watch is ready when the
    /// container is added, one round trip sooner).
    func requestWatch(_ path: String, query: [(String, String)] = []) throws -> RequestedWatch {
        let connection = try HTTPConnection(socketPath: socketPath)
        try connection.send(method: "GET", target: path + Self.queryString(query + [("watch", "true")]), body: .none)
        return RequestedWatch(connection: connection, path: path)
    }

    static func watchEvent(_ line: ArraySlice<UInt8>) throws -> JSONValue {
        let event: JSONValue
        do {
            event = try JSONValue.parse(Array(line))
        } catch {
            throw PodctlError("podd sent a watch event that is not JSON (\(error))")
        }
        if event["type"].string == "ERROR" {
            let status = event["object"]
            throw APIStatusError(
                code: status["code"].int, reason: status["reason"].string,
                message: status["message"].stringValue ?? "the watch failed")
        }
        return event
    }

    // MARK: Paths

    static func podsPath(namespace: String?) -> String {
        guard let namespace else { return "/api/v1/pods" }
        return "/api/v1/namespaces/\(pathSegment(namespace))/pods"
    }

    static func podPath(namespace: String, name: String) -> String {
        podsPath(namespace: namespace) + "/" + pathSegment(name)
    }

    static func eventsPath(namespace: String?) -> String {
        guard let namespace else { return "/api/v1/events" }
        return "/api/v1/namespaces/\(pathSegment(namespace))/events"
    }

    static let imagesPath = "/apis/podd.io/v1/images"

    /// podd's prune extension for a pod's ephemeral containers.
    static func ephemeralContainersPath(namespace: String, pod: String) -> String {
        "/apis/podd.io/v1/namespaces/\(pathSegment(namespace))/pods/\(pathSegment(pod))/ephemeralcontainers"
    }

    /// `?a=b&c=d`, percent-encoded, or `""` when there is nothing to send.
    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { percentEncode($0.0) + "=" + percentEncode($0.1) }.joined(separator: "&")
    }

    /// One path segment, percent-encoded as Go's url.PathEscape does it: a `/` in an image
    /// name becomes `%2F`, the `:` before a tag stays.
    static func pathSegment(_ text: String) -> String { percentEncode(text, keeping: ":@") }

    /// Percent-encodes everything but RFC 3986's unreserved characters (and `keeping`).
    static func percentEncode(_ text: String, keeping: String = "") -> String {
        let kept = Set(keeping.utf8)
        var out = ""
        let hex = Array("0123456789ABCDEF")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case _ where kept.contains(byte):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out.append("%")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}

/// A watch read one event at a time.
/// A watch request sent, whose answer is read by `stream()`.
struct RequestedWatch {
    let connection: HTTPConnection
    let path: String

    /// The watch's events, once podd has answered; its refusal as an error.
    func stream() throws -> WatchStream {
        let head = try connection.readHead()
        if !head.isSuccess {
            let errorBody = (try? connection.readWholeBody(of: head, method: "GET", limit: 1024 * 1024)) ?? []
            throw APIStatusError(code: head.status, body: errorBody)
        }
        guard head.header("Transfer-Encoding")?.lowercased().contains("chunked") == true else {
            throw PodctlError("podd answered the watch of \(path) without a stream")
        }
        return WatchStream(connection: connection)
    }
}

final class WatchStream {
    private let connection: HTTPConnection
    private var pending: [UInt8] = []

    init(connection: HTTPConnection) { self.connection = connection }

    /// The next event (`{"type": ..., "object": ...}`), blocking until it comes; nil when
    /// podd ends the watch.
    func next() throws -> JSONValue? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[..<newline]
                defer { pending.removeFirst(newline + 1) }
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { continue }
                return try PoddClient.watchEvent(line)
            }
            guard let chunk = try connection.nextChunk() else { return nil }
            pending += chunk
        }
    }

    /// The next event, or nil when none came within `timeout` seconds (or the watch ended).
    func next(timeout: Double) throws -> JSONValue? {
        while pending.firstIndex(of: UInt8(ascii: "\n")) == nil && !connection.hasBufferedData {
            var fd = pollfd(fd: connection.fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&fd, 1, Int32(max(0, timeout) * 1000))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { return nil }
            break
        }
        return try next()
    }

    /// Reads events until `done` returns a value for one of them.
    func wait<T>(what: String, until done: (JSONValue) throws -> T?) throws -> T {
        while let event = try next() {
            if let result = try done(event["object"] ?? .null) { return result }
        }
        throw PodctlError("podd ended the watch while waiting for \(what)")
    }
}
