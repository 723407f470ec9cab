import PodModel
import Synchronization
import Testing

@testable import PodAPI

/// Server-side printing and field validation, without a daemon.
@Suite struct TableTests {
    @Test func theFormAnAcceptHeaderAsksFor() throws {
        let kubectl = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        #expect(try ResponseForm(accept: kubectl) == .table(apiVersion: "meta.k8s.io/v1"))
        #expect(try ResponseForm(accept: "application/json;as=Table;v=v1beta1;g=meta.k8s.io") == .table(apiVersion: "meta.k8s.io/v1beta1"))
        #expect(try ResponseForm(accept: "application/json; as=Table; g=meta.k8s.io; v=v1") == .table(apiVersion: "meta.k8s.io/v1"))
        #expect(try ResponseForm(accept: "application/json;as=Table;v=v2;g=meta.k8s.io,application/json") == .object)
        #expect(try ResponseForm(accept: nil) == .object)
        #expect(try ResponseForm(accept: "*/*") == .object)
        #expect(try ResponseForm(accept: "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io") == .metadata(apiVersion: "meta.k8s.io/v1"))
        #expect(throws: StatusError.self) { try ResponseForm(accept: "application/json;as=Table;v=v2;g=meta.k8s.io") }
        #expect(throws: StatusError.self) { try ResponseForm(accept: "application/vnd.kubernetes.protobuf") }
    }

    @Test func aPodRowHasTheAPIServersCells() throws {
        let pod = try JSONValue.parse(Array("""
            {"metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
             "status": {"phase": "Running", "hostIP": "127.0.0.1", "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [{"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                                              {"name": "b", "ready": false, "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
            """.utf8))
        let now = 1_767_225_600.0 + 90  // 90 s after creation
        let builder = TableBuilder(kind: .pods(node: "box"), apiVersion: "meta.k8s.io/v1", include: .metadata, clock: { now })
        let table = builder.table([pod], resourceVersion: "5")
        let row = try #require(table["rows"]?[0])
        #expect(row["cells"] == ["web", "1/2", "CrashLoopBackOff", "2", "90s", "<none>", "box", "<none>", "<none>"])
        #expect(row["object"]?["kind"] == "PartialObjectMetadata")
        #expect(table["columnDefinitions"]?.arrayValue?.count == 9)
        #expect(builder.table([pod], resourceVersion: nil, withColumns: false)["columnDefinitions"] == nil)
    }

    /// A watch builds a table per event from one builder: each must take the time it is built,
    /// not the time the watch opened (kubectl showed later rows' ages as `<invalid>`).
    @Test func eachTableTakesTheTimeItIsBuilt() throws {
        let created = 1_767_225_600.0  // 2026-01-01T00:00:00Z
        let pod = try JSONValue.parse(Array("""
            {"metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2026-01-01T00:00:00Z"},
             "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Running"}}
            """.utf8))
        let clock = Mutex(created + 5)
        let builder = TableBuilder(kind: .pods(node: "box"), apiVersion: "meta.k8s.io/v1", include: .none,
                                   clock: { clock.withLock { $0 } })
        #expect(builder.table([pod], resourceVersion: nil)["rows"]?[0]?["cells"]?[4] == "5s")
        clock.withLock { $0 = created + 125 }
        #expect(builder.table([pod], resourceVersion: nil, withColumns: false)["rows"]?[0]?["cells"]?[4] == "2m5s")
        let event = try JSONValue.parse(Array("""
            {"metadata": {"name": "web.1"}, "type": "Normal", "reason": "Started", "involvedObject": {"kind": "Pod", "name": "web"},
             "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:01:00Z", "count": 2}
            """.utf8))
        let events = TableBuilder(kind: .events, apiVersion: "meta.k8s.io/v1", include: .none, clock: { clock.withLock { $0 } })
        #expect(events.table([event], resourceVersion: nil)["rows"]?[0]?["cells"]?[0] == "65s")
    }

