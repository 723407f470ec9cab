import Foundation
import Glibc
import PodModel
import PodOS

/// The local image store: `STATE/images/NAME/TAG/rootfs` (the unpacked root filesystem, used
/// read-only as every container's overlay lower layer) beside `image.json`. Images come in
/// as rootfs tarballs (plain or gzip) through `podctl image import`; there is no registry.
public final class ImageStore: Sendable {
    public let root: String

    public struct Image: Sendable, Equatable {
        public var reference: ImageReference
        public var id: String
        public var size: Int64
        public var created: Timestamp

        public var json: JSONValue {
            .object(JSONObject([
                ("apiVersion", "podd.io/v1"), ("kind", "Image"),
                ("metadata", .object(JSONObject([("name", .string(reference.description)),
                                                 ("creationTimestamp", .string(created.description))]))),
                ("name", .string(reference.name)), ("tag", .string(reference.tag)),
                ("id", .string(id)), ("size", .int(size)),
            ]))
        }
    }

    public enum StoreError: Error, Sendable {
        case invalidReference(String)
        case notFound(ImageReference)
        case unpackFailed(String)
        case io(OSError)
    }

    public init(root: String) throws(OSError) {
        self.root = root
        try FileSystem.makeDirectories(root, mode: 0o700)
        try FileSystem.makeDirectories(root + "/.incoming", mode: 0o700)
        // Whatever is in the incoming directory belongs to an upload, unpack or removal of
        // an earlier podd that ended before finishing it: nobody will finish it now.
        for leftover in FileSystem.listDirectory(incomingDirectory) {
            try? FileSystem.removeTree(incomingDirectory + "/" + leftover)
        }
    }

    /// Where uploads are spooled before unpacking (same filesystem as the store).
    public var incomingDirectory: String { root + "/.incoming" }

    private func directory(_ ref: ImageReference) -> String { "\(root)/\(ref.directoryName)/\(ref.tag)" }

    /// The root filesystem of an image, or nil when it is not in the store.
    public func rootfs(_ ref: ImageReference) -> String? {
        let path = directory(ref) + "/rootfs"
        return FileSystem.isDirectory(path) ? path : nil
    }

    public func image(_ ref: ImageReference) -> Image? {
        guard rootfs(ref) != nil,
              let bytes = try? FileSystem.read(directory(ref) + "/image.json"),
              let json = try? JSONValue.parse(bytes) else { return nil }
        return Image(reference: ref, id: json["id"]?.stringValue ?? "",
                     size: json["size"]?.intValue ?? 0,
                     created: json["created"]?.stringValue.flatMap { Timestamp(rfc3339: $0) } ?? Timestamp(seconds: 0))
    }

    public func list() -> [Image] {
        var out: [Image] = []
        for nameDir in FileSystem.listDirectory(root) where !nameDir.hasPrefix(".") {
            for tag in FileSystem.listDirectory(root + "/" + nameDir) {
                guard let ref = ImageReference(nameDir.replacingOccurrences(of: "+", with: "/") + ":" + tag),
                      let image = image(ref) else { continue }
                out.append(image)
            }
        }
        return out
    }

    /// Unpacks the tarball at `tarPath` (consumed) as image `ref`, replacing an older image of
    /// that name. The new tree is unpacked beside the store and renamed into place, so a
    /// failed import leaves the store as it was.
    public func importTarball(_ ref: ImageReference, tarPath: String, now: Timestamp) throws(StoreError) -> Image {
        defer { unlink(tarPath) }
        let staging = "\(incomingDirectory)/unpack-\(ref.directoryName)-\(ref.tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do { try FileSystem.makeDirectories(staging + "/rootfs", mode: 0o755) } catch { throw .io(error) }
        // As root tar keeps the archive's owners and modes (the image's files belong to its
        // users); it refuses members with ".." and strips leading "/" by default.
        var args = ["-x", "-f", tarPath, "-C", staging + "/rootfs", "--numeric-owner"]
        if Self.isGzip(tarPath) { args.append("-z") }
        let log = staging + "/tar.log"
        let status: Int32
        do { status = try ProcessControl.run("/bin/tar", arguments: args, outputPath: log) } catch {
            try? FileSystem.removeTree(staging)
            throw .io(error)
        }
        guard status == 0 else {
            let message = FileSystem.readString(log)?.split(separator: "\n").prefix(3).joined(separator: "; ") ?? ""
            try? FileSystem.removeTree(staging)
            throw .unpackFailed(message.isEmpty ? "tar exited with status \(status)" : message)
        }
        unlink(log)
        guard !FileSystem.listDirectory(staging + "/rootfs").isEmpty else {
            try? FileSystem.removeTree(staging)
            throw .unpackFailed("the archive is empty")
        }
        var st = stat()
        let size = stat(tarPath, &st) == 0 ? Int64(st.st_size) : 0
        let image = Image(reference: ref, id: "sha-" + Self.randomHex(16), size: size, created: now)
        let meta = JSONValue.object(JSONObject([("name", .string(ref.name)), ("tag", .string(ref.tag)),
                                                ("id", .string(image.id)), ("size", .int(size)),
                                                ("created", .string(now.description))]))
        do throws(OSError) {
            try FileSystem.writeAtomically(staging + "/image.json", meta.serialized())
            try FileSystem.makeDirectories("\(root)/\(ref.directoryName)", mode: 0o755)
            let target = directory(ref)
            let old = staging + ".old"
            if FileSystem.exists(target) { guard rename(target, old) == 0 else { throw OSError.last("rename(\(target))") } }
            guard rename(staging, target) == 0 else { throw OSError.last("rename(\(staging))") }
            try? FileSystem.removeTree(old)
            try FileSystem.syncDirectory(of: target)
        } catch {
            try? FileSystem.removeTree(staging)
            throw .io(error)
        }
        return image
    }

    /// Removes an image. Containers already running keep their (open) lower layer; a pod
    /// that needs the image later reports ErrImageNeverPull, as kubelet does.
    public func remove(_ ref: ImageReference) throws(StoreError) {
        let dir = directory(ref)
        guard FileSystem.exists(dir) else { throw .notFound(ref) }
        let trash = "\(incomingDirectory)/remove-\(ref.directoryName)-\(ref.tag)-\(Self.randomHex(4))"
        guard rename(dir, trash) == 0 else { throw .io(OSError.last("rename(\(dir))")) }
        try? FileSystem.removeTree(trash)
        if FileSystem.listDirectory("\(root)/\(ref.directoryName)").isEmpty { rmdir("\(root)/\(ref.directoryName)") }
    }

    static func isGzip(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var magic: [UInt8] = [0, 0]
        return read(fd, &magic, 2) == 2 && magic == [0x1f, 0x8b]
    }

    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let b = UInt8.random(in: 0...255, using: &g)
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}
