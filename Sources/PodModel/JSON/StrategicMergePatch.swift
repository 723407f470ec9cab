/// Kubernetes' strategic merge patch (`application/strategic-merge-patch+json`): a JSON merge
/// patch (objects merge member by member, null deletes a member), except that the lists the
/// type marks `patchStrategy: merge` merge too: lists of objects by a key of their elements
/// (containers by `name`, ports by `containerPort`), lists of scalars as a set. Directives:
///
/// - `$patch: delete` in an element of such a list deletes the element with that key;
///   `{"$patch": "replace"}` as an element replaces the whole list with the other elements;
/// - `$patch: replace` in an object replaces it with the patch's object, `$patch: delete`
///   empties it;
/// - `$retainKeys: [...]` in an object drops the members not listed;
/// - `$setElementOrder/FIELD: [...]` orders the merged list FIELD;
/// - `$deleteFromPrimitiveList/FIELD: [...]` removes values from the list of scalars FIELD.
///
/// The merged list is ordered as the API server orders it: the patch's elements in the patch's
/// order, the others in their old order, interleaved where the old order relates them; a new
/// element comes before the old ones it is not related to.

/// Which fields of a type merge their lists, and by what key: what k8s.io/api's
/// `patchStrategy` and `patchMergeKey` struct tags say.
public struct StrategicMergeSchema: Sendable, Equatable {
    public enum ListStrategy: Sendable, Equatable {
        /// A list of objects, merged by the value of this member of each element (`name`).
        case mergeByKey(String)
        /// A list of scalars, merged as a set (metadata.finalizers).
        case mergeScalars
    }

    /// For a list: how it merges; nil: a patch replaces it whole.
    public var list: ListStrategy?
    /// The fields of this object (of each element, for a list) that merge in a way of their own
    /// or contain such fields; the fields not named merge as in a JSON merge patch.
    public var fields: [String: StrategicMergeSchema]

    public init(list: ListStrategy? = nil, fields: [String: StrategicMergeSchema] = [:]) {
        self.list = list
        self.fields = fields
    }

    /// A list of objects merged by `key`, whose elements have `fields`.
    public static func keyed(_ key: String, _ fields: [String: StrategicMergeSchema] = [:]) -> StrategicMergeSchema {
        StrategicMergeSchema(list: .mergeByKey(key), fields: fields)
    }

    /// The schema of a field (a plain one when nothing is said of it).
    public func field(_ name: String) -> StrategicMergeSchema { fields[name] ?? StrategicMergeSchema() }

    var mergeKey: String? {
        if case .mergeByKey(let key)? = list { return key }
        return nil
    }

    /// core/v1 Pod: the patch strategies of k8s.io/api/core/v1's types.go.
    public static let pod: StrategicMergeSchema = {
        let container: [String: StrategicMergeSchema] = [
            "ports": .keyed("containerPort"),
            "env": .keyed("name"),
            "volumeMounts": .keyed("mountPath"),
            "volumeDevices": .keyed("devicePath"),
        ]
        return StrategicMergeSchema(fields: [
            "metadata": StrategicMergeSchema(fields: [
                "finalizers": StrategicMergeSchema(list: .mergeScalars),
                "ownerReferences": .keyed("uid"),
            ]),
            "spec": StrategicMergeSchema(fields: [
                "volumes": .keyed("name"),
                "initContainers": .keyed("name", container),
                "containers": .keyed("name", container),
                "ephemeralContainers": .keyed("name", container),
                "imagePullSecrets": .keyed("name"),
                "hostAliases": .keyed("ip"),
                "topologySpreadConstraints": .keyed("topologyKey"),
                "schedulingGates": .keyed("name"),
                "resourceClaims": .keyed("name"),
            ]),
            "status": StrategicMergeSchema(fields: [
                "conditions": .keyed("type"),
                "podIPs": .keyed("ip"),
                "hostIPs": .keyed("ip"),
                "resourceClaimStatuses": .keyed("name"),
            ]),
        ])
    }()
}

public enum StrategicMergePatch {
    static let directive = "$patch"
    static let retainKeys = "$retainKeys"
    static let setElementOrder = "$setElementOrder/"
    static let deleteFromPrimitiveList = "$deleteFromPrimitiveList/"

    /// Applies a strategic merge patch (a JSON object) to `document` (an object), the lists
    /// merging as `schema` says.
    public static func apply(_ patch: JSONValue, to document: JSONValue, schema: StrategicMergeSchema) throws(PatchError) -> JSONValue {
        guard case .object(let members) = patch else {
            throw .malformed("a strategic merge patch must be a JSON object, not \(patch.typeName)")
        }
        return .object(try mergeObject(document.objectValue ?? JSONObject(), members, schema, path: ""))
    }

    // MARK: Objects

