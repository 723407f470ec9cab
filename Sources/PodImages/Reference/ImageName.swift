import Synchronization

/// An image reference, `[DOMAIN/]PATH[:TAG][@DIGEST]`, parsed by Docker's grammar
/// (distribution/reference) and normalised as Docker and Kubernetes do: `nginx` is
/// `docker.io/library/nginx:latest`, `index.docker.io/x/y` is `docker.io/x/y`.
///
/// Every part is checked against the grammar, so a name is safe to show and to key a store
/// by; it never becomes a file path as is (the store keys by digest).
public struct ImageName: Sendable, Hashable, CustomStringConvertible {
    /// The registry, `HOST[:PORT]` (`docker.io`, `localhost`, `registry.example:5000`).
    public let domain: String
    /// The repository inside the registry (`library/nginx`).
    public let path: String
    /// The tag; nil when the reference names a digest only.
    public let tag: String?
    /// The manifest digest the reference pins, if any.
    public let digest: Digest?
    /// Whether the text named no registry (`busybox`, `library/busybox`): such a short name may
    /// match a local image (`localhost/busybox`) before any registry is asked.
    public let isShortName: Bool

    /// Docker Hub's name in references.
    public static let dockerHub = "docker.io"
    /// The domain of local images: imported, or loaded from an archive without a registry in
    /// their name (podman's convention). They are never pulled.
    public static let localDomain = "localhost"

    /// `DOMAIN/PATH`.
    public var repository: String { "\(domain)/\(path)" }

    /// The normalised reference: `docker.io/library/nginx:latest`, `repo@sha256:...`, or
    /// `repo:tag@sha256:...`.
    public var description: String {
        var text = repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        return text
    }

    /// Whether this names a local image (never pulled).
    public var isLocal: Bool { domain == Self.localDomain }

    /// The host:port that serves the registry API: Docker Hub's references say `docker.io`,
    /// its API is at `registry-1.docker.io`.
    public var apiHost: String { domain == Self.dockerHub ? "registry-1.docker.io" : domain }

    /// Whether the reference gave neither a tag nor a digest (Kubernetes then pulls `Always`).
    public let tagWasImplied: Bool

