import PodModel
import PodRuntime

/// `?fieldValidation=Strict|Warn|Ignore`, as the API server reads it: what to do with the
/// unknown fields of a body (fields podd knows but does not implement are refused whatever
/// the directive). `Warn`, the default, drops each one and names it in a `Warning` header
/// (kubectl prints `Warning: unknown field "spec.foo"`); `Strict` refuses the body (400);
/// `Ignore` drops them silently.
enum FieldValidation: String, Sendable {
    case strict = "Strict"
    case warn = "Warn"
    case ignore = "Ignore"

    init(_ r: APIRequest) throws(StatusError) {
        guard let value = r.queryValue("fieldValidation"), !value.isEmpty else {
            self = .warn
            return
        }
        guard let directive = FieldValidation(rawValue: value) else {
            throw .badRequest("fieldValidation: Unsupported value: \"\(value)\": supported values: \"Ignore\", \"Strict\", \"Warn\"")
        }
        self = directive
    }

    /// The pod in `raw` under this directive, and the warnings to send: unknown fields are
    /// taken out of the document before it is read (Warn, Ignore), or refused (Strict).
    func decodePod(_ raw: JSONValue, namespace: String) throws(StatusError) -> (pod: Pod, warnings: [String]) {
        guard self != .strict else { return (try PodAPIHandler.decodePod(raw, namespace: namespace), []) }
        let (document, unknown) = Self.droppingUnknownFields(raw)
        let pod = try PodAPIHandler.decodePod(document, namespace: namespace)
        return (pod, self == .warn ? unknown.map { "unknown field \"\($0)\"" } : [])
    }

    /// The document without the fields a Pod does not have, and their paths. A path that
    /// cannot be taken out (a key holding '.' or '[') is left in, so the strict reading
    /// refuses it rather than podd ignoring it.
    static func droppingUnknownFields(_ raw: JSONValue) -> (JSONValue, [String]) {
        let unknown: [FieldPath]
        do {
            _ = try PodManifest.decodePod(raw)
            return (raw, [])
        } catch {
            unknown = error.causes.filter { $0.type == .unknownField }.map(\.field)
        }
        var document = raw
        var dropped: [String] = []
        for path in unknown {
            guard let steps = Self.steps(path.description), Self.remove(steps[...], from: &document) else { continue }
            dropped.append(path.description)
        }
        return (document, dropped)
    }

    /// One step of a field path: a member or an element.
    enum Step { case member(String), element(Int) }

    /// `spec.containers[0].foo` as steps; nil when it does not read as one.
    static func steps(_ path: String) -> [Step]? {
        var steps: [Step] = []
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = Substring(part)
            guard let open = rest.firstIndex(of: "[") ?? Optional(rest.endIndex) else { return nil }
            let name = rest[..<open]
            guard !name.isEmpty else { return nil }
            steps.append(.member(String(name)))
            rest = rest[open...]
            while rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close]) else { return nil }
                steps.append(.element(index))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { return nil }
        }
        return steps
    }

    /// Removes the member the steps lead to; false when there is none.
    static func remove(_ steps: ArraySlice<Step>, from value: inout JSONValue) -> Bool {
        guard let step = steps.first else { return false }
        let rest = steps.dropFirst()
        switch (step, value) {
        case (let .member(name), .object(var object)):
            guard object[name] != nil else { return false }
            if rest.isEmpty {
                object[name] = nil
                value = .object(object)
                return true
            }
            guard var child = object[name] else { return false }
            let removed = remove(rest, from: &child)
            object[name] = child
            value = .object(object)
            return removed
        case (let .element(index), .array(var items)):
            guard items.indices.contains(index), !rest.isEmpty else { return false }
            let removed = remove(rest, from: &items[index])
            value = .array(items)
            return removed
        default:
            return false
        }
    }
}

/// `?dryRun=All`: check the request and answer as if it were done, changing nothing.
enum DryRun {
    static func requested(_ r: APIRequest) throws(StatusError) -> Bool {
        guard let values = r.query["dryRun"], !values.isEmpty else { return false }
        for value in values where value != "All" {
            throw .badRequest("dryRun: Unsupported value: \"\(value)\": supported values: \"All\"")
        }
        return true
    }
}

extension APIResponse {
    /// This answer with a `Warning: 299 - "TEXT"` header per warning, as the API server
    /// sends them (kubectl prints each as `Warning: TEXT`).
    func warning(_ warnings: [String]) -> APIResponse {
        guard !warnings.isEmpty, case let .full(status, contentType, body, headers) = self else { return self }
        let escaped = warnings.map { text in
            "299 - \"" + text.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"") + "\""
        }
        return .full(status: status, contentType: contentType, body: body, headers: headers + escaped.map { ("Warning", $0) })
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        splitOn(target).joined(separator: replacement)
    }
}
