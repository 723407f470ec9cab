import Glibc
import PodJSON

/// Pulls images from OCI distribution registries: podd's `ImageFetching`. The flow is the one
/// containerd and podman follow: ping `/v2/`, authorize (anonymous or credentialed Bearer
/// tokens, or Basic), resolve the tag or digest to a manifest (an index picks the host's
/// platform), then stream the config and the layers, a few at a time, into the layout, each
/// verified by size and SHA-256 as it arrives. Mirrors of the name's registry are tried first,
/// in order, then the registry itself.
public struct RegistryFetcher: ImageFetching {
    public var settings: RegistrySettings
    /// How many layers download at once (containerd's max_concurrent_downloads is 3).
    public var maxConcurrentDownloads: Int
    let http: RegistryHTTPClient

    public init(settings: RegistrySettings = RegistrySettings(), maxConcurrentDownloads: Int = 3) {
        self.settings = settings
        self.maxConcurrentDownloads = max(1, maxConcurrentDownloads)
        http = RegistryHTTPClient()
    }

    /// The largest manifest or index read (distribution refuses to store larger ones).
    static let manifestLimit = 4 << 20
    /// The largest config read into memory.
    static let configLimit = 32 << 20

    public func fetch(_ name: ImageName, platform: Platform, into layout: OCILayout, credentials: [RegistryCredentials],
                      alreadyStored: @escaping @Sendable (Digest) -> Bool,
                      progress: @escaping @Sendable (PullProgress) -> Void) async throws(FetchError) -> FetchedImage {
        do {
            return try await pull(name, platform: platform, into: layout, credentials: credentials, alreadyStored: alreadyStored,
                                  progress: progress)
        } catch {
            throw Self.failure(error, stage: nil, image: name)
        }
    }

    private func pull(_ name: ImageName, platform: Platform, into layout: OCILayout, credentials: [RegistryCredentials],
                      alreadyStored: @escaping @Sendable (Digest) -> Bool,
                      progress: @escaping @Sendable (PullProgress) -> Void) async throws -> FetchedImage {
        // Read at every pull: credentials `podman login` adds are used without a restart.
        let authFile = try RegistryAuthFile(path: settings.authFile)
        let (session, resolved) = try await resolve(name, platform: platform, authFile: authFile, credentials: credentials)
        let manifest = resolved.manifest
        progress(.resolved(manifest: resolved.manifestDigest, layers: manifest.layers))
        do {
            if let index = resolved.index, !alreadyStored(index.digest) {
                try Self.writeSmallBlob(index.bytes, Descriptor(mediaType: index.mediaType, digest: index.digest, size: Int64(index.bytes.count)),
                                        into: layout, what: "index \(index.digest)")
            }
            if !alreadyStored(resolved.manifestDigest) {
                try Self.writeSmallBlob(resolved.manifestBytes,
                                        Descriptor(mediaType: manifest.mediaType, digest: resolved.manifestDigest, size: Int64(resolved.manifestBytes.count)),
                                        into: layout, what: "manifest \(resolved.manifestDigest)")
            }
            let configuration = try await fetchConfiguration(manifest.config, session: session, into: layout, alreadyStored: alreadyStored)
            if !configuration.os.isEmpty, !configuration.architecture.isEmpty, !platform.runs(configuration.platform) {
                throw FetchError(.unsupported, "image \(name) is for \(configuration.platform), and this machine runs \(platform): no image for this platform")
            }
            try await fetchLayers(manifest.layers, session: session, into: layout, alreadyStored: alreadyStored, progress: progress)
            return FetchedImage(name: name, resolvedDigest: resolved.index?.digest ?? resolved.manifestDigest,
                                manifestDigest: resolved.manifestDigest, manifest: manifest, indexDigest: resolved.index?.digest,
                                configuration: configuration, source: session.authority)
        } catch {
            throw Self.failure(error, stage: "failed to copy", image: name)
        }
    }

    // MARK: Resolving the reference

    /// What a reference resolved to on one endpoint.
    struct Resolution {
        struct Index { var digest: Digest; var mediaType: String; var bytes: [UInt8] }
        var index: Index?
        var manifestDigest: Digest
        var manifestBytes: [UInt8]
        var manifest: ImageManifest
    }

    /// The endpoints to ask, in order: the mirrors of the name's registry, then the registry.
    func endpoints(for name: ImageName) throws -> [(base: HTTPLocation, isMirror: Bool)] {
        var list: [(HTTPLocation, Bool)] = []
        for url in settings.mirrors[name.domain] ?? [] {
            if let location = RegistrySettings.mirrorLocation(url) { list.append((location, true)) }
        }
        guard let registry = HTTPLocation("https://" + name.apiHost) else {
            throw FetchError(.unsupported, "\(name.apiHost) is not a registry address")
        }
        list.append((registry, false))
        return list
    }

