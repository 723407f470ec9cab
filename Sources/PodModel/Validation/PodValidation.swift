/// Pod validation as the Kubernetes API server does it on create (ValidatePodCreate), for
/// the fields podd supports, with Kubernetes' paths and messages, plus podd's own rules
/// (absolute mount and hostPath paths, a positive emptyDir sizeLimit, the
/// `podd.io/restart-scope` annotation). Every problem is returned, not just the first.
public enum PodValidation {
    /// Validates a pod to be created (or replaced).
    ///
    /// Ephemeral containers cannot be set on create, as in Kubernetes: they are added to a
    /// running pod through the ephemeralcontainers subresource (`validateEphemeralUpdate`).
    /// `allowEphemeralContainers` lifts that rule, for a pod that already has some (a
    /// replacement keeping them, a pod read back from podd's state).
    public static func validate(_ pod: Pod, allowEphemeralContainers: Bool = false) -> [FieldError] {
        var errors = validateMetadata(pod.metadata)
        errors += validateSpec(pod.spec, path: FieldPath("spec"))
        if !allowEphemeralContainers && !pod.spec.ephemeralContainers.isEmpty {
            errors.append(.forbidden(FieldPath("spec.ephemeralContainers"), "cannot be set on create"))
        }
        return errors
    }

    /// Validates an update of a pod's ephemeral containers (PUT/PATCH of the
    /// ephemeralcontainers subresource): the pod with the new list must be valid, and the
    /// list is append-only: existing ephemeral containers may be neither removed nor changed.
    public static func validateEphemeralUpdate(old: Pod, new ephemeralContainers: [EphemeralContainer]) -> [FieldError] {
        var updated = old
        updated.spec.ephemeralContainers = ephemeralContainers
        var errors = validate(updated, allowEphemeralContainers: true)
        let path = FieldPath("spec.ephemeralContainers")
        for existing in old.spec.ephemeralContainers {
            guard let replacement = ephemeralContainers.first(where: { $0.name == existing.name }) else {
                errors.append(.forbidden(path, "existing ephemeral containers \(FieldError.goQuoted(existing.name)) may not be removed"))
                continue
            }
            if replacement != existing {
                errors.append(.forbidden(path, "existing ephemeral containers \(FieldError.goQuoted(existing.name)) may not be changed"))
            }
        }
        return errors
    }

    // MARK: - Metadata

    /// The most a pod's annotations may hold, keys and values together (256 KiB).
    static let totalAnnotationSizeLimit = 256 * 1024

    /// ValidateAnnotations: keys qualified names (case aside), 256 KiB in all.
    public static func annotationErrors(_ annotations: [String: String], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var annotationBytes = 0
        for key in annotations.keys.sorted() {
            // Annotation keys follow the label key rule, case aside.
            for message in NameRules.qualifiedNameErrors(key.lowercased()) {
                errors.append(.invalid(path, .string(key), message))
            }
            annotationBytes += key.utf8.count + (annotations[key]?.utf8.count ?? 0)
        }
        if annotationBytes > totalAnnotationSizeLimit {
            errors.append(.tooLong(path, maxLength: totalAnnotationSizeLimit))
        }
        return errors
    }

