import PodJSON
import PodModel

/// `limit` and `continue` on a list, as the API server pages one (kubectl asks for 500 at a
/// time, client-go's pager and informers follow `metadata.continue`): the items in key order
/// (namespace, then name), at most `limit` of them, and a continue token naming the last one
/// when more follow, with `remainingItemCount` when the list has no selector.
///
/// The API server reads every page at the first page's resourceVersion; podd keeps no older
/// versions, so a later page shows its objects as they are when it is read, as the API
/// server's own pages do once that version has been compacted. Each page reports the first
/// page's resourceVersion: a watch from it then replays whatever changed meanwhile, also in
/// pages already read, and misses nothing.
///
/// The token has the API server's form (base64 of `{"v":"meta.k8s.io/v1","rv":N,"start":
/// "KEY\u0000"}`), and is as opaque to clients.
struct ListPage: Sendable {
    /// At most this many items; nil: all of them.
    let limit: Int?
    /// The key of the last item of the page before (items follow it strictly).
    let after: String?
    /// The resourceVersion of the first page.
    let firstVersion: String?

    init(_ r: APIRequest) throws(StatusError) {
        if let raw = r.queryValue("limit"), !raw.isEmpty {
            guard let n = Int(raw), n >= 0 else {
                throw .badRequest("limit: Invalid value: \"\(raw)\": must be a non-negative integer")
            }
            limit = n == 0 ? nil : n
        } else {
            limit = nil
        }
        guard let token = r.queryValue("continue"), !token.isEmpty else {
            (after, firstVersion) = (nil, nil)
            return
        }
        if let version = r.queryValue("resourceVersion"), !version.isEmpty {
            throw .badRequest("specifying resource version is not allowed when using continue")
        }
        (after, firstVersion) = try Self.decode(token)
    }

    /// The page of `items` (already filtered), and the list metadata to answer it with.
    func page(_ items: [JSONValue], resourceVersion: String, selective: Bool) -> (items: [JSONValue], metadata: ListMetadata) {
        var metadata = ListMetadata(resourceVersion: firstVersion ?? resourceVersion)
        guard limit != nil || after != nil else { return (items, metadata) }
        var keyed = items.map { (key: Self.key($0), item: $0) }
        keyed.sort { $0.key < $1.key }
        if let after { keyed.removeFirst(keyed.partitioningIndex { $0.key > after }) }
        guard let limit, keyed.count > limit else { return (keyed.map(\.item), metadata) }
        let shown = keyed.prefix(limit)
        metadata.continueToken = Self.encode(after: shown.last!.key, version: metadata.resourceVersion)
        if !selective { metadata.remainingItemCount = keyed.count - limit }
        return (shown.map(\.item), metadata)
    }

    static func key(_ item: JSONValue) -> String {
        let namespace = item["metadata"]?["namespace"]?.stringValue ?? ""
        let name = item["metadata"]?["name"]?.stringValue ?? ""
        return namespace.isEmpty ? name : namespace + "/" + name
    }

    static func encode(after key: String, version: String) -> String {
        let rv: JSONValue = Int64(version).map { .int($0) } ?? .string(version)
        let token = JSONValue.object(JSONObject([("v", "meta.k8s.io/v1"), ("rv", rv), ("start", .string(key + "\u{0}"))]))
        return Base64.encode(token.serialized())
    }

    static func decode(_ token: String) throws(StatusError) -> (after: String, version: String) {
        func invalid(_ why: String) -> StatusError { .badRequest("continue key is not valid: \(why)") }
        let bytes: [UInt8]
        do { bytes = try Base64.decode(token) } catch { throw invalid("\(error)") }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch { throw invalid("\(error)") }
        guard json["v"]?.stringValue == "meta.k8s.io/v1" else { throw invalid("incorrect encoded start resourceVersion (version meta.k8s.io/v1)") }
        guard let start = json["start"]?.stringValue, start.hasSuffix("\u{0}"), start.count > 1 else {
            throw invalid("encoded start key is missing or empty")
        }
        let version: String
        switch json["rv"] {
        case let .int(n)? where n > 0: version = String(n)
        case let .string(s)? where !s.isEmpty: version = s
        default: throw invalid("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        return (String(start.dropLast()), version)
    }
}

/// A list's `metadata`: its resourceVersion, and for a page with more after it, the token that
/// continues it and (without selectors) how many items remain.
struct ListMetadata: Sendable {
    var resourceVersion: String
    var continueToken: String?
    var remainingItemCount: Int?

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("resourceVersion", .string(resourceVersion))]
        if let continueToken { members.append(("continue", .string(continueToken))) }
        if let remainingItemCount { members.append(("remainingItemCount", .int(Int64(remainingItemCount)))) }
        return .object(JSONObject(members))
    }
}

private extension Array {
    /// The index of the first element for which `belongs` holds, in an array where it holds
    /// for a suffix only (binary search).
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
