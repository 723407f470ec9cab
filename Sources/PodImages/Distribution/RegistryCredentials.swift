import PodJSON

/// A user name and password for a registry, from the auth file or from a pod's image pull
/// secret. Never printed: its description hides both, so that no interpolation can leak them
/// into a log or a message.
public struct RegistryCredentials: Sendable, Hashable, CustomStringConvertible {
    var username: String
    var password: String
    /// Where they come from, as messages name it (`imagePullSecret "regcred"`); nil for
    /// `registries.authFile`. Never secret.
    public var origin: String?

    public init(username: String, password: String, origin: String? = nil) {
        self.username = username
        self.password = password
        self.origin = origin
    }

    public var description: String { origin.map { "credentials of \($0) (hidden)" } ?? "credentials (hidden)" }

    /// `Basic base64(user:password)`.
    var basicAuthorization: String { "Basic " + Base64.encode(Array("\(username):\(password)".utf8)) }
}

/// A Docker-style `config.json` / containers-auth.json, as `docker login` and `podman login`
/// write it: `{"auths": {"KEY": {"auth": "base64(user:password)"}}}` where KEY is a registry
/// host (`registry.example:5000`), optionally with a repository path for credentials scoped to
/// it (podman), or a URL (`https://index.docker.io/v1/`, which `docker login` writes for
/// Docker Hub). `username`/`password` members are read too. Credential helpers
/// (`credsStore`, `credHelpers`) are not run.
struct RegistryAuthFile: Sendable {
    /// Entries by normalised key (`host[:port][/path]`).
    private var entries: [String: RegistryCredentials] = [:]
    let path: String

    /// Reads `path`; a missing file has no credentials (the default path need not exist).
    /// The error never quotes the file: it holds secrets.
    init(path: String) throws(FetchError) {
        self.path = path
        guard let bytes = Self.read(path) else { return }
        guard let json = try? JSONValue.parse(bytes), json.objectValue != nil else {
            throw FetchError(.unauthorized, "registries.authFile \(path): not a valid auth file (expected JSON as docker/podman login write it: {\"auths\": {\"HOST\": {\"auth\": \"base64 of user:password\"}}})")
        }
        for (key, entry) in json["auths"]?.objectValue ?? JSONObject() {
            var credentials: RegistryCredentials?
            if let encoded = entry["auth"]?.stringValue, !encoded.isEmpty {
                guard let decoded = Base64.decode(encoded), let text = String(validating: decoded, as: UTF8.self),
                      let colon = text.firstIndex(of: ":") else {
                    throw FetchError(.unauthorized, "registries.authFile \(path): the entry for \"\(Self.normalise(key))\" has an auth value that is not base64 of user:password")
                }
                credentials = RegistryCredentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
            } else if let user = entry["username"]?.stringValue, let password = entry["password"]?.stringValue {
                credentials = RegistryCredentials(username: user, password: password)
            }
            if let credentials { entries[Self.normalise(key)] = credentials }
        }
    }

    /// The credentials for `repository` (`path` inside the registry at `host`): the entry of
    /// the longest `host/path` prefix, then the host's (podman's lookup); Docker Hub is known
    /// under its several spellings.
    func credentials(host: String, repository: String) -> RegistryCredentials? {
        let hosts = Self.aliases(of: host)
        for candidate in hosts {
            var components = repository.split(separator: "/").map(String.init)
            while !components.isEmpty {
                if let found = entries[candidate + "/" + components.joined(separator: "/")] { return found }
                components.removeLast()
            }
            if let found = entries[candidate] { return found }
        }
        return nil
    }

    var isEmpty: Bool { entries.isEmpty }

    static func aliases(of host: String) -> [String] {
        let dockerHub = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]
        return dockerHub.contains(host) ? dockerHub : [host]
    }

    /// `https://index.docker.io/v1/` -> `index.docker.io`; `http://h:5000` -> `h:5000`.
    static func normalise(_ key: String) -> String {
        var text = Substring(key)
        for scheme in ["https://", "http://"] where text.lowercased().hasPrefix(scheme) {
            text = text.dropFirst(scheme.count)
        }
        while text.hasSuffix("/") { text = text.dropLast() }
        for suffix in ["/v1", "/v2"] where text.hasSuffix(suffix) { text = text.dropLast(suffix.count) }
        return String(text)
    }

    private static func read(_ path: String) -> [UInt8]? { OCILayout.readFile(path) }
}

/// RFC 4648 base64, for Basic credentials and the auth file.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 0x3f)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard or URL-safe alphabet, padded or not, whitespace ignored; nil if not base64.
    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - 97 + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - 48 + 52)
            case UInt8(ascii: "+"), UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "/"), UInt8(ascii: "_"): values.append(63)
            case UInt8(ascii: "="), 0x20, 0x0a, 0x0d, 0x09: continue
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i < values.count {
            let v0 = values[i], v1 = i + 1 < values.count ? values[i + 1] : 0
            let v2 = i + 2 < values.count ? values[i + 2] : 0, v3 = i + 3 < values.count ? values[i + 3] : 0
            out.append(v0 << 2 | v1 >> 4)
            if i + 2 < values.count { out.append((v1 & 0x0f) << 4 | v2 >> 2) }
            if i + 3 < values.count { out.append((v2 & 0x03) << 6 | v3) }
            i += 4
        }
        return out
    }
}
