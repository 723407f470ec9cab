import PodRuntime
import Testing

@testable import PodAPI

/// The API's limits from podd's configuration, and who may call.
@Suite struct ConfigAndCallerTests {
    @Test func apiAndImageKeys() throws {
        let config = try PoddConfig.parse("""
            api: {maxConnections: 8, idleTimeout: 2s, requestHeaderTimeout: 500ms}
            images: {maxUploadBytes: 1048576, maxParallelPulls: 2}
            """, source: "test.yaml")
        let limits = ConnectionLimits(config.api)
        #expect(limits.maxConnections == 8)
        #expect(limits.idleTimeout == 2)
        #expect(limits.requestHeaderTimeout == 0.5)
        #expect(config.maxImageUploadBytes == 1 << 20)
        #expect(config.maxParallelImagePulls == 2)
    }

    @Test func defaults() throws {
        let config = try PoddConfig.parse("", source: "test.yaml")
        #expect(config.api.maxConnections == 1024)
        #expect(config.api.idleTimeout == 120)
        #expect(config.api.requestHeaderTimeout == 10)
        #expect(config.maxImageUploadBytes == 16 << 30)
        #expect(config.maxParallelImagePulls == 4)
    }

    @Test func badValuesAreNamed() {
        for (text, named) in [("api: {maxConnections: 0}", "api.maxConnections"), ("api: {idleTimeout: soon}", "api.idleTimeout"),
                              ("api: {backlog: 3}", "api.backlog"), ("images: {maxUploadBytes: -1}", "images.maxUploadBytes"),
                              ("images: {limit: 3}", "images.limit"), ("images: {maxParallelPulls: 0}", "images.maxParallelPulls")] {
            do {
                _ = try PoddConfig.parse(text, source: "test.yaml")
                Issue.record("accepted \(text)")
            } catch {
                #expect(error.message.contains(named), "\(error.message)")
            }
        }
    }

    @Test func callers() {
        let rootOnly = CallerCheck(allowedGroup: nil)
        #expect(rootOnly.allows(PeerCredentials(pid: 1, uid: 0, gid: 0)))
        #expect(!rootOnly.allows(PeerCredentials(pid: 1, uid: 1000, gid: 1000)))
        let group = CallerCheck(allowedGroup: 4242)
        #expect(group.allows(PeerCredentials(pid: 1, uid: 1000, gid: 4242)))
        // pid 1 (init, root) is in no group 4242: supplementary groups are read from /proc.
        #expect(!group.allows(PeerCredentials(pid: 1, uid: 1000, gid: 1000)))
        #expect(CallerCheck.refusal(PeerCredentials(pid: 1, uid: 1000, gid: 1000)).contains("uid 1000"))
    }
}
