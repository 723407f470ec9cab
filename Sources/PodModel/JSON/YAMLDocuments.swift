import Yams

extension JSONValue {
    /// Parses a YAML stream into one JSON value per document, as Kubernetes converts YAML to
    /// JSON (sigs.k8s.io/yaml over go-yaml): YAML 1.1 scalars (`yes`/`on` are booleans,
    /// `0755` is octal, `1_000` is 1000), timestamps kept as strings, non-string keys turned
    /// into strings, `<<` merge keys applied. Empty documents (nothing, or only comments)
    /// are skipped. Floats that JSON cannot express (.inf, .nan), repeated keys and
    /// alias bombs are errors.
    public static func parseYAMLDocuments(_ text: String) throws(DocumentParseError) -> [JSONValue] {
        try parseYAMLDocuments(text, maximumValues: YAMLConverter.maximumValues)
    }

    static func parseYAMLDocuments(_ text: String, maximumValues: Int) throws(DocumentParseError) -> [JSONValue] {
        var documents: [JSONValue] = []
        do {
            let parser = try Parser(yaml: text)
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
    /// Aliases can make a small text expand exponentially ("billion laughs"); stop well
    /// beyond any real manifest.
    static let maximumValues = 1_000_000

    let maximumValues: Int
    private var visited = 0

    init(maximumValues: Int = YAMLConverter.maximumValues) { self.maximumValues = maximumValues }

    mutating func convert(_ node: Node) throws -> JSONValue {
        visited += 1
        guard visited <= maximumValues else {
            throw DocumentParseError(message: "document expands to more than \(maximumValues) values (alias expansion?)",
                                     line: node.mark.map { $0.line }, column: node.mark.map { $0.column })
        }
        switch node {
        case .scalar(let scalar):
            return try convertScalar(scalar, tag: node.tag.rawValue, node: node)
        case .sequence(let sequence):
            var elements: [JSONValue] = []
            elements.reserveCapacity(sequence.count)
            for element in sequence { elements.append(try convert(element)) }
            return .array(elements)
        case .mapping(let mapping):
            return .object(try convertMapping(mapping, node: node))
        case .alias:
            // Yams resolves aliases to the anchored node while parsing; an alias left in the
            // tree means the document refers to an anchor it never defined.
            throw DocumentParseError(message: "unresolved alias", line: node.mark.map { $0.line }, column: node.mark.map { $0.column })
        }
    }

    private mutating func convertMapping(_ mapping: Node.Mapping, node: Node) throws -> JSONObject {
        var object = JSONObject()
        var merged: [JSONObject] = []
        for (keyNode, valueNode) in mapping {
            if case .scalar(let keyScalar) = keyNode, keyNode.tag.rawValue == Tag.Name.merge.rawValue || (keyScalar.string == "<<" && keyScalar.style == .plain) {
                // `<<: *base` or `<<: [*a, *b]`: the mapping(s) supply keys this one lacks.
                switch try convert(valueNode) {
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
            object[key] = try convert(valueNode)
        }
        // Explicit keys win over merged ones; earlier merge sources win over later ones.
        for base in merged {
            for (key, value) in base where !object.contains(key) { object[key] = value }
        }
        return object
    }

    /// A mapping key as JSON needs it: a string. Scalars keep their text (`1: x` gives "1",
    /// `true: x` gives "true"), as sigs.k8s.io/yaml does.
    private mutating func keyString(_ node: Node) throws -> String {
        guard case .scalar(let scalar) = node else {
            throw error("mapping keys must be scalars, not \(node.isMapping ? "a mapping" : "a sequence")", at: node)
        }
        switch try convertScalar(scalar, tag: node.tag.rawValue, node: node) {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .double(let number): return JSONSerializer.format(number)
        case .null: return "null"
        case .array, .object: return scalar.string
        }
    }

    private func convertScalar(_ scalar: Node.Scalar, tag: String, node: Node) throws -> JSONValue {
        switch tag {
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            guard let flag = Bool.construct(from: scalar) else { throw error("cannot read \(scalar.string) as a boolean", at: node) }
            return .bool(flag)
        case Tag.Name.int.rawValue:
            if let number = Int64.construct(from: scalar) { return .int(number) }
            // Beyond Int64: a float, as go-yaml gives for such integers.
            if let number = Double.construct(from: scalar), number.isFinite { return .double(number) }
            throw error("cannot read \(scalar.string) as an integer", at: node)
        case Tag.Name.float.rawValue:
            guard let number = Double.construct(from: scalar) else { throw error("cannot read \(scalar.string) as a number", at: node) }
            guard number.isFinite else { throw error("\(scalar.string) cannot be represented in JSON", at: node) }
            return .double(number)
        default:
            // str, timestamp (Kubernetes keeps timestamps as strings), binary and any
            // explicit custom tag: the text.
            return .string(scalar.string)
        }
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
