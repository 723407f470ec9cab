import Yams

extension JSONValue {
    /// Parses a YAML stream into one JSON value per document, as Kubernetes converts YAML to
    /// JSON (sigs.k8s.io/yaml over go-yaml v2): plain scalars resolved by `YAMLScalar`
    /// (`yes`/`on`/`y` are booleans, `0755` is octal, `1_000` is 1000, timestamps stay
    /// strings), non-string keys turned into strings, `<<` merge keys applied. Empty
    /// documents (nothing, or only comments) are skipped. Floats that JSON cannot express
    /// (.inf, .nan), repeated keys, nesting deeper than 512 and alias bombs are errors.
    /// podd (manifests, static pods, its config) and podctl read YAML through this one
    /// function.
    public static func parseYAMLDocuments(_ text: String) throws(DocumentParseError) -> [JSONValue] {
        try parseYAMLDocuments(text, maximumValues: YAMLConverter.maximumValues)
    }

    static func parseYAMLDocuments(_ text: String, maximumValues: Int) throws(DocumentParseError) -> [JSONValue] {
        var documents: [JSONValue] = []
        do {
            // The basic resolver leaves every plain scalar untagged, for YAMLScalar to read.
            let parser = try Parser(yaml: text, resolver: .basic)
            while let node = try parser.nextRoot() {
                var converter = YAMLConverter(maximumValues: maximumValues)
                let value = try converter.convert(node)
                if !value.isNull { documents.append(value) }
            }
        } catch let error as DocumentParseError {
            throw error
        } catch let error as YamlError {
            throw YAMLConverter.describe(error)
        } catch {
            throw DocumentParseError(message: "\(error)")
        }
        return documents
    }
}

/// Turns a Yams node tree into a JSONValue.
struct YAMLConverter {
    /// Deeper nesting than this is refused, as the JSON parser refuses it.
    static let maximumDepth = 512

    /// Aliases can make a small text expand exponentially ("billion laughs"); stop well
    /// beyond any real manifest.
    static let maximumValues = 1_000_000

    let maximumValues: Int
    private var visited = 0

    init(maximumValues: Int = YAMLConverter.maximumValues) { self.maximumValues = maximumValues }

