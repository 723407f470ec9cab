import Glibc

/// The few file operations podctl needs, on Glibc directly.
enum FileSystem {
    enum Kind {
        case directory
        case other
    }

    /// What is at `path`, or nil when nothing is.
    static func kind(of path: String) -> Kind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .other
    }

    static func readFile(_ path: String) throws(PodctlError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw PodctlError("the path \"\(path)\" does not exist") }
            throw PodctlError("cannot read \(path): \(errorText(code))")
        }
        defer { close(fd) }
        do {
            return try readAll(fd: fd)
        } catch {
            throw PodctlError("cannot read \(path): \(errorText(error.code))")
        }
    }

    struct ReadError: Error {
        var code: Int32
    }

    static func readAll(fd: Int32) throws(ReadError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ReadError(code: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// The names in a directory, unsorted, without `.` and `..`.
    static func listDirectory(_ path: String) throws(PodctlError) -> [String] {
        guard let directory = opendir(path) else {
            throw PodctlError("cannot read directory \(path): \(errorText(errno))")
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}

/// strerror(3) text for an errno value.
func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