    /// ValidateObjectMeta: names, namespace (none for a cluster-scoped kind: `namespaced`
    /// false), labels, annotations.
    static func validateMetadata(_ metadata: ObjectMeta, namespaced: Bool = true) -> [FieldError] {
        var errors: [FieldError] = []
        let path = FieldPath("metadata")
        if let generateName = metadata.generateName, !generateName.isEmpty {
            // A prefix: it may end in '-' (the random characters follow).
            let masked = generateName.hasSuffix("-") ? String(generateName.dropLast()) + "a" : generateName
            for message in DNS1123.subdomainErrors(masked) {
                errors.append(.invalid(path.child("generateName"), .string(generateName), message))
            }
        }
        if metadata.name.isEmpty {
            errors.append(.required(path.child("name"), "name or generateName is required"))
        } else {
            for message in DNS1123.subdomainErrors(metadata.name) {
                errors.append(.invalid(path.child("name"), .string(metadata.name), message))
            }
        }
        if !namespaced {
            if !metadata.namespace.isEmpty { errors.append(.forbidden(path.child("namespace"), "not allowed on this type")) }
        } else if metadata.namespace.isEmpty {
            errors.append(.required(path.child("namespace")))
        } else {
            for message in DNS1123.labelErrors(metadata.namespace) {
                errors.append(.invalid(path.child("namespace"), .string(metadata.namespace), message))
            }
        }
        errors += labelErrors(metadata.labels, path: path.child("labels"))
        errors += annotationErrors(metadata.annotations, path: path.child("annotations"))
        errors += finalizerErrors(metadata.finalizers, path: path.child("finalizers"))
        if let scope = metadata.annotations[PodAnnotations.restartScope],
            scope != PodAnnotations.restartScopePod, scope != PodAnnotations.restartScopeContainer
        {
            errors.append(.notSupported(path.child("annotations").key(PodAnnotations.restartScope), .string(scope),
                                        supported: [PodAnnotations.restartScopePod, PodAnnotations.restartScopeContainer]))
        }
        return errors
    }

    /// ValidateFinalizers: qualified names, or one of the standard names without a domain;
    /// not both of the garbage collector's (orphan and foregroundDeletion).
    static func finalizerErrors(_ finalizers: [String], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for name in finalizers {
            let problems = NameRules.qualifiedNameErrors(name)
            errors += problems.map { FieldError.invalid(path, .string(name), $0) }
            if problems.isEmpty, !name.contains("/"), !ObjectMeta.standardFinalizers.contains(name) {
                errors.append(.invalid(path, .string(name), "name is neither a standard finalizer name nor is it fully qualified"))
            }
        }
        if finalizers.contains("orphan") && finalizers.contains("foregroundDeletion") {
            errors.append(.invalid(path, .array(finalizers.map { .string($0) }), "finalizer orphan and foregroundDeletion cannot be both set"))
        }
        return errors
    }

    /// ValidateNoNewFinalizers: an object being deleted may lose finalizers, never gain one.
    public static func newFinalizerErrors(_ new: ObjectMeta, old: ObjectMeta) -> [FieldError] {
        guard old.deletionTimestamp != nil else { return [] }
        let added = Set(new.finalizers).subtracting(old.finalizers).sorted()
        guard !added.isEmpty else { return [] }
        let list = added.map { "\"\($0)\"" }.joined(separator: ", ")
        return [.forbidden(FieldPath("metadata").child("finalizers"),
                           "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(list)}")]
    }

    /// A map of labels (metadata.labels, spec.nodeSelector), as ValidateLabels checks it:
    /// Kubernetes reports each problem at the map's path, not the key's.
    static func labelErrors(_ labels: [String: String], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for key in labels.keys.sorted() {
            for message in NameRules.qualifiedNameErrors(key) {
                errors.append(.invalid(path, .string(key), message))
            }
            let value = labels[key] ?? ""
            for message in NameRules.labelValueErrors(value) {
                errors.append(.invalid(path, .string(value), message))
            }
        }
        return errors
    }

    // MARK: - Spec