    /// Resolves `name` with each of the pod's `credentials` in turn (kubelet's order), then
    /// with the auth file's: a credential the registry refuses (or for which it hides the
    /// repository) passes to the next; any other failure ends the pull. With pod credentials
    /// and none in the auth file for the registry, no anonymous attempt follows (kubelet pulls
    /// anonymously only when no credential matches). Every attempt's failure is in the error,
    /// as kubelet aggregates them (`[first, second]`).
    private func resolve(_ name: ImageName, platform: Platform, authFile: RegistryAuthFile,
                         credentials: [RegistryCredentials]) async throws -> (RegistrySession, Resolution) {
        var attempts: [RegistryCredentials?] = credentials
        if credentials.isEmpty || authFile.credentials(host: name.apiHost, repository: name.path) != nil {
            attempts.append(nil)
        }
        var failures: [FetchError] = []
        for (number, credential) in attempts.enumerated() {
            do {
                return try await resolveOnEndpoints(name, platform: platform, authFile: authFile, credential: credential)
            } catch {
                let failure = Self.failure(error, stage: nil, image: nil)
                failures.append(failure)
                let next = failure.kind == .unauthorized || failure.kind == .notFound
                guard next, number + 1 < attempts.count else { break }
            }
        }
        guard let last = failures.last else { throw FetchError(.unreachable, "no registry to pull \(name) from") }
        if failures.count == 1 { throw last }
        throw FetchError(last.kind, "[" + failures.map(\.message).joined(separator: ", ") + "]")
    }

    /// `credential`: the pod's, used at the name's registry itself (mirrors keep the auth
    /// file's); nil: the auth file's everywhere.
    private func resolveOnEndpoints(_ name: ImageName, platform: Platform, authFile: RegistryAuthFile,
                                    credential: RegistryCredentials?) async throws -> (RegistrySession, Resolution) {
        var mirrorFailures: [String] = []
        for endpoint in try endpoints(for: name) {
            do {
                let credentials = endpoint.isMirror ? authFile.credentials(host: endpoint.base.authority, repository: name.path)
                    : credential ?? authFile.credentials(host: endpoint.base.authority, repository: name.path)
                let session = try await RegistrySession.open(base: endpoint.base, repository: name.path, settings: settings, http: http,
                                                             credentials: credentials, isMirror: endpoint.isMirror)
                return (session, try await resolve(name, platform: platform, session: session))
            } catch {
                let failure = Self.failure(error, stage: "failed to resolve reference \"\(name)\"", image: nil)
                if failure.kind == .cancelled { throw failure }
                guard endpoint.isMirror else {
                    let tried = mirrorFailures.isEmpty ? "" : " (mirrors tried first: \(mirrorFailures.joined(separator: "; ")))"
                    throw FetchError(failure.kind, failure.message + tried)
                }
                mirrorFailures.append("\(endpoint.base.withoutQuery): \(Self.failure(error, stage: nil, image: nil).message)")
            }
        }
        throw FetchError(.unreachable, "no registry to pull \(name) from")
    }

    private func resolve(_ name: ImageName, platform: Platform, session: RegistrySession) async throws -> Resolution {
        let reference = name.digest?.description ?? name.tag ?? "latest"
        let top = try await fetchManifest(reference, expected: name.digest, session: session, shownAs: name.description)
        switch top.document {
        case let .manifest(manifest):
            return Resolution(index: nil, manifestDigest: top.digest, manifestBytes: top.bytes, manifest: manifest)
        case let .index(index):
            guard let chosen = index.manifest(for: platform) else {
                let offered = index.platforms.map(\.description)
                throw FetchError(.unsupported, "no match for platform \(platform) in manifest \(top.digest): not found (the image is for \(offered.isEmpty ? "no platform it names" : offered.joined(separator: ", ")))")
            }
            let picked = try await fetchManifest(chosen.digest.description, expected: chosen.digest, session: session,
                                                 shownAs: "\(name.repository)@\(chosen.digest)")
            guard picked.bytes.count == chosen.size else {
                throw FetchError(.corrupt, "manifest \(chosen.digest) is \(picked.bytes.count) bytes, the index gives \(chosen.size)")
            }
            guard case let .manifest(manifest) = picked.document else {
                throw FetchError(.unsupported, "the index \(top.digest) points to another index (\(chosen.digest)) for \(platform); podd reads one level")
            }
            return Resolution(index: .init(digest: top.digest, mediaType: index.mediaType, bytes: top.bytes),
                              manifestDigest: chosen.digest, manifestBytes: picked.bytes, manifest: manifest)
        }
    }