    static func mergeObject(_ original: JSONObject, _ patch: JSONObject, _ schema: StrategicMergeSchema,
                            path: String) throws(PatchError) -> JSONObject {
        var patch = patch
        if let value = patch[directive] {
            switch value.stringValue {
            case "replace"?:
                patch.removeValue(forKey: directive)
                return try mergeObject(JSONObject(), patch, schema, path: path)
            case "delete"?:
                return JSONObject()
            default:
                throw .malformed("\(at(path))invalid $patch directive \(value) in an object (expected \"replace\" or \"delete\")")
            }
        }
        var result = original

        if let value = patch.removeValue(forKey: retainKeys) {
            guard case .array(let items) = value, items.allSatisfy({ $0.stringValue != nil }) else {
                throw .malformed("\(at(path))$retainKeys must be a list of field names")
            }
            let keep = Set(items.compactMap(\.stringValue))
            for (key, value) in patch where !value.isNull && !key.hasPrefix(setElementOrder) && !key.hasPrefix(deleteFromPrimitiveList) {
                guard keep.contains(key) else {
                    throw .malformed("\(at(path))\"\(key)\" is in the patch but not in its $retainKeys list")
                }
            }
            for key in result.keys where !keep.contains(key) { result.removeValue(forKey: key) }
        }

        // $setElementOrder/FIELD: merge FIELD's list, then order it as listed.
        for (key, value) in patch where key.hasPrefix(setElementOrder) {
            patch.removeValue(forKey: key)
            let field = String(key.dropFirst(setElementOrder.count))
            guard !field.isEmpty, case .array(let order) = value else {
                throw .malformed("\(at(path))\(key) must be a list that names a field")
            }
            let fieldSchema = schema.field(field)
            let fieldPath = join(path, field)
            let old = try list(result[field], fieldPath, what: "the document")
            let new = try list(patch.removeValue(forKey: field), fieldPath, what: "the patch")
            let merged: [JSONValue]
            switch (old, new) {
            case (nil, nil): continue
            case let (old?, nil): merged = old
            case let (old, new?): merged = try mergeList(old ?? [], new, fieldSchema, path: fieldPath)
            }
            guard fieldSchema.list != nil else {
                result[field] = .array(merged)
                continue
            }
            let key = fieldSchema.mergeKey
            let (listed, others) = partition(merged, by: order, key: key)
            result[field] = .array(interleave(listed, others, order: order, oldOrder: old ?? [], key: key))
        }

        // $deleteFromPrimitiveList/FIELD: values to take out of FIELD.
        for (key, value) in patch where key.hasPrefix(deleteFromPrimitiveList) {
            patch.removeValue(forKey: key)
            let field = String(key.dropFirst(deleteFromPrimitiveList.count))
            guard !field.isEmpty, case .array(let values) = value else {
                throw .malformed("\(at(path))\(key) must be a list that names a field")
            }
            if case .array(let items)? = result[field] {
                result[field] = .array(items.filter { item in !values.contains { $0.isSameJSON(as: item) } })
            }
        }

        for (key, value) in patch {
            guard !key.hasPrefix("$") else {
                throw .malformed("\(at(path))unknown directive \"\(key)\"")
            }
            if value.isNull {
                result.removeValue(forKey: key)
                continue
            }
            let fieldSchema = schema.field(key)
            let fieldPath = join(path, key)
            switch (result[key], value) {
            case let (.object(old)?, .object(new)):
                result[key] = .object(try mergeObject(old, new, fieldSchema, path: fieldPath))
            case let (.array(old)?, .array(new)):
                result[key] = .array(try mergeList(old, new, fieldSchema, path: fieldPath))
            default:
                result[key] = try fresh(value, fieldSchema, path: fieldPath)
            }
        }
        return result
    }

    /// A patch value for a field the document lacks (or holds with another type): merged into
    /// nothing, so that its directives and nulls go.
    static func fresh(_ value: JSONValue, _ schema: StrategicMergeSchema, path: String) throws(PatchError) -> JSONValue {
        switch value {
        case .object(let members): return .object(try mergeObject(JSONObject(), members, schema, path: path))
        case .array(let items): return .array(try mergeList([], items, schema, path: path))
        default: return value
        }
    }

    // MARK: Lists

