import NIOHTTP1
import PodRuntime
import Testing

@testable import PodAPI

@Suite struct APIRouteTests {
    private func route(_ path: String) throws -> APIRoute? {
        guard let segments = pathSegments(path) else { return nil }
        return try APIRoute.match(segments)
    }

    @Test func matchesPlaceholder() throws {
        #expect(try route("/version") == .version)
    }
}
