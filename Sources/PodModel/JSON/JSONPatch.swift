/// The three patch formats of the Kubernetes API (PATCH of an object): JSON Patch (RFC 6902),
/// JSON Merge Patch (RFC 7386) and Kubernetes' strategic merge patch (StrategicMergePatch.swift).
/// Pure functions of JSON values: the API applies one to the object as stored and sends the
/// result through the same path as a replace (PUT).

/// A patch format, named by the Content-Type of a PATCH request.
public enum PatchType: String, Sendable, CaseIterable {
    case json = "application/json-patch+json"
    case merge = "application/merge-patch+json"
    case strategicMerge = "application/strategic-merge-patch+json"

    /// The format a Content-Type names (`application/merge-patch+json; charset=utf-8`),
    /// case-insensitively; nil for any other media type.
    public init?(contentType: String) {
        let media = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        self.init(rawValue: media.trimmingSpaces.lowercased())
    }

    /// Applies `patch` to `document`. A merge or strategic merge patch must be a JSON object
    /// (as the API server requires); `schema` gives the strategic merge patch the list merge
    /// keys of the document's type (`.pod`), and is not used by the other two.
    public func apply(_ patch: JSONValue, to document: JSONValue, schema: StrategicMergeSchema) throws(PatchError) -> JSONValue {
        switch self {
        case .json:
            return try JSONPatch.apply(patch, to: document)
        case .merge:
            guard case .object = patch else {
                throw .malformed("a merge patch must be a JSON object, not \(patch.typeName)")
            }
            return JSONMergePatch.apply(patch, to: document)
        case .strategicMerge:
            return try StrategicMergePatch.apply(patch, to: document, schema: schema)
        }
    }
}

/// Why a patch was not applied.
public struct PatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The patch itself is wrong, whatever it is applied to: not a list of operations, an
        /// unknown op, a member missing, a bad JSON pointer or directive. (HTTP 400.)
        case malformed
        /// A well-formed patch that does not apply to this document: a path that does not
        /// exist, an index out of range, a failed `test`. (HTTP 422.)
        case notApplicable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func malformed(_ message: String) -> PatchError { PatchError(.malformed, message) }
    public static func notApplicable(_ message: String) -> PatchError { PatchError(.notApplicable, message) }

    public var description: String { message }
}

// MARK: - JSON Pointer (RFC 6901)

