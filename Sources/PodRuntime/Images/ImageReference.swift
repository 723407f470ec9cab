import Foundation

/// An image name as manifests and podctl write it: `NAME[:TAG]`, where NAME may carry a
/// registry-like prefix (`localhost/busybox`, `docker.io/library/busybox`). podd has no
/// registry: every image is in its local store, and these prefixes name the same local image.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let tag: String

    public var description: String { "\(name):\(tag)" }

    /// Parses and normalizes; nil when the reference is malformed (the checks keep every part
    /// safe to use as a file name: lowercase letters, digits, and . _ - separators).
    public init?(_ text: String) {
        var rest = Substring(text)
        var tag = "latest"
        if let at = rest.firstIndex(of: "@") { rest = rest[..<at] }   // digests are not kept
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        var name = String(rest)
        for prefix in ["docker.io/library/", "docker.io/", "localhost/", "library/"] where name.hasPrefix(prefix) {
            name.removeFirst(prefix.count)
            break
        }
        guard Self.isValidName(name), Self.isValidTag(tag) else { return nil }
        self.name = name
        self.tag = tag
    }

    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            guard let first = component.first, let last = component.last,
                  first.isLowercaseAlnum, last.isLowercaseAlnum else { return false }
            var previousSeparator = false
            for c in component {
                if c.isLowercaseAlnum {
                    previousSeparator = false
                } else if c == "." || c == "_" || c == "-" {
                    if previousSeparator && c != "_" && c != "-" { return false }
                    previousSeparator = true
                } else {
                    return false
                }
            }
        }
        return true
    }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.first, tag.count <= 128, first.isASCII, first.isLetter || first.isNumber || first == "_" else { return false }
        return tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    /// The store's directory name for this image: '/' cannot appear in one path component.
    var directoryName: String { name.replacingOccurrences(of: "/", with: "+") }
}

private extension Character {
    var isLowercaseAlnum: Bool { isASCII && (isNumber || isLowercase) }
}
