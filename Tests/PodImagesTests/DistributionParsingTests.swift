import Foundation
import Testing

@testable import PodImages

/// The registry client's readers: challenges, URLs, auth files, settings.
@Suite struct DistributionParsingTests {
    @Test func bearerChallengeWithQuotedCommas() {
        let challenges = AuthChallenge.parse(
            #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push",error="invalid_token""#)
        #expect(challenges.count == 1)
        #expect(challenges[0].scheme == "bearer")
        #expect(challenges[0].realm == "https://auth.docker.io/token")
        #expect(challenges[0].parameters["service"] == "registry.docker.io")
        #expect(challenges[0].parameters["scope"] == "repository:library/nginx:pull,push")
        #expect(challenges[0].parameters["error"] == "invalid_token")
    }

    @Test func severalChallengesInOneHeader() {
        let challenges = AuthChallenge.parse(#"Basic realm="Registry Realm", Bearer realm="https://a.example/t",service=x"#)
        #expect(challenges.map(\.scheme) == ["basic", "bearer"])
        #expect(challenges[0].realm == "Registry Realm")
        #expect(challenges[1].parameters["service"] == "x")
    }

    @Test func locationsAndRedirects() throws {
        let registry = try #require(HTTPLocation("https://registry.example:5000/v2/a/blobs/sha256:x"))
        #expect(registry.host == "registry.example" && registry.port == 5000 && registry.isSecure)
        #expect(registry.authority == "registry.example:5000")
        let s3 = try #require(registry.resolving("https://bucket.s3.amazonaws.com/data?X-Amz-Signature=secret"))
        #expect(!s3.sameOrigin(as: registry))
        #expect(!s3.description.contains("secret"), "signed query strings never show")
        let relative = try #require(registry.resolving("/v2/a/blobs/uploads/1"))
        #expect(relative.sameOrigin(as: registry) && relative.target == "/v2/a/blobs/uploads/1")
        let v6 = try #require(HTTPLocation("http://[::1]:5000/v2/"))
        #expect(v6.host == "::1" && v6.port == 5000 && v6.authority == "[::1]:5000")
        #expect(HTTPLocation("https://user:pass@registry.example/") == nil, "credentials in URLs are refused")
        #expect(HTTPLocation("ftp://x/") == nil)
    }

    @Test func authFileAsDockerLoginWritesIt() throws {
        let directory = TemporaryDirectory()
        let file = directory.path + "/config.json"
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        try Data("""
            {"auths": {
              "https://index.docker.io/v1/": {"auth": "\(b64("hubuser:hubpass"))"},
              "registry.example:5000": {"auth": "\(b64("reg:pa:ss"))"},
              "quay.io/team": {"auth": "\(b64("team:t"))"},
              "quay.io": {"username": "any", "password": "q"}
            }, "credsStore": "desktop"}
            """.utf8).write(to: URL(fileURLWithPath: file))
        let auth = try RegistryAuthFile(path: file)
        #expect(auth.credentials(host: "registry-1.docker.io", repository: "library/nginx")?.username == "hubuser")
        #expect(auth.credentials(host: "registry.example:5000", repository: "a")?.password == "pa:ss")
        #expect(auth.credentials(host: "quay.io", repository: "team/app")?.username == "team")
        #expect(auth.credentials(host: "quay.io", repository: "other/app")?.username == "any")
        #expect(auth.credentials(host: "registry.example", repository: "a") == nil)
        #expect("\(auth.credentials(host: "quay.io", repository: "x").map { "\($0)" } ?? "")" == "credentials (hidden)")
        #expect(try RegistryAuthFile(path: directory.path + "/missing.json").isEmpty)
    }

    @Test func brokenAuthFileNamesTheFileNotItsContents() throws {
        let directory = TemporaryDirectory()
        let file = directory.path + "/auth.json"
        try Data(#"{"auths": {"r.example": {"auth": "c2VjcmV0LXdpdGhvdXQtY29sb24="}} "#.utf8).write(to: URL(fileURLWithPath: file))
        do {
            _ = try RegistryAuthFile(path: file)
            Issue.record("an auth value without user:password was accepted")
        } catch {
            #expect(error.kind == .unauthorized)
            #expect(error.message.contains(file))
            #expect(!error.message.contains("c2VjcmV0") && !error.message.contains("secret"), "the error shows the file's contents: \(error)")
        }
    }

    @Test func insecureAndMirrorSettings() {
        let settings = RegistrySettings(insecure: ["registry.local:5000", "10.0.0.5"])
        #expect(settings.isInsecure("registry.local:5000"))
        #expect(!settings.isInsecure("registry.local:5001"))
        #expect(settings.isInsecure("10.0.0.5:8080"))
        #expect(!settings.isInsecure("127.0.0.1:5000"), "localhost is HTTPS only unless listed, as podman")
        #expect(settings.problem(withMirror: "https://mirror.example", of: "docker.io") == nil)
        #expect(settings.problem(withMirror: "mirror.example:5000", of: "docker.io") == nil)
        #expect(settings.problem(withMirror: "http://registry.local:5000", of: "docker.io") == nil)
        #expect(settings.problem(withMirror: "http://other:5000", of: "docker.io")?.contains("registries.insecure") == true)
        #expect(RegistrySettings.problem(withInsecureEntry: "http://x:5000") != nil)
        #expect(RegistrySettings.problem(withInsecureEntry: "x:5000") == nil)
    }

    @Test func base64RoundTrips() {
        for text in ["", "a", "ab", "abc", "user:pässword"] {
            #expect(Base64.decode(Base64.encode(Array(text.utf8))) == Array(text.utf8))
            #expect(Base64.encode(Array(text.utf8)) == Data(text.utf8).base64EncodedString())
        }
    }
}
