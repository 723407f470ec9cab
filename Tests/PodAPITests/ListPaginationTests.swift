import NIOHTTP1
import PodJSON
import PodModel
import PodRuntime
import Testing

@testable import PodAPI

/// `limit` and `continue` (ListPagination.swift): pages in key order, tokens in the API
/// server's form, and bad ones refused.
@Suite struct ListPaginationTests {
    func request(_ query: String) -> APIRequest {
        APIRequest(method: .GET, path: "/", segments: [], query: parseQuery(Substring(query)), headers: HTTPHeaders(), body: .bytes([]),
                   peer: PeerCredentials(pid: 1, uid: 0, gid: 0))
    }

    func item(_ namespace: String, _ name: String) -> JSONValue {
        .object(JSONObject([("metadata", .object(JSONObject([("namespace", .string(namespace)), ("name", .string(name))])))]))
    }

    func names(_ items: [JSONValue]) -> [String] { items.map { ListPage.key($0) } }

    @Test func pagesFollowKeyOrderAcrossNamespacesAndEndWithoutAToken() throws {
        let items = [item("b", "x"), item("a", "z"), item("a", "y"), item("b", "a")]
        let first = try ListPage(request("limit=3")).page(items, resourceVersion: "41", selective: false)
        #expect(names(first.items) == ["a/y", "a/z", "b/a"])
        #expect(first.metadata.remainingItemCount == 1)
        let token = try #require(first.metadata.continueToken)
        // The API server's form: base64 of {"v","rv","start":"KEY\u0000"}.
        let decoded = String(decoding: try Base64.decode(token), as: UTF8.self)
        #expect(decoded == #"{"v":"meta.k8s.io/v1","rv":41,"start":"b/a\u0000"}"#)
        let next = try ListPage(request("limit=3&continue=\(token)")).page(items + [item("a", "zz")], resourceVersion: "57", selective: false)
        #expect(names(next.items) == ["b/x"])
        #expect(next.metadata.resourceVersion == "41" && next.metadata.continueToken == nil && next.metadata.remainingItemCount == nil)
    }

    @Test func withoutLimitOrTokenTheListIsUntouched() throws {
        let items = [item("b", "x"), item("a", "z")]
        for query in ["", "limit=0", "limit="] {
            let all = try ListPage(request(query)).page(items, resourceVersion: "3", selective: true)
            #expect(names(all.items) == ["b/x", "a/z"] && all.metadata.continueToken == nil)
        }
    }

    @Test func badLimitsAndTokensAreBadRequests() {
        let forged = Base64.encode(Array(#"{"v":"other","rv":1,"start":"a\u0000"}"#.utf8))
        let noStart = Base64.encode(Array(#"{"v":"meta.k8s.io/v1","rv":1,"start":""}"#.utf8))
        for query in ["limit=-1", "limit=ten", "continue=abc", "continue=\(forged)", "continue=\(noStart)",
                      "continue=\(ListPage.encode(after: "a/b", version: "9"))&resourceVersion=9"] {
            #expect(throws: StatusError.self, "\(query)") { _ = try ListPage(request(query)) }
        }
    }
}
