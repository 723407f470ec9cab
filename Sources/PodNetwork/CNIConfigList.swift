import PodJSON

/// A CNI network configuration list (a `.conflist` file), as libcni reads one: the list's
/// `cniVersion` and `name`, and its plugins in order, each kept as the JSON object it was
/// written as (a plugin's own keys are the plugin's business; the runtime adds `name`,
/// `cniVersion`, `prevResult` and `runtimeConfig` before handing it over).
public struct CNIConfigList: Sendable, Equatable {
    public var cniVersion: String
    public var name: String
    public var disableCheck: Bool
    public var plugins: [JSONObject]
    /// The list as read, to be saved with a pod's attachment (its DEL must use the very
    /// configuration its ADD used, whatever the file says by then).
    public var json: JSONValue

    /// The CNI versions podd speaks: results are read in 1.0.0's form (0.4.0's is the same
    /// for what podd reads: ips, interfaces).
    public static let supportedVersions: Set<String> = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]

    /// Reads a conflist; `source` names it in errors (its path).
    public init(bytes: [UInt8], source: String) throws(CNIError) {
        let value: JSONValue
        do throws(DocumentParseError) { value = try JSONValue.parse(bytes) } catch {
            throw .config("\(source): not valid JSON: \(error)")
        }
        try self.init(json: value, source: source)
    }

    public init(json value: JSONValue, source: String) throws(CNIError) {
        guard case .object = value else { throw .config("\(source): a network configuration list must be a JSON object") }
        guard let name = value["name"]?.stringValue, !name.isEmpty else {
            throw .config("\(source): \"name\" (the network's name) is missing")
        }
        guard let version = value["cniVersion"]?.stringValue, !version.isEmpty else {
            throw .config("\(source): \"cniVersion\" is missing")
        }
        guard Self.supportedVersions.contains(version) else {
            throw .config("\(source): cniVersion \(version) is not supported (podd speaks \(Self.supportedVersions.sorted().joined(separator: ", ")))")
        }
        guard let plugins = value["plugins"]?.arrayValue, !plugins.isEmpty else {
            throw .config("\(source): \"plugins\" must list at least one plugin (a single-plugin .conf is not a .conflist)")
        }
        var objects: [JSONObject] = []
        for (i, p) in plugins.enumerated() {
            guard let object = p.objectValue else { throw .config("\(source): plugins[\(i)] must be an object") }
            guard let type = object["type"]?.stringValue, !type.isEmpty else {
                throw .config("\(source): plugins[\(i)].type (the plugin binary's name) is missing")
            }
            guard !type.contains("/"), type != ".", type != ".." else {
                throw .config("\(source): plugins[\(i)].type \"\(type)\" must be a plain binary name")
            }
            objects.append(object)
        }
        cniVersion = version
        self.name = name
        disableCheck = value["disableCheck"]?.boolValue ?? (value["disableCheck"]?.stringValue == "true")
        self.plugins = objects
        json = value
    }

    /// The plugins' binary names, in order.
    public var types: [String] { plugins.map { $0["type"]?.stringValue ?? "" } }

    /// Whether plugin `index` declares capability `name` (`portMappings`, ...).
    public func plugin(_ index: Int, has capability: String) -> Bool {
        plugins[index]["capabilities"]?[capability]?.boolValue ?? false
    }

    /// The configuration plugin `index` gets on stdin: its own object with the list's name
    /// and version, the runtime's capability arguments it asked for, and the previous result.
    func stdinConfig(plugin index: Int, runtimeConfig: JSONObject, prevResult: JSONValue?) -> [UInt8] {
        var object = plugins[index]
        object["cniVersion"] = .string(cniVersion)
        object["name"] = .string(name)
        var granted = JSONObject()
        for (key, value) in runtimeConfig where plugin(index, has: key) { granted[key] = value }
        if !granted.isEmpty { object["runtimeConfig"] = .object(granted) }
        if let prevResult, !prevResult.isNull { object["prevResult"] = prevResult }
        return JSONValue.object(object).serialized()
    }
}
