import Yams

extension JSONValue {
    /// This value as block YAML, as kubectl's `-o yaml` prints it (go-yaml v2 under
    /// sigs.k8s.io/yaml): two-space indentation, sequences in a mapping not indented,
    /// members in the order this value has them, non-ASCII text as is, lines folded at 80
    /// columns where a string has spaces. A string whose plain form would read back as
    /// something else (`"yes"`, `"0777"`, `"1.0"`, a timestamp: `YAMLScalar.needsQuotes`) is
    /// double-quoted, and multi-line strings are literal blocks, so that reading the text with
    /// `parseYAMLDocuments` gives this value back. Ends with a newline.
    ///
    /// Emitted by Yams (libyaml), which quotes whatever YAML syntax needs (`a: b`, `- x`).
    public func yamlText() throws(DocumentParseError) -> String {
        do {
            return try Yams.serialize(node: YAMLNodes.node(for: self), allowUnicode: true)
        } catch let error as YamlError {
            throw YAMLConverter.describe(error)
        } catch {
            throw DocumentParseError(message: "cannot write YAML: \(error)")
        }
    }
}

/// JSON values as Yams nodes.
enum YAMLNodes {
    // Every tag is explicit: an implicit one would make Yams resolve it with its default
    // resolver, whose regular expressions cost more at start-up than the whole conversion.
    private static func tag(_ name: Tag.Name) -> Tag { Tag(name, .basic, .default) }

    static func node(for value: JSONValue) -> Node {
        switch value {
        case .null:
            return .scalar(Node.Scalar("null", tag(.null), .plain))
        case .bool(let flag):
            return .scalar(Node.Scalar(flag ? "true" : "false", tag(.bool), .plain))
        case .int(let number):
            return .scalar(Node.Scalar(String(number), tag(.int), .plain))
        case .double(let number):
            return .scalar(Node.Scalar(JSONSerializer.format(number), tag(.float), .plain))
        case .string(let text):
            return .scalar(Node.Scalar(text, tag(.str), style(for: text)))
        case .array(let elements):
            return .sequence(Node.Sequence(elements.map(node(for:)), tag(.seq), .block))
        case .object(let object):
            let pairs = object.entries.map { entry in
                (Node.scalar(Node.Scalar(entry.key, tag(.str), style(for: entry.key))), node(for: entry.value))
            }
            return .mapping(Node.Mapping(pairs, tag(.map), .block))
        }
    }

    /// go-yaml's choice: a literal block for multi-line text, plain when the text reads back
    /// as itself, else double quotes. libyaml falls back to a quoted style by itself when
    /// the chosen one cannot carry the text.
    static func style(for text: String) -> Node.Scalar.Style {
        if text.utf8.contains(UInt8(ascii: "\n")) { return .literal }
        return YAMLScalar.needsQuotes(text) ? .doubleQuoted : .plain
    }
}