    static func validateSpec(_ spec: PodSpec, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let (volumes, volumeErrors) = validateVolumes(spec.volumes, path: path.child("volumes"))
        errors += volumeErrors
        let context = ContainerValidation(volumes: volumes, gracePeriod: spec.terminationGracePeriodSeconds)
        errors += context.validateContainers(spec.containers, path: path.child("containers"))
        errors += context.validateInitContainers(spec.initContainers, regular: spec.containers, path: path.child("initContainers"))
        errors += context.validateEphemeralContainers(spec.ephemeralContainers, regular: spec.containers, initContainers: spec.initContainers,
                                                      path: path.child("ephemeralContainers"))
        errors += PodResourcesValidation.validate(spec, path: path.child("resources"))
        if let hostname = spec.hostname, !hostname.isEmpty {
            for message in DNS1123.labelErrors(hostname) {
                errors.append(.invalid(path.child("hostname"), .string(hostname), message))
            }
        }
        // ValidateServiceAccountName: a DNS subdomain.
        for message in DNS1123.subdomainErrors(spec.serviceAccountName) {
            errors.append(.invalid(path.child("serviceAccountName"), .string(spec.serviceAccountName), message))
        }
        errors += SecurityContextValidation.validate(spec, path: path)
        errors += SecondsLimits.gracePeriodErrors(spec.terminationGracePeriodSeconds, path: path.child("terminationGracePeriodSeconds"))
        if let deadline = spec.activeDeadlineSeconds, deadline < 1 || deadline > Int64(Int32.max) {
            errors.append(.invalid(path.child("activeDeadlineSeconds"), .int(deadline), SecondsLimits.inclusiveRange(1, Int64(Int32.max))))
        }
        errors += NetworkValidation.validate(spec, path: path)
        errors += SchedulingValidation.validate(spec, path: path)
        // Image whitespace is checked for pods, not templates; Kubernetes does it last.
        for (label, list) in [("containers", spec.containers), ("initContainers", spec.initContainers)] {
            for (index, container) in list.enumerated() {
                errors += ContainerValidation.validateImageWhitespace(container.image, path: path.child(label).index(index).child("image"))
            }
        }
        return errors
    }

    /// Validates the volumes; returns the names of the valid ones (mounts of the others are
    /// reported as not found, as Kubernetes does) and the problems.
    static func validateVolumes(_ volumes: [Volume], path: FieldPath) -> (Set<String>, [FieldError]) {
        var errors: [FieldError] = []
        var valid = Set<String>()
        for (index, volume) in volumes.enumerated() {
            let volumePath = path.index(index)
            var volumeErrors = validateVolumeSource(volume.source, path: volumePath)
            if volume.name.isEmpty {
                volumeErrors.append(.required(volumePath.child("name")))
            } else {
                for message in DNS1123.labelErrors(volume.name) {
                    volumeErrors.append(.invalid(volumePath.child("name"), .string(volume.name), message))
                }
            }
            if valid.contains(volume.name) {
                volumeErrors.append(.duplicate(volumePath.child("name"), .string(volume.name)))
            }
            if volumeErrors.isEmpty {
                valid.insert(volume.name)
            } else {
                errors += volumeErrors
            }
        }
        return (valid, errors)
    }

    static func validateVolumeSource(_ source: VolumeSource, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        switch source {
        case .emptyDir(let emptyDir):
            if let limit = emptyDir.sizeLimit {
                let limitPath = path.child("emptyDir", "sizeLimit")
                if limit.value < 0 {
                    errors.append(.forbidden(limitPath, "SizeLimit field must be a valid resource quantity"))
                } else if limit.value == 0 {
                    // podd's rule: a zero-sized tmpfs would be unlimited, surely not what was meant.
                    errors.append(.invalid(limitPath, .string(limit.string), "must be greater than zero"))
                }
            }
        case .hostPath(let hostPath):
            let pathPath = path.child("hostPath", "path")
            if hostPath.path.isEmpty {
                errors.append(.required(pathPath))
            } else {
                errors += PathRules.noBacksteps(hostPath.path, path: pathPath)
                errors += PathRules.absolute(hostPath.path, path: pathPath)
                errors += ArgvRules.noNUL(hostPath.path, path: pathPath)
            }
        default:
            errors += ConfigSourceValidation.volumeSource(source, path: path)
        }
        return errors
    }
}

/// Path rules shared by mounts and hostPath volumes.
enum PathRules {
    /// No `..` element (Kubernetes' validatePathNoBacksteps).
    static func noBacksteps(_ value: String, path: FieldPath) -> [FieldError] {
        value.split(separator: "/", omittingEmptySubsequences: false).contains("..")
            ? [.invalid(path, .string(value), "must not contain '..'")] : []
    }

    /// podd's rule: an absolute path (a relative one would depend on the container's image
    /// and working directory).
    static func absolute(_ value: String, path: FieldPath) -> [FieldError] {
        value.hasPrefix("/") ? [] : [.invalid(path, .string(value), "must be an absolute path")]
    }
}