/// A JSON Pointer: `""` (the whole document) or `/a/b/0`, with `~1` for `/` and `~0` for `~`
/// in a token.
public struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    public var tokens: [String]

    public init(tokens: [String]) { self.tokens = tokens }

    public init(_ text: String) throws(PatchError) {
        guard !text.isEmpty else {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else {
            throw .malformed("\"\(text)\" is not a JSON pointer: it must be empty or start with \"/\"")
        }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var it = raw.makeIterator()
            while let c = it.next() {
                guard c == "~" else {
                    token.append(c)
                    continue
                }
                switch it.next() {
                case "0": token.append("~")
                case "1": token.append("/")
                default: throw .malformed("\"\(text)\" is not a JSON pointer: \"~\" must be followed by 0 or 1")
                }
            }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    public var description: String {
        tokens.map { "/" + $0.replacingAll("~", with: "~0").replacingAll("/", with: "~1") }.joined()
    }

    /// The pointer to the first `count` tokens (for error messages: where the walk stopped).
    func prefix(_ count: Int) -> JSONPointer { JSONPointer(tokens: Array(tokens.prefix(count))) }

    /// Whether this pointer is `other` or lies under it.
    public func hasPrefix(_ other: JSONPointer) -> Bool {
        tokens.count >= other.tokens.count && Array(tokens.prefix(other.tokens.count)) == other.tokens
    }

    /// The value this pointer refers to in `document`, or nil when there is none.
    public func value(in document: JSONValue) -> JSONValue? {
        var node = document
        for token in tokens {
            switch node {
            case .object(let o):
                guard let next = o[token] else { return nil }
                node = next
            case .array(let a):
                guard let i = Self.index(token), i < a.count else { return nil }
                node = a[i]
            default:
                return nil
            }
        }
        return node
    }

    /// An array index as RFC 6901 writes it: `0`, or digits without a leading zero.
    static func index(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              token == "0" || !token.hasPrefix("0") else { return nil }
        return Int(token)
    }
}

// MARK: - JSON Patch (RFC 6902)

/// JSON Patch: a list of operations (add, remove, replace, move, copy, test) applied in order;
/// if any fails, none is applied.
public enum JSONPatch {
    public enum Op: String, Sendable, CaseIterable {
        case add, remove, replace, move, copy, test
    }

    /// One operation, as read from the patch.
    public struct Operation: Sendable, Equatable {
        public var op: Op
        public var path: JSONPointer
        /// `from` of move and copy.
        public var from: JSONPointer?
        /// `value` of add, replace and test (JSON null is a value).
        public var value: JSONValue?
        /// Its position in the patch, for messages.
        public var index: Int

        /// Reads an operation; members an operation does not define are ignored (RFC 6902 §4).
        public init(_ json: JSONValue, index: Int) throws(PatchError) {
            self.index = index
            guard case .object(let o) = json else {
                throw .malformed("json patch operations[\(index)]: an operation must be a JSON object, not \(json.typeName)")
            }
            guard let opValue = o["op"] else {
                throw .malformed("json patch operations[\(index)]: \"op\" is missing")
            }
            guard let name = opValue.stringValue, let op = Op(rawValue: name) else {
                throw .malformed("json patch operations[\(index)]: unknown op \(opValue) (expected one of add, remove, replace, move, copy, test)")
            }
            self.op = op
            guard let pathValue = o["path"] else {
                throw .malformed("json patch operations[\(index)] (\(name)): \"path\" is missing")
            }
            guard let pathText = pathValue.stringValue else {
                throw .malformed("json patch operations[\(index)] (\(name)): \"path\" must be a string, not \(pathValue.typeName)")
            }
            do {
                path = try JSONPointer(pathText)
            } catch {
                throw .malformed("json patch operations[\(index)] (\(name)): path: \(error.message)")
            }
            switch op {
            case .add, .replace, .test:
                guard let v = o["value"] else {
                    throw .malformed("json patch operations[\(index)] (\(name) \(pathText)): \"value\" is missing")
                }
                value = v
                from = nil
            case .move, .copy:
                guard let fromValue = o["from"] else {
                    throw .malformed("json patch operations[\(index)] (\(name) \(pathText)): \"from\" is missing")
                }
                guard let fromText = fromValue.stringValue else {
                    throw .malformed("json patch operations[\(index)] (\(name) \(pathText)): \"from\" must be a string, not \(fromValue.typeName)")
                }
                do {
                    from = try JSONPointer(fromText)
                } catch {
                    throw .malformed("json patch operations[\(index)] (\(name) \(pathText)): from: \(error.message)")
                }
                value = nil
                if op == .move, let from, path != from, path.hasPrefix(from) {
                    throw .malformed("json patch operations[\(index)] (move \(pathText)): cannot move \"\(fromText)\" into one of its own children")
                }
            case .remove:
                value = nil
                from = nil
            }
        }

        /// What the messages call this operation: `operations[1] (remove /metadata/labels/a)`.
        var label: String { "json patch operations[\(index)] (\(op.rawValue) \(path))" }

        /// This operation applied to `document`.
        public func apply(to document: JSONValue) throws(PatchError) -> JSONValue {
            switch op {
            case .add:
                return try JSONPatch.add(value ?? .null, at: path, in: document, label: label)
            case .remove:
                return try JSONPatch.remove(at: path, in: document, label: label).document
            case .replace:
                return try JSONPatch.replace(at: path, with: value ?? .null, in: document, label: label)
            case .move:
                let source = from ?? path
                if source == path {
                    guard source.value(in: document) != nil else { throw .notApplicable("\(label): from: \(source) does not exist") }
                    return document
                }
                let (rest, moved) = try JSONPatch.remove(at: source, in: document, label: label + ": from")
                return try JSONPatch.add(moved, at: path, in: rest, label: label)
            case .copy:
                let source = from ?? path
                guard let copied = source.value(in: document) else { throw .notApplicable("\(label): from: \(source) does not exist") }
                return try JSONPatch.add(copied, at: path, in: document, label: label)
            case .test:
                let expected = value ?? .null
                guard let actual = path.value(in: document) else {
                    throw .notApplicable("\(label): test failed: \(path) does not exist")
                }
                guard actual.isSameJSON(as: expected) else {
                    throw .notApplicable("\(label): test failed: the value is \(Self.short(actual)), not \(Self.short(expected))")
                }
                return document
            }
        }

        static func short(_ value: JSONValue) -> String {
            let text = value.description
            return text.count <= 120 ? text : String(text.prefix(117)) + "..."
        }
    }

    /// Reads a JSON Patch document: a JSON array of operations.
    public static func operations(_ patch: JSONValue) throws(PatchError) -> [Operation] {
        guard case .array(let items) = patch else {
            throw .malformed("a json patch must be a JSON array of operations, not \(patch.typeName)")
        }
        var operations: [Operation] = []
        for (i, item) in items.enumerated() { operations.append(try Operation(item, index: i)) }
        return operations
    }

    /// How many bytes (as compact JSON) the `copy` operations of one patch may add together:
    /// each copy can double the document, so 30 of them in a patch of a few hundred bytes
    /// would ask for gigabytes. The API server's bound (`JSONPatchMaxCopyBytes`, its request
    /// body limit of 3 MiB), with its message.
    public static let maximumCopiedBytes = 3 << 20

    /// Applies a JSON Patch document to `document`. Every operation is read (and checked)
    /// before any is applied; the copies together add at most `copyLimit` bytes.
    public static func apply(_ patch: JSONValue, to document: JSONValue,
                             copyLimit: Int = maximumCopiedBytes) throws(PatchError) -> JSONValue {
        var result = document
        var copied = 0
        for operation in try operations(patch) {
            if operation.op == .copy, let from = operation.from, let source = from.value(in: result) {
                copied += source.compactSize(upTo: copyLimit - copied + 1)
                if copied > copyLimit {
                    throw .notApplicable("\(operation.label): Unable to complete the copy, the accumulated size increase of copy is more than the limit \(copyLimit)")
                }
            }
            result = try operation.apply(to: result)
        }
        return result
    }

    // MARK: The operations on a path

    /// `value` added at `path`: a member set, an element inserted (`-`: appended), or the
    /// whole document replaced (`""`).
    static func add(_ value: JSONValue, at path: JSONPointer, in document: JSONValue, label: String) throws(PatchError) -> JSONValue {
        guard let last = path.tokens.last else { return value }
        return try editParent(of: path, in: document, label: label) { (parent: inout JSONValue) throws(PatchError) in
            switch parent {
            case .object(var o):
                o[last] = value
                parent = .object(o)
            case .array(var a):
                if last == "-" {
                    a.append(value)
                } else {
                    guard let i = JSONPointer.index(last) else {
                        throw .notApplicable("\(label): \"\(last)\" is not an array index (\(path.prefix(path.tokens.count - 1)) is an array)")
                    }
                    guard i <= a.count else {
                        throw .notApplicable("\(label): index \(i) is out of range: \(path.prefix(path.tokens.count - 1)) has \(a.count) elements")
                    }
                    a.insert(value, at: i)
                }
                parent = .array(a)
            default:
                throw .notApplicable("\(label): \(path.prefix(path.tokens.count - 1)) is \(parent.typeName), not an object or an array")
            }
        }
    }

    /// The document without the value at `path`, and that value.
    static func remove(at path: JSONPointer, in document: JSONValue, label: String) throws(PatchError) -> (document: JSONValue, removed: JSONValue) {
        guard let last = path.tokens.last else { throw .notApplicable("\(label): the whole document cannot be removed") }
        var removed: JSONValue = .null
        let result = try editParent(of: path, in: document, label: label) { (parent: inout JSONValue) throws(PatchError) in
            switch parent {
            case .object(var o):
                guard let value = o.removeValue(forKey: last) else { throw .notApplicable("\(label): \(path) does not exist") }
                removed = value
                parent = .object(o)
            case .array(var a):
                guard let i = JSONPointer.index(last), i < a.count else { throw .notApplicable("\(label): \(path) does not exist (the array has \(a.count) elements)") }
                removed = a.remove(at: i)
                parent = .array(a)
            default:
                throw .notApplicable("\(label): \(path.prefix(path.tokens.count - 1)) is \(parent.typeName), not an object or an array")
            }
        }
        return (result, removed)
    }

    /// The document with the value at `path`, which must exist, replaced.
    static func replace(at path: JSONPointer, with value: JSONValue, in document: JSONValue, label: String) throws(PatchError) -> JSONValue {
        guard let last = path.tokens.last else { return value }
        return try editParent(of: path, in: document, label: label) { (parent: inout JSONValue) throws(PatchError) in
            switch parent {
            case .object(var o):
                guard o[last] != nil else { throw .notApplicable("\(label): \(path) does not exist") }
                o[last] = value
                parent = .object(o)
            case .array(var a):
                guard let i = JSONPointer.index(last), i < a.count else { throw .notApplicable("\(label): \(path) does not exist (the array has \(a.count) elements)") }
                a[i] = value
                parent = .array(a)
            default:
                throw .notApplicable("\(label): \(path.prefix(path.tokens.count - 1)) is \(parent.typeName), not an object or an array")
            }
        }
    }

    /// Walks to the container holding the last token of `path` (it must exist) and lets
    /// `change` edit it; returns the document with the edit.
    private static func editParent(of path: JSONPointer, in document: JSONValue, label: String,
                                   _ change: (inout JSONValue) throws(PatchError) -> Void) throws(PatchError) -> JSONValue {
        func walk(_ node: JSONValue, _ depth: Int) throws(PatchError) -> JSONValue {
            if depth == path.tokens.count - 1 {
                var node = node
                try change(&node)
                return node
            }
            let token = path.tokens[depth]
            switch node {
            case .object(var o):
                guard let child = o[token] else { throw .notApplicable("\(label): \(path.prefix(depth + 1)) does not exist") }
                o[token] = try walk(child, depth + 1)
                return .object(o)
            case .array(var a):
                guard let i = JSONPointer.index(token), i < a.count else {
                    throw .notApplicable("\(label): \(path.prefix(depth + 1)) does not exist (the array has \(a.count) elements)")
                }
                a[i] = try walk(a[i], depth + 1)
                return .array(a)
            default:
                throw .notApplicable("\(label): \(path.prefix(depth)) is \(node.typeName), not an object or an array")
            }
        }
        return try walk(document, 0)
    }
}

// MARK: - JSON Merge Patch (RFC 7386)

public enum JSONMergePatch {
    /// RFC 7386 MergePatch(target, patch): an object patch merges member by member (null
    /// removes a member), anything else replaces the target.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let members) = patch else { return patch }
        var result = target.objectValue ?? JSONObject()
        for (key, value) in members {
            if value.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}

// MARK: - Helpers

extension JSONValue {
    /// Equality as JSON means it (RFC 6902's `test`): numbers by value (`1` equals `1.0`),
    /// objects whatever their members' order, arrays element by element.
    public func isSameJSON(as other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int, .double), (.double, .int), (.double, .double):
            return doubleValue == other.doubleValue
        case let (.array(a), .array(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSameJSON(as: $1) }
        case let (.object(a), .object(b)):
            return a.count == b.count && a.allSatisfy { member in b[member.key].map { member.value.isSameJSON(as: $0) } ?? false }
        default:
            return self == other
        }
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }

    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
