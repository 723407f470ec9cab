import Testing

@testable import PodImages

@Suite struct ImageNameTests {
    /// Docker's and Kubernetes' normalisation (distribution/reference's ParseNormalizedNamed).
    @Test(arguments: [
        ("nginx", "docker.io/library/nginx:latest"),
        ("nginx:1.27-alpine", "docker.io/library/nginx:1.27-alpine"),
        ("library/nginx", "docker.io/library/nginx:latest"),
        ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
        ("docker.io/nginx", "docker.io/library/nginx:latest"),
        ("index.docker.io/nginx", "docker.io/library/nginx:latest"),
        ("localhost/busybox", "localhost/busybox:latest"),
        ("localhost:5000/a/b:c", "localhost:5000/a/b:c"),
        ("127.0.0.1:5000/busybox:1.36", "127.0.0.1:5000/busybox:1.36"),
        ("quay.io/a_b/c-d.e__f:v1.2_3", "quay.io/a_b/c-d.e__f:v1.2_3"),
        ("[::1]:5000/x", "[::1]:5000/x:latest"),
        ("Registry.Example/x", "Registry.Example/x:latest"),
        ("a---b", "docker.io/library/a---b:latest"),
    ])
    func normalises(text: String, expected: String) throws {
        #expect(try ImageName(parsing: text).description == expected)
    }

    @Test func digestsPinWithOrWithoutTag() throws {
        let hex = String(repeating: "ab", count: 32)
        let pinned = try ImageName(parsing: "nginx@sha256:\(hex)")
        #expect(pinned.tag == nil)
        #expect(pinned.digest?.description == "sha256:\(hex)")
        #expect(pinned.description == "docker.io/library/nginx@sha256:\(hex)")
        #expect(!pinned.tagWasImplied)
        let both = try ImageName(parsing: "nginx:1.27@sha256:\(hex)")
        #expect(both.description == "docker.io/library/nginx:1.27@sha256:\(hex)")
        #expect(try ImageName(parsing: "nginx").tagWasImplied)
        #expect(try !ImageName(parsing: "nginx:latest").tagWasImplied)
    }

    @Test(arguments: ["", "UPPER", "a//b", "a/", "/a", "-a", "a-", "a..b", "a___b", "nginx:", "nginx:-x",
                      "nginx@sha256:abc", "nginx@md5:" + String(repeating: "a", count: 32),
                      String(repeating: "a", count: 64), "a b", "a/b:c:d", "host:port/x", "x:" + String(repeating: "t", count: 129),
                      "ex\u{0}ample"])
    func refuses(text: String) {
        #expect(throws: ImageName.ParseError.self) { try ImageName(parsing: text) }
    }

    @Test func uppercaseRepositorySaysSo() {
        #expect(throws: ImageName.ParseError(reference: "docker.io/Nginx", reason: "repository name must be lowercase")) {
            try ImageName(parsing: "docker.io/Nginx")
        }
    }

    @Test func apiHostAndLocalCandidate() throws {
        #expect(try ImageName(parsing: "nginx").apiHost == "registry-1.docker.io")
        #expect(try ImageName(parsing: "ghcr.io/a/b").apiHost == "ghcr.io")
        #expect(try ImageName(parsing: "busybox:1.36").localCandidate?.description == "localhost/busybox:1.36")
        #expect(try ImageName(parsing: "docker.io/busybox").localCandidate == nil)
        #expect(try ImageName(parsing: "localhost/busybox").isLocal)
        #expect(try ImageName(parsing: "busybox") == ImageName(parsing: "docker.io/library/busybox:latest"))
        #expect(try ImageName(parsing: "docker.io/library/nginx:1").familiar == "nginx:1")
    }
}

