import Testing

@testable import PodRuntime

/// Kubernetes' rules for a container's command, env, working directory and user from its
/// image's config, case by case.
@Suite struct ImageRunDefaultsTests {
    let entrypoint = ["/docker-entrypoint.sh"]
    let cmd = ["nginx", "-g", "daemon off;"]

    @Test func neitherCommandNorArgs() throws {
        #expect(try ImageRunDefaults.argv(command: [], args: [], entrypoint: entrypoint, cmd: cmd, env: [:]) == entrypoint + cmd)
    }

    @Test func commandOnlyDropsEntrypointAndCmd() throws {
        #expect(try ImageRunDefaults.argv(command: ["sleep", "1"], args: [], entrypoint: entrypoint, cmd: cmd, env: [:]) == ["sleep", "1"])
    }

    @Test func argsOnlyFollowTheEntrypoint() throws {
        #expect(try ImageRunDefaults.argv(command: [], args: ["-v"], entrypoint: entrypoint, cmd: cmd, env: [:]) == entrypoint + ["-v"])
    }

    @Test func bothReplaceTheImage() throws {
        #expect(try ImageRunDefaults.argv(command: ["a"], args: ["b"], entrypoint: entrypoint, cmd: cmd, env: [:]) == ["a", "b"])
    }

    @Test func noCommandAnywhere() {
        #expect(throws: ImageRunDefaults.Failure.noCommand) {
            try ImageRunDefaults.argv(command: [], args: [], entrypoint: [], cmd: [], env: [:])
        }
    }

    @Test(arguments: [
        ("$(A)", "1"), ("x$(A)y$(B)", "x1y2"), ("$$(A)", "$(A)"), ("$(MISSING)", "$(MISSING)"), ("$A", "$A"),
        ("$", "$"), ("$(", "$("), ("a$$b", "a$b"), ("$(A", "$(A"), ("$$$(A)", "$1"),
    ])
    func expansion(_ input: String, _ expected: String) {
        #expect(ImageRunDefaults.expand(input, ["A": "1", "B": "2"]) == expected)
    }

    @Test func expansionAppliesToCommandAndArgsNotTheImage() throws {
        let argv = try ImageRunDefaults.argv(command: [], args: ["$(A)"], entrypoint: ["echo", "$(A)"], cmd: [], env: ["A": "x"])
        #expect(argv == ["echo", "$(A)", "x"])
    }

    @Test func imageEnvIsUnderTheContainers() {
        let env = ImageRunDefaults.environment(defaults: [("PATH", "/default"), ("HOSTNAME", "h")],
                                               image: ["PATH=/image", "FOO=image", "EMPTY", "=bad"],
                                               container: [("FOO", "pod"), ("NEW", "1")])
        #expect(env.map { "\($0.0)=\($0.1)" } == ["PATH=/image", "HOSTNAME=h", "FOO=pod", "EMPTY=", "NEW=1"])
    }

    @Test func workingDirectory() {
        #expect(ImageRunDefaults.workingDirectory(container: nil, image: "/app") == "/app")
        #expect(ImageRunDefaults.workingDirectory(container: "/x", image: "/app") == "/x")
        #expect(ImageRunDefaults.workingDirectory(container: nil, image: "") == "/")
    }

    let passwd = "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102:nginx:/var/cache/nginx:/sbin/nologin\n"
    let group = "root:x:0:\nnginx:x:102:\nwww:x:33:nginx,other\n"

    @Test func users() throws {
        #expect(try ImageUser.resolve("", passwd: passwd, group: group) == ImageUser(uid: 0, gid: 0, supplementaryGroups: []))
        #expect(try ImageUser.resolve("nginx", passwd: passwd, group: group) == ImageUser(uid: 101, gid: 102, supplementaryGroups: [33]))
        #expect(try ImageUser.resolve("101", passwd: passwd, group: group) == ImageUser(uid: 101, gid: 102, supplementaryGroups: [33]))
        #expect(try ImageUser.resolve("1000", passwd: passwd, group: group) == ImageUser(uid: 1000, gid: 0, supplementaryGroups: []))
        #expect(try ImageUser.resolve("nginx:www", passwd: passwd, group: group) == ImageUser(uid: 101, gid: 33, supplementaryGroups: []))
        #expect(try ImageUser.resolve("5:6", passwd: nil, group: nil) == ImageUser(uid: 5, gid: 6, supplementaryGroups: []))
        #expect(throws: ImageUser.Failure.self) { try ImageUser.resolve("nobody", passwd: passwd, group: group) }
        #expect(throws: ImageUser.Failure.self) { try ImageUser.resolve("nginx:nogroup", passwd: passwd, group: group) }
    }
}
