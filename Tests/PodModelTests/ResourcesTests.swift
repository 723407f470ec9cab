import Testing

@testable import PodModel

/// A one-container pod whose container has `resources` (a YAML flow mapping).
private func pod(resources: String, more: String = "") -> String {
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: app, image: busybox, resources: \(resources)}\n\(more)"
}

@Suite struct ResourceRequirementsTests {
    @Test func requestsDefaultToLimitsAsTheAPIServerDoes() throws {
        let p = try Fixture.pod(pod(resources: "{limits: {cpu: 500m, memory: 64Mi}, requests: {cpu: 100m}}"))
        let r = p.spec.containers[0].resources
        #expect(r.requests["cpu"]?.string == "100m")
        #expect(r.requests["memory"]?.string == "64Mi")
        #expect(r.json.serializedString() == #"{"limits":{"cpu":"500m","memory":"64Mi"},"requests":{"cpu":"100m","memory":"64Mi"}}"#)
    }

    @Test func milliValuesAreExact() throws {
        #expect(try Quantity(parsing: "100m").milliValue == 100)
        #expect(try Quantity(parsing: "0.5").milliValue == 500)
        #expect(try Quantity(parsing: "2").milliValue == 2000)
        #expect(try Quantity(parsing: "1.5e-3").milliValue == 2)
        #expect(try Quantity(parsing: "1Ki").milliValue == 1_024_000)
        #expect(try Quantity(parsing: "1k").milliValue == 1_000_000)
        #expect(Quantity.compare(try Quantity(parsing: "0.1"), try Quantity(parsing: "100m")) == 0)
    }

    @Test func requestAboveLimitIsKubernetesMessage() throws {
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {memory: 64Mi}, requests: {memory: 128Mi}}")) == [
            #"spec.containers[0].resources.requests: Invalid value: "128Mi": must be less than or equal to memory limit of 64Mi"#,
        ])
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {cpu: 100m}, requests: {cpu: '0.2'}}")) == [
            #"spec.containers[0].resources.requests: Invalid value: "0.2": must be less than or equal to cpu limit of 100m"#,
        ])
    }

    @Test func unknownAndExtendedNamesAndNegativeAmounts() throws {
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {gpu: 1}}")) == [
            #"spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers"#,
            #"spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers"#,
        ])
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {nvidia.com/gpu: 1}}")) == [
            "spec.containers[0].resources.limits[nvidia.com/gpu]: Forbidden: not supported by podd",
            "spec.containers[0].resources.requests[nvidia.com/gpu]: Forbidden: not supported by podd",
        ])
        #expect(try Fixture.validationMessages(pod(resources: "{requests: {cpu: -1}}")) == [
            #"spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0"#,
        ])
    }

    @Test func hugepagesNeedComputeAndWholePages() throws {
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {hugepages-2Mi: 4Mi}}")) == [
            "spec.containers[0].resources.limits: Forbidden: HugePages require cpu or memory",
        ])
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {hugepages-2Mi: 3Mi, memory: 64Mi}}")) == [
            #"spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of 2Mi"#,
            #"spec.containers[0].resources.requests[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of 2Mi"#,
        ])
        #expect(try Fixture.validationMessages(pod(resources: "{limits: {hugepages-2Mi: 4Mi, memory: 64Mi}}")).isEmpty)
    }

    @Test func ephemeralContainersMayNotHaveResources() throws {
        let yaml = pod(resources: "{}", more: "  ephemeralContainers:\n  - {name: dbg, image: busybox, resources: {limits: {cpu: 1}}}\n")
        #expect(try Fixture.validationMessages(yaml, allowEphemeralContainers: true) == [
            "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container",
        ])
    }

    @Test func claimsAreRefused() throws {
        let error = Fixture.decodingError(pod(resources: "{claims: [{name: gpu}]}"))
        #expect(error.map { "\($0)" }?.contains("spec.containers[0].resources.claims: Forbidden: not supported by podd") == true)
    }
}

@Suite struct QOSClassTests {
    private func qos(_ containers: String) throws -> QOSClass {
        QOSClass(try Fixture.pod("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n\(containers)").spec)
    }

