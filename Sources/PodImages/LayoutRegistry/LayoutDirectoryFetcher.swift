import Glibc

/// An `ImageFetching` that serves images from OCI layouts on disk as a registry would: the
/// image `DOMAIN/PATH:TAG` is the entry of `ROOT/DOMAIN/PATH/index.json` whose
/// `org.opencontainers.image.ref.name` annotation is TAG (or the full name), or, for a
/// digest reference, the manifest of that digest. Every blob is copied and verified
/// against its digest and size while it streams, as a registry client does, and blobs the
/// store has are skipped. For tests and offline mirrors: podd uses it when
/// `PODD_IMAGE_LAYOUT_REGISTRY` names such a directory and no registry client is wired in.
///
/// Test knobs, files in ROOT: `fail` (its text is the error: the registry is unreachable),
/// `delay` (seconds to wait before answering, to watch a pull in progress), and `fetches`,
/// to which each fetch appends a line (what two pods of one image must fetch once).
public struct LayoutDirectoryFetcher: ImageFetching {
    public let root: String

    public init(root: String) { self.root = root }

    /// `credentials` are not needed: a directory asks for none.
    public func fetch(_ name: ImageName, platform: Platform, into layout: OCILayout, credentials: [RegistryCredentials],
                      alreadyStored: @escaping @Sendable (Digest) -> Bool,
                      progress: @escaping @Sendable (PullProgress) -> Void) async throws(FetchError) -> FetchedImage {
        appendLine(root + "/fetches", name.description)
        if let delay = (try? StoreFiles.read(root + "/delay")).flatMap({ Double(String(decoding: $0, as: UTF8.self).filter { !$0.isWhitespace }) }) {
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
        }
        if let failure = try? StoreFiles.read(root + "/fail") {
            let text = String(decoding: failure, as: UTF8.self).trimmingSpaces.filter { $0 != "\n" }
            throw FetchError(.unreachable, text.isEmpty ? "dial tcp: connection refused" : text)
        }
        let source = OCILayout(root: "\(root)/\(name.domain)/\(name.path)")
        guard let index = try? source.readIndex() else {
            throw FetchError(.notFound, "\(name.repository): repository not found (name unknown)")
        }
        let entry: Descriptor?
        if let digest = name.digest {
            entry = index.manifests.first { $0.digest == digest }
                ?? Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: StoreFiles.size(source.blobPath(digest)) ?? 0)
        } else {
            entry = index.manifests.first { d in
                let ref = d.annotations[Descriptor.refNameAnnotation]
                return ref == name.tag || ref == name.description
            }
        }
        guard let entry, StoreFiles.exists(source.blobPath(entry.digest)) else {
            throw FetchError(.notFound, "\(name): manifest unknown")
        }
        let resolved = entry.digest
        var manifestDigest = entry.digest
        var indexDigest: Digest?
        let entryBytes = try copy(entry.digest, from: source, to: layout)
        if MediaType.isIndex(entry.mediaType) {
            guard case let .index(list)? = try? ManifestDocument.parse(entryBytes, contentType: entry.mediaType),
                  let picked = list.manifest(for: platform) else {
                throw FetchError(.unsupported, "\(name): no manifest for \(platform)")
            }
            indexDigest = entry.digest
            manifestDigest = picked.digest
        }
        let manifestBytes = manifestDigest == entry.digest ? entryBytes : try copy(manifestDigest, from: source, to: layout)
        guard case let .manifest(manifest)? = try? ManifestDocument.parse(manifestBytes, contentType: nil) else {
            throw FetchError(.unsupported, "\(name): \(manifestDigest) is not an image manifest")
        }
        let configBytes = try copy(manifest.config.digest, from: source, to: layout)
        guard let configuration = try? ImageConfiguration(bytes: configBytes) else {
            throw FetchError(.unsupported, "\(name): its config is not valid")
        }
        progress(.resolved(manifest: manifestDigest, layers: manifest.layers))
        for layer in manifest.layers {
            if alreadyStored(layer.digest) {
                progress(.skipped(layer.digest))
                continue
            }
            _ = try copyStreaming(layer, from: source, to: layout, progress: progress)
            progress(.done(layer.digest))
        }
        return FetchedImage(name: name, resolvedDigest: resolved, manifestDigest: manifestDigest, manifest: manifest,
                            indexDigest: indexDigest, configuration: configuration, source: root)
    }

    /// A small blob (manifest, index, config), verified.
    private func copy(_ digest: Digest, from source: OCILayout, to layout: OCILayout) throws(FetchError) -> [UInt8] {
        guard let bytes = try? StoreFiles.read(source.blobPath(digest)) else { throw FetchError(.notFound, "blob \(digest): blob unknown") }
        guard Digest.sha256(of: bytes) == digest else { throw FetchError(.corrupt, "blob \(digest): digest mismatch") }
        do { try StoreFiles.writeAtomically(layout.blobPath(digest), bytes) } catch { throw Self.storage(error) }
        return bytes
    }

    /// A layer, streamed and verified as it is written.
    private func copyStreaming(_ layer: Descriptor, from source: OCILayout, to layout: OCILayout,
                               progress: @Sendable (PullProgress) -> Void) throws(FetchError) -> Int64 {
        let input = open(source.blobPath(layer.digest), O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FetchError(.notFound, "blob \(layer.digest): blob unknown") }
        defer { close(input) }
        let target = layout.blobPath(layer.digest)
        let output = open(target + ".part", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw FetchError(.storage(errno: errno), "write \(target): \(String(cString: strerror(errno)))") }
        var hasher = SHA256Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var received: Int64 = 0
        while true {
            let n = read(input, &buffer, buffer.count)
            guard n >= 0 else { close(output); throw FetchError(.unreachable, "blob \(layer.digest): read error") }
            if n == 0 { break }
            let w = buffer.withUnsafeBytes { raw in write(output, raw.baseAddress, n) }
            guard w == n else {
                let code = w < 0 ? errno : ENOSPC
                close(output)
                unlink(target + ".part")
                throw FetchError(.storage(errno: code), "write \(target): \(String(cString: strerror(code)))")
            }
            buffer.withUnsafeBytes { raw in hasher.update(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
            received += Int64(n)
            progress(.bytes(layer.digest, received: received, total: layer.size))
        }
        close(output)
        guard hasher.finish() == layer.digest, received == layer.size else {
            unlink(target + ".part")
            throw FetchError(.corrupt, "blob \(layer.digest): digest or size mismatch")
        }
        guard rename(target + ".part", target) == 0 else { throw FetchError(.storage(errno: errno), "rename \(target)") }
        return received
    }

    private static func storage(_ error: ImageStoreError) -> FetchError {
        if case let .storage(code) = error.kind { return FetchError(.storage(errno: code), error.message) }
        return FetchError(.storage(errno: EIO), error.message)
    }

    private func appendLine(_ path: String, _ line: String) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