    mutating func convert(_ node: Node, depth: Int = 0) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("exceeded max depth of \(Self.maximumDepth)", at: node) }
        visited += 1
        guard visited <= maximumValues else {
            throw DocumentParseError(message: "document expands to more than \(maximumValues) values (alias expansion?)",
                                     line: node.mark.map { $0.line }, column: node.mark.map { $0.column })
        }
        switch node {
        case .scalar(let scalar):
            return try convertScalar(scalar, node: node)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence { elements.append(try convert(element, depth: depth + 1)) }
            return .array(elements)
        case .mapping(let mapping):
            return .object(try convertMapping(mapping, node: node, depth: depth + 1))
        case .alias:
            // Yams resolves aliases to the anchored node while parsing; an alias left in the
            // tree means the document refers to an anchor it never defined.
            throw DocumentParseError(message: "unresolved alias", line: node.mark.map { $0.line }, column: node.mark.map { $0.column })
        }
    }

    private mutating func convertMapping(_ mapping: Node.Mapping, node: Node, depth: Int) throws -> JSONObject {
        var object = JSONObject()
        var merged: [JSONObject] = []
        for (keyNode, valueNode) in mapping {
            if case .scalar(let keyScalar) = keyNode, Tag.Name(rawValue: keyScalar.tag.rawValue) == .merge || (keyScalar.string == "<<" && Self.isPlainKey(keyScalar)) {
                // `<<: *base` or `<<: [*a, *b]`: the mapping(s) supply keys this one lacks.
                switch try convert(valueNode, depth: depth) {
                case .object(let base):
                    merged.append(base)
                case .array(let bases):
                    for base in bases {
                        guard case .object(let baseObject) = base else {
                            throw error("map merge requires map or sequence of maps as the value", at: valueNode)
                        }
                        merged.append(baseObject)
                    }
                default:
                    throw error("map merge requires map or sequence of maps as the value", at: valueNode)
                }
                continue
            }
            let key = try keyString(keyNode)
            guard !object.contains(key) else {
                throw error("mapping key \"\(key)\" already defined", at: keyNode)
            }
            object[key] = try convert(valueNode, depth: depth)
        }
        // Explicit keys win over merged ones; earlier merge sources win over later ones.
        for base in merged {
            for (key, value) in base where !object.contains(key) { object[key] = value }
        }
        return object
    }

    /// A mapping key as JSON needs it: a string, as sigs.k8s.io/yaml makes it from the
    /// resolved key: `1: x` and `0x1: x` give "1", `yes: x` gives "true", `1.5: x` "1.5".
    /// A null key (`~: x`, `null: x`) gives "null".
    private mutating func keyString(_ node: Node) throws -> String {
        guard case .scalar(let scalar) = node else {
            throw error("mapping keys must be scalars, not \(node.isMapping ? "a mapping" : "a sequence")", at: node)
        }
        switch try convertScalar(scalar, node: node, isPlainKey: Self.isPlainKey(scalar)) {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .double(let number): return JSONSerializer.format(number)
        case .null: return "null"
        case .array, .object: return scalar.string
        }
    }

    /// A scalar's value: plain untagged scalars by `YAMLScalar`'s table; quoted and block
    /// scalars, `!!str`, `!!timestamp`, `!!binary` and custom tags as their text; `!!int`,
    /// `!!float`, `!!bool` and `!!null` must resolve to their kind, as go-yaml requires.
    private func convertScalar(_ scalar: Node.Scalar, node: Node, isPlainKey: Bool = false) throws -> JSONValue {
        let tag = isPlainKey ? .implicit : Tag.Name(rawValue: scalar.tag.rawValue)
        guard tag == .implicit || [Tag.Name.int, .float, .bool, .null].contains(tag) else {
            return .string(scalar.string)
        }
        if tag == .implicit && scalar.style != .plain && scalar.style != .any { return .string(scalar.string) }
        let value: JSONValue
        switch YAMLScalar.resolvePlain(scalar.string) {
        case .value(let resolved): value = resolved
        case .nonFiniteFloat: throw error("\(scalar.string) cannot be represented in JSON", at: node)
        }
        if tag == .implicit { return value }
        switch value {
        case .int(let number) where tag == .float:
            return .double(Double(number))
        case .int where tag == .int, .bool where tag == .bool, .null where tag == .null, .double where tag == .float:
            return value
        default:
            let shortTag = "!!" + (tag.rawValue.split(separator: ":").last.map(String.init) ?? tag.rawValue)
            throw error("cannot decode `\(scalar.string)` as a \(shortTag)", at: node)
        }
    }

    /// Whether a mapping key is a plain scalar without a tag of its own. Yams' duplicate-key
    /// check resolves every key's tag in place (to `!!str` with the basic resolver), so a
    /// plain key tagged `!!str` reads as untagged: `!!str 0777: x` gives "511", not "0777".
    static func isPlainKey(_ scalar: Node.Scalar) -> Bool {
        let tag = Tag.Name(rawValue: scalar.tag.rawValue)
        return scalar.style == .plain && (tag == .implicit || tag == .str)
    }

    private func error(_ message: String, at node: Node) -> DocumentParseError {
        DocumentParseError(message: message, line: node.mark.map { $0.line }, column: node.mark.map { $0.column })
    }

    /// A Yams error as a DocumentParseError with its position.
    static func describe(_ error: YamlError) -> DocumentParseError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let message = context.map { "\(problem) (\($0.text))" } ?? problem
            return DocumentParseError(message: message, line: mark.line, column: mark.column)
        case .composer(let context, let problem, let mark, _):
            let message = context.map { "\(problem) (\($0.text))" } ?? problem
            return DocumentParseError(message: message, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return DocumentParseError(message: "mapping key \(keys) already defined", line: context.mark.line, column: context.mark.column)
        case .reader(let problem, let offset, _, _):
            return DocumentParseError(message: "\(problem)\(offset.map { " at byte \($0)" } ?? "")")
        default:
            return DocumentParseError(message: "\(error)")
        }
    }
}

private extension Node {
    var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