    @Test func classesAsKubernetes() throws {
        #expect(try qos("  - {name: a, image: busybox}") == .bestEffort)
        #expect(try qos("  - {name: a, image: busybox, resources: {limits: {cpu: 1, memory: 1Gi}}}") == .guaranteed)
        #expect(try qos("  - {name: a, image: busybox, resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 500m}}}") == .burstable)
        #expect(try qos("  - {name: a, image: busybox, resources: {limits: {cpu: 1}}}") == .burstable)
        #expect(try qos("  - {name: a, image: busybox, resources: {requests: {memory: 0}}}") == .bestEffort)
        #expect(try qos("  - {name: a, image: busybox, resources: {limits: {cpu: 1, memory: 1Gi}}}\n  - {name: b, image: busybox}") == .burstable)
        #expect(try qos("  - {name: a, image: busybox, resources: {limits: {cpu: '1', memory: 1Gi}, requests: {cpu: 1000m}}}") == .guaranteed)
    }
}

@Suite struct CgroupLimitsTests {
    @Test func sharesWeightAndQuotaAsKubelet() {
        #expect(CgroupLimits.shares(milliCPU: 0) == 2)
        #expect(CgroupLimits.shares(milliCPU: 1) == 2)
        #expect(CgroupLimits.shares(milliCPU: 100) == 102)
        #expect(CgroupLimits.shares(milliCPU: 1000) == 1024)
        #expect(CgroupLimits.shares(milliCPU: 1_000_000) == 262_144)
        #expect(CgroupLimits.weight(shares: 2) == 1)
        #expect(CgroupLimits.weight(shares: 102) == 4)
        #expect(CgroupLimits.weight(shares: 1024) == 39)
        #expect(CgroupLimits.weight(shares: 262_144) == 10_000)
        #expect(CgroupLimits.quota(milliCPU: 200) == 20_000)
        #expect(CgroupLimits.quota(milliCPU: 1) == 1_000)
        #expect(CgroupLimits.quota(milliCPU: 0) == nil)
        #expect(CgroupLimits.hugetlbSizeName(2 << 20) == "2MB")
        #expect(CgroupLimits.hugetlbSizeName(1 << 30) == "1GB")
    }

    @Test func containerAndPodLimits() throws {
        let p = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              initContainers:
              - {name: i, image: busybox, resources: {limits: {cpu: 2, memory: 256Mi}}}
              containers:
              - {name: a, image: busybox, resources: {limits: {cpu: 200m, memory: 64Mi}, requests: {cpu: 100m}}}
              - {name: b, image: busybox, resources: {limits: {cpu: 300m, memory: 32Mi}}}
            """)
        let a = CgroupLimits.container(p.spec.containers[0].resources)
        #expect(a == CgroupLimits(memoryBytes: 64 << 20, cpuQuotaMicros: 20_000, cpuShares: 102))
        #expect(a.cpuMax == "20000 100000")
        let pod = CgroupLimits.pod(p.spec, pidsLimit: 4096)
        #expect(pod == CgroupLimits(memoryBytes: 256 << 20, cpuQuotaMicros: 200_000, cpuShares: 409, pidsMax: 4096))
        #expect(CgroupLimits.container(ResourceRequirements()).isEmpty)
        #expect(CgroupLimits.pod(p.spec, pidsLimit: -1).pidsMax == nil)
    }
}

@Suite struct EphemeralStorageTests {
    @Test func limitsAndRequestsAreAcceptedAndALimitBelowItsRequestIsNot() throws {
        let yaml = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: app, image: busybox, resources: RES}\n"
        #expect(try Fixture.validationMessages(yaml.replacingOccurrences(of: "RES", with: "{limits: {ephemeral-storage: 10Mi}}")).isEmpty)
        #expect(try Fixture.validationMessages(yaml.replacingOccurrences(of: "RES", with: "{requests: {ephemeral-storage: 10Mi}}")).isEmpty)
        #expect(try Fixture.validationMessages(yaml.replacingOccurrences(of: "RES", with: "{limits: {ephemeral-storage: 1Mi}, requests: {ephemeral-storage: 2Mi}}")) == [
            "spec.containers[0].resources.requests: Invalid value: \"2Mi\": must be less than or equal to ephemeral-storage limit of 1Mi",
        ])
    }
}
