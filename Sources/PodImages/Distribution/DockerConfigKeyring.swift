import PodJSON

/// The registry credentials of a pod's image pull secrets, matched to an image as kubelet's
/// credentialprovider keyring (`BasicDockerKeyring`) matches them, so that a secret that works
/// on a cluster works on podd:
///
/// - a key is a registry host (`registry.example`), `host:port`, a host with a repository
///   path prefix (`quay.io/team`), a `*.` wildcard host part (`*.example.com`, a glob per dot
///   part), with or without `https://` / `http://` and a `/v1/` or `/v2/` path (so the
///   legacy `https://index.docker.io/v1/` that `docker login` writes is `index.docker.io`);
/// - an image matches a key when the port is the same, the host has as many dot parts and
///   each matches the key's glob, and the image's path starts with the key's path;
/// - every matching key's credentials are returned, the most specific key first (the keys in
///   reverse order), in the order the secrets were added within a key; none matching, an
///   image of Docker Hub takes the `index.docker.io` entry.
///
/// Credentials are never printed (see `RegistryCredentials`).
public struct DockerConfigKeyring: Sendable {
    private var credentials: [String: [RegistryCredentials]] = [:]
    /// The keys, unique and in reverse lexical order: more specific paths first.
    private var index: [String] = []

    public init() {}

    public var isEmpty: Bool { credentials.isEmpty }

    /// Adds the entries of a secret's docker config: `.dockerconfigjson` (`{"auths": {KEY:
    /// ENTRY}}`) or, `legacy`, `.dockercfg` (`{KEY: ENTRY}`). An ENTRY has `auth`
    /// (base64 of `user:password`, which wins) or `username` and `password`. `origin` names
    /// the secret in messages. The error never quotes the secret's contents.
    public mutating func add(dockerConfig bytes: [UInt8], legacy: Bool, origin: String) throws(FetchError) {
        let key = legacy ? ".dockercfg" : ".dockerconfigjson"
        guard let json = try? JSONValue.parse(bytes), let top = json.objectValue else {
            throw FetchError(.unauthorized, "\(origin): its \(key) is not a JSON object (expected \(legacy ? "{\"HOST\": {\"auth\": ...}}" : "{\"auths\": {\"HOST\": {\"auth\": ...}}}"), as kubectl create secret docker-registry writes it)")
        }
        let entries: JSONObject
        if legacy {
            entries = top
        } else if let auths = json["auths"] {
            guard let object = auths.objectValue else {
                throw FetchError(.unauthorized, "\(origin): \"auths\" in its \(key) is not an object")
            }
            entries = object
        } else {
            entries = JSONObject()
        }
        var added: [String] = []
        for (location, entry) in entries {
            guard entry.objectValue != nil else {
                throw FetchError(.unauthorized, "\(origin): the entry for \"\(location)\" in its \(key) is not an object")
            }
            var username = entry["username"]?.stringValue ?? ""
            var password = entry["password"]?.stringValue ?? ""
            if let encoded = entry["auth"]?.stringValue, !encoded.isEmpty {
                guard let decoded = Base64.decode(encoded), let text = String(validating: decoded, as: UTF8.self),
                      let colon = text.firstIndex(of: ":") else {
                    throw FetchError(.unauthorized, "\(origin): the entry for \"\(location)\" in its \(key) has an auth value that is not base64 of username:password")
                }
                username = String(text[..<colon])
                password = String(text[text.index(after: colon)...])
            }
            guard !username.isEmpty || !password.isEmpty, let normalised = Self.key(location) else { continue }
            credentials[normalised, default: []].append(RegistryCredentials(username: username, password: password, origin: origin))
            added.append(normalised)
        }
        index = Array(Set(index + added)).sorted(by: >)
    }

    /// The credentials to try for `name`, in order (empty: none match).
    public func lookup(_ name: ImageName) -> [RegistryCredentials] {
        let image = name.domain + "/" + name.path
        var found: [RegistryCredentials] = []
        for key in index where Self.matches(key, image) {
            found += credentials[key] ?? []
        }
        if found.isEmpty, Self.isDefaultRegistry(image) {
            return credentials[Self.defaultRegistryHost] ?? []
        }
        return found
    }

    static let defaultRegistryHost = "index.docker.io"

    /// kubelet's key for a config location: scheme dropped, `/v1/` and `/v2/` dropped, the
    /// path kept when there is one (`quay.io/team`). Nil for a location with no host.
    static func key(_ location: String) -> String? {
        var text = Substring(location)
        if text.hasPrefix("https://") {
            text = text.dropFirst("https://".count)
        } else if text.hasPrefix("http://") {
            text = text.dropFirst("http://".count)
        }
        let slash = text.firstIndex(of: "/") ?? text.endIndex
        let host = text[..<slash]
        var path = text[slash...]
        if let cut = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<cut] }
        if path.hasPrefix("/v2/") || path.hasPrefix("/v1/") { path = path.dropFirst(3) }
        guard !host.isEmpty else { return nil }
        return path.isEmpty || path == "/" ? String(host) : String(host) + String(path)
    }

    /// kubelet's URLsMatch: same port, as many dot parts each matching the key's glob, and
    /// the image's path starting with the key's.
    static func matches(_ key: String, _ image: String) -> Bool {
        let (keyHost, keyPath) = split(key)
        let (imageHost, imagePath) = split(image)
        let (keyParts, keyPort) = hostParts(keyHost)
        let (imageParts, imagePort) = hostParts(imageHost)
        guard keyPort == imagePort, keyParts.count == imageParts.count, imagePath.hasPrefix(keyPath) else { return false }
        return zip(keyParts, imageParts).allSatisfy { HostGlob.matches(Array($0.0.utf8), Array($0.1.utf8)) }
    }

    /// kubelet's isDefaultRegistryMatch: a name without a registry part, or on docker.io.
    static func isDefaultRegistry(_ image: String) -> Bool {
        let parts = image.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty else { return false }
        if parts.count == 1 { return true }
        if first == "docker.io" || first == "index.docker.io" { return true }
        return !first.contains(".") && !first.contains(":")
    }

    private static func split(_ text: String) -> (host: Substring, path: Substring) {
        let slash = text.firstIndex(of: "/") ?? text.endIndex
        return (text[..<slash], text[slash...])
    }

    /// Go's net.SplitHostPort, falling back to the whole host and no port.
    private static func hostParts(_ host: Substring) -> (parts: [Substring], port: Substring) {
        var name = host
        var port: Substring = ""
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            name = host[host.index(after: host.startIndex)..<close]
            let rest = host[host.index(after: close)...]
            if rest.hasPrefix(":") { port = rest.dropFirst() } else { name = host }
        } else if let colon = host.firstIndex(of: ":"), host[host.index(after: colon)...].firstIndex(of: ":") == nil {
            name = host[..<colon]
            port = host[host.index(after: colon)...]
        }
        return (name.split(separator: ".", omittingEmptySubsequences: false), port)
    }
}
