import PodModel
import Glibc

/// A Kubernetes remote command session (exec, attach) over a WebSocket with the channel
/// subprotocols: each binary message starts with its channel byte, 0 stdin, 1 stdout,
/// 2 stderr, 3 the final Status, 4 terminal resizes; with v5, `255 0` closes stdin.
struct RemoteCommand {
    static let protocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]

    enum Kind: String {
        case exec
        case attach
    }

    var client: PoddClient
    var namespace: String
    var pod: String
    var container: String?
    var command: [String] = []
    var stdin: Bool
    var tty: Bool

    /// The query exec and attach take.
    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        for part in command { query.append(("command", part)) }
        query.append(("stdin", stdin ? "true" : "false"))
        query.append(("stdout", "true"))
        query.append(("stderr", tty ? "false" : "true"))
        query.append(("tty", tty ? "true" : "false"))
        return query
    }

    /// Runs the session to its end and returns the remote command's exit status (0 when
    /// podd reports success or nothing). A failure Status other than an exit code throws.
    func run(_ kind: Kind) throws -> Int32 {
        try session(kind) ?? 0
    }

    /// Runs the session; without a container named, first as podd picks it (the only one),
    /// and when the pod has several, again with the one kubectl would choose (the
    /// default-container annotation, else the first), saying so.
    mutating func runChoosingContainer(_ kind: Kind) throws -> Int32 {
        guard container == nil else { return try run(kind) }
        do {
            return try run(kind)
        } catch let error as APIStatusError where error.code == 400 && error.message.hasPrefix("a container name must be specified") {
            container = defaultContainer(of: try client.json("GET", PoddClient.podPath(namespace: namespace, name: pod)))
            return try run(kind)
        }
    }

    /// Runs the session to its end: the exit status podd reported, or nil when the session
    /// ended without one (an attach the user left). `quiet`: no "command terminated" line.
    func session(_ kind: Kind, quiet: Bool = false) throws -> Int32? {
        let path = PoddClient.podPath(namespace: namespace, name: pod) + "/" + kind.rawValue
        let socket = try WebSocket.connect(socketPath: client.socketPath, path: path, query: query, protocols: Self.protocols)
        if tty { Terminal.enterRaw() }
        defer { Terminal.restoreSaved() }
        let status = try relay(socket)
        Terminal.restoreSaved()
        if status.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) { return nil }
        return try Self.exitStatus(from: status, quiet: quiet)
    }

    /// Copies stdin to channel 0 and channels 1 and 2 to stdout and stderr until podd closes
    /// the session; returns what arrived on channel 3.
    private func relay(_ socket: WebSocket) throws -> [UInt8] {
        let canCloseStdin = socket.subprotocol == "v5.channel.k8s.io"
        var readingStdin = stdin
        var status: [UInt8] = []
        var input = [UInt8](repeating: 0, count: 32 * 1024)
        if tty { sendResize(socket) }

        func handle(_ message: WebSocket.Message) -> Bool {
            switch message {
            case .close:
                return false
            case .binary(let data), .text(let data):
                guard let channel = data.first else { return true }
                let payload = data.dropFirst()
                switch channel {
                case 1: Output.write(payload)
                case 2: Output.writeAll(fd: 2, payload)
                case 3: status += payload
                default: break
                }
                return true
            }
        }

        // Messages that arrived with the handshake.
        while let message = try socket.nextMessage() {
            if !handle(message) { return status }
        }
        while true {
            if tty && terminalResized != 0 {
                terminalResized = 0
                sendResize(socket)
            }
            var fds = [pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)]
            if readingStdin { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw PodctlError("poll failed: \(errorText(errno))")
            }
            if fds[0].revents != 0 {
                guard try socket.receive() else { return status }
                while let message = try socket.nextMessage() {
                    if !handle(message) { return status }
                }
            }
            if readingStdin, fds.count > 1, fds[1].revents != 0 {
                let count = input.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    // End of input: tell the remote side (v5), then keep relaying its output.
                    readingStdin = false
                    if canCloseStdin { try socket.sendBinary([255, 0]) }
                } else {
                    try socket.sendBinary([0] + input[0..<count])
                }
            }
        }
    }

    private func sendResize(_ socket: WebSocket) {
        guard let size = Terminal.size() else { return }
        let message: JSONValue = ["Width": .int(Int64(size.width)), "Height": .int(Int64(size.height))]
        try? socket.sendBinary([4] + message.compactBytes)
    }

    /// kubectl's reading of the final Status: success, an exit code, or an error.
    static func exitStatus(from bytes: [UInt8], quiet: Bool = false) throws -> Int32 {
        guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) else { return 0 }
        guard let status = try? JSONValue.parse(bytes) else {
            throw PodctlError(String(decoding: bytes, as: UTF8.self).trimmingSpaces)
        }
        if status["status"].string == "Success" { return 0 }
        if status["reason"].string == "NonZeroExitCode",
           let cause = status["details"]["causes"].array.first(where: { $0["reason"].string == "ExitCode" }),
           let code = Int32(cause["message"].string) {
            if !quiet { Output.error("command terminated with exit code \(code)") }
            return code
        }
        let message = status["message"].string
        throw PodctlError(message.isEmpty ? "the remote command failed" : message)
    }
}

extension Output {
    static func writeAll(fd: Int32, _ bytes: some Collection<UInt8>) {
        let copy = Array(bytes)
        copy.withUnsafeBytes { writeAll(fd: fd, $0) }
    }
}
