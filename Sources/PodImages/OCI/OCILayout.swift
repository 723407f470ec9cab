import Glibc
import PodJSON

/// A directory in OCI image layout (image-layout.md): `oci-layout`, `index.json`, and
/// `blobs/ALGORITHM/ENCODED`. It is how images travel between podd's parts: `podctl image
/// load` reads one, a registry pull writes one, and the store takes images in from one.
public struct OCILayout: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public static let layoutVersion = "1.0.0"

    /// Where the blob `digest` lives (whether or not it is there).
    public func blobPath(_ digest: Digest) -> String { "\(root)/blobs/\(digest.algorithm)/\(digest.encoded)" }

    public var indexPath: String { root + "/index.json" }

    /// Whether `root` holds an `oci-layout` file of a version podd reads.
    public var isLayout: Bool {
        guard let bytes = Self.readFile(root + "/oci-layout"), let json = try? JSONValue.parse(bytes) else { return false }
        return json["imageLayoutVersion"]?.stringValue == Self.layoutVersion
    }

    /// Makes the directories and the `oci-layout` file of an empty layout at `root`.
    public static func create(at root: String) throws(OCIDocumentError) -> OCILayout {
        let layout = OCILayout(root: root)
        for dir in [root, root + "/blobs", root + "/blobs/sha256"] {
            guard mkdir(dir, 0o755) == 0 || errno == EEXIST else {
                throw OCIDocumentError("mkdir \(dir): \(String(cString: strerror(errno)))")
            }
        }
        let marker = JSONValue.object(JSONObject([("imageLayoutVersion", .string(layoutVersion))]))
        try writeFile(root + "/oci-layout", marker.serialized())
        return layout
    }

    /// The layout's index.json.
    public func readIndex() throws(OCIDocumentError) -> ImageIndex {
        guard let bytes = Self.readFile(indexPath) else { throw OCIDocumentError("\(indexPath): cannot be read") }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch { throw OCIDocumentError("\(indexPath): not valid JSON: \(error)") }
        return try ImageIndex(json: json, mediaType: MediaType.ociIndex)
    }

    public func writeIndex(_ index: ImageIndex) throws(OCIDocumentError) {
        try Self.writeFile(indexPath, index.json.serialized())
    }

    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return out }
            out.append(contentsOf: buffer[0..<n])
            // index.json and oci-layout are small; a huge one is not a layout podd wrote.
            if out.count > 16 << 20 { return nil }
        }
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) throws(OCIDocumentError) {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OCIDocumentError("open \(temporary): \(String(cString: strerror(errno)))") }
        let failure: String? = bytes.withUnsafeBytes { raw -> String? in
            var written = 0
            while written < raw.count {
                guard let base = raw.baseAddress else { return nil }
                let n = write(fd, base + written, raw.count - written)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return String(cString: strerror(errno)) }
                written += n
            }
            return nil
        }
        if let failure {
            close(fd)
            unlink(temporary)
            throw OCIDocumentError("write \(temporary): \(failure)")
        }
        guard fsync(fd) == 0, close(fd) == 0, rename(temporary, path) == 0 else {
            let message = String(cString: strerror(errno))
            unlink(temporary)
            throw OCIDocumentError("write \(path): \(message)")
        }
    }
}
