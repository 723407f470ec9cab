import Glibc
import PodModel
import PodOS
import Testing
@testable import PodRuntime

/// Which hostPath volumes a pod may mount: never the host's root nor podd's own directories
/// (through symlinks too), and only under hostPathAllow when it is set.
struct HostPathPolicyTests {
    func scratch() throws -> String {
        var template = Array("/tmp/hostpath-XXXXXX".utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let dir = mkdtemp(base) else { return nil }
            return String(cString: dir)
        }
        guard let made else { throw OSError("mkdtemp", code: errno) }
        return made
    }

    func config(_ root: String, allow: [String] = []) -> PoddConfig {
        var config = PoddConfig()
        config.stateDir = root + "/state"
        config.runDir = root + "/run"
        config.manifestsDir = root + "/pods.d"
        config.socket = root + "/podd.sock"
        config.hostPathAllow = allow
        return config
    }

    @Test func theRootAndPoddsOwnDirectoriesAreRefusedThroughSymlinksToo() throws {
        let root = try scratch()
        defer { try? FileSystem.removeTree(root) }
        mkdir(root + "/state", 0o755)
        symlink("/", root + "/to-root")
        symlink(root + "/state", root + "/to-state")
        let policy = HostPathPolicy(config: config(root))
        #expect(policy.refusal("/") != nil)
        #expect(policy.refusal(root + "/to-root") != nil)
        #expect(policy.refusal(root + "/to-root/tmp/..") != nil)
        #expect(policy.refusal(root + "/state/pods") != nil)
        #expect(policy.refusal(root + "/to-state") != nil)
        #expect(policy.refusal(root) != nil)                       // holds them
        #expect(policy.refusal(root + "/podd.sock") != nil)
        #expect(policy.refusal(root + "/data") == nil)             // a sibling, not yet made
        #expect(policy.refusal(root + "/state/../data") == nil)
    }

    @Test func hostPathAllowLimitsWhatMayBeMounted() throws {
        let root = try scratch()
        defer { try? FileSystem.removeTree(root) }
        mkdir(root + "/data", 0o755)
        symlink(root + "/data", root + "/to-data")
        let policy = HostPathPolicy(config: config(root, allow: [root + "/data"]))
        #expect(policy.refusal(root + "/data/x") == nil)
        #expect(policy.refusal(root + "/to-data") == nil)
        #expect(policy.refusal(root + "/other")?.contains("hostPathAllow") == true)
        #expect(policy.refusal(root + "/data/../other") != nil)
    }

    @Test func theConfigKeyTakesAbsolutePathsOnly() throws {
        let config = try PoddConfig.parse("hostPathAllow: [/srv/data, /var/log]\n", source: "test")
        #expect(config.hostPathAllow == ["/srv/data", "/var/log"])
        #expect(throws: PoddConfig.ConfigError.self) { try PoddConfig.parse("hostPathAllow: [srv]\n", source: "test") }
        #expect(throws: PoddConfig.ConfigError.self) { try PoddConfig.parse("hostPathAllow: /srv\n", source: "test") }
    }
}
