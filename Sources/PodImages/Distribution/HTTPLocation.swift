/// An absolute http(s) URL split as the registry client needs it: where to connect, what to
/// send as `Host`, and the request target. Token realms, mirror URLs and redirect `Location`s
/// are read into one of these; credentials embedded in a URL (`user:pass@`) are refused, so
/// none can travel into a log or an error message through a URL.
struct HTTPLocation: Sendable, Hashable, CustomStringConvertible {
    var isSecure: Bool
    /// The host as connected to: a name or an IP address (IPv6 without brackets).
    var host: String
    var port: Int
    /// Path and query, starting with `/`.
    var target: String

    init(isSecure: Bool, host: String, port: Int? = nil, target: String) {
        self.isSecure = isSecure
        self.host = host
        self.port = port ?? (isSecure ? 443 : 80)
        self.target = target.isEmpty ? "/" : target
    }

    /// Reads `text`, an absolute `http://` or `https://` URL; nil for anything else.
    init?(_ text: String) {
        let secure: Bool
        var rest: Substring
        if text.lowercased().hasPrefix("https://") {
            secure = true
            rest = text.dropFirst("https://".count)
        } else if text.lowercased().hasPrefix("http://") {
            secure = false
            rest = text.dropFirst("http://".count)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if target.hasPrefix("?") { target = "/" + target }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        guard let (host, port) = Self.splitAuthority(authority) else { return nil }
        self.init(isSecure: secure, host: host, port: port, target: target)
    }

    /// `host`, `host:port`, `[v6]`, `[v6]:port`.
    static func splitAuthority(_ authority: Substring) -> (String, Int?)? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.isEmpty { return (host, nil) }
            guard after.hasPrefix(":"), let port = Int(after.dropFirst()), (1...65535).contains(port) else { return nil }
            return (host, port)
        }
        if let colon = authority.lastIndex(of: ":") {
            guard let port = Int(authority[authority.index(after: colon)...]), (1...65535).contains(port) else { return nil }
            let host = String(authority[..<colon])
            return host.isEmpty ? nil : (host, port)
        }
        return (String(authority), nil)
    }

    /// What a `Location` header points to, resolved against this URL (absolute, or a path).
    func resolving(_ location: String) -> HTTPLocation? {
        if let absolute = HTTPLocation(location) { return absolute }
        if location.hasPrefix("//") { return HTTPLocation((isSecure ? "https:" : "http:") + location) }
        var copy = self
        if location.hasPrefix("/") {
            copy.target = location
        } else {
            // Relative to the current path's directory.
            let path = target.split(separator: "?", maxSplits: 1)[0]
            let directory = path.lastIndex(of: "/").map { path[...$0] } ?? "/"
            copy.target = directory + location
        }
        return copy
    }

    /// `host[:port]` as the `Host` header and the auth file key spell it (the port only when
    /// it is not the scheme's default).
    var authority: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? shownHost : "\(shownHost):\(port)"
    }

    /// scheme, host and port: a redirect to another origin must not carry the registry's
    /// Authorization header.
    func sameOrigin(as other: HTTPLocation) -> Bool {
        isSecure == other.isSecure && host.lowercased() == other.host.lowercased() && port == other.port
    }

    /// The URL without its query: query strings of redirected blob URLs carry signatures
    /// (S3, CDN tokens), which never belong in a message.
    var withoutQuery: String {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return "\(isSecure ? "https" : "http")://\(authority)\(path)"
    }

    var description: String { withoutQuery }
}
