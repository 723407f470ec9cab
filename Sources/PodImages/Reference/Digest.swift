import CImageCodecs

/// A content digest as OCI writes it, `ALGORITHM:ENCODED` (`sha256:9f86d0...`): the name of a
/// blob, and what every blob read from a registry or an archive is checked against.
public struct Digest: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// `sha256` or `sha512` (the algorithms the OCI image spec registers).
    public let algorithm: String
    /// Lowercase hex.
    public let encoded: String

    public var description: String { "\(algorithm):\(encoded)" }

    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`; nil for anything else (uppercase hex
    /// included, as the OCI spec requires lowercase).
    public init?(_ text: some StringProtocol) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let algorithm = String(text[..<colon])
        let encoded = String(text[text.index(after: colon)...])
        let length: Int
        switch algorithm {
        case "sha256": length = 64
        case "sha512": length = 128
        default: return nil
        }
        guard encoded.utf8.count == length, encoded.utf8.allSatisfy(Self.isLowerHex) else { return nil }
        self.algorithm = algorithm
        self.encoded = encoded
    }

    /// The SHA-256 digest whose 32 raw bytes are `bytes`.
    public init(sha256 bytes: [UInt8]) {
        algorithm = "sha256"
        encoded = Self.hex(bytes)
    }

    /// The SHA-256 digest of `bytes`.
    public static func sha256(of bytes: [UInt8]) -> Digest {
        var hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finish()
    }

    /// The first 12 hex digits: the short image ID `image ls` prints, as docker and podman.
    public var shortID: String { String(encoded.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }

    static func isLowerHex(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A running SHA-256 over bytes fed in pieces (a blob as it streams from a socket or a file),
/// computed by libcrypto, which uses the CPU's SHA instructions where it has them.
public struct SHA256Hasher: ~Copyable {
    private let state: OpaquePointer?
    /// Bytes fed so far.
    public private(set) var count: Int64 = 0

    public init() {
        state = pod_sha256_new()
        // Only an allocation failure makes this nil; a digest of nothing would be a lie.
        precondition(state != nil, "libcrypto could not make a SHA-256 context")
    }

    deinit { pod_sha256_free(state) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let state, let base = bytes.baseAddress, !bytes.isEmpty else { return }
        pod_sha256_update(state, base, bytes.count)
        count += Int64(bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed; the hasher is used up.
    public consuming func finish() -> Digest {
        var out = [UInt8](repeating: 0, count: 32)
        if let state { _ = pod_sha256_final(state, &out) }
        return Digest(sha256: out)
    }
}
