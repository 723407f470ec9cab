import PodModel

/// Kubernetes' remote command protocol over a WebSocket (kubelet's wsstream and
/// remotecommand packages): every binary message starts with a channel byte, 0 stdin,
/// 1 stdout, 2 stderr, 3 the final status, 4 terminal resizes; with v5, a message `255 N`
/// from the client closes its stream N (stdin).
enum ChannelProtocol: String, Sendable, CaseIterable {
    case v5 = "v5.channel.k8s.io"
    case v4 = "v4.channel.k8s.io"

    static let stdin: UInt8 = 0
    static let stdout: UInt8 = 1
    static let stderr: UInt8 = 2
    static let status: UInt8 = 3
    static let resize: UInt8 = 4
    static let close: UInt8 = 255

    /// The first protocol of the client's list (the Sec-WebSocket-Protocol headers, in order)
    /// that podd speaks.
    static func negotiate(_ offered: [String]) -> ChannelProtocol? {
        for header in offered {
            for name in header.split(separator: ",") {
                let trimmed = name.filter { $0 != " " && $0 != "\t" }
                if let p = ChannelProtocol(rawValue: trimmed) { return p }
            }
        }
        return nil
    }

    /// The refusal when the client offers none of them (SPDY clients, older channel protocols).
    static var unsupportedMessage: String {
        "podd speaks Kubernetes' \(ChannelProtocol.allCases.map(\.rawValue).joined(separator: " and ")) WebSocket subprotocols for exec and attach (and SPDY/3.1 with X-Stream-Protocol-Version: v4.channel.k8s.io): upgrade with Connection: Upgrade, Upgrade: websocket and Sec-WebSocket-Protocol offering one of them"
    }

    /// The status message kubelet sends on channel 3 when a command succeeded.
    static let success: JSONValue = .object(JSONObject([("metadata", .object(JSONObject())), ("status", "Success")]))

    /// The status for a non-zero exit: reason NonZeroExitCode, the code as an ExitCode cause,
    /// which kubectl turns into its own exit status.
    static func exitStatus(_ code: Int32, command: [String]) -> JSONValue {
        if code == 0 { return success }
        let what = command.isEmpty ? "the container" : "error executing command [\(command.joined(separator: " "))]"
        return .object(JSONObject([
            ("metadata", .object(JSONObject())), ("status", "Failure"),
            ("message", .string("command terminated with non-zero exit code: \(what), exit code \(code)")),
            ("reason", "NonZeroExitCode"),
            ("details", .object(JSONObject([("causes", .array([.object(JSONObject([("reason", "ExitCode"), ("message", .string(String(code)))]))]))]))),
        ]))
    }

    /// The status for a session that failed for another reason.
    static func failure(_ message: String, reason: String = "InternalError", code: Int = 500) -> JSONValue {
        .object(JSONObject([
            ("metadata", .object(JSONObject())), ("status", "Failure"), ("message", .string(message)),
            ("reason", .string(reason)), ("code", .int(Int64(code))),
        ]))
    }
}
