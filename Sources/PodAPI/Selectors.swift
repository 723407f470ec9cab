import PodModel
import PodRuntime

/// Kubernetes label selectors (`a=b,c!=d,e,!f,g in (x,y),h notin (z)`) for list and watch.
struct LabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String), notEquals(String, String), exists(String), notExists(String)
        case isIn(String, Set<String>), notIn(String, Set<String>)
    }

    let requirements: [Requirement]

    init(_ text: String) throws(StatusError) {
        var reqs: [Requirement] = []
        var terms: [String] = []
        var depth = 0
        var current = ""
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if c == "," && depth == 0 { terms.append(current); current = "" } else { current.append(c) }
        }
        if !current.isEmpty { terms.append(current) }
        for raw in terms {
            let term = raw.trimmingSpaces
            if term.isEmpty { continue }
            if let r = term.firstRange(of: " notin ") {
                reqs.append(.notIn(String(term[..<r.lowerBound]).trimmingSpaces, try Self.set(term[r.upperBound...])))
            } else if let r = term.firstRange(of: " in ") {
                reqs.append(.isIn(String(term[..<r.lowerBound]).trimmingSpaces, try Self.set(term[r.upperBound...])))
            } else if let r = term.firstRange(of: "!=") {
                reqs.append(.notEquals(String(term[..<r.lowerBound]), String(term[r.upperBound...])))
            } else if let r = term.firstRange(of: "==") {
                reqs.append(.equals(String(term[..<r.lowerBound]), String(term[r.upperBound...])))
            } else if let r = term.firstRange(of: "=") {
                reqs.append(.equals(String(term[..<r.lowerBound]), String(term[r.upperBound...])))
            } else if term.hasPrefix("!") {
                reqs.append(.notExists(String(term.dropFirst())))
            } else if term.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) {
                reqs.append(.exists(term))
            } else {
                throw .badRequest("unable to parse requirement \"\(term)\" of labelSelector")
            }
        }
        for requirement in reqs { try Self.check(requirement) }
        requirements = reqs
    }

    /// A term whose key or values no label could have is refused (400), as the API server
    /// refuses it, rather than matching nothing.
    private static func check(_ requirement: Requirement) throws(StatusError) {
        let key: String
        var values: [String] = []
        switch requirement {
        case let .equals(k, v), let .notEquals(k, v): key = k; values = [v]
        case let .isIn(k, set), let .notIn(k, set): key = k; values = Array(set)
        case let .exists(k), let .notExists(k): key = k
        }
        let key0 = key.trimmingSpaces
        if let problem = LabelRules.keyErrors(key0).first {
            throw .badRequest("unable to parse requirement: invalid label key \"\(key0)\": \(problem)")
        }
        for value in values {
            let value0 = value.trimmingSpaces
            if let problem = LabelRules.valueErrors(value0).first {
                throw .badRequest("unable to parse requirement: invalid label value: \"\(value0)\": \(problem)")
            }
        }
    }

    private static func set(_ s: Substring) throws(StatusError) -> Set<String> {
        let text = s.trimmingSpaces
        // A set is written in parentheses: `env in (a,b)`.
        guard text.hasPrefix("("), text.hasSuffix(")"), text.count >= 2 else {
            throw .badRequest("unable to parse requirement: found '\(text)', expected: '('")
        }
        return Set(text.trimmingCharacters("()").split(separator: ",").map { String($0).trimmingSpaces })
    }

    func matches(_ object: JSONValue) -> Bool {
        let labels = object["metadata"]?["labels"]?.objectValue ?? JSONObject()
        func label(_ k: String) -> String? { labels[k]?.stringValue }
        return requirements.allSatisfy { r in
            switch r {
            case let .equals(k, v): return label(k) == v
            case let .notEquals(k, v): return label(k) != v
            case let .exists(k): return label(k) != nil
            case let .notExists(k): return label(k) == nil
            case let .isIn(k, vs): return label(k).map(vs.contains) ?? false
            case let .notIn(k, vs): return label(k).map { !vs.contains($0) } ?? true
            }
        }
    }
}

/// Field selectors, with = == !=, on the fields Kubernetes lets each resource's lists select
/// on (its `ToSelectableFields`): on pods metadata.name and namespace, spec.nodeName,
/// restartPolicy, schedulerName, serviceAccountName and hostNetwork, status.phase, podIP and
/// nominatedNodeName; on Secrets also `type`; on nodes spec.unschedulable; on other kinds the
/// name (and the namespace of a namespaced one). Another field is 400, as the API server's
/// `field label not supported`.
struct FieldSelector: Sendable {
    static let podFields = ["metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                            "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"]

    /// The selectable fields of a resource (its plural).
    static func fields(of resource: String) -> [String] {
        switch resource {
        case "pods": return podFields
        case "secrets": return ["metadata.name", "metadata.namespace", "type"]
        case "nodes": return ["metadata.name", "spec.unschedulable"]
        case "priorityclasses": return ["metadata.name"]
        default: return ["metadata.name", "metadata.namespace"]
        }
    }

    /// What a field is when the object leaves it out: what the API server would have filled
    /// in (podd does not write these defaults into its pods), or Go's false.
    static let defaults = ["spec.schedulerName": "default-scheduler", "spec.serviceAccountName": "default",
                           "spec.hostNetwork": "false", "spec.unschedulable": "false", "spec.restartPolicy": "Always"]

    let terms: [(path: String, value: String, equal: Bool)]

    init(_ text: String, fields: [String] = FieldSelector.podFields) throws(StatusError) {
        var out: [(String, String, Bool)] = []
        for raw in text.split(separator: ",") {
            let term = String(raw)
            let equal = !term.contains("!=")
            let parts = term.splitOn(equal ? (term.contains("==") ? "==" : "=") : "!=")
            guard parts.count == 2 else { throw .badRequest("invalid field selector \"\(term)\"") }
            guard fields.contains(parts[0]) else {
                throw .badRequest("field label not supported: \(parts[0])")
            }
            out.append((parts[0], parts[1], equal))
        }
        terms = out
    }

    func matches(_ object: JSONValue) -> Bool {
        terms.allSatisfy { t in
            var v: JSONValue? = object
            for key in t.path.split(separator: ".") { v = v?[String(key)] }
            let text: String
            switch v {
            case let .bool(flag)?: text = flag ? "true" : "false"
            case let value?: text = value.stringValue ?? Self.defaults[t.path] ?? ""
            case nil: text = Self.defaults[t.path] ?? ""
            }
            return (text == t.value) == t.equal
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    func trimmingCharacters(_ chars: String) -> String {
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s = s.dropFirst() }
        while let l = s.last, chars.contains(l) { s = s.dropLast() }
        return String(s)
    }

    func splitOn(_ sep: String) -> [String] {
        var out: [String] = []
        var rest = Substring(self)
        while let r = rest.firstRange(of: sep) {
            out.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        out.append(String(rest))
        return out
    }
}
