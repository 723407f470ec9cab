import Testing

@testable import PodModel

/// kubelet's GetContainerOOMScoreAdjust (pkg/kubelet/qos/policy.go) on the same pods.
@Suite struct OOMScoreAdjustTests {
    let gib: Int64 = 1 << 30

    private func spec(_ containers: String, initContainers: String = "") throws -> PodSpec {
        var text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
        if !initContainers.isEmpty { text += "  initContainers:\n" + initContainers }
        return try Fixture.pod(text + "  containers:\n" + containers).spec
    }

    @Test func classesAtTheirEnds() throws {
        let guaranteed = try spec("  - {name: a, image: busybox, resources: {limits: {cpu: '1', memory: 1Gi}}}\n")
        #expect(OOMScoreAdjust.container(named: "a", of: guaranteed, memoryCapacity: 4 * gib) == -997)
        let bestEffort = try spec("  - {name: a, image: busybox}\n")
        #expect(OOMScoreAdjust.container(named: "a", of: bestEffort, memoryCapacity: 4 * gib) == 1000)
    }

    @Test func burstableByItsShareOfTheMachine() throws {
        let s = try spec("""
              - {name: quarter, image: busybox, resources: {requests: {memory: 1Gi}}}
              - {name: none, image: busybox, resources: {requests: {cpu: 100m}}}
              - {name: all, image: busybox, resources: {requests: {memory: 8Gi}}}

            """)
        #expect(OOMScoreAdjust.container(named: "quarter", of: s, memoryCapacity: 4 * gib) == 750)
        // No memory request: just above BestEffort's survivors, never 1000.
        #expect(OOMScoreAdjust.container(named: "none", of: s, memoryCapacity: 4 * gib) == 999)
        // More than the machine: kept above every Guaranteed container.
        #expect(OOMScoreAdjust.container(named: "all", of: s, memoryCapacity: 4 * gib) == 3)
        // An ephemeral container (or an unknown name) requests nothing.
        #expect(OOMScoreAdjust.container(named: "debugger", of: s, memoryCapacity: 4 * gib) == 999)
    }

    @Test func aSidecarGoesNoSoonerThanTheSmallestAppContainer() throws {
        let s = try spec("  - {name: app, image: busybox, resources: {requests: {memory: 2Gi}}}\n", initContainers: """
              - {name: proxy, image: busybox, restartPolicy: Always, resources: {requests: {memory: 100Mi}}}
              - {name: setup, image: busybox}

            """)
        #expect(OOMScoreAdjust.container(named: "proxy", of: s, memoryCapacity: 4 * gib) == 500)
        #expect(OOMScoreAdjust.container(named: "setup", of: s, memoryCapacity: 4 * gib) == 999)
        #expect(OOMScoreAdjust.container(named: "app", of: s, memoryCapacity: 4 * gib) == 500)
    }
}
