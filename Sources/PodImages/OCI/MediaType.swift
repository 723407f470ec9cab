/// The media types of OCI image spec 1.1 and Docker's image manifest schema 2, which podd reads
/// from registries and archives.
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let ociLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
    public static let ociLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
    public static let ociLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

    /// What `Accept` a manifest GET sends: every manifest and index type podd reads.
    public static let manifestAccept = [ociIndex, ociManifest, dockerManifestList, dockerManifest]

    /// How a layer's bytes are compressed.
    public enum Compression: Sendable, Equatable {
        case none, gzip, zstd
    }

    /// The compression of a layer media type; nil when the type is not a layer podd can unpack.
    public static func layerCompression(_ mediaType: String) -> Compression? {
        switch mediaType {
        case ociLayer, ociLayerNondistributable, dockerLayer: return Compression.none
        case ociLayerGzip, ociLayerNondistributableGzip, dockerLayerGzip, dockerForeignLayerGzip: return .gzip
        case ociLayerZstd, ociLayerNondistributableZstd: return .zstd
        default: return nil
        }
    }

    public static func isIndex(_ mediaType: String) -> Bool { mediaType == ociIndex || mediaType == dockerManifestList }
    public static func isManifest(_ mediaType: String) -> Bool { mediaType == ociManifest || mediaType == dockerManifest }
}