    /// GETs a manifest or index by tag or digest: verified against the digest asked for and
    /// against the registry's `Docker-Content-Digest`, and parsed. Schema 1 is refused.
    private func fetchManifest(_ reference: String, expected: Digest?, session: RegistrySession,
                               shownAs: String) async throws -> (document: ManifestDocument, digest: Digest, bytes: [UInt8]) {
        let accept = MediaType.manifestAccept.joined(separator: ", ")
        let (bytes, contentType, announced) = try await session.get("manifests/" + reference, headers: { [("Accept", accept)] }) {
            response, body -> ([UInt8], String?, String?) in
            switch response.status {
            case 200:
                return (try await body.collect(limit: Self.manifestLimit, what: "the manifest"), response.header("Content-Type"),
                        response.header("Docker-Content-Digest"))
            case 404:
                let detail = RegistryErrorBody.summary(try? await body.collect(limit: 64 << 10, what: "the error"))
                throw FetchError(.notFound, "\(shownAs): not found\(detail)")
            case 401, 403:
                throw session.authorizer.refused(status: response.statusText)
            default:
                let detail = RegistryErrorBody.summary(try? await body.collect(limit: 64 << 10, what: "the error"))
                throw FetchError(.unreachable, "GET \"\(session.location("manifests/" + reference))\": unexpected status \(response.statusText)\(detail)")
            }
        }
        let digest = Digest.sha256(of: bytes)
        if let expected, expected != digest {
            throw FetchError(.corrupt, "manifest \(shownAs): unexpected digest \(digest), expected \(expected): the registry's copy is corrupt")
        }
        if let announced, let announcedDigest = Digest(announced), announcedDigest.algorithm == "sha256", announcedDigest != digest {
            throw FetchError(.corrupt, "manifest \(shownAs): the registry's Docker-Content-Digest \(announcedDigest) does not match the body's \(digest)")
        }
        let type = contentType.map { String($0.split(separator: ";")[0]).trimmingSpaces }
        if (type?.hasPrefix("application/vnd.docker.distribution.manifest.v1") ?? false) || Self.isSchema1(bytes) {
            throw FetchError(.unsupported, "\(shownAs): media type \"\(type ?? "schema 1")\" is no longer supported: schema 1 manifests are deprecated; push the image again with a current docker, podman or skopeo (as \(MediaType.dockerManifest) or \(MediaType.ociManifest))")
        }
        do {
            return (try ManifestDocument.parse(bytes, contentType: type), digest, bytes)
        } catch {
            throw FetchError(.unsupported, "\(shownAs): \(error)")
        }
    }

    static func isSchema1(_ bytes: [UInt8]) -> Bool {
        (try? JSONValue.parse(bytes))?["schemaVersion"]?.intValue == 1
    }

    // MARK: Blobs

    private func fetchConfiguration(_ descriptor: Descriptor, session: RegistrySession, into layout: OCILayout,
                                    alreadyStored: @Sendable (Digest) -> Bool) async throws -> ImageConfiguration {
        guard descriptor.size <= Int64(Self.configLimit) else {
            throw FetchError(.unsupported, "config \(descriptor.digest) is \(descriptor.size) bytes, more than podd reads (\(Self.configLimit))")
        }
        let what = "config \(descriptor.digest)"
        let bytes = try await session.get("blobs/" + descriptor.digest.description, headers: { [] }) { response, body -> [UInt8] in
            try Self.checkBlobStatus(response, what: what, session: session)
            return try await body.collect(limit: Int(descriptor.size), what: what)
        }
        let digest = Digest.sha256(of: bytes)
        guard digest == descriptor.digest, bytes.count == descriptor.size else {
            throw FetchError(.corrupt, "\(what): unexpected commit digest \(digest), expected \(descriptor.digest): failed precondition (the registry's copy is corrupt)")
        }
        let configuration: ImageConfiguration
        do { configuration = try ImageConfiguration(bytes: bytes) } catch {
            throw FetchError(.unsupported, "\(what): \(error)")
        }
        if !alreadyStored(descriptor.digest) {
            try Self.writeSmallBlob(bytes, descriptor, into: layout, what: what)
        }
        return configuration
    }

