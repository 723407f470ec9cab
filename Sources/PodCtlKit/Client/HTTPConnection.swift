import PodModel
import Glibc

/// The body of a request.
enum HTTPRequestBody {
    case none
    case bytes([UInt8], contentType: String)
    /// `length` bytes read from `fd`, sent with Content-Length.
    case file(fd: Int32, length: Int, contentType: String)
    /// Everything read from `fd` until end of file, sent with chunked transfer encoding.
    /// `beforeEnd` runs after end of file and before the last chunk: when it throws, the
    /// request is abandoned unfinished, so the server never takes a truncated body as whole.
    case stream(fd: Int32, contentType: String, beforeEnd: () throws(PodctlError) -> Void)
}

/// The status line and headers of a response.
struct HTTPResponseHead {
    var status: Int
    var reason: String
    var headers: [(name: String, value: String)]

    func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first(where: { $0.name.lowercased() == lowered })?.value
    }

    var isSuccess: Bool { (200..<300).contains(status) }
}

/// One HTTP/1.1 exchange over a Unix socket: blocking, one request per connection
/// (`Connection: close`), bodies streamed in both directions.
final class HTTPConnection {
    private let socket: UnixSocket
    private var buffer: [UInt8] = []
    private var position = 0
    private var reachedEnd = false

    /// Called when every byte received so far has been consumed and the next read may wait
    /// for podd: the moment for a watch to print what it has gathered.
    var beforeWaiting: (() -> Void)?

    /// The socket, to wait for it with poll.
    var fd: Int32 { socket.fd }

    /// Whether bytes received are waiting to be read.
    var hasBufferedData: Bool { position < buffer.count }

    init(socketPath: String) throws(PodctlError) {
        socket = try UnixSocket(connectingTo: socketPath)
    }

    private var path: String { socket.path }

    private func lostConnection(_ code: Int32) -> PodctlError {
        PodctlError("lost the connection to podd at \(path): \(errorText(code))")
    }

    private func malformed(_ what: String) -> PodctlError {
        PodctlError("malformed response from podd at \(path): \(what)")
    }

    // MARK: Request

