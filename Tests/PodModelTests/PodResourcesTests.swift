import Testing

@testable import PodModel

/// A pod with pod-level `resources` (a YAML flow mapping) and the given containers' lines.
private func pod(_ resources: String, containers: String = "  - {name: app, image: busybox}\n", initContainers: String = "") -> String {
    var text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  resources: \(resources)\n"
    if !initContainers.isEmpty { text += "  initContainers:\n" + initContainers }
    return text + "  containers:\n" + containers
}

private func list(_ amounts: [String: Quantity]) -> [String: String] { amounts.mapValues(\.string) }

/// Pod-level resources (PodLevelResources): decoding, the API server's defaulting, its
/// validation messages, the QoS class and the pod cgroup's settings.
@Suite struct PodResourcesTests {
    // MARK: Defaulting (SetDefaults_Pod)

    @Test func requestsDefaultToTheLimitsWhenNoContainerRequests() throws {
        let p = try Fixture.pod(pod("{limits: {cpu: '1', memory: 128Mi}}"))
        let r = try #require(p.spec.resources)
        #expect(list(r.requests) == ["cpu": "1", "memory": "128Mi"])
        #expect(QOSClass(p.spec) == .guaranteed)
        // What is stored and shown is what the API server would store.
        #expect(r.json.serializedString() == #"{"limits":{"cpu":"1","memory":"128Mi"},"requests":{"cpu":"1","memory":"128Mi"}}"#)
    }

    @Test func requestsDefaultToWhatTheContainersRequestTogether() throws {
        let p = try Fixture.pod(pod("{limits: {memory: 1Gi}}", containers: """
              - {name: a, image: busybox, resources: {requests: {cpu: 100m, memory: 100Mi}}}
              - {name: b, image: busybox, resources: {requests: {cpu: 200m}}}

            """))
        let r = try #require(p.spec.resources)
        // Container requests exist for cpu and memory: the pod's are their totals, not the limit.
        #expect(list(r.requests) == ["cpu": "300m", "memory": "100Mi"])
        #expect(list(r.limits) == ["memory": "1Gi"])
        #expect(QOSClass(p.spec) == .burstable)
    }

    @Test func sidecarsAndInitContainersAddUpAsKEP753Says() throws {
        // Apps 200m + sidecar 100m = 300m; the init container after the sidecar needs
        // 500m + 100m = 600m while it runs: the larger wins.
        let spec = try Fixture.pod(pod("{limits: {cpu: '2'}}", containers: """
              - {name: app, image: busybox, resources: {requests: {cpu: 200m}}}

            """, initContainers: """
              - {name: side, image: busybox, restartPolicy: Always, resources: {requests: {cpu: 100m}}}
              - {name: setup, image: busybox, resources: {requests: {cpu: 500m}}}

            """)).spec
        #expect(ContainerResourceTotals.requests(spec)["cpu"]?.description == "600m")
        #expect(spec.resources?.requests["cpu"]?.string == "600m")
    }

    @Test func hugepageLimitsDefaultToTheContainersTotal() throws {
        let p = try Fixture.pod(pod("{limits: {memory: 1Gi}}", containers: """
              - {name: a, image: busybox, resources: {limits: {hugepages-2Mi: 4Mi, memory: 64Mi}}}
              - {name: b, image: busybox, resources: {limits: {hugepages-2Mi: 2Mi, memory: 64Mi}}}

            """))
        let r = try #require(p.spec.resources)
        #expect(list(r.limits) == ["hugepages-2Mi": "6Mi", "memory": "1Gi"])
        // Memory requested by the containers (defaulted from their limits): 128Mi.
        #expect(list(r.requests) == ["hugepages-2Mi": "6Mi", "memory": "128Mi"])
    }

