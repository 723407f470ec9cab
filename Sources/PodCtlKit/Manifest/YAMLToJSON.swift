import Yams

/// Converts YAML documents to JSON values the way kubectl does before it sends a manifest
/// (sigs.k8s.io/yaml): integers stay integers, floats become JSON numbers, YAML 1.1 booleans
/// and nulls resolve as such, timestamps stay strings, anchors and aliases are expanded and
/// `<<` merge keys are applied. Mapping keys become strings.
public enum YAMLToJSON {
    public struct ConversionError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Every document in `text`, in order; empty documents (`---` alone, comments) are skipped.
    public static func documents(_ text: String) throws(ConversionError) -> [JSON] {
        var result: [JSON] = []
        do {
            // The sequence stops at a syntax error and keeps it rather than throwing it.
            // The basic resolver leaves plain scalars to PlainScalar (go-yaml's rules).
            var nodes = try Yams.compose_all(yaml: text, .basic)
            while let node = nodes.next() {
                let value = try convert(node, depth: 0)
                if !value.isNull { result.append(value) }
            }
            if let error = nodes.error { throw error }
        } catch let error as ConversionError {
            throw error
        } catch let error as YamlError {
            throw ConversionError(description: describe(error))
        } catch {
            throw ConversionError(description: "yaml: \(error)")
        }
        return result
    }

    /// Yams' errors span several lines with a caret under the spot; podctl reports one line,
    /// as kubectl does: `yaml: line 3: mapping values are not allowed in this context`.
    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let contextText = context.map { "\($0.text) " } ?? ""
            return "yaml: line \(mark.line): \(contextText)\(problem)"
        case .reader(let problem, _, _, _):
            return "yaml: \(problem)"
        default:
            let text = "\(error)"
            return "yaml: " + (text.split(separator: "\n").first.map(String.init) ?? text)
        }
    }

    private static let maxDepth = 256

    static func convert(_ node: Node, depth: Int) throws -> JSON {
        guard depth < maxDepth else { throw ConversionError(description: "yaml: nested too deeply") }
        switch node {
        case .scalar(let scalar):
            return try convertScalar(scalar, node: node)
        case .sequence(let sequence):
            return .array(try sequence.map { try convert($0, depth: depth + 1) })
        case .mapping(let mapping):
            var object = JSONObject()
            var merged: [JSONObject] = []
            for (keyNode, valueNode) in mapping {
                if case .scalar(let keyScalar) = keyNode, keyScalar.style == .plain, keyScalar.string == "<<" {
                    // `<<: *base` or `<<: [*a, *b]`: keys of the merged mappings that this
                    // mapping does not set itself.
                    let value = try convert(valueNode, depth: depth + 1)
                    let sources: [JSON] = value.array.isEmpty ? [value] : value.array
                    for source in sources {
                        guard let sourceObject = source.objectValue else {
                            throw ConversionError(description: "yaml: map merge requires map or sequence of maps as the value")
                        }
                        merged.append(sourceObject)
                    }
                    continue
                }
                let key = try keyString(keyNode)
                object[key] = try convert(valueNode, depth: depth + 1)
            }
            for source in merged {
                for member in source.members where object[member.key] == nil {
                    object[member.key] = member.value
                }
            }
            return .object(object)
        case .alias:
            throw ConversionError(description: "yaml: unknown anchor")
        }
    }

    private static func keyString(_ node: Node) throws -> String {
        switch node {
        case .scalar(let scalar):
            // A key reads as its text ("80": ..., true: ...), as Go's YAML-to-JSON keys do.
            let value = try convertScalar(scalar, node: node)
            switch value {
            case .string(let text): return text
            case .number(let text): return text
            case .bool(let flag): return flag ? "true" : "false"
            case .null: return "null"
            default: return scalar.string
            }
        default:
            throw ConversionError(description: "yaml: line \((node.mark?.line).map(String.init) ?? "?"): a mapping key must be a scalar")
        }
    }

    private static func convertScalar(_ scalar: Node.Scalar, node: Node) throws -> JSON {
        let tag = scalar.tag.rawValue
        // An untagged plain scalar reads by its text; quoted and block scalars are strings.
        if tag.isEmpty || tag == Tag.Name.implicit.rawValue {
            return scalar.style == .plain ? PlainScalar.resolve(scalar.string) : .string(scalar.string)
        }
        switch Tag.Name(rawValue: tag) {
        case .int, .float, .bool, .null:
            // An explicit `!!int 5` and the like.
            return PlainScalar.resolve(scalar.string)
        default:
            return .string(scalar.string)
        }
    }
}
