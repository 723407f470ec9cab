/// One member of a tar archive, with what PAX and GNU extension headers said about it.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, hardlink, symlink, characterDevice, blockDevice, directory, fifo
    }

    public var path: String
    public var kind: Kind
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// Seconds and nanoseconds since the epoch.
    public var mtime: Int64
    public var mtimeNanoseconds: Int64
    public var size: Int64
    /// A symlink's target, or the member a hardlink links to.
    public var linkName: String
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// Extended attributes from PAX `SCHILY.xattr.NAME` records.
    public var xattrs: [String: [UInt8]]
}

/// Reads a tar stream member by member (ustar, GNU long names and links, PAX extended and
/// global headers), from any `ByteSource`, without holding more than a block and a buffer.
/// Sparse files and other extensions that would change a member's content are refused.
public final class TarReader {
    private let source: any ByteSource
    private let what: String
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 262_144, alignment: 16)
    private var start = 0
    private var end = 0
    private var sourceEnded = false
    /// Bytes of the current member's content not read yet, and its padding.
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var globalRecords: [String: String] = [:]

    /// `what` names the archive in errors.
    public init(_ source: any ByteSource, what: String) {
        self.source = source
        self.what = what
    }

    deinit { buffer.deallocate() }

    /// The next member; nil at the end of the archive. Content the caller did not read is
    /// skipped.
    public func next() throws(ImageStoreError) -> TarEntry? {
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var longName: String?
        var longLink: String?
        var records: [String: String] = [:]
        while true {
            guard let header = try block() else {
                if longName != nil || longLink != nil || !records.isEmpty { throw truncated() }
                return nil
            }
            if header.allSatisfy({ $0 == 0 }) {
                // The end: two zero blocks (one, then the end of the stream, is accepted too).
                _ = try block()
                return nil
            }
            guard checksumMatches(header) else {
                throw ImageStoreError.invalid("\(what): not a tar archive, or a damaged one (header checksum mismatch)")
            }
            let type = header[156]
            var size = try number(header, 124, 12, "size")
            if let paxSize = records["size"].flatMap({ Int64($0) }) { size = paxSize }
            guard size >= 0 else { throw ImageStoreError.invalid("\(what): a member has a negative size") }
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                let parsed = try paxRecords(try content(size))
                if type == UInt8(ascii: "g") {
                    globalRecords.merge(parsed) { $1 }
                } else {
                    records.merge(parsed) { $1 }
                }
                continue
            case UInt8(ascii: "L"):
                longName = Self.cString(try content(size))
                continue
            case UInt8(ascii: "K"):
                longLink = Self.cString(try content(size))
                continue
            default:
                break
            }
            let all = globalRecords.merging(records) { $1 }
            if all.keys.contains(where: { $0.hasPrefix("GNU.sparse.") }) || type == UInt8(ascii: "S") {
                throw ImageStoreError.invalid("\(what): sparse files are not supported")
            }
            let kind: TarEntry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .regular
            case UInt8(ascii: "1"): kind = .hardlink
            case UInt8(ascii: "2"): kind = .symlink
            case UInt8(ascii: "3"): kind = .characterDevice
            case UInt8(ascii: "4"): kind = .blockDevice
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "6"): kind = .fifo
            default:
                throw ImageStoreError.invalid("\(what): unsupported tar member type '\(String(UnicodeScalar(type)))'")
            }
            var path = Self.cString(header[0..<100])
            let magic = Array(header[257..<263])
            if magic == Array("ustar\0".utf8) {
                let prefix = Self.cString(header[345..<500])
                if !prefix.isEmpty { path = prefix + "/" + path }
            }
            if let longName { path = longName }
            if let paxPath = all["path"] { path = paxPath }
            var linkName = Self.cString(header[157..<257])
            if let longLink { linkName = longLink }
            if let paxLink = all["linkpath"] { linkName = paxLink }
            var mtime = try number(header, 136, 12, "mtime")
            var nanoseconds: Int64 = 0
            if let paxTime = all["mtime"] {
                let parts = paxTime.split(separator: ".", maxSplits: 1)
                if let seconds = parts.first.flatMap({ Int64($0) }) { mtime = seconds }
                if parts.count == 2 {
                    let digits = String(parts[1].prefix(9))
                    nanoseconds = (Int64(digits) ?? 0) * Int64([1, 10, 100, 1000, 10000, 100_000, 1_000_000, 10_000_000, 100_000_000,
                                                               1_000_000_000][9 - digits.count])
                }
            }
            var xattrs: [String: [UInt8]] = [:]
            for (key, value) in all where key.hasPrefix("SCHILY.xattr.") {
                xattrs[String(key.dropFirst("SCHILY.xattr.".count))] = Array(value.utf8)
            }
            let headerUID = try number(header, 108, 8, "uid")
            let headerGID = try number(header, 116, 8, "gid")
            let uid = all["uid"].flatMap { Int64($0) } ?? headerUID
            let gid = all["gid"].flatMap { Int64($0) } ?? headerGID
            // Links, directories and devices have no content, whatever their size field says
            // (some writers put the target's size in a hardlink's).
            let hasContent = kind == .regular
            remaining = hasContent ? size : 0
            padding = hasContent ? (512 - size % 512) % 512 : 0
            if !hasContent, size > 0 { try skip(size + (512 - size % 512) % 512) }
            return TarEntry(path: path, kind: kind, mode: UInt32(truncatingIfNeeded: try number(header, 100, 8, "mode")) & 0o7777,
                            uid: UInt32(truncatingIfNeeded: uid), gid: UInt32(truncatingIfNeeded: gid),
                            mtime: mtime, mtimeNanoseconds: nanoseconds, size: hasContent ? size : 0, linkName: linkName,
                            deviceMajor: UInt32(truncatingIfNeeded: try number(header, 329, 8, "devmajor")),
                            deviceMinor: UInt32(truncatingIfNeeded: try number(header, 337, 8, "devminor")), xattrs: xattrs)
        }
    }

    /// Reads the current member's content into `into`; 0 at its end.
    public func read(into target: UnsafeMutableRawBufferPointer) throws(ImageStoreError) -> Int {
        guard remaining > 0 else { return 0 }
        try fill(1)
        let n = min(Int64(end - start), remaining, Int64(target.count))
        guard n > 0, let from = buffer.baseAddress, let to = target.baseAddress else { throw truncated() }
        to.copyMemory(from: from + start, byteCount: Int(n))
        start += Int(n)
        remaining -= n
        return Int(n)
    }

    // MARK: Blocks

    private func truncated() -> ImageStoreError { ImageStoreError.invalid("\(what): the archive is truncated") }

    /// Makes at least `count` bytes available in the buffer (fewer only at the stream's end).
    private func fill(_ count: Int) throws(ImageStoreError) {
        guard end - start < count else { return }
        if start > 0 {
            if end > start, let base = buffer.baseAddress { base.copyMemory(from: base + start, byteCount: end - start) }
            end -= start
            start = 0
        }
        while end - start < count, !sourceEnded {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
            if n == 0 { sourceEnded = true } else { end += n }
        }
    }

    /// The next 512-byte block; nil at a clean end of the stream.
    private func block() throws(ImageStoreError) -> [UInt8]? {
        try fill(512)
        if end == start, sourceEnded { return nil }
        guard end - start >= 512 else { throw truncated() }
        let out = Array(buffer[start..<start + 512])
        start += 512
        return out
    }

    private func skip(_ count: Int64) throws(ImageStoreError) {
        var left = count
        while left > 0 {
            try fill(1)
            guard end > start else { throw truncated() }
            let n = Int(min(Int64(end - start), left))
            start += n
            left -= Int64(n)
        }
    }

    /// An extension header's content (bounded: such headers are small).
    private func content(_ size: Int64) throws(ImageStoreError) -> [UInt8] {
        guard size <= 1 << 20 else { throw ImageStoreError.invalid("\(what): an extended header is larger than 1 MiB") }
        var out: [UInt8] = []
        out.reserveCapacity(Int(size))
        var left = Int(size)
        while left > 0 {
            try fill(1)
            guard end > start else { throw truncated() }
            let n = min(end - start, left)
            out.append(contentsOf: buffer[start..<start + n])
            start += n
            left -= n
        }
        try skip((512 - size % 512) % 512)
        return out
    }

    // MARK: Fields

    private func checksumMatches(_ header: [UInt8]) -> Bool {
        var unsigned = 0
        var signed = 0
        for (i, b) in header.enumerated() {
            let v = (148..<156).contains(i) ? 0x20 : b
            unsigned += Int(v)
            signed += Int(Int8(bitPattern: v))
        }
        guard let stored = try? number(header, 148, 8, "chksum") else { return false }
        return Int(stored) == unsigned || Int(stored) == signed
    }

    /// An octal field, or GNU's base-256 (high bit of the first byte set).
    private func number(_ header: [UInt8], _ offset: Int, _ length: Int, _ field: String) throws(ImageStoreError) -> Int64 {
        let bytes = header[offset..<offset + length]
        if let first = bytes.first, first & 0x80 != 0 {
            var value: Int64 = Int64(first & 0x3f)
            for b in bytes.dropFirst() {
                guard value < Int64.max >> 8 else { throw ImageStoreError.invalid("\(what): header field \(field) is too large") }
                value = value << 8 | Int64(b)
            }
            return first & 0x40 != 0 ? -value : value
        }
        var value: Int64 = 0
        var seen = false
        for b in bytes {
            if b == 0 || (b == 0x20 && seen) { break }
            if b == 0x20 { continue }
            guard b >= 0x30, b <= 0x37 else { throw ImageStoreError.invalid("\(what): header field \(field) is not an octal number") }
            guard value < Int64.max >> 3 else { throw ImageStoreError.invalid("\(what): header field \(field) is too large") }
            value = value * 8 + Int64(b - 0x30)
            seen = true
        }
        return value
    }

    /// PAX records, `LENGTH KEY=VALUE\n` each.
    private func paxRecords(_ bytes: [UInt8]) throws(ImageStoreError) -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)), length > space - i,
                  i + length <= bytes.count, bytes[i + length - 1] == 0x0a,
                  let equals = bytes[(space + 1)..<(i + length)].firstIndex(of: UInt8(ascii: "=")) else {
                if bytes[i...].allSatisfy({ $0 == 0 }) { break }
                throw ImageStoreError.invalid("\(what): a PAX extended header is malformed")
            }
            let key = String(decoding: bytes[(space + 1)..<equals], as: UTF8.self)
            // Values are UTF-8 except xattrs, kept byte for byte through a Latin-1 round trip
            // would lose them: SCHILY.xattr values are read as UTF-8, as Go's archive/tar does.
            out[key] = String(decoding: bytes[(equals + 1)..<(i + length - 1)], as: UTF8.self)
            i += length
        }
        return out
    }

    static func cString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
