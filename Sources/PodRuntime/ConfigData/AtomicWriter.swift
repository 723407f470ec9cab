import Glibc
import PodOS

/// Writes a volume's files as kubelet's atomic writer does, so that a container reading the
/// volume never sees half of an update:
///
///     VOLUME/..2026_12_03_13_00_00.123456789/KEY   the files of one version
///     VOLUME/..data -> ..2026_12_03_13_00_00.123456789
///     VOLUME/KEY -> ..data/KEY                      what the container opens
///
/// An update writes a new timestamped directory, then swaps `..data` with one rename(2) (the
/// atomic step), adds and removes the user-visible links, and removes the old directory.
struct AtomicWriter {
    /// One file of the payload.
    struct File: Equatable, Sendable {
        var bytes: [UInt8]
        var mode: Int32
    }

    let directory: String

    static let dataLink = "..data"

    /// Makes the volume hold exactly `payload` (relative path → file). Returns false when it
    /// already did (nothing was written).
    @discardableResult
    func write(_ payload: [String: File]) throws(OSError) -> Bool {
        try FileSystem.makeDirectories(directory, mode: 0o755)
        let old = currentVersion()
        if let old, contents(of: directory + "/" + old) == payload { return false }
        let version = try makeVersionDirectory()
        let versionPath = directory + "/" + version
        do throws(OSError) {
            for (path, file) in payload.sorted(by: { $0.key < $1.key }) {
                let target = versionPath + "/" + path
                try FileSystem.makeDirectories(FileSystem.parent(target), mode: 0o755)
                try Self.create(target, file)
            }
            // The swap: a new link, renamed over the old one.
            let tmp = directory + "/..data_tmp"
            unlink(tmp)
            guard symlink(version, tmp) == 0 else { throw OSError.last("symlink(\(tmp))") }
            guard rename(tmp, directory + "/" + Self.dataLink) == 0 else { throw OSError.last("rename(\(tmp))") }
        } catch {
            try? FileSystem.removeTree(versionPath)
            throw error
        }
        let visible = Set(payload.keys.map { String($0.split(separator: "/").first ?? "") })
        for name in visible where !name.isEmpty {
            var st = stat()
            if lstat(directory + "/" + name, &st) != 0 {
                guard symlink(Self.dataLink + "/" + name, directory + "/" + name) == 0 else { throw OSError.last("symlink(\(name))") }
            }
        }
        for name in FileSystem.listDirectory(directory) where !name.hasPrefix("..") && !visible.contains(name) {
            var st = stat()
            if lstat(directory + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK { unlink(directory + "/" + name) }
        }
        if let old { try? FileSystem.removeTree(directory + "/" + old) }
        return true
    }

    /// The version directory `..data` points to, nil before the first write.
    func currentVersion() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let n = readlink(directory + "/" + Self.dataLink, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The files under `root` (relative paths), with their bytes and mode bits.
    func contents(of root: String) -> [String: File] {
        var files: [String: File] = [:]
        func walk(_ relative: String) {
            let path = relative.isEmpty ? root : root + "/" + relative
            for name in FileSystem.listDirectory(path) {
                let child = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(root + "/" + child, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: walk(child)
                case S_IFREG:
                    if let bytes = try? FileSystem.read(root + "/" + child) { files[child] = File(bytes: bytes, mode: Int32(st.st_mode & 0o7777)) }
                default: break
                }
            }
        }
        walk("")
        return files
    }

    /// `..YYYY_MM_DD_HH_MM_SS.NNNNNNNNN`, kubelet's name of a version, made new.
    private func makeVersionDirectory() throws(OSError) -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var nanos = String(ts.tv_nsec)
        nanos = String(repeating: "0", count: max(0, 9 - nanos.count)) + nanos
        let base = "..\(parts.tm_year + 1900)_\(two(parts.tm_mon + 1))_\(two(parts.tm_mday))_\(two(parts.tm_hour))_\(two(parts.tm_min))_\(two(parts.tm_sec))."
        for attempt in 0..<100 {
            let name = base + nanos + (attempt == 0 ? "" : String(attempt))
            if mkdir(directory + "/" + name, 0o755) == 0 {
                chmod(directory + "/" + name, 0o755)
                return name
            }
            guard errno == EEXIST else { throw OSError.last("mkdir(\(directory)/\(name))") }
        }
        throw OSError("mkdir(\(directory)/\(base)*): no free name", code: EEXIST)
    }

    private static func create(_ path: String, _ file: File) throws(OSError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OSError.last("open(\(path))") }
        defer { close(fd) }
        var written = 0
        while written < file.bytes.count {
            let n = file.bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(fd, base + written, buffer.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw OSError.last("write(\(path))")
            }
            written += n
        }
        guard fchmod(fd, mode_t(file.mode & 0o7777)) == 0 else { throw OSError.last("fchmod(\(path))") }
    }
}
