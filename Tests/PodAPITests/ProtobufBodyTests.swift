import PodModel
import Testing

@testable import PodAPI

/// kubectl's protobuf bodies (`kubectl create configmap|secret`) read as the JSON object the
/// same request would have sent; everything else refused with a message that says what to send.
@Suite struct ProtobufBodyTests {
    /// The body kubectl 1.32 sent for `kubectl create configmap settings --from-literal k=v
    /// --from-literal=x=yz`, byte for byte.
    static let kubectlConfigMap: [UInt8] = [
        0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09, 0x43, 0x6f, 0x6e, 0x66, 0x69, 0x67,
        0x4d, 0x61, 0x70, 0x12, 0x2b, 0x0a, 0x18, 0x0a, 0x08, 0x73, 0x65, 0x74, 0x74, 0x69, 0x6e, 0x67, 0x73, 0x12,
        0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00, 0x38, 0x00, 0x42, 0x00, 0x12, 0x06, 0x0a, 0x01, 0x6b,
        0x12, 0x01, 0x76, 0x12, 0x07, 0x0a, 0x01, 0x78, 0x12, 0x02, 0x79, 0x7a, 0x1a, 0x00, 0x22, 0x00,
    ]

    // A minimal encoder for the cases below.
    static func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(payload.count)) + payload }
    static func field(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }
    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }
    static func entry(_ number: Int, _ key: String, _ value: [UInt8]) -> [UInt8] { field(number, field(1, key) + field(2, value)) }
    static func envelope(kind: String, apiVersion: String = "v1", _ raw: [UInt8]) -> [UInt8] {
        [0x6b, 0x38, 0x73, 0x00] + field(1, field(1, apiVersion) + field(2, kind)) + field(2, raw)
    }

    @Test func kubectlsConfigMapReadsAsItsJSON() throws {
        let json = try ProtobufBody.json(Self.kubectlConfigMap)
        #expect(json == JSONValue.object(JSONObject([
            ("apiVersion", "v1"), ("kind", "ConfigMap"),
            ("metadata", .object(JSONObject([("name", "settings")]))),
            ("data", .object(JSONObject([("k", "v"), ("x", "yz")]))),
        ])))
    }

    /// A Pod as kubectl debug --copy-to sends it: Go writes every non-pointer field, so the
    /// empty strings go, while a pointer's 0 and false (runAsUser 0, hostUsers false) stay;
    /// inlined messages (a volume's source, a probe's handler) are inlined in the JSON.
    @Test func aPodReadsAsItsJSON() throws {
        let probe = Self.field(1, Self.field(3, Self.field(1, Self.field(1, varint: 1) + Self.field(3, "http"))))
            + Self.field(4, varint: 2)
        let container = Self.field(1, "app") + Self.field(2, "busybox") + Self.field(3, "sleep") + Self.field(3, "3600")
            + Self.field(8, Self.entry(1, "memory", Self.field(1, "64Mi"))) + Self.field(10, probe)
            + Self.field(15, Self.field(4, varint: 0)) + Self.field(13, "") + Self.field(16, varint: 0)
        let volume = Self.field(1, "scratch") + Self.field(2, Self.field(2, []))
        let spec = Self.field(1, volume) + Self.field(2, container) + Self.field(4, varint: 0) + Self.field(6, "")
            + Self.field(37, varint: 0)
        let json = try ProtobufBody.json(Self.envelope(kind: "Pod", Self.field(1, Self.field(1, "pb")) + Self.field(2, spec) + Self.field(3, [])))
        #expect(json["kind"]?.stringValue == "Pod" && json["metadata"]?["name"]?.stringValue == "pb")
        let podSpec = try #require(json["spec"])
        #expect(podSpec["terminationGracePeriodSeconds"] == .int(0) && podSpec["hostUsers"] == .bool(false))
        #expect(podSpec["dnsPolicy"] == nil)
        #expect(podSpec["volumes"] == .array([.object(JSONObject([("name", "scratch"), ("emptyDir", .object(JSONObject()))]))]))
        let app = try #require(podSpec["containers"]?.arrayValue?.first)
        #expect(app["command"] == .array(["sleep", "3600"]) && app["terminationMessagePath"] == nil && app["stdin"] == .bool(false))
        #expect(app["resources"]?["limits"]?["memory"]?.stringValue == "64Mi")
        #expect(app["livenessProbe"]?["tcpSocket"]?["port"]?.stringValue == "http" && app["livenessProbe"]?["periodSeconds"] == .int(2))
        #expect(app["securityContext"]?["runAsUser"] == .int(0))
        // It decodes as the JSON body would.
        let pod = try PodManifest.decodePod(json)
        #expect(pod.spec.containers.first?.resources.limits["memory"] != nil && pod.spec.hostUsers == false)
    }

    @Test func aPodFieldTheSchemaLacksIsRefusedUnlessEmpty() throws {
        let spec = Self.field(2, Self.field(1, "app") + Self.field(2, "busybox") + Self.field(900, varint: 0))
        #expect(try ProtobufBody.json(Self.envelope(kind: "Pod", Self.field(2, spec)))["spec"]?["containers"] != nil)
        let unknown = Self.field(2, Self.field(1, "app") + Self.field(900, "x"))
        #expect(throws: StatusError.self) { _ = try ProtobufBody.json(Self.envelope(kind: "Pod", Self.field(2, unknown))) }
    }

    @Test func aSecretsBytesAreBase64AndItsMetadataKept() throws {
        let meta = Self.field(1, "tls") + Self.field(3, "apps") + Self.entry(11, "app", Array("web".utf8))
            + Self.entry(12, "note", Array("é".utf8)) + Self.field(14, "example.com/keep")
            + Self.field(5, "uid-from-client") + Self.field(8, Self.field(1, varint: 5))
        let raw = Self.field(1, meta) + Self.entry(2, "tls.key", [0x00, 0xFF, 0x10]) + Self.field(3, "kubernetes.io/tls")
            + Self.entry(4, "extra", Array("plain".utf8)) + Self.field(5, varint: 1)
        let json = try ProtobufBody.json(Self.envelope(kind: "Secret", raw))
        #expect(json["metadata"] == .object(JSONObject([
            ("name", "tls"), ("namespace", "apps"), ("labels", .object(JSONObject([("app", "web")]))),
            ("annotations", .object(JSONObject([("note", "é")]))), ("finalizers", .array(["example.com/keep"])),
        ])))
        #expect(json["data"]?["tls.key"]?.stringValue == "AP8Q")
        #expect(json["stringData"]?["extra"]?.stringValue == "plain")
        #expect(json["type"]?.stringValue == "kubernetes.io/tls")
        #expect(json["immutable"] == .bool(true))
        #expect(json["kind"]?.stringValue == "Secret")
    }

    @Test func aConfigMapsBinaryDataIsBase64() throws {
        let raw = Self.field(1, Self.field(1, "bin")) + Self.entry(3, "b", [0x00, 0xFF])
        let json = try ProtobufBody.json(Self.envelope(kind: "ConfigMap", raw))
        #expect(json["binaryData"]?["b"]?.stringValue == "AP8=")
        #expect(json["data"] == nil)
    }

    /// The body kubectl 1.32 sent for `kubectl auth can-i get pods`, byte for byte: a
    /// SelfSubjectAccessReview of authorization.k8s.io/v1, with the empty status it always sends.
    static let kubectlAccessReview: [UInt8] = [
        0x6b, 0x38, 0x73, 0x00, 0x0a, 0x32, 0x0a, 0x17, 0x61, 0x75, 0x74, 0x68, 0x6f, 0x72, 0x69, 0x7a, 0x61, 0x74,
        0x69, 0x6f, 0x6e, 0x2e, 0x6b, 0x38, 0x73, 0x2e, 0x69, 0x6f, 0x2f, 0x76, 0x31, 0x12, 0x17, 0x53, 0x65, 0x6c,
        0x66, 0x53, 0x75, 0x62, 0x6a, 0x65, 0x63, 0x74, 0x41, 0x63, 0x63, 0x65, 0x73, 0x73, 0x52, 0x65, 0x76, 0x69,
        0x65, 0x77, 0x12, 0x3c, 0x0a, 0x10, 0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00,
        0x38, 0x00, 0x42, 0x00, 0x12, 0x1e, 0x0a, 0x1c, 0x0a, 0x07, 0x64, 0x65, 0x66, 0x61, 0x75, 0x6c, 0x74, 0x12,
        0x03, 0x67, 0x65, 0x74, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x04, 0x70, 0x6f, 0x64, 0x73, 0x32, 0x00, 0x3a, 0x00,
        0x1a, 0x08, 0x08, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x20, 0x00, 0x1a, 0x00, 0x22, 0x00,
    ]

    @Test func kubectlsAccessReviewReadsAsItsJSON() throws {
        let json = try ProtobufBody.json(Self.kubectlAccessReview)
        #expect(json["kind"]?.stringValue == "SelfSubjectAccessReview")
        #expect(json["apiVersion"]?.stringValue == "authorization.k8s.io/v1")
        let attributes = json["spec"]?["resourceAttributes"]
        #expect(attributes?["namespace"]?.stringValue == "default")
        #expect(attributes?["verb"]?.stringValue == "get")
        #expect(attributes?["resource"]?.stringValue == "pods")
        #expect(attributes?["group"] == nil)
        #expect(json["status"] == nil)
    }

    @Test func aReviewOfAnotherGroupVersionIsRefused() {
        #expect {
            _ = try ProtobufBody.json(Self.envelope(kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1beta1", []))
        } throws: { error in
            (error as? StatusError)?.code == 415
        }
    }

    @Test func otherKindsAreRefusedWith415AndWhatToSend() {
        for body in [Self.envelope(kind: "Service", Self.field(1, Self.field(1, "web"))),
                     Self.envelope(kind: "ConfigMap", apiVersion: "v2", []),
                     Self.envelope(kind: "ConfigMap", Self.field(1, Self.field(13, Self.field(1, "owner"))))] {
            #expect {
                _ = try ProtobufBody.json(body)
            } throws: { error in
                guard let status = error as? StatusError else { return false }
                return status.code == 415 && status.message.contains("send application/json or application/yaml")
            }
        }
    }

    @Test func malformedBodiesAreBadRequests() {
        let cut = Array(Self.kubectlConfigMap.dropLast(30))
        let badUTF8 = Self.envelope(kind: "ConfigMap", Self.field(1, Self.field(1, [0xC3])))
        let noMagic = Array(Self.kubectlConfigMap.dropFirst(4))
        let longVarint = [0x6b, 0x38, 0x73, 0x00, 0x08] + [UInt8](repeating: 0xFF, count: 11)
        let group = [0x6b, 0x38, 0x73, 0x00, 0x0b] as [UInt8]
        for body in [cut, badUTF8, noMagic, longVarint, group, [0x6b, 0x38]] {
            #expect {
                _ = try ProtobufBody.json(body)
            } throws: { error in
                (error as? StatusError)?.code == 400
            }
        }
    }
}
