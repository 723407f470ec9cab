import Testing

@testable import PodModel

/// The pod cgroup's settings with pod-level resources (kubelet's ResourceConfigForPod).
@Suite struct PodResourcesCgroupTests {
    private func podSpec(_ resources: String, containers: String) throws -> PodSpec {
        try Fixture.pod("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  resources: \(resources)\n  containers:\n" + containers).spec
    }

    @Test func thePodGroupTakesThePodLevelLimits() throws {
        let spec = try podSpec("{limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 250m}}", containers: """
              - {name: a, image: busybox}
              - {name: b, image: busybox, resources: {limits: {memory: 32Mi}}}

            """)
        let limits = CgroupLimits.pod(spec, pidsLimit: 4096)
        #expect(limits.memoryBytes == 64 << 20)
        #expect(limits.cpuQuotaMicros == 50_000)
        #expect(limits.cpuMax == "50000 100000")
        #expect(limits.cpuShares == 256)
        #expect(limits.cpuWeight == 10)   // 1 + (256 − 2) × 9999 / 262142
        #expect(limits.pidsMax == 4096)
        // A container keeps its own limit; one without gets the pod's (kubelet's
        // getMemoryLimit, getCPULimit), its shares following that cpu limit.
        let capped = CgroupLimits.container(spec.containers[1].resources, podLevel: spec.resources)
        #expect(capped.memoryBytes == 32 << 20)
        #expect(capped.cpuQuotaMicros == 50_000)
        let free = CgroupLimits.container(spec.containers[0].resources, podLevel: spec.resources)
        #expect(free.memoryBytes == 64 << 20 && free.cpuQuotaMicros == 50_000 && free.cpuShares == 512)
        // Without pod-level resources nothing changes: no settings, the pod's group holds it.
        #expect(CgroupLimits.container(spec.containers[0].resources, podLevel: nil).isEmpty)
    }

    @Test func podLevelRequestsAloneSetOnlyTheShares() throws {
        let spec = try podSpec("{requests: {cpu: '2', memory: 1Gi}}", containers: "  - {name: app, image: busybox}\n")
        let limits = CgroupLimits.pod(spec, pidsLimit: -1)
        #expect(limits.cpuShares == 2048)
        #expect(limits.memoryBytes == nil && limits.cpuQuotaMicros == nil && limits.pidsMax == nil)
    }

    @Test func thePodLimitReplacesTheContainersTotal() throws {
        // Each container limited: kubelet would give the pod their sum (64Mi); the pod's own
        // limit (48Mi) replaces it, and so do its hugepages.
        let spec = try podSpec("{limits: {memory: 48Mi, hugepages-2Mi: 4Mi}}", containers: """
              - {name: a, image: busybox, resources: {limits: {memory: 32Mi, cpu: 100m}}}
              - {name: b, image: busybox, resources: {limits: {memory: 32Mi, cpu: 100m, hugepages-2Mi: 2Mi}}}

            """)
        let limits = CgroupLimits.pod(spec, pidsLimit: 0)
        #expect(limits.memoryBytes == 48 << 20)
        // cpu is the containers' business: their quota and shares stay.
        #expect(limits.cpuQuotaMicros == 20_000)
        #expect(limits.cpuShares == 204)
        #expect(limits.hugepages == [CgroupLimits.HugepageLimit(pageSize: 2 << 20, bytes: 4 << 20)])
    }
}
