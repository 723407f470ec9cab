import Glibc

/// The few file operations the store needs, with errors that name the path.
enum StoreFiles {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func size(_ path: String) -> Int64? {
        var st = stat()
        return stat(path, &st) == 0 ? Int64(st.st_size) : nil
    }

    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(ImageStoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0, errno != EEXIST { throw ImageStoreError.system("mkdir \(prefix)") }
        }
    }

    static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// A small file (a manifest, a config, the records), at most `limit` bytes.
    static func read(_ path: String, limit: Int = 64 << 20) throws(ImageStoreError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageStoreError.system("open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw ImageStoreError.system("read \(path)") }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
            guard out.count <= limit else { throw ImageStoreError.invalid("\(path) is larger than \(limit) bytes") }
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`.
    static func writeAtomically(_ path: String, _ bytes: [UInt8]) throws(ImageStoreError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImageStoreError.system("create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + written }, raw.count - written) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                let code = errno
                close(fd)
                unlink(temporary)
                throw ImageStoreError.system("write \(temporary)", code)
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let code = errno
            close(fd)
            unlink(temporary)
            throw ImageStoreError.system("fsync \(temporary)", code)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw ImageStoreError.system("rename \(temporary)", code)
        }
    }

    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// The sha256 of a file and its size, read in pieces.
    static func digest(of path: String) throws(ImageStoreError) -> (Digest, Int64) {
        let source = HashingSource(try FileSource(path: path))
        let digest = try source.finish()
        return (digest, source.count)
    }

    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return Digest.hex((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) })
    }
}
