import Foundation
import Testing

@testable import PodImages

extension RegistryFixtureTests {
    /// A pod's image pull secret credentials against the real registries of DistributionFixture:
    /// tried in turn before the auth file's, a refused one passing to the next, and never shown.
    @Suite(.serialized, .enabled(if: RegistryFixture.isAvailable, "\(RegistryFixture.unavailableReason ?? "")"))
    struct PullCredentialsTests {
        let fixture: RegistryFixture
        let amd64 = Platform(os: "linux", architecture: "amd64")

        init() throws { fixture = try RegistryFixture.get() }

        func fetch(_ reference: String, authFile: String = "/nonexistent/auth.json", credentials: [RegistryCredentials],
                   into layout: OCILayout) async throws(FetchError) -> FetchedImage {
            let fetcher = RegistryFetcher(settings: RegistrySettings(authFile: authFile, insecure: ["127.0.0.1"]))
            let name: ImageName
            do { name = try ImageName(parsing: reference) } catch { throw FetchError(.unsupported, "\(error)") }
            return try await fetcher.fetch(name, platform: amd64, into: layout, credentials: credentials,
                                           alreadyStored: { _ in false }, progress: { _ in })
        }

        func secret(_ name: String, password: String? = nil) -> RegistryCredentials {
            RegistryCredentials(username: fixture.user, password: password ?? fixture.password, origin: "imagePullSecret \"\(name)\"")
        }

        @Test(arguments: ["htpasswd", "token"])
        func rightSecretAfterAWrongOne(registry: String) async throws {
            let directory = TemporaryDirectory()
            let image = try await fetch("\(fixture.address(registry))/test/multi:1",
                                        credentials: [secret("wrong", password: "wrong-Pa55"), secret("right")],
                                        into: try directory.layout())
            #expect(image.manifestDigest == fixture.digest("multi"))
        }

        @Test(arguments: ["htpasswd", "token"])
        func wrongSecretIsRefusedNamingItNeverItsPassword(registry: String) async throws {
            let directory = TemporaryDirectory()
            let wrong = "wrong-Pa55-never-shown"
            let layout = try directory.layout()
            do {
                let image = try await fetch("\(fixture.address(registry))/test/multi:1",
                                            credentials: [secret("wrong", password: wrong)], into: layout)
                Issue.record("expected a refusal, got \(image.manifestDigest)")
            } catch {
                #expect(error.kind == .unauthorized)
                #expect(error.message.contains("imagePullSecret \"wrong\""), "\(error.message)")
                #expect(!error.message.contains(wrong) && !error.message.contains(fixture.password))
            }
        }

        @Test func authFileIsTriedAfterTheSecrets() async throws {
            let directory = TemporaryDirectory()
            let host = fixture.address("htpasswd")
            let auth = try directory.authFile(host: host, user: fixture.user, password: fixture.password)
            let image = try await fetch("\(host)/test/multi:1", authFile: auth, credentials: [secret("stale", password: "stale")],
                                        into: try directory.layout())
            #expect(image.manifestDigest == fixture.digest("multi"))
        }

        @Test func bothRefusalsAreReported() async throws {
            let directory = TemporaryDirectory()
            let host = fixture.address("htpasswd")
            let auth = try directory.authFile(host: host, user: fixture.user, password: "wrong-in-file")
            let layout = try directory.layout()
            do {
                _ = try await fetch("\(host)/test/multi:1", authFile: auth, credentials: [secret("stale", password: "stale")],
                                    into: layout)
                Issue.record("expected a refusal")
            } catch {
                #expect(error.message.contains("imagePullSecret \"stale\"") && error.message.contains("registries.authFile"), "\(error.message)")
                #expect(!error.message.contains("wrong-in-file") && !error.message.contains("stale,"))
            }
        }

        /// The auth file is read at each pull: credentials written after the fetcher was made
        /// (as `podman login` adds them while podd runs) are used.
        @Test func authFileWrittenLaterIsUsed() async throws {
            let directory = TemporaryDirectory()
            let host = fixture.address("htpasswd")
            let path = directory.path + "/auth.json"
            let fetcher = RegistryFetcher(settings: RegistrySettings(authFile: path, insecure: ["127.0.0.1"]))
            let name = try ImageName(parsing: "\(host)/test/multi:1")
            let first = try directory.layout("a")
            do {
                _ = try await fetcher.fetch(name, platform: amd64, into: first, alreadyStored: { _ in false }, progress: { _ in })
                Issue.record("expected a refusal before the auth file exists")
            } catch {
                #expect(error.kind == .unauthorized)
            }
            _ = try directory.authFile(host: host, user: fixture.user, password: fixture.password)
            let image = try await fetcher.fetch(name, platform: amd64, into: try directory.layout("b"), alreadyStored: { _ in false }, progress: { _ in })
            #expect(image.manifestDigest == fixture.digest("multi"))
        }
    }
}