    /// Why a text is not an image reference, in Docker's words.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let reference: String
        public let reason: String
        public var description: String {
            reason.isEmpty ? "invalid reference format" : "invalid reference format: \(reason)"
        }
    }

    /// Parses and normalises `text`; a reference with neither tag nor digest gets `latest`.
    public init(parsing text: String) throws(ParseError) {
        func fail(_ reason: String = "") -> ParseError { ParseError(reference: text, reason: reason) }
        guard !text.isEmpty else { throw fail() }
        guard text.utf8.count <= 4096 else { throw fail("reference is too long") }
        if text.utf8.count == 64, text.utf8.allSatisfy(Digest.isLowerHex) {
            throw fail("cannot specify 64-byte hexadecimal strings")
        }
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            guard let parsed = Digest(rest[rest.index(after: at)...]) else { throw fail("invalid digest") }
            digest = parsed
            rest = rest[..<at]
        }
        var tag: String?
        // A ':' after the last '/' starts the tag; one before it belongs to a host:port.
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            let candidate = String(rest[rest.index(after: colon)...])
            guard Self.isValidTag(candidate) else { throw fail() }
            tag = candidate
            rest = rest[..<colon]
        }
        let name = String(rest)
        guard !name.isEmpty else { throw fail() }

        // The first component is a domain when it has a '.' or a ':', is `localhost`, or has
        // uppercase letters (which a path never may): distribution's splitDockerDomain.
        var domain: String
        var path: String
        let isShort: Bool
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if first.contains(".") || first.contains(":") || first == Self.localDomain || first.lowercased() != first {
                domain = first
                path = String(name[name.index(after: slash)...])
                isShort = false
            } else {
                domain = Self.dockerHub
                path = name
                isShort = true
            }
        } else {
            domain = Self.dockerHub
            path = name
            isShort = true
        }
        if domain == "index.docker.io" { domain = Self.dockerHub }
        if domain == Self.dockerHub, !path.contains("/") { path = "library/" + path }

        guard Self.isValidDomain(domain) else { throw fail() }
        if path.lowercased() != path { throw fail("repository name must be lowercase") }
        guard Self.isValidPath(path) else { throw fail() }
        guard domain.utf8.count + 1 + path.utf8.count <= 255 else { throw fail("repository name must not be more than 255 characters") }

        self.domain = domain
        self.path = path
        self.digest = digest
        self.tagWasImplied = tag == nil && digest == nil
        self.tag = tag ?? (digest == nil ? "latest" : nil)
        self.isShortName = isShort
    }

    /// Builds a name from parts already checked (a store's record of a name it parsed).
    public init(domain: String, path: String, tag: String?, digest: Digest?) throws(ParseError) {
        var text = "\(domain)/\(path)"
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest.description }
        self = try ImageName(parsing: text)
    }

    /// The same repository with another tag (and no digest).
    public func with(tag: String) throws(ParseError) -> ImageName {
        try ImageName(domain: domain, path: path, tag: tag, digest: nil)
    }

    /// The same repository pinned to `digest` (no tag): what kubelet reports as `imageID`
    /// without its `docker-pullable://` prefix (`docker.io/library/nginx@sha256:...`).
    public func pinned(to digest: Digest) -> String { "\(repository)@\(digest)" }

    /// The local image a short name may mean (`busybox:1.36` -> `localhost/busybox:1.36`);
    /// nil when the name gave a registry, or names a Docker Hub user's repository.
    public var localCandidate: ImageName? {
        guard isShortName else { return nil }
        let shortPath = path.hasPrefix("library/") ? String(path.dropFirst("library/".count)) : path
        return try? ImageName(domain: Self.localDomain, path: shortPath, tag: tag, digest: digest)
    }

    /// How Docker prints the name (`nginx:latest` for `docker.io/library/nginx:latest`).
    public var familiar: String {
        var name = repository
        if domain == Self.dockerHub {
            name = path.hasPrefix("library/") ? String(path.dropFirst("library/".count)) : path
        }
        if let tag { name += ":" + tag }
        if let digest { name += "@" + digest.description }
        return name
    }

    /// Two names are the same image name when they normalise alike, however they were written.
    public static func == (a: ImageName, b: ImageName) -> Bool {
        a.domain == b.domain && a.path == b.path && a.tag == b.tag && a.digest == b.digest
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(domain)
        hasher.combine(path)
        hasher.combine(tag)
        hasher.combine(digest)
    }

    // MARK: Grammar (distribution/reference's regexp.go, written out)

    /// `[\w][\w.-]{0,127}`
    static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWord(first) else { return false }
        return bytes.allSatisfy { isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// Components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`.
    static func isValidPath(_ path: String) -> Bool {
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            let bytes = Array(component.utf8)
            guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
            var i = 0
            while i < bytes.count {
                if isLowerAlnum(bytes[i]) { i += 1; continue }
                // A separator: ".", "_", "__", or one or more "-".
                var j = i
                if bytes[i] == UInt8(ascii: ".") {
                    j += 1
                } else if bytes[i] == UInt8(ascii: "_") {
                    j += 1
                    if j < bytes.count, bytes[j] == UInt8(ascii: "_") { j += 1 }
                } else if bytes[i] == UInt8(ascii: "-") {
                    while j < bytes.count, bytes[j] == UInt8(ascii: "-") { j += 1 }
                } else {
                    return false
                }
                guard j < bytes.count, isLowerAlnum(bytes[j]) else { return false }
                i = j
            }
        }
        return true
    }

    /// `host[:port]`: host labels of `[a-zA-Z0-9]` with inner `-`, separated by `.`, or an IPv6
    /// address in brackets; port digits.
    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") }) else { return false }
            host = host[host.index(after: close)...]
            if host.isEmpty { return true }
            guard host.hasPrefix(":") else { return false }
            return isValidPort(host.dropFirst())
        }
        if let colon = host.lastIndex(of: ":") {
            guard isValidPort(host[host.index(after: colon)...]) else { return false }
            host = host[..<colon]
        }
        guard !host.isEmpty else { return false }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
            guard bytes.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    static func isValidPort(_ port: Substring) -> Bool {
        !port.isEmpty && port.count <= 5 && port.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    static func isLowerAlnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }
    static func isAlnum(_ c: UInt8) -> Bool { isLowerAlnum(c) || (c >= 0x41 && c <= 0x5a) }
    static func isWord(_ c: UInt8) -> Bool { isAlnum(c) || c == UInt8(ascii: "_") }
    static func isHexDigit(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46) }
}

extension ImageName {
    private static let remembered = Mutex<[String: ImageName]>([:])

    /// `ImageName(parsing:)`, remembered by text (nil for a text that does not parse): a
    /// container's start reads its image reference several times (pull policy, staging, the
    /// spawn, the status), and a pod's few references are the same each time. At most 256
    /// are kept; the table starts over when full.
    public static func parsed(_ text: String) -> ImageName? {
        if let known = remembered.withLock({ $0[text] }) { return known }
        guard let name = try? ImageName(parsing: text) else { return nil }
        remembered.withLock { table in
            if table.count >= 256 { table.removeAll(keepingCapacity: true) }
            table[text] = name
        }
        return name
    }
}
