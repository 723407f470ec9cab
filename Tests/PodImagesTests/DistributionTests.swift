import Foundation
import Glibc
import PodJSON
import Synchronization
import Testing

@testable import PodImages

extension RegistryFixtureTests {
    /// RegistryFetcher against real registries (DistributionFixture.swift): what it writes is what
    /// skopeo writes for the same image, and every bad input is a clear FetchError.
    @Suite(.serialized, .enabled(if: RegistryFixture.isAvailable, "\(RegistryFixture.unavailableReason ?? "")"))
    struct DistributionTests {
        let fixture: RegistryFixture
        let amd64 = Platform(os: "linux", architecture: "amd64")

        init() throws { fixture = try RegistryFixture.get() }

        func fetcher(insecure: [String]? = nil, authFile: String = "/nonexistent/auth.json",
                     mirrors: [String: [String]] = [:]) -> RegistryFetcher {
            RegistryFetcher(settings: RegistrySettings(authFile: authFile, insecure: insecure ?? ["127.0.0.1"], mirrors: mirrors))
        }

        func fetch(_ reference: String, with fetcher: RegistryFetcher, into layout: OCILayout, platform: Platform? = nil,
                   alreadyStored: @escaping @Sendable (Digest) -> Bool = { _ in false },
                   log: ProgressLog = ProgressLog(),
                   onEvent: @escaping @Sendable (PullProgress) -> Void = { _ in }) async throws(FetchError) -> FetchedImage {
            let name: ImageName
            do { name = try ImageName(parsing: reference) } catch { throw FetchError(.unsupported, "\(error)") }
            return try await fetcher.fetch(name, platform: platform ?? amd64, into: layout, alreadyStored: alreadyStored,
                                           progress: { log.record($0); onEvent($0) })
        }

        func expectFailure(_ reference: String, with fetcher: RegistryFetcher, platform: Platform? = nil,
                           _ check: (FetchError) -> Void) async throws {
            let directory = TemporaryDirectory()
            let layout = try directory.layout()
            do {
                let image = try await fetch(reference, with: fetcher, into: layout, platform: platform)
                Issue.record("expected \(reference) to fail, it gave \(image.manifestDigest)")
            } catch {
                check(error)
            }
            // Nothing half-written is left in the layout.
            let leftovers = filesBelow(layout.root + "/blobs").keys.filter { $0.hasSuffix(".partial") }
            #expect(leftovers.isEmpty, "partial blobs left behind: \(leftovers)")
        }

        // MARK: Pulls that work

