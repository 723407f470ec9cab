import PodModel

/// An object read from a manifest, with where it came from for error messages.
public struct ManifestObject: Sendable {
    public var object: JSONValue
    public var source: String

    public var kind: String { object["kind"].string }
    public var name: String { object["metadata"]["name"].string }
}

/// Reads the manifests named by `-f`: files, directories (their `.yaml`, `.yml` and `.json`
/// files, sorted by name, as kubectl reads them) and `-` for stdin. Each file may hold several
/// YAML documents or JSONValue values; a `kind: List` (or any `...List` with `items`) is expanded
/// into its items.
public enum ManifestReader {
    static let extensions = [".yaml", ".yml", ".json"]

    public static func read(paths: [String], readStandardInput: () throws(PodctlError) -> [UInt8] = ManifestReader.standardInput)
        throws(PodctlError) -> [ManifestObject]
    {
        var objects: [ManifestObject] = []
        for path in paths {
            if path == "-" {
                objects += try parse(readStandardInput(), source: "STDIN")
                continue
            }
            switch FileSystem.kind(of: path) {
            case nil:
                throw PodctlError("the path \"\(path)\" does not exist")
            case .directory:
                let names = try FileSystem.listDirectory(path)
                    .filter { name in extensions.contains { name.hasSuffix($0) } && !name.hasPrefix(".") }
                    .sorted()
                for name in names {
                    let file = FileSystem.join(path, name)
                    guard FileSystem.kind(of: file) != .directory else { continue }
                    objects += try parse(FileSystem.readFile(file), source: file)
                }
            case .other:
                objects += try parse(FileSystem.readFile(path), source: path)
            }
        }
        return objects
    }

    public static func standardInput() throws(PodctlError) -> [UInt8] {
        do {
            return try FileSystem.readAll(fd: 0)
        } catch {
            throw PodctlError("cannot read standard input: \(errorText(error.code))")
        }
    }

    /// Parses one file's bytes: JSON when it starts with `{`, else YAML, with podd's own
    /// readers (PodJSON), so that podctl and podd read a manifest the same way.
    public static func parse(_ bytes: [UInt8], source: String) throws(PodctlError) -> [ManifestObject] {
        var documents: [JSONValue]
        var content = bytes[...]
        if content.starts(with: [0xEF, 0xBB, 0xBF]) { content = content.dropFirst(3) }  // UTF-8 BOM
        let firstSignificant = content.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        if firstSignificant == UInt8(ascii: "{") {
            do {
                documents = try JSONValue.parseStream(Array(content))
            } catch {
                throw PodctlError("error parsing \(source): \(error)")
            }
        } else {
            do {
                documents = try JSONValue.parseYAMLDocuments(String(decoding: content, as: UTF8.self))
            } catch {
                // kubectl's wording: "yaml: line 3: mapping values are not allowed in this context".
                let line = error.line.map { "line \($0): " } ?? ""
                throw PodctlError("error parsing \(source): error converting YAML to JSON: yaml: \(line)\(error.message)")
            }
        }
        var objects: [ManifestObject] = []
        for document in documents {
            try expand(document, source: source, into: &objects, depth: 0)
        }
        return objects
    }

    private static func expand(_ document: JSONValue, source: String, into objects: inout [ManifestObject], depth: Int) throws(PodctlError) {
        guard document.isObject else {
            throw PodctlError("error parsing \(source): a manifest must be an object with apiVersion and kind, not \(describeKind(document))")
        }
        let kind = document["kind"].string
        if kind.hasSuffix("List"), depth < 8, case .array(let items) = document["items"] {
            for item in items { try expand(item, source: source, into: &objects, depth: depth + 1) }
            return
        }
        guard !kind.isEmpty else {
            throw PodctlError("error validating \(source): Object 'Kind' is missing in '\(document.description.prefix(120))'")
        }
        objects.append(ManifestObject(object: document, source: source))
    }

    private static func describeKind(_ value: JSONValue) -> String {
        switch value {
        case .array: return "a list"
        case .string: return "a string"
        case .int, .double: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .object: return "an object"
        }
    }
}