    static func mergeList(_ original: [JSONValue], _ patch: [JSONValue], _ schema: StrategicMergeSchema,
                          path: String) throws(PatchError) -> [JSONValue] {
        guard schema.list != nil else { return patch }
        if original.isEmpty && patch.isEmpty { return original }
        var elementType: String?
        for item in original + patch {
            if case .array = item { throw .notApplicable("\(at(path))lists of lists cannot be merged") }
            if elementType == nil { elementType = item.typeName }
            guard item.typeName == elementType else {
                throw .notApplicable("\(at(path))the elements of the list and of the patch are not all of one type (\(elementType ?? "") and \(item.typeName))")
            }
        }

        guard elementType == "object" else {
            // Scalars: a set.
            var merged: [JSONValue] = []
            for item in original + patch where !merged.contains(where: { $0.isSameJSON(as: item) }) { merged.append(item) }
            let (inPatch, others) = partition(merged, by: patch, key: nil)
            return interleave(inPatch, others, order: patch, oldOrder: original, key: nil)
        }
        guard let key = schema.mergeKey else {
            throw .notApplicable("\(at(path))a list of objects cannot be merged without a merge key")
        }

        // $patch elements: delete by key, or replace the whole list.
        var base = original
        var elements: [JSONObject] = []
        var replace = false
        for item in patch {
            guard case .object(let members) = item else { continue }
            guard let value = members[directive] else {
                elements.append(members)
                continue
            }
            switch value.stringValue {
            case "delete"?:
                guard let id = members[key] else {
                    throw .malformed("\(at(path))an element with $patch: delete must give the merge key \"\(key)\": \(item)")
                }
                base.removeAll { $0[key].map { $0.isSameJSON(as: id) } ?? false }
            case "replace"?:
                replace = true
            case "merge"?:
                throw .malformed("\(at(path))$patch: merge is not supported in a list")
            default:
                throw .malformed("\(at(path))invalid $patch directive \(value) in a list (expected \"delete\" or \"replace\")")
            }
        }
        if replace {
            base = []
            for members in elements {
                guard let id = members[key] else {
                    throw .malformed("\(at(path))element \(JSONValue.object(members)) does not give the merge key \"\(key)\"")
                }
                base.append(.object(try mergeObject(JSONObject(), members, schema, path: element(path, key, id))))
            }
            return base
        }

        var merged = base
        for members in elements {
            guard let id = members[key] else {
                throw .malformed("\(at(path))element \(JSONValue.object(members)) does not give the merge key \"\(key)\"")
            }
            if let i = merged.firstIndex(where: { $0[key].map { $0.isSameJSON(as: id) } ?? false }), case .object(let old) = merged[i] {
                merged[i] = .object(try mergeObject(old, members, schema, path: element(path, key, id)))
            } else {
                merged.append(.object(try mergeObject(JSONObject(), members, schema, path: element(path, key, id))))
            }
        }
        let order = elements.map(JSONValue.object)
        let (inPatch, others) = partition(merged, by: order, key: key)
        return interleave(inPatch, others, order: order, oldOrder: base, key: key)
    }

    // MARK: Order

    /// What identifies an element: its merge key's value, or the scalar itself.
    static func identity(_ item: JSONValue, _ key: String?) -> JSONValue? {
        guard let key else { return item }
        return item[key]
    }

    static func position(of item: JSONValue, in list: [JSONValue], key: String?) -> Int? {
        guard let id = identity(item, key) else { return nil }
        return list.firstIndex { identity($0, key).map { $0.isSameJSON(as: id) } ?? false }
    }

    /// The elements of `items` that `by` names, and the others.
    static func partition(_ items: [JSONValue], by list: [JSONValue], key: String?) -> (named: [JSONValue], others: [JSONValue]) {
        var named: [JSONValue] = []
        var others: [JSONValue] = []
        for item in items {
            if position(of: item, in: list, key: key) != nil { named.append(item) } else { others.append(item) }
        }
        return (named, others)
    }

    /// The API server's order (normalizeElementOrder): `named` sorted as in `order`, `others` as
    /// in `oldOrder`, then merged: an old element goes before a named one when both are in
    /// `oldOrder` and it came first there; otherwise the named one goes first.
    static func interleave(_ named: [JSONValue], _ others: [JSONValue], order: [JSONValue], oldOrder: [JSONValue], key: String?) -> [JSONValue] {
        func sorted(_ items: [JSONValue], _ by: [JSONValue]) -> [JSONValue] {
            items.enumerated()
                .map { (rank: position(of: $0.element, in: by, key: key) ?? Int.max, index: $0.offset, item: $0.element) }
                .sorted { ($0.rank, $0.index) < ($1.rank, $1.index) }
                .map(\.item)
        }
        let right = sorted(named, order)
        let left = sorted(others, oldOrder)
        var out: [JSONValue] = []
        var i = 0
        var j = 0
        while i < left.count || j < right.count {
            if i >= left.count {
                out.append(right[j]); j += 1
            } else if j >= right.count {
                out.append(left[i]); i += 1
            } else if let l = position(of: left[i], in: oldOrder, key: key), let r = position(of: right[j], in: oldOrder, key: key), l < r {
                out.append(left[i]); i += 1
            } else {
                out.append(right[j]); j += 1
            }
        }
        return out
    }

    // MARK: Helpers

    static func list(_ value: JSONValue?, _ path: String, what: String) throws(PatchError) -> [JSONValue]? {
        guard let value else { return nil }
        guard case .array(let items) = value else {
            throw .notApplicable("\(path): \(what) has \(value.typeName) here, not a list")
        }
        return items
    }

    static func join(_ path: String, _ field: String) -> String { path.isEmpty ? field : path + "." + field }

    static func element(_ path: String, _ key: String, _ id: JSONValue) -> String {
        "\(path)[\(key)=\(id.stringValue ?? id.description)]"
    }

    static func at(_ path: String) -> String { path.isEmpty ? "" : path + ": " }
}