@Suite struct RememberedImageNameTests {
    /// `parsed` answers as the parser does, for texts seen once, again, and after the table
    /// has started over.
    @Test func answersAsTheParser() throws {
        for text in ["busybox", "registry.example:5000/team/app:1.2", "Bad:Name", "", "nginx@sha256:" + String(repeating: "a", count: 64)] {
            for _ in 0..<2 { #expect(ImageName.parsed(text) == (try? ImageName(parsing: text))) }
        }
        for i in 0..<300 { #expect(ImageName.parsed("img\(i):v\(i)")?.tag == "v\(i)") }
        #expect(ImageName.parsed("busybox")?.description == "docker.io/library/busybox:latest")
        #expect(ImageName.parsed("docker.io/Upper") == nil)
    }
}

@Suite struct DigestTests {
    @Test func sha256OfKnownInputs() {
        #expect(Digest.sha256(of: []).description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256(of: Array("abc".utf8)).encoded == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func hashesInPieces() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hasher = SHA256Hasher()
        hasher.update(Array(data[0..<1]))
        hasher.update(Array(data[1..<65537]))
        hasher.update(Array(data[65537...]))
        #expect(hasher.count == 100_000)
        #expect(hasher.finish() == Digest.sha256(of: data))
    }

    @Test func parsesOnlyWellFormedDigests() {
        #expect(Digest("sha256:" + String(repeating: "0", count: 64)) != nil)
        #expect(Digest("sha512:" + String(repeating: "f", count: 128)) != nil)
        #expect(Digest("sha256:" + String(repeating: "A", count: 64)) == nil)
        #expect(Digest("sha256:" + String(repeating: "0", count: 63)) == nil)
        #expect(Digest("sha1:" + String(repeating: "0", count: 40)) == nil)
        #expect(Digest("sha256") == nil)
    }
}

@Suite struct OCIDocumentTests {
    let hex = String(repeating: "1", count: 64)

    @Test func picksTheHostPlatformAndSkipsAttestations() throws {
        let json = """
        {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "2", count: 64))","size":10,
          "platform":{"architecture":"unknown","os":"unknown"},"annotations":{"vnd.docker.reference.type":"attestation-manifest"}},
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(String(repeating: "3", count: 64))","size":10,
          "platform":{"architecture":"arm64","os":"linux","variant":"v8"}},
         {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:\(hex)","size":10,
          "platform":{"architecture":"amd64","os":"linux"}}]}
        """
        guard case .index(let index) = try ManifestDocument.parse(Array(json.utf8), contentType: nil) else {
            Issue.record("not read as an index")
            return
        }
        #expect(index.manifest(for: Platform(os: "linux", architecture: "amd64"))?.digest.encoded == hex)
        #expect(index.manifest(for: Platform(os: "linux", architecture: "arm64"))?.digest.encoded == String(repeating: "3", count: 64))
        #expect(index.manifest(for: Platform(os: "linux", architecture: "s390x")) == nil)
        #expect(index.platforms.map(\.description) == ["linux/arm64/v8", "linux/amd64"])
    }

    @Test func readsADockerManifestByItsContentType() throws {
        let json = """
        {"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:\(hex)","size":5},
         "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:\(hex)","size":7}]}
        """
        guard case .manifest(let manifest) = try ManifestDocument.parse(Array(json.utf8),
                                                                        contentType: "application/vnd.docker.distribution.manifest.v2+json") else {
            Issue.record("not read as a manifest")
            return
        }
        #expect(manifest.mediaType == MediaType.dockerManifest)
        #expect(manifest.layers.map(\.size) == [7])
        #expect(MediaType.layerCompression(manifest.layers[0].mediaType) == .gzip)
    }

    @Test func refusesSchema1AndBrokenDescriptors() {
        #expect(throws: OCIDocumentError.self) {
            try ManifestDocument.parse(Array(#"{"schemaVersion":1,"name":"x","fsLayers":[]}"#.utf8), contentType: nil)
        }
        #expect(throws: OCIDocumentError.self) {
            try ManifestDocument.parse(Array(#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:zz","size":1},"layers":[]}"#.utf8),
                                       contentType: nil)
        }
    }

    @Test func readsImageConfiguration() throws {
        let json = """
        {"architecture":"amd64","os":"linux","config":{"User":"nobody:nogroup","Env":["PATH=/bin","A=b"],
         "Entrypoint":["/bin/sh","-c"],"Cmd":["echo hi"],"WorkingDir":"/srv"},
         "rootfs":{"type":"layers","diff_ids":["sha256:\(hex)"]}}
        """
        let config = try ImageConfiguration(bytes: Array(json.utf8))
        #expect(config.config.user == "nobody:nogroup")
        #expect(config.config.entrypoint == ["/bin/sh", "-c"])
        #expect(config.config.cmd == ["echo hi"])
        #expect(config.config.env == ["PATH=/bin", "A=b"])
        #expect(config.config.workingDir == "/srv")
        #expect(config.diffIDs.count == 1)
        #expect(config.platform.description == "linux/amd64")
    }
}
