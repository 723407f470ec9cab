/// The `registries:` settings of podd.yaml: where credentials are, which registries may be
/// reached over plain HTTP, and the mirrors tried before a registry.
public struct RegistrySettings: Sendable, Equatable, CustomStringConvertible {
    /// A Docker-style config.json (`auths`), as `docker login` / `podman login` write it.
    public var authFile: String
    /// `HOST` or `HOST:PORT` entries: registries reached over plain HTTP (and HTTPS without
    /// certificate verification), as podman's `insecure = true`. A `HOST` entry covers every
    /// port of that host. Every other registry, 127.0.0.1 and localhost included, is HTTPS only.
    public var insecure: [String]
    /// Mirror URLs by registry domain as references write it (`docker.io`), tried in order
    /// before the registry itself: `https://mirror.example`, `mirror.example:5000` (HTTPS),
    /// `http://host:5000` (only for a host also listed in `insecure`). `/v2/` is appended to
    /// the URL's path.
    public var mirrors: [String: [String]]

    public static let defaultAuthFile = "/etc/podd/auth.json"

    public init(authFile: String = RegistrySettings.defaultAuthFile, insecure: [String] = [], mirrors: [String: [String]] = [:]) {
        self.authFile = authFile
        self.insecure = insecure
        self.mirrors = mirrors
    }

    /// As `podd --check-config` prints it.
    public var description: String {
        let mirrorText = mirrors.keys.sorted().map { "\($0): [\((mirrors[$0] ?? []).joined(separator: ", "))]" }.joined(separator: ", ")
        return "{authFile \(authFile), insecure [\(insecure.joined(separator: ", "))], mirrors {\(mirrorText)}}"
    }

    /// Whether plain HTTP (and unverified HTTPS) is allowed to `authority` (`host[:port]`).
    public func isInsecure(_ authority: String) -> Bool {
        let host = Self.hostPart(of: authority)
        return insecure.contains { entry in
            entry == authority || (!Self.hasPort(entry) && entry == host)
        }
    }

    /// Why an `insecure` entry is unusable, or nil when it is fine.
    public static func problem(withInsecureEntry entry: String) -> String? {
        if entry.contains("://") || entry.contains("/") {
            return "\"\(entry)\" must be HOST or HOST:PORT (no scheme, no path), such as registry.local:5000"
        }
        guard HTTPLocation("http://" + entry) != nil, ImageName.isValidDomain(entry) else {
            return "\"\(entry)\" is not a HOST or HOST:PORT"
        }
        return nil
    }

    /// Why a mirror URL is unusable (under the registry `domain`), or nil when it is fine.
    public func problem(withMirror url: String, of domain: String) -> String? {
        guard ImageName.isValidDomain(domain) else { return "\"\(domain)\" is not a registry domain (such as docker.io or registry.example:5000)" }
        guard let location = Self.mirrorLocation(url) else {
            return "\"\(url)\" is not a mirror URL (https://HOST[:PORT][/PATH], or HOST[:PORT])"
        }
        if !location.isSecure && !isInsecure(location.authority) {
            return "\"\(url)\" is plain HTTP: list \(location.authority) under registries.insecure as well, or use https://"
        }
        return nil
    }

    /// A mirror URL as a location whose target is its path prefix (no trailing `/`).
    static func mirrorLocation(_ url: String) -> HTTPLocation? {
        let text = url.contains("://") ? url : "https://" + url
        guard var location = HTTPLocation(text), !location.target.contains("?") else { return nil }
        while location.target.hasSuffix("/") { location.target.removeLast() }
        return location
    }

    static func hasPort(_ authority: String) -> Bool {
        if authority.hasPrefix("[") { return authority.contains("]:") }
        return authority.contains(":")
    }

    static func hostPart(of authority: String) -> String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") { return String(authority[...close]) }
        return authority.split(separator: ":", maxSplits: 1).first.map(String.init) ?? authority
    }
}
