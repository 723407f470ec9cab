/// Fetches images from registries: the seam between the image store (which decides when to
/// pull, keeps what was pulled, and unpacks it) and the registry client (which speaks the OCI
/// distribution protocol). The store hands the fetcher an empty OCI layout on its own
/// filesystem; the fetcher fills it and returns what it fetched; the store takes the blobs in
/// (by rename) and unpacks the layers.
public protocol ImageFetching: Sendable {
    /// Fetches `name` for `platform` into `layout`: resolves the tag (or digest) to a manifest,
    /// picks the platform's manifest from an index, and writes the manifest (and the index, if
    /// any), the config and every layer to `layout`'s blobs, each verified against its digest
    /// and size while it streams. Blobs for which `alreadyStored` answers true are not fetched
    /// (the store has them). Does not write the layout's index.json: the store records names.
    ///
    /// `credentials` (a pod's image pull secrets that match the name, most specific first)
    /// are tried in turn at the name's registry before the fetcher's own (its auth file), as
    /// kubelet tries each credential of its keyring until one works.
    ///
    /// Errors never contain credentials.
    func fetch(_ name: ImageName, platform: Platform, into layout: OCILayout, credentials: [RegistryCredentials],
               alreadyStored: @escaping @Sendable (Digest) -> Bool,
               progress: @escaping @Sendable (PullProgress) -> Void) async throws(FetchError) -> FetchedImage
}

extension ImageFetching {
    /// A fetch with the fetcher's own credentials only (`podctl image pull`, the bench).
    public func fetch(_ name: ImageName, platform: Platform, into layout: OCILayout,
                      alreadyStored: @escaping @Sendable (Digest) -> Bool,
                      progress: @escaping @Sendable (PullProgress) -> Void) async throws(FetchError) -> FetchedImage {
        try await fetch(name, platform: platform, into: layout, credentials: [], alreadyStored: alreadyStored, progress: progress)
    }
}

/// What a fetch brought: the manifest chosen for the platform and where it came from.
public struct FetchedImage: Sendable, Equatable {
    /// The name as asked for (normalised).
    public var name: ImageName
    /// The digest of the manifest the name resolved to: of the index when the registry served
    /// one (what `imageID` and `--digests` show, as docker and kubelet do), else of the
    /// image manifest.
    public var resolvedDigest: Digest
    /// The image manifest for the platform (in the layout's blobs).
    public var manifestDigest: Digest
    public var manifest: ImageManifest
    /// The index the platform's manifest was picked from, if the name resolved to one.
    public var indexDigest: Digest?
    /// The config blob, read (also in the layout's blobs).
    public var configuration: ImageConfiguration
    /// The registry host that served it (a mirror, or the registry itself).
    public var source: String

    public init(name: ImageName, resolvedDigest: Digest, manifestDigest: Digest, manifest: ImageManifest,
                indexDigest: Digest?, configuration: ImageConfiguration, source: String) {
        self.name = name
        self.resolvedDigest = resolvedDigest
        self.manifestDigest = manifestDigest
        self.manifest = manifest
        self.indexDigest = indexDigest
        self.configuration = configuration
        self.source = source
    }
}

/// How a fetch is going, for `podctl image pull`'s progress bars and the pull events.
public enum PullProgress: Sendable, Equatable {
    /// The manifest is known: these layers will come (those already stored are skipped).
    case resolved(manifest: Digest, layers: [Descriptor])
    /// `received` of `total` bytes of a blob have been written and verified so far.
    case bytes(Digest, received: Int64, total: Int64)
    /// A blob is complete and verified.
    case done(Digest)
    /// A blob was not fetched because the store has it.
    case skipped(Digest)
}

/// Why a fetch failed, as the user should read it (`ErrImagePull`'s message).
public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No such repository, tag or digest (404, MANIFEST_UNKNOWN, NAME_UNKNOWN).
        case notFound
        /// 401/403: no or wrong credentials, or no access.
        case unauthorized
        /// The registry could not be reached or broke off (DNS, connect, TLS, reset, timeout).
        case unreachable
        /// A blob or manifest did not match its digest or size.
        case corrupt
        /// The registry answered something podd cannot use (schema 1, no platform match, ...).
        case unsupported
        /// Plain HTTP to a registry not listed under `registries.insecure`.
        case insecureRefused
        /// The local disk: the layout could not be written (ENOSPC gives 507 upstream).
        case storage(errno: Int32)
        /// The fetch was cancelled.
        case cancelled
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