        @Test func multiLayerImageMatchesSkopeo() async throws {
            let directory = TemporaryDirectory()
            let layout = try directory.layout()
            let log = ProgressLog()
            let reference = "\(fixture.address("plain"))/test/multi:1"
            let image = try await fetch(reference, with: fetcher(), into: layout, log: log)
            #expect(image.manifestDigest == fixture.digest("multi"))
            #expect(image.resolvedDigest == image.manifestDigest)
            #expect(image.indexDigest == nil)
            #expect(image.source == fixture.address("plain"))
            #expect(image.configuration.config.workingDir == "/srv")
            #expect(image.configuration.config.entrypoint == ["/bin/tool"])
            #expect(image.manifest.layers.map(\.digest) == fixture.layerDigests("multi"))
            #expect(log.done == Set(fixture.layerDigests("multi")))
            guard case let .resolved(manifest, layers) = log.all.first else {
                Issue.record("the first progress event is not .resolved: \(log.all.first.map { "\($0)" } ?? "none")")
                return
            }
            #expect(manifest == image.manifestDigest && layers.count == 3)

            // skopeo's copy of the same image has the same blobs, byte for byte.
            let skopeo = directory.path + "/skopeo"
            #expect(fixture.command("skopeo plain test/multi:1 \(skopeo)") == "ok")
            let theirs = filesBelow(skopeo + "/blobs")
            let ours = filesBelow(layout.root + "/blobs")
            #expect(!theirs.isEmpty)
            #expect(Set(theirs.keys) == Set(ours.keys))
            for (path, data) in theirs { #expect(ours[path] == data, "blob \(path) differs from skopeo's") }
        }

        @Test func blobsTheStoreHasAreSkipped() async throws {
            let directory = TemporaryDirectory()
            let layout = try directory.layout()
            let log = ProgressLog()
            let layers = fixture.layerDigests("multi")
            let stored = layers[0]
            let image = try await fetch("\(fixture.address("plain"))/test/multi:1", with: fetcher(), into: layout,
                                        alreadyStored: { $0 == stored }, log: log)
            #expect(log.skipped == [stored])
            #expect(!FileManager.default.fileExists(atPath: layout.blobPath(stored)))
            for layer in layers.dropFirst() { #expect(FileManager.default.fileExists(atPath: layout.blobPath(layer))) }
            #expect(FileManager.default.fileExists(atPath: layout.blobPath(image.manifest.config.digest)))
        }

        @Test func indexPicksThisPlatform() async throws {
            let directory = TemporaryDirectory()
            let layout = try directory.layout()
            let index = try #require(fixture.digest("multiarch"))
            let image = try await fetch("\(fixture.address("plain"))/test/multiarch:1", with: fetcher(), into: layout)
            let amd = fixture.image("multiarch")["amd64"]?["digest"]?.stringValue
            #expect(image.indexDigest == index)
            #expect(image.resolvedDigest == index)
            #expect(image.manifestDigest.description == amd)
            #expect(image.configuration.architecture == "amd64")
            #expect(FileManager.default.fileExists(atPath: layout.blobPath(index)))

            let arm = try await fetch("\(fixture.address("plain"))/test/multiarch:1", with: fetcher(), into: try directory.layout("arm"),
                                      platform: Platform(os: "linux", architecture: "arm64", variant: "v8"))
            #expect(arm.manifestDigest.description == fixture.image("multiarch")["arm64"]?["digest"]?.stringValue)
        }

        @Test func pullByDigestAndZstdLayers() async throws {
            let directory = TemporaryDirectory()
            let digest = try #require(fixture.digest("zstd"))
            let image = try await fetch("\(fixture.address("plain"))/test/zstd@\(digest)", with: fetcher(), into: try directory.layout())
            #expect(image.manifestDigest == digest)
            #expect(image.manifest.layers.first?.mediaType == MediaType.ociLayerZstd)
        }

        @Test func htpasswdRegistryWithCredentials() async throws {
            let directory = TemporaryDirectory()
            let auth = try directory.authFile(host: fixture.address("htpasswd"), user: fixture.user, password: fixture.password)
            let image = try await fetch("\(fixture.address("htpasswd"))/test/multi:1", with: fetcher(authFile: auth),
                                        into: try directory.layout())
            #expect(image.manifestDigest == fixture.digest("multi"))
        }

        @Test func tokenRegistryWithCredentials() async throws {
            let directory = TemporaryDirectory()
            let auth = try directory.authFile(host: fixture.address("token"), user: fixture.user, password: fixture.password)
            let image = try await fetch("\(fixture.address("token"))/test/multiarch:1", with: fetcher(authFile: auth),
                                        into: try directory.layout())
            #expect(image.indexDigest == fixture.digest("multiarch"))
        }

        @Test func tokenRefusedByTheRegistryIsRenewed() async throws {
            let directory = TemporaryDirectory()
            let auth = try directory.authFile(host: fixture.address("token"), user: fixture.user, password: fixture.password)
            // The token server's next token grants nothing: the registry answers 401 and the
            // client must fetch a new token and go on.
            #expect(fixture.command("badtoken") == "ok")
            let image = try await fetch("\(fixture.address("token"))/test/multi:1", with: fetcher(authFile: auth),
                                        into: try directory.layout())
            #expect(image.manifestDigest == fixture.digest("multi"))
            // Renewed once: a second token, and no third however many requests the bad token
            // was refused for together (before single-flight renewal, a clean-clone CI run under
            // load saw 3 issued).
            let counts = fixture.command("tokens")
            let figures = (try? JSONValue.parse(Array(counts.utf8))) ?? .null
            #expect(figures["issued"]?.intValue == 2, "tokens issued: \(counts)")
        }

        @Test func requestsRefusedTogetherShareOneTokenAndOneRenewal() async throws {
            #expect(fixture.command("badtoken") == "ok")
            guard let base = HTTPLocation("https://\(fixture.address("token"))") else { throw FetchError(.unsupported, "no location") }
            let settings = RegistrySettings(authFile: "/nonexistent/auth.json", insecure: ["127.0.0.1"], mirrors: [:])
            let session = try await RegistrySession.open(base: base, repository: "test/multi", settings: settings, http: RegistryHTTPClient(),
                                                         credentials: RegistryCredentials(username: fixture.user, password: fixture.password),
                                                         isMirror: false)
            let authorizer = session.authorizer
            // Eight requests start together with no token yet: one fetch serves them all.
            let first = try await withThrowingTaskGroup(of: RegistryAuthorizer.Grant.self) { group in
                for _ in 0..<8 { group.addTask { try await authorizer.authorization() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(first.map { $0.header ?? "" }).count == 1 && first[0].header?.hasPrefix("Bearer ") == true)
            // All eight are refused (the fixture's first token grants nothing) and each renews as
            // its refusal comes, then asks again: one renewal, one new token, which all send.
            guard case let .bearer(realm, service, _) = await authorizer.method else { throw FetchError(.unsupported, "not a token registry") }
            let challenge = AuthChallenge.parse("Bearer realm=\"\(realm)\",service=\"\(service ?? "")\"")
            let second = try await withThrowingTaskGroup(of: RegistryAuthorizer.Grant.self) { group in
                for (n, grant) in first.enumerated() {
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(20 * n))
                        try await authorizer.renew(after: challenge, refused: grant)
                        return try await authorizer.authorization()
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(second.map { $0.header ?? "" }).count == 1 && second[0].header != first[0].header)
            let counts = fixture.command("tokens")
            let figures = (try? JSONValue.parse(Array(counts.utf8))) ?? .null
            #expect(figures["issued"]?.intValue == 2, "tokens issued: \(counts)")
        }

        @Test func mirrorsAreTriedInOrderThenTheRegistry() async throws {
            let directory = TemporaryDirectory()
            let plain = fixture.address("plain")
            // The first mirror wants credentials podd has not got, the second serves the image.
            let viaMirror = try await fetch("127.0.0.1:9/test/multi:1",
                                            with: fetcher(mirrors: ["127.0.0.1:9": ["http://\(fixture.address("htpasswd"))", "http://\(plain)"]]),
                                            into: try directory.layout("a"))
            #expect(viaMirror.source == plain)
            // A mirror that fails leaves the registry itself.
            let direct = try await fetch("\(plain)/test/multi:1",
                                         with: fetcher(mirrors: [plain: ["http://\(fixture.address("htpasswd"))"]]),
                                         into: try directory.layout("b"))
            #expect(direct.source == plain)
        }

        @Test func httpsRegistryWithAnUntrustedCertificate() async throws {
            let directory = TemporaryDirectory()
            // Listed as insecure: HTTPS without verification (podman's insecure = true).
            let image = try await fetch("\(fixture.address("tls"))/test/multi:1", with: fetcher(), into: try directory.layout())
            #expect(image.manifestDigest == fixture.digest("multi"))
            #expect(image.source == fixture.address("tls"))
            // Not listed: the system's CAs do not know its self-signed certificate.
            try await expectFailure("\(fixture.address("tls"))/test/multi:1", with: fetcher(insecure: [])) { error in
                #expect(error.kind == .unreachable, "\(error)")
                #expect(error.message.contains("x509: certificate signed by unknown authority"), "\(error)")
            }
        }

        // MARK: Bad inputs

        @Test func missingManifestIsNotFound() async throws {
            let reference = "\(fixture.address("plain"))/test/nosuch:1"
            try await expectFailure(reference, with: fetcher()) { error in
                #expect(error.kind == .notFound)
                #expect(error.message.hasPrefix("failed to pull and unpack image \"\(reference)\": failed to resolve reference"))
                #expect(error.message.contains("\(reference): not found"))
            }
        }

        @Test func wrongPasswordIsUnauthorizedAndNeverShown() async throws {
            let directory = TemporaryDirectory()
            let wrong = "Wr0ng-Pa55-\(UInt32.random(in: 1000...9999))"
            for registry in ["htpasswd", "token"] {
                let auth = try directory.authFile(host: fixture.address(registry), user: fixture.user, password: wrong)
                try await expectFailure("\(fixture.address(registry))/test/multi:1", with: fetcher(authFile: auth)) { error in
                    #expect(error.kind == .unauthorized, "\(registry): \(error)")
                    #expect(error.message.contains("401 Unauthorized"), "\(registry): \(error)")
                    #expect(error.message.contains("refused the credentials"), "\(registry): \(error)")
                    #expect(error.message.contains(auth))
                    for secret in [wrong, fixture.password, Data("\(fixture.user):\(wrong)".utf8).base64EncodedString()] {
                        #expect(!error.message.contains(secret), "\(registry): the error shows a secret: \(error)")
                    }
                }
            }
            // No credentials at all: the error says where they would go.
            try await expectFailure("\(fixture.address("htpasswd"))/test/multi:1", with: fetcher()) { error in
                #expect(error.kind == .unauthorized)
                #expect(error.message.contains("has no credentials"))
            }
        }

        @Test func corruptBlobIsRefused() async throws {
            let layer = try #require(fixture.layerDigests("corrupt").first)
            #expect(fixture.command("corrupt plain \(layer)") == "ok")
            try await expectFailure("\(fixture.address("plain"))/test/corrupt:1", with: fetcher()) { error in
                #expect(error.kind == .corrupt, "\(error)")
                #expect(error.message.contains("unexpected commit digest"), "\(error)")
                #expect(error.message.contains("expected \(layer)"), "\(error)")
            }
        }

        @Test func plainHTTPRegistryNotListedIsRefused() async throws {
            try await expectFailure("\(fixture.address("plain"))/test/multi:1", with: fetcher(insecure: [])) { error in
                #expect(error.kind == .insecureRefused, "\(error)")
                #expect(error.message.contains("server gave HTTP response to HTTPS client"), "\(error)")
                #expect(error.message.contains("registries.insecure"), "\(error)")
            }
        }

        @Test func platformMissingFromIndex() async throws {
            try await expectFailure("\(fixture.address("plain"))/test/otherarch:1", with: fetcher()) { error in
                #expect(error.kind == .unsupported, "\(error)")
                #expect(error.message.contains("no match for platform linux/amd64"), "\(error)")
                #expect(error.message.contains("linux/arm64") && error.message.contains("linux/s390x"), "\(error)")
            }
        }

        @Test func unreachableRegistry() async throws {
            try await expectFailure("127.0.0.1:9/test/multi:1", with: fetcher()) { error in
                #expect(error.kind == .unreachable, "\(error)")
                #expect(error.message.contains("connection refused"), "\(error)")
            }
        }

        @Test func registryKilledMidPull() async throws {
            let directory = TemporaryDirectory()
            let layout = try directory.layout()
            let fixture = self.fixture
            let killed = Mutex(false)
            do {
                // The victim registry sits behind a proxy that sends 4 MiB/s: the 48 MiB layer is
                // still streaming when the first progress report kills the registry.
                _ = try await fetch("\(fixture.address("slow"))/test/big:1", with: fetcher(), into: layout, onEvent: { event in
                    guard case .bytes = event, killed.withLock({ done in defer { done = true }; return !done }) else { return }
                    fixture.command("kill victim")
                })
                Issue.record("the pull succeeded although its registry was killed")
            } catch {
                #expect(error.kind == .unreachable, "\(error)")
            }
            #expect(killed.withLock { $0 }, "the pull never reported progress")
            #expect(filesBelow(layout.root + "/blobs").keys.filter { $0.hasSuffix(".partial") }.isEmpty)
        }

        @Test(.enabled(if: getuid() == 0, "needs root to mount a small tmpfs"))
        func fullDiskIsAStorageError() async throws {
            let directory = TemporaryDirectory()
            let mountPoint = directory.path + "/small"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=1m") == 0 else {
                Issue.record("mount tmpfs: \(String(cString: strerror(errno)))")
                return
            }
            defer { umount2(mountPoint, Int32(MNT_DETACH)) }
            let layout = try OCILayout.create(at: mountPoint + "/layout")
            do {
                _ = try await fetch("\(fixture.address("plain"))/test/multi:1", with: fetcher(), into: layout)
                Issue.record("a 4 MiB layer fitted in a 1 MiB filesystem")
            } catch {
                #expect(error.kind == .storage(errno: ENOSPC), "\(error)")
                #expect(error.message.contains("no space left on device"), "\(error)")
            }
            #expect(filesBelow(layout.root + "/blobs").keys.filter { $0.hasSuffix(".partial") }.isEmpty)
        }
    }
}
