/// One challenge of a `WWW-Authenticate` header (RFC 7235): `Bearer realm="...",service="...",
/// scope="..."` (the registry token flow) or `Basic realm="..."`.
struct AuthChallenge: Sendable, Equatable {
    /// Lowercased: `bearer`, `basic`.
    var scheme: String
    /// Parameter names lowercased.
    var parameters: [String: String]

    var realm: String? { parameters["realm"] }

    /// The challenges of a header value; several may share one header, separated by commas,
    /// and a quoted value may hold commas of its own (`scope="repository:a:pull,push"`).
    static func parse(_ header: String) -> [AuthChallenge] {
        var challenges: [AuthChallenge] = []
        let bytes = Array(header.utf8)
        var i = 0
        func skipSpaces() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 } }
        func token() -> String {
            let start = i
            while i < bytes.count, !(bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == UInt8(ascii: ",") || bytes[i] == UInt8(ascii: "=")) {
                i += 1
            }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }
        while i < bytes.count {
            skipSpaces()
            while i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; skipSpaces() }
            let scheme = token()
            guard !scheme.isEmpty else { break }
            var current = AuthChallenge(scheme: scheme.lowercased(), parameters: [:])
            // Parameters until the next scheme (a token not followed by '=').
            while true {
                skipSpaces()
                while i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1; skipSpaces() }
                let mark = i
                let name = token()
                skipSpaces()
                guard !name.isEmpty, i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                    i = mark
                    break
                }
                i += 1
                skipSpaces()
                var value: [UInt8] = []
                if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                    i += 1
                    while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                        if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count { i += 1 }
                        value.append(bytes[i])
                        i += 1
                    }
                    i += 1
                } else {
                    while i < bytes.count, bytes[i] != UInt8(ascii: ","), bytes[i] != 0x20 { value.append(bytes[i]); i += 1 }
                }
                current.parameters[name.lowercased()] = String(decoding: value, as: UTF8.self)
            }
            challenges.append(current)
        }
        return challenges
    }
}
