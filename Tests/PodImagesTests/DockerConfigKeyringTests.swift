import Testing

@testable import PodImages

/// The pod's image pull secrets matched to images as kubelet's credentialprovider keyring
/// matches them (its keyring_test.go cases, in podd's words).
struct DockerConfigKeyringTests {
    func config(_ entries: [(String, String)]) -> [UInt8] {
        let auths = entries.map { key, user in
            "\"\(key)\": {\"auth\": \"\(Base64.encode(Array("\(user):pw-\(user)".utf8)))\"}"
        }
        return Array("{\"auths\": {\(auths.joined(separator: ", "))}}".utf8)
    }

    func keyring(_ entries: [(String, String)]) throws -> DockerConfigKeyring {
        var keyring = DockerConfigKeyring()
        try keyring.add(dockerConfig: config(entries), legacy: false, origin: "imagePullSecret \"s\"")
        return keyring
    }

    func users(_ keyring: DockerConfigKeyring, _ image: String) throws -> [String] {
        try keyring.lookup(ImageName(parsing: image)).map(\.username)
    }

    @Test func hostPortAndPathPrefixes() throws {
        let k = try keyring([("registry.example:5000", "port"), ("registry.example", "host"),
                             ("quay.io/team", "team"), ("quay.io", "quay")])
        #expect(try users(k, "registry.example:5000/app:1") == ["port"])
        #expect(try users(k, "registry.example/app:1") == ["host"])
        #expect(try users(k, "registry.example:5001/app:1") == [])
        // The more specific path first, then the host.
        #expect(try users(k, "quay.io/team/app") == ["team", "quay"])
        #expect(try users(k, "quay.io/other/app") == ["quay"])
        #expect(try users(k, "sub.quay.io/team/app") == [])
    }

    @Test func wildcardsSchemesAndAPIPaths() throws {
        let k = try keyring([("*.example.com", "star"), ("https://registry.io/v2/", "v2"), ("http://plain.io:80", "plain"),
                             ("h?st.dev", "glob")])
        #expect(try users(k, "a.example.com/x") == ["star"])
        #expect(try users(k, "a.b.example.com/x") == [])      // one dot part per *
        #expect(try users(k, "example.com/x") == [])
        #expect(try users(k, "registry.io/x") == ["v2"])
        #expect(try users(k, "plain.io:80/x") == ["plain"])
        #expect(try users(k, "host.dev/x") == ["glob"])
    }

    @Test func dockerHubUnderItsLegacyKey() throws {
        let k = try keyring([("https://index.docker.io/v1/", "hub")])
        #expect(try users(k, "nginx") == ["hub"])
        #expect(try users(k, "docker.io/library/nginx:1") == ["hub"])
        #expect(try users(k, "someone/app") == ["hub"])
        #expect(try users(k, "ghcr.io/someone/app") == [])
        let plain = try keyring([("docker.io", "short")])
        #expect(try users(plain, "nginx") == ["short"])
    }

    @Test func severalSecretsInOrder() throws {
        var k = DockerConfigKeyring()
        try k.add(dockerConfig: config([("r.example", "first")]), legacy: false, origin: "imagePullSecret \"a\"")
        try k.add(dockerConfig: Array("{\"r.example\": {\"username\": \"second\", \"password\": \"p\"}}".utf8), legacy: true,
                  origin: "imagePullSecret \"b\"")
        let found = k.lookup(try ImageName(parsing: "r.example/app:1"))
        #expect(found.map(\.username) == ["first", "second"])
        #expect(found.map(\.origin) == ["imagePullSecret \"a\"", "imagePullSecret \"b\""])
        // Never printed.
        #expect(!"\(found)".contains("pw-first") && !"\(found)".contains("first"))
    }

    @Test func badConfigsNameTheSecretNotItsContents() {
        var k = DockerConfigKeyring()
        for (bytes, words) in [("not json s3cr3t", "is not a JSON object"),
                               ("{\"auths\": [\"s3cr3t\"]}", "\"auths\" in its .dockerconfigjson is not an object"),
                               ("{\"auths\": {\"r.example\": {\"auth\": \"%%s3cr3t\"}}}", "not base64 of username:password")] {
            #expect {
                try k.add(dockerConfig: Array(bytes.utf8), legacy: false, origin: "imagePullSecret \"bad\"")
            } throws: { error in
                let message = (error as? FetchError)?.message ?? ""
                return message.contains("imagePullSecret \"bad\"") && message.contains(words) && !message.contains("s3cr3t")
            }
        }
        #expect(k.isEmpty)
    }

    @Test func hostGlobs() {
        func m(_ p: String, _ t: String) -> Bool { HostGlob.matches(Array(p.utf8), Array(t.utf8)) }
        #expect(m("*", "anything") && m("a*c", "abbbc") && m("[a-c]x", "bx") && !m("[^a-c]x", "bx") && m("\\*", "*"))
        #expect(!m("a*c", "abd") && !m("[a-c", "a") && m("", "") && !m("?", ""))
    }
}