    private func fetchLayers(_ layers: [Descriptor], session: RegistrySession, into layout: OCILayout,
                             alreadyStored: @escaping @Sendable (Digest) -> Bool,
                             progress: @escaping @Sendable (PullProgress) -> Void) async throws {
        var seen = Set<Digest>()
        var wanted: [Descriptor] = []
        for layer in layers where seen.insert(layer.digest).inserted {
            guard MediaType.layerCompression(layer.mediaType) != nil else {
                throw FetchError(.unsupported, "layer \(layer.digest) has media type \"\(layer.mediaType)\", which is not a layer podd can unpack (tar, tar+gzip, tar+zstd)")
            }
            if alreadyStored(layer.digest) {
                progress(.skipped(layer.digest))
            } else {
                wanted.append(layer)
            }
        }
        let limit = maxConcurrentDownloads
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = wanted[...]
            for _ in 0..<limit {
                guard let next = pending.popFirst() else { break }
                group.addTask { try await Self.download(next, what: "layer \(next.digest)", session: session, into: layout, progress: progress) }
            }
            while try await group.next() != nil {
                if let next = pending.popFirst() {
                    group.addTask { try await Self.download(next, what: "layer \(next.digest)", session: session, into: layout, progress: progress) }
                }
            }
        }
    }

    /// Streams one blob to its file, reporting progress about ten times a second; a broken
    /// connection resumes where it stopped (`Range`), or starts over where the registry does
    /// not serve ranges.
    static func download(_ descriptor: Descriptor, what: String, session: RegistrySession, into layout: OCILayout,
                         progress: @escaping @Sendable (PullProgress) -> Void) async throws {
        let file = try BlobFile(descriptor, in: layout, what: what)
        let clock = ContinuousClock()
        var lastReport = clock.now
        var resumes = 0
        while true {
            do {
                try await session.get("blobs/" + descriptor.digest.description, headers: {
                    file.received > 0 ? [("Range", "bytes=\(file.received)-")] : []
                }) { response, body in
                    if response.status == 206 {
                        guard Self.rangeStart(response.header("Content-Range")) == file.received else {
                            throw FetchError(.unsupported, "\(what): the registry answered a Range request with another range (\(response.header("Content-Range") ?? "none"))")
                        }
                    } else {
                        try Self.checkBlobStatus(response, what: what, session: session)
                        if file.received > 0 { try file.restart() }
                    }
                    while let chunk = try await body.next() {
                        try file.append(chunk)
                        let now = clock.now
                        if now - lastReport >= .milliseconds(100) {
                            lastReport = now
                            progress(.bytes(descriptor.digest, received: file.received, total: descriptor.size))
                        }
                    }
                }
                break
            } catch let error as TransportError where error.isRetryable && file.received > 0 && resumes < 3 {
                resumes += 1
                try await Task.sleep(for: .milliseconds(300 * resumes))
            }
        }
        try file.commit()
        progress(.bytes(descriptor.digest, received: descriptor.size, total: descriptor.size))
        progress(.done(descriptor.digest))
    }

    /// Accepts a 200; turns the rest into the error a user can act on.
    static func checkBlobStatus(_ response: RegistryHTTPClient.Response, what: String, session: RegistrySession) throws {
        switch response.status {
        case 200: return
        case 404: throw FetchError(.notFound, "\(what): blob unknown to \(session.authority): not found")
        case 401, 403: throw FetchError(.unauthorized, "\(what): \(response.statusText) from \(session.authority)")
        default: throw FetchError(.unreachable, "\(what): unexpected status \(response.statusText) from \(session.authority)")
        }
    }

    /// The first byte of `bytes START-END/TOTAL`.
    static func rangeStart(_ header: String?) -> Int64? {
        guard let header, header.hasPrefix("bytes ") else { return nil }
        return header.dropFirst(6).split(separator: "-").first.flatMap { Int64($0) }
    }

    static func writeSmallBlob(_ bytes: [UInt8], _ descriptor: Descriptor, into layout: OCILayout, what: String) throws {
        let file = try BlobFile(descriptor, in: layout, what: what)
        try file.append(bytes)
        try file.commit()
    }

    // MARK: Errors

    /// Any failure as the `FetchError` a user reads: kubelet's and containerd's words, the
    /// stage that failed (`failed to resolve reference "..."`, `failed to copy`), and
    /// `failed to pull and unpack image "..."` in front once `image` is given.
    static func failure(_ error: any Error, stage: String?, image: ImageName?) -> FetchError {
        var kind: FetchError.Kind
        var message: String
        switch error {
        case let error as FetchError:
            kind = error.kind
            message = error.message
            // Already complete (wrapped by an inner stage).
            if message.hasPrefix("failed to pull and unpack image") { return error }
        case let error as TransportError:
            kind = error.kind == .cancelled ? .cancelled : .unreachable
            message = "failed to do request: " + error.message
        case is CancellationError:
            kind = .cancelled
            message = "context canceled"
        default:
            kind = .unreachable
            message = "\(error)"
        }
        if Task.isCancelled { kind = .cancelled }
        let stagePrefix = stage.map { $0 + ": " } ?? ""
        let storage: Bool
        if case .storage = kind { storage = true } else { storage = false }
        // A stage is named once; the storage errors already say what they were writing.
        if !storage, !message.hasPrefix("failed to resolve reference"), !message.hasPrefix("failed to copy") {
            message = stagePrefix + message
        }
        if let image { message = "failed to pull and unpack image \"\(image)\": " + message }
        return FetchError(kind, message)
    }
}
