import Testing
@testable import PodRuntime

/// The health protocol's bytes and gRPC's status rules, as GRPCHealthClient writes and reads
/// them (the exchange with a real server: Tests/integration/test_grpc_probes.py).
struct GRPCHealthClientTests {
    @Test func theRequestIsOneFramedMessageNamingTheService() {
        // Empty service: proto3 leaves the field out, so the message is empty.
        #expect(GRPCHealthClient.requestMessage(service: "") == [0, 0, 0, 0, 0])
        #expect(GRPCHealthClient.requestMessage(service: "ab") == [0, 0, 0, 0, 4, 0x0A, 2, 0x61, 0x62])
        // A name of 200 bytes takes a two-byte length varint (200 = 0xC8 0x01).
        let long = GRPCHealthClient.requestMessage(service: String(repeating: "x", count: 200))
        #expect(Array(long.prefix(8)) == [0, 0, 0, 0, 203, 0x0A, 0xC8, 0x01] && long.count == 208)
    }

    @Test func theResponsesStatusIsReadAsProtobufReadsIt() {
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 2, 0x08, 1]) == 1)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 2, 0x08, 2]) == 2)
        // Absent: the default, UNKNOWN.
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 0]) == 0)
        // Unknown fields (a string as field 2, a fixed32 as field 3) are skipped.
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 10, 0x12, 1, 0x41, 0x1D, 1, 2, 3, 4, 0x08, 3]) == 3)
        // A negative enum value is ten bytes on the wire.
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 11, 0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01]) == -1)
    }

    @Test func malformedResponsesAreRefused() {
        // Compressed (podd asks for no compression), short, overlong, truncated varints and
        // lengths, and a wire type protobuf does not have.
        #expect(GRPCHealthClient.servingStatus(framedMessage: [1, 0, 0, 0, 2, 0x08, 1]) == nil)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0]) == nil)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 3, 0x08, 1]) == nil)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 2, 0x08, 0x80]) == nil)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 3, 0x12, 5, 0x41]) == nil)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 2, 0x0B, 1]) == nil)
        #expect(GRPCHealthClient.servingStatus(framedMessage: [0, 0, 0, 0, 2, 0x19, 1]) == nil)
    }

    @Test func statusNamesAndHTTPMappingAreGRPCs() {
        #expect(GRPCHealthClient.servingStatusName(2) == "NOT_SERVING")
        #expect(GRPCHealthClient.servingStatusName(3) == "SERVICE_UNKNOWN")
        #expect(GRPCHealthClient.servingStatusName(7) == "7")
        #expect("\(GRPCStatusCode.notFound)" == "NotFound" && "\(GRPCStatusCode.cancelled)" == "Canceled")
        #expect(GRPCHealthClient.statusForHTTP(404) == .unimplemented)
        #expect(GRPCHealthClient.statusForHTTP(503) == .unavailable)
        #expect(GRPCHealthClient.statusForHTTP(500) == .unknown)
        #expect(GRPCHealthClient.percentDecoded("Method%20not%20found%21 %E2%9C%93 %zz%") == "Method not found! ✓ %zz%")
    }

    @Test func theRequestHeadersAreGRPCGos() {
        let headers = GRPCHealthClient.requestHeaders(authority: "127.0.0.1:50051", userAgent: "kube-probe/1.32", timeout: 1)
        #expect(headers.map(\.name) == [":method", ":scheme", ":path", ":authority", "content-type", "user-agent", "te", "grpc-timeout"])
        #expect(headers.first(name: ":path") == "/grpc.health.v1.Health/Check")
        #expect(headers.first(name: "grpc-timeout") == "1000m")
        #expect(GRPCHealthClient.requestHeaders(authority: "a", userAgent: "u", timeout: 1e9).first(name: "grpc-timeout") == "99999999m")
    }
}