    @Test func anImageRowIsPodmansFigures() throws {
        let image = try JSONValue.parse(Array("""
            {"metadata": {"name": "localhost/busybox:latest"}, "Id": "sha256:0123456789abcdef0123",
             "RepoTags": ["localhost/busybox:latest", "localhost/mytag:1"], "Digest": "sha256:feed",
             "Created": "2026-01-01T00:00:00Z", "Size": 4271000}
            """.utf8))
        let builder = TableBuilder(kind: .images, apiVersion: "meta.k8s.io/v1", include: .none, clock: { 1_767_225_600 + 3 * 86400 })
        let table = builder.table([image], resourceVersion: "")
        #expect(table["rows"]?[0]?["cells"] == ["localhost/busybox:latest", "0123456789ab", "4.27 MB", "3d", "sha256:feed",
                                                "localhost/busybox:latest,localhost/mytag:1"])
        #expect(table["columnDefinitions"]?.arrayValue?.filter { $0["priority"] == 0 }.count == 4)
        let untagged = try JSONValue.parse(Array(#"{"metadata": {"name": "0123"}, "Id": "sha256:0123", "RepoTags": []}"#.utf8))
        #expect(builder.table([untagged], resourceVersion: "")["rows"]?[0]?["cells"]?[5] == "<none>")
    }

    @Test func aPodMetricsRowIsWhatKubectlTopPrints() throws {
        let metrics = try JSONValue.parse(Array("""
            {"metadata": {"name": "web", "namespace": "default"}, "window": "1.002s",
             "containers": [{"name": "a", "usage": {"cpu": "5000000n", "memory": "10240Ki"}},
                            {"name": "b", "usage": {"cpu": "250000000n", "memory": "3072Ki"}}]}
            """.utf8))
        let builder = TableBuilder(kind: .podMetrics, apiVersion: "meta.k8s.io/v1", include: .metadata, clock: { 0 })
        let row = try #require(builder.table([metrics], resourceVersion: "")["rows"]?[0])
        #expect(row["cells"] == ["web", "255m", "13Mi", "1.002s"])
        #expect(row["object"]?["metadata"]?["name"] == "web")
        let top = PodMetricsRow(metrics)
        #expect(top.containers.map(\.cpu) == ["5m", "250m"] && top.containers.map(\.memory) == ["10Mi", "3Mi"])
    }

    @Test func unknownFieldsAreFoundAndDropped() throws {
        let steps = try #require(FieldValidation.steps("spec.containers[0].colour"))
        #expect(steps.count == 4)
        #expect(FieldValidation.steps("spec..x") == nil)
        let pod = try JSONValue.parse(Array("""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "colour": "red"},
             "spec": {"containers": [{"name": "a", "image": "busybox", "shade": 1}]}}
            """.utf8))
        let (document, dropped) = FieldValidation.droppingUnknownFields(pod)
        #expect(Set(dropped) == ["metadata.colour", "spec.containers[0].shade"])
        #expect(document["metadata"]?["colour"] == nil && document["spec"]?["containers"]?[0]?["shade"] == nil)
        #expect(document["spec"]?["containers"]?[0]?["image"] == "busybox")
    }

    @Test func theServedOpenAPIDocumentsReadTheEmbeddedFile() throws {
        #expect(OpenAPIDocuments.source != nil)
        let v3 = try JSONValue.parse(try #require(OpenAPIDocuments.v3ByGroupVersion["api/v1"]).bytes)
        let patch = try #require(v3["paths"]?["/api/v1/namespaces/{namespace}/pods/{name}"]?["patch"])
        #expect(patch["parameters"]?.arrayValue?.contains { $0["name"] == "fieldValidation" && $0["in"] == "query" } == true)
        // /openapi/v3 describes every group-version /api and /apis list, each with its paths.
        let discovery = try JSONValue.parse(OpenAPIDocuments.v3Discovery)
        #expect(discovery["paths"]?.objectValue?.keys.sorted() == ["api/v1", "apis/authentication.k8s.io/v1", "apis/authorization.k8s.io/v1",
                                                                  "apis/metrics.k8s.io/v1beta1", "apis/podd.io/v1", "apis/policy/v1",
                                                                  "apis/scheduling.k8s.io/v1"])
        let policy = try JSONValue.parse(try #require(OpenAPIDocuments.v3ByGroupVersion["apis/policy/v1"]).bytes)
        let budgetPatch = try #require(policy["paths"]?["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}"]?["patch"])
        #expect(budgetPatch["x-kubernetes-group-version-kind"]?["kind"] == "PodDisruptionBudget")
        let metrics = try JSONValue.parse(try #require(OpenAPIDocuments.v3ByGroupVersion["apis/metrics.k8s.io/v1beta1"]).bytes)
        #expect(metrics["paths"]?["/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods"]?["get"] != nil)
        #expect(metrics["paths"]?.objectValue?.keys.allSatisfy { $0.hasPrefix("/apis/metrics.k8s.io/v1beta1") } == true)
        let v2 = try JSONValue.parse(try #require(OpenAPIDocuments.v2).bytes)
        #expect(v2["definitions"]?["Pod"] != nil && v2["swagger"] == "2.0")
        // kubectl's form of v2: gnostic's Document, "2.0" first (field 1, 3 bytes).
        #expect(try #require(OpenAPIDocuments.v2Protobuf).bytes.prefix(5) == [0x0A, 0x03, 0x32, 0x2E, 0x30])
    }

    @Test func schemasAreWrittenByGnosticsFieldNumbers() throws {
        let schema = try JSONValue.parse(Array(##"{"type":"object","required":["a"],"properties":{"a":{"$ref":"#/definitions/B"}},"additionalProperties":false,"maxLength":-1,"x-k":[1]}"##.utf8))
        let bytes = OpenAPIProtobuf.schema(schema).bytes
        // type (22) TypeItem{"object"}, required (19) "a", properties (25) {NamedSchema{"a", {$ref (1)}}},
        // additionalProperties (21) {boolean (2) false, written}, maxLength (11) -1 in ten bytes,
        // x-k (31) NamedAny{"x-k", Any{yaml (2) "[1]"}}.
        let expected: [UInt8] = [0xB2, 0x01, 0x08, 0x0A, 0x06] + Array("object".utf8)
            + [0x9A, 0x01, 0x01, 0x61]
            + [0xCA, 0x01, 0x18, 0x0A, 0x16, 0x0A, 0x01, 0x61, 0x12, 0x11, 0x0A, 0x0F] + Array("#/definitions/B".utf8)
            + [0xAA, 0x01, 0x02, 0x10, 0x00]
            + [0x58, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
            + [0xFA, 0x01, 0x0C, 0x0A, 0x03] + Array("x-k".utf8) + [0x12, 0x05, 0x12, 0x03] + Array("[1]".utf8)
        #expect(bytes == expected)
    }
}