    /// Sends the request. When podd answers before it has read the whole body (a refusal, a
    /// size limit) and closes, the send fails; the response it sent is still read afterwards.
    /// Returns false when sending stopped early that way.
    @discardableResult
    func send(
        method: String, target: String, headers: [(String, String)] = [], body: HTTPRequestBody, connection: String = "close"
    ) throws(PodctlError) -> Bool {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nUser-Agent: podctl/\(PodctlVersion.gitVersion)\r\n"
        head += "Accept: application/json, */*\r\nConnection: \(connection)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        switch body {
        case .none:
            if method == "POST" || method == "PUT" || method == "PATCH" { head += "Content-Length: 0\r\n" }
        case .bytes(let bytes, let contentType):
            head += "Content-Type: \(contentType)\r\nContent-Length: \(bytes.count)\r\n"
        case .file(_, let length, let contentType):
            head += "Content-Type: \(contentType)\r\nContent-Length: \(length)\r\n"
        case .stream(_, let contentType, _):
            head += "Content-Type: \(contentType)\r\nTransfer-Encoding: chunked\r\n"
        }
        head += "\r\n"
        do {
            switch body {
            case .none:
                try socket.send(Array(head.utf8))
            case .bytes(let bytes, _):
                try socket.send(Array(head.utf8) + bytes)
            case .file(let fd, let length, _):
                try socket.send(Array(head.utf8))
                try copy(from: fd, length: length)
            case .stream(let fd, _, let beforeEnd):
                try socket.send(Array(head.utf8))
                try copyChunked(from: fd)
                try beforeEnd()
                try socket.send(Array("0\r\n\r\n".utf8))
            }
        } catch let error as UnixSocket.IOError {
            if error.code == EPIPE || error.code == ECONNRESET { return false }
            throw lostConnection(error.code)
        } catch let error as PodctlError {
            throw error
        } catch {
            throw PodctlError("\(error)")
        }
        return true
    }

    private func readSome(from fd: Int32, into chunk: inout [UInt8]) throws(PodctlError) -> Int {
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw PodctlError("cannot read the request body: \(errorText(errno))")
        }
    }

    private func copy(from fd: Int32, length: Int) throws -> Void {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        var remaining = length
        while remaining > 0 {
            let count = try readSome(from: fd, into: &chunk)
            guard count > 0 else { throw PodctlError("the request body ended \(remaining) bytes early") }
            let used = min(count, remaining)
            try chunk.withUnsafeBytes { try socket.send(UnsafeRawBufferPointer(rebasing: $0[0..<used])) }
            remaining -= used
        }
    }

    private func copyChunked(from fd: Int32) throws -> Void {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let count = try readSome(from: fd, into: &chunk)
            if count == 0 { return }
            try socket.send(Array((String(count, radix: 16) + "\r\n").utf8))
            try chunk.withUnsafeBytes { try socket.send(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            try socket.send(Array("\r\n".utf8))
        }
    }

    // MARK: Response

    /// Makes at least one more byte available; false at end of stream.
    private func fill() throws(PodctlError) -> Bool {
        if reachedEnd { return false }
        if position >= buffer.count, let beforeWaiting { beforeWaiting() }
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        do {
            let count = try socket.receive(appendingTo: &buffer)
            if count == 0 { reachedEnd = true }
            return count > 0
        } catch {
            throw lostConnection(error.code)
        }
    }

    /// Reads one CRLF- (or LF-) terminated line, without the terminator.
    private func readLine(limit: Int = 64 * 1024) throws(PodctlError) -> String? {
        var scanned = 0
        while true {
            if let newline = buffer[(position + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > position, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let line = String(decoding: buffer[position..<end], as: UTF8.self)
                position = newline + 1
                return line
            }
            scanned = buffer.count - position
            if scanned > limit { throw malformed("a line is too long") }
            // fill() may move the unread bytes to the front; `scanned` is relative to them.
            guard try fill() else { return nil }
        }
    }

    /// Reads the status line and headers, skipping interim 1xx responses.
    func readHead() throws(PodctlError) -> HTTPResponseHead {
        while true {
            guard let statusLine = try readLine() else {
                throw PodctlError("podd at \(path) closed the connection without answering")
            }
            if statusLine.isEmpty { continue }
            let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
                throw malformed("bad status line \"\(statusLine.prefix(80))\"")
            }
            var headers: [(name: String, value: String)] = []
            while true {
                guard let line = try readLine() else { throw malformed("the headers end early") }
                if line.isEmpty { break }
                guard let colon = line.firstIndex(of: ":") else { throw malformed("bad header line") }
                let name = String(line[..<colon])
                let value = String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
                headers.append((name, trimTrailingSpace(value)))
            }
            // Interim answers (100 Continue) are skipped; 101 Switching Protocols is the answer.
            if (100..<200).contains(status) && status != 101 { continue }
            return HTTPResponseHead(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers)
        }
    }

    /// Streams the body of `head` to `onData` as it arrives, chunk by chunk.
    func readBody(of head: HTTPResponseHead, method: String, onData: (ArraySlice<UInt8>) throws -> Void) throws {
        if method == "HEAD" || head.status == 204 || head.status == 304 { return }
        if let encoding = head.header("Transfer-Encoding"), encoding.lowercased().contains("chunked") {
            try readChunkedBody(onData: onData)
        } else if let lengthText = head.header("Content-Length") {
            guard let length = Int(lengthText.trimmingSpaces), length >= 0 else { throw malformed("bad Content-Length") }
            var remaining = length
            while remaining > 0 {
                if position == buffer.count {
                    guard try fill() else { throw PodctlError("podd at \(path) closed the connection \(remaining) bytes before the end of the response") }
                }
                let count = min(remaining, buffer.count - position)
                try onData(buffer[position..<(position + count)])
                position += count
                remaining -= count
            }
        } else {
            while true {
                if position < buffer.count {
                    try onData(buffer[position..<buffer.count])
                    position = buffer.count
                }
                guard try fill() else { return }
            }
        }
    }

    private func readChunkedBody(onData: (ArraySlice<UInt8>) throws -> Void) throws {
        while true {
            guard let sizeLine = try readLine() else {
                throw PodctlError("podd at \(path) closed the connection in the middle of the response")
            }
            let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map(String.init)?.trimmingSpaces ?? ""
            guard let size = Int(sizeText, radix: 16), size >= 0 else { throw malformed("bad chunk size \"\(sizeLine.prefix(20))\"") }
            if size == 0 {
                // Trailers, up to the empty line; a server that just closes is fine too.
                while let line = try readLine(), !line.isEmpty {}
                return
            }
            var remaining = size
            while remaining > 0 {
                if position == buffer.count {
                    guard try fill() else {
                        throw PodctlError("podd at \(path) closed the connection in the middle of the response")
                    }
                }
                let count = min(remaining, buffer.count - position)
                try onData(buffer[position..<(position + count)])
                position += count
                remaining -= count
            }
            guard let terminator = try readLine(), terminator.isEmpty else { throw malformed("a chunk is not followed by CRLF") }
        }
    }

    /// The next chunk of a chunked body as it arrives, or nil after the last one: for a
    /// watch read an event at a time, between other requests.
    func nextChunk() throws(PodctlError) -> [UInt8]? {
        guard let sizeLine = try readLine() else {
            throw PodctlError("podd at \(path) closed the connection in the middle of the response")
        }
        let sizeText = sizeLine.split(separator: ";", maxSplits: 1).first.map(String.init)?.trimmingSpaces ?? ""
        guard let size = Int(sizeText, radix: 16), size >= 0 else { throw malformed("bad chunk size \"\(sizeLine.prefix(20))\"") }
        if size == 0 {
            while let line = try readLine(), !line.isEmpty {}
            return nil
        }
        var chunk: [UInt8] = []
        chunk.reserveCapacity(size)
        while chunk.count < size {
            if position == buffer.count {
                guard try fill() else { throw PodctlError("podd at \(path) closed the connection in the middle of the response") }
            }
            let count = min(size - chunk.count, buffer.count - position)
            chunk += buffer[position..<(position + count)]
            position += count
        }
        guard let terminator = try readLine(), terminator.isEmpty else { throw malformed("a chunk is not followed by CRLF") }
        return chunk
    }

    /// Hands the socket over to another protocol after a `101 Switching Protocols`, with the
    /// bytes already received past the response head.
    func takeOver() -> (socket: UnixSocket, received: [UInt8]) {
        let received = Array(buffer[position...])
        position = buffer.count
        return (socket, received)
    }

    /// Reads the whole body (bounded, for JSONValue answers).
    func readWholeBody(of head: HTTPResponseHead, method: String, limit: Int = 256 * 1024 * 1024) throws -> [UInt8] {
        var body: [UInt8] = []
        try readBody(of: head, method: method) { chunk in
            body.append(contentsOf: chunk)
            if body.count > limit { throw PodctlError("the response from podd is larger than \(limit) bytes") }
        }
        return body
    }
}

private func trimTrailingSpace(_ text: String) -> String {
    var text = Substring(text)
    while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
    return String(text)
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