    @Test func requestsAloneAreNotDefaultedAndDefaultingIsStable() throws {
        let p = try Fixture.pod(pod("{requests: {cpu: 500m}}"))
        #expect(list(p.spec.resources?.requests ?? [:]) == ["cpu": "500m"])
        #expect(p.spec.resources?.limits.isEmpty == true)
        #expect(QOSClass(p.spec) == .burstable)
        // A stored pod read back is the same pod.
        let defaulted = try Fixture.pod(pod("{limits: {memory: 1Gi}}", containers: "  - {name: a, image: busybox, resources: {requests: {memory: 10Mi}}}\n"))
        let again = try PodSpec(json: defaulted.spec.json)
        #expect(again == defaulted.spec)
    }

    // MARK: Validation (validatePodResources)

    @Test func claimsAreRefusedWithKubernetesMessage() throws {
        let error = Fixture.decodingError(pod("{claims: [{name: gpu}]}"))
        #expect(error?.description.contains("spec.resources.claims: Forbidden: claims cannot be set for Resources at pod-level") == true)
    }

    @Test func onlyCPUMemoryAndHugepagesMayBeSet() throws {
        #expect(try Fixture.validationMessages(pod("{limits: {ephemeral-storage: 1Gi, memory: 1Gi}}")) == [
            #"spec.resources.limits[ephemeral-storage]: Unsupported value: "ephemeral-storage": supported values: "cpu", "hugepages-", "memory""#,
        ])
        #expect(try Fixture.validationMessages(pod("{requests: {example.com/gpu: 1}}")) == [
            #"spec.resources.requests[example.com/gpu]: Unsupported value: "example.com/gpu": supported values: "cpu", "hugepages-", "memory""#,
        ])
        #expect(try Fixture.validationMessages(pod("{requests: {gpu: 1}}")) == [
            #"spec.resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified"#,
        ])
        #expect(try Fixture.validationMessages(pod("{requests: {pods: '1.5'}}")) == [
            #"spec.resources.requests[pods]: Unsupported value: "pods": supported values: "cpu", "hugepages-", "memory""#,
            #"spec.resources.requests[pods]: Invalid value: "1.5": must be an integer"#,
        ])
        #expect(try Fixture.validationMessages(pod("{limits: {cpu: '1', memory: 1Gi, hugepages-2Mi: 4Mi}}")).isEmpty)
    }

    @Test func requestAboveLimitAndNegativeAmounts() throws {
        #expect(try Fixture.validationMessages(pod("{requests: {cpu: '2'}, limits: {cpu: '1'}}")) == [
            #"spec.resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1"#,
        ])
        #expect(try Fixture.validationMessages(pod("{requests: {memory: -1}}")) == [
            #"spec.resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0"#,
        ])
    }

    @Test func hugepagesAreWholePagesNeverOvercommittedAndNeedCompute() throws {
        #expect(try Fixture.validationMessages(pod("{limits: {hugepages-2Mi: 4Mi}}")) == [
            "spec.resources: Forbidden: HugePages require cpu or memory",
        ])
        #expect(try Fixture.validationMessages(pod("{limits: {hugepages-2Mi: 3Mi, memory: 1Gi}}")) == [
            #"spec.resources.limits[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of hugepages-2Mi"#,
            #"spec.resources.requests[hugepages-2Mi]: Invalid value: "3Mi": 3Mi is not positive integer multiple of hugepages-2Mi"#,
        ])
        #expect(try Fixture.validationMessages(pod("{requests: {hugepages-2Mi: 4Mi, memory: 1Gi}}")) == [
            "spec.resources.limits: Required value: Limit must be set for non overcommitable resources",
        ])
        #expect(try Fixture.validationMessages(pod("{requests: {hugepages-2Mi: 2Mi}, limits: {hugepages-2Mi: 4Mi, memory: 1Gi}}")) == [
            #"spec.resources.requests: Invalid value: "2Mi": must be equal to hugepages-2Mi limit of 4Mi"#,
        ])
    }

    @Test func podRequestsCoverWhatTheContainersRequest() throws {
        #expect(try Fixture.validationMessages(pod("{requests: {cpu: '1'}}", containers: """
              - {name: a, image: busybox, resources: {requests: {cpu: '1'}}}
              - {name: b, image: busybox, resources: {requests: {cpu: 500m, ephemeral-storage: 1Gi}}}

            """)) == [
            #"spec.resources.requests[cpu]: Invalid value: "1": must be greater than or equal to aggregate container requests of 1500m"#,
        ])
        // KEP-2837's example 2: containers limited to 60Gi each default to requesting it, so
        // the pod's request defaults to 120Gi, above its 100Gi limit.
        #expect(try Fixture.validationMessages(pod("{limits: {memory: 100Gi}}", containers: """
              - {name: a, image: busybox, resources: {limits: {memory: 60Gi}}}
              - {name: b, image: busybox, resources: {limits: {memory: 60Gi}}}

            """)) == [
            #"spec.resources.requests: Invalid value: "120Gi": must be less than or equal to memory limit of 100Gi"#,
        ])
    }

    @Test func noContainerLimitAboveThePodLimit() throws {
        #expect(try Fixture.validationMessages(pod("{limits: {memory: 64Mi}, requests: {memory: 32Mi}}", containers: """
              - {name: a, image: busybox, resources: {limits: {memory: 128Mi}, requests: {memory: 16Mi}}}

            """)) == [
            #"spec.resources.containers[0][memory].limits: Invalid value: "128Mi": must be less than or equal to pod limits of 64Mi"#,
        ])
        #expect(try Fixture.validationMessages(pod("{limits: {memory: 64Mi, hugepages-2Mi: 2Mi}}", containers: """
              - {name: a, image: busybox, resources: {limits: {memory: 32Mi, hugepages-2Mi: 4Mi}}}

            """)).contains(#"spec.resources.limits[hugepages-2Mi]: Invalid value: "2Mi": must be greater than or equal to aggregate container limits of 4Mi"#))
    }

    // MARK: QoS (ComputePodQOS)

    @Test func qosComesFromThePodLevelAlone() throws {
        // Containers without resources, the pod guaranteed by its own.
        #expect(QOSClass(try Fixture.pod(pod("{limits: {cpu: 500m, memory: 64Mi}}")).spec) == .guaranteed)
        // Containers guaranteed, the pod's memory limit alone: Burstable.
        let spec = try Fixture.pod(pod("{limits: {memory: 1Gi}, requests: {memory: 1Gi}}", containers: """
              - {name: a, image: busybox, resources: {limits: {cpu: 100m, memory: 64Mi}}}

            """)).spec
        #expect(QOSClass(spec) == .burstable)
        // Only hugepages at the pod level count for nothing: BestEffort.
        var hugepagesOnly = try Fixture.pod(Fixture.minimal).spec
        hugepagesOnly.resources = PodResources(limits: ["hugepages-2Mi": try Quantity(parsing: "2Mi")])
        #expect(QOSClass(hugepagesOnly) == .bestEffort)
        // An empty resources stanza is no pod-level resources: the containers decide.
        #expect(QOSClass(try Fixture.pod(pod("{}", containers: "  - {name: a, image: busybox, resources: {limits: {cpu: 1, memory: 1Mi}}}\n")).spec) == .guaranteed)
    }

    @Test func amountsAreWrittenAsQuantityStringWritesThem() throws {
        func sum(_ texts: String...) throws -> String {
            var total = ResourceAmount(try Quantity(parsing: texts[0]))
            for text in texts.dropFirst() { total.add(ResourceAmount(try Quantity(parsing: text))) }
            return total.description
        }
        #expect(try sum("1", "500m") == "1500m")
        #expect(try sum("500m", "1") == "1500m")
        #expect(try sum("500m", "500m") == "1")
        #expect(try sum("64Mi", "64Mi") == "128Mi")
        #expect(try sum("1Gi", "512Mi") == "1536Mi")
        #expect(try sum("1G", "500M") == "1500M")
    }
}
