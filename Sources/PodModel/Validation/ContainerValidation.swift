/// Container validation (app, init and ephemeral containers), as Kubernetes'
/// validateContainers, validateInitContainers and validateEphemeralContainers.
struct ContainerValidation {
    /// Names of the pod's valid volumes.
    let volumes: Set<String>
    /// The pod's grace period, the bound of a sleep hook.
    let gracePeriod: Int64

    /// The message of a field an ephemeral container may not have.
    static let ephemeralForbidden = "cannot be set for an Ephemeral Container"
    /// The message of a probe or hook on an init container that is not a sidecar.
    static let initForbidden = "may not be set for init containers without restartPolicy=Always"

    func validateContainers(_ containers: [Container], path: FieldPath) -> [FieldError] {
        guard !containers.isEmpty else { return [.required(path)] }
        var errors: [FieldError] = []
        var names = Set<String>()
        for (index, container) in containers.enumerated() {
            let containerPath = path.index(index)
            errors += validateCommon(container, path: containerPath)
            // Collisions with init and ephemeral containers are reported on those.
            if !names.insert(container.name).inserted {
                errors.append(.duplicate(containerPath.child("name"), .string(container.name)))
            }
            errors += validateProbesAndHooks(container, path: containerPath)
            if container.restartPolicy != nil {
                errors.append(.forbidden(containerPath.child("restartPolicy"), "may not be set for non-init containers"))
            }
        }
        return errors
    }

    func validateInitContainers(_ containers: [Container], regular: [Container], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var names = Set(regular.map(\.name))
        for (index, container) in containers.enumerated() {
            let containerPath = path.index(index)
            errors += validateCommon(container, path: containerPath)
            if names.contains(container.name) {
                errors.append(.duplicate(containerPath.child("name"), .string(container.name)))
            } else if !container.name.isEmpty {
                names.insert(container.name)
            }
            if container.isSidecar {
                // A native sidecar runs beside the app containers: probes and hooks apply.
                errors += validateProbesAndHooks(container, path: containerPath)
            } else {
                if container.lifecycle != nil { errors.append(.forbidden(containerPath.child("lifecycle"), Self.initForbidden)) }
                if container.livenessProbe != nil { errors.append(.forbidden(containerPath.child("livenessProbe"), Self.initForbidden)) }
                if container.readinessProbe != nil { errors.append(.forbidden(containerPath.child("readinessProbe"), Self.initForbidden)) }
                if container.startupProbe != nil { errors.append(.forbidden(containerPath.child("startupProbe"), Self.initForbidden)) }
            }
        }
        return errors
    }

    func validateEphemeralContainers(_ containers: [EphemeralContainer], regular: [Container], initContainers: [Container],
                                     path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let others = Set(regular.map(\.name) + initContainers.map(\.name))
        var names = others
        for (index, ephemeral) in containers.enumerated() {
            let containerPath = path.index(index)
            errors += validateCommon(ephemeral.common, path: containerPath)
            errors += Self.validateImageWhitespace(ephemeral.image, path: containerPath.child("image"))
            if !names.insert(ephemeral.name).inserted {
                errors.append(.duplicate(containerPath.child("name"), .string(ephemeral.name)))
            }
            if let target = ephemeral.targetContainerName, !target.isEmpty, !others.contains(target) {
                errors.append(.notFound(containerPath.child("targetContainerName"), .string(target)))
            }
            // Ephemeral containers are not part of the pod's service: no ports, probes, hooks
            // or restarts. In Kubernetes' field order.
            if !ephemeral.ports.isEmpty { errors.append(.forbidden(containerPath.child("ports"), Self.ephemeralForbidden)) }
            if ephemeral.restartPolicy != nil { errors.append(.forbidden(containerPath.child("restartPolicy"), Self.ephemeralForbidden)) }
            if ephemeral.livenessProbe != nil { errors.append(.forbidden(containerPath.child("livenessProbe"), Self.ephemeralForbidden)) }
            if ephemeral.readinessProbe != nil { errors.append(.forbidden(containerPath.child("readinessProbe"), Self.ephemeralForbidden)) }
            if ephemeral.startupProbe != nil { errors.append(.forbidden(containerPath.child("startupProbe"), Self.ephemeralForbidden)) }
            if ephemeral.lifecycle != nil { errors.append(.forbidden(containerPath.child("lifecycle"), Self.ephemeralForbidden)) }
            if !ephemeral.common.resources.isEmpty { errors.append(.forbidden(containerPath.child("resources"), Self.ephemeralForbidden)) }
        }
        return errors
    }

    /// What every kind of container must satisfy (validateContainerCommon).
    func validateCommon(_ container: Container, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if container.name.isEmpty {
            errors.append(.required(path.child("name")))
        } else {
            for message in DNS1123.labelErrors(container.name) {
                errors.append(.invalid(path.child("name"), .string(container.name), message))
            }
        }
        if container.image.isEmpty { errors.append(.required(path.child("image"))) }
        errors += ArgvRules.noNUL(container.image, path: path.child("image"))
        errors += ArgvRules.noNUL(container.command, path: path.child("command"))
        errors += ArgvRules.noNUL(container.args, path: path.child("args"))
        if let workingDir = container.workingDir {
            errors += ArgvRules.noNUL(workingDir, path: path.child("workingDir"))
        }
        // A file podd binds into the container: a path it can make there, as a mountPath.
        let messagePath = path.child("terminationMessagePath")
        errors += PathRules.absolute(container.terminationMessagePath, path: messagePath)
        errors += PathRules.noBacksteps(container.terminationMessagePath, path: messagePath)
        errors += ArgvRules.noNUL(container.terminationMessagePath, path: messagePath)
        errors += validatePorts(container.ports, path: path.child("ports"))
        errors += validateEnv(container.env, path: path.child("env"))
        errors += ConfigSourceValidation.envFrom(container.envFrom, path: path.child("envFrom"))
        errors += validateVolumeMounts(container.volumeMounts, path: path.child("volumeMounts"))
        errors += ResourceValidation.validate(container.resources, path: path.child("resources"))
        return errors
    }

    static func validateImageWhitespace(_ image: String, path: FieldPath) -> [FieldError] {
        let trimmed = image.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }
        return trimmed.count == image.count ? [] : [.invalid(path, .string(image), "must not have leading or trailing whitespace")]
    }

    // MARK: Ports, env, mounts

    func validatePorts(_ ports: [ContainerPort], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var names = Set<String>()
        for (index, port) in ports.enumerated() {
            let portPath = path.index(index)
            if let name = port.name, !name.isEmpty {
                let messages = NameRules.portNameErrors(name)
                if !messages.isEmpty {
                    errors += messages.map { .invalid(portPath.child("name"), .string(name), $0) }
                } else if !names.insert(name).inserted {
                    errors.append(.duplicate(portPath.child("name"), .string(name)))
                }
            }
            if port.containerPort == 0 {
                errors.append(.required(portPath.child("containerPort")))
            } else {
                for message in NameRules.portNumberErrors(Int64(port.containerPort)) {
                    errors.append(.invalid(portPath.child("containerPort"), .int(Int64(port.containerPort)), message))
                }
            }
        }
        return errors
    }

    func validateEnv(_ env: [EnvVar], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, variable) in env.enumerated() {
            let variablePath = path.index(index)
            if variable.name.isEmpty {
                errors.append(.required(variablePath.child("name")))
            } else {
                for message in NameRules.environmentVariableNameErrors(variable.name) {
                    errors.append(.invalid(variablePath.child("name"), .string(variable.name), message))
                }
            }
            if let value = variable.value {
                errors += ArgvRules.noNUL(value, path: variablePath.child("value"))
            }
            if let source = variable.valueFrom {
                errors += validateEnvSource(source, value: variable.value, path: variablePath.child("valueFrom"))
            }
        }
        return errors
    }

    private func validateEnvSource(_ source: EnvVarSource, value: String?, path: FieldPath) -> [FieldError] {
        ConfigSourceValidation.envSource(source, value: value, path: path)
    }

    func validateVolumeMounts(_ mounts: [VolumeMount], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var mountPoints = Set<String>()
        for (index, mount) in mounts.enumerated() {
            let mountPath = path.index(index)
            if mount.name.isEmpty { errors.append(.required(mountPath.child("name"))) }
            if !volumes.contains(mount.name) { errors.append(.notFound(mountPath.child("name"), .string(mount.name))) }
            if mount.mountPath.isEmpty {
                errors.append(.required(mountPath.child("mountPath")))
            } else {
                errors += PathRules.absolute(mount.mountPath, path: mountPath.child("mountPath"))
                errors += PathRules.noBacksteps(mount.mountPath, path: mountPath.child("mountPath"))
                errors += ArgvRules.noNUL(mount.mountPath, path: mountPath.child("mountPath"))
            }
            errors += ConfigSourceValidation.subPath(mount, path: mountPath)
            if !mountPoints.insert(mount.mountPath).inserted {
                errors.append(.invalid(mountPath.child("mountPath"), .string(mount.mountPath), "must be unique"))
            }
        }
        return errors
    }

    // MARK: Probes and hooks

    func validateProbesAndHooks(_ container: Container, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let lifecycle = container.lifecycle {
            if let postStart = lifecycle.postStart { errors += validateHook(postStart, path: path.child("lifecycle", "postStart")) }
            if let preStop = lifecycle.preStop { errors += validateHook(preStop, path: path.child("lifecycle", "preStop")) }
        }
        if let probe = container.livenessProbe {
            errors += validateProbe(probe, path: path.child("livenessProbe"), successMustBeOne: true)
        }
        if let probe = container.readinessProbe {
            errors += validateProbe(probe, path: path.child("readinessProbe"), successMustBeOne: false)
            if let grace = probe.terminationGracePeriodSeconds {
                errors.append(.invalid(path.child("readinessProbe", "terminationGracePeriodSeconds"), .int(grace), "must not be set for readinessProbes"))
            }
        }
        if let probe = container.startupProbe {
            errors += validateProbe(probe, path: path.child("startupProbe"), successMustBeOne: true)
        }
        return errors
    }

    func validateProbe(_ probe: Probe, path: FieldPath, successMustBeOne: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        switch probe.handler {
        case .exec(let command): errors += validateExec(command, path: path.child("exec"))
        case .httpGet(let action): errors += validateHTTPGet(action, path: path.child("httpGet"))
        case .tcpSocket(let action): errors += validatePort(action.port, path: path.child("tcpSocket", "port"))
        case .grpc(let action): errors += validatePort(.int(action.port), path: path.child("grpc", "port"))
        }
        let fields: [(String, Int32)] = [
            ("initialDelaySeconds", probe.initialDelaySeconds), ("timeoutSeconds", probe.timeoutSeconds),
            ("periodSeconds", probe.periodSeconds), ("successThreshold", probe.successThreshold),
            ("failureThreshold", probe.failureThreshold),
        ]
        for (name, value) in fields where value < 0 {
            errors.append(.invalid(path.child(name), .int(Int64(value)), "must be greater than or equal to 0"))
        }
        if successMustBeOne && probe.successThreshold != 1 {
            errors.append(.invalid(path.child("successThreshold"), .int(Int64(probe.successThreshold)), "must be 1"))
        }
        if let grace = probe.terminationGracePeriodSeconds, successMustBeOne {
            if grace <= 0 {
                errors.append(.invalid(path.child("terminationGracePeriodSeconds"), .int(grace), "must be greater than 0"))
            } else {
                errors += SecondsLimits.gracePeriodErrors(grace, path: path.child("terminationGracePeriodSeconds"))
            }
        }
        return errors
    }

    func validateHook(_ hook: LifecycleHandler, path: FieldPath) -> [FieldError] {
        switch hook {
        case .exec(let command):
            return validateExec(command, path: path.child("exec"))
        case .httpGet(let action):
            return validateHTTPGet(action, path: path.child("httpGet"))
        case .sleep(let seconds):
            guard seconds < 0 || seconds > gracePeriod else { return [] }
            return [.invalid(path.child("sleep"), .int(seconds),
                             "must be non-negative and less than terminationGracePeriodSeconds (\(gracePeriod))")]
        }
    }

    private func validateExec(_ command: [String], path: FieldPath) -> [FieldError] {
        command.isEmpty ? [.required(path.child("command"))] : ArgvRules.noNUL(command, path: path.child("command"))
    }

    private func validateHTTPGet(_ action: HTTPGetAction, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if action.path.isEmpty { errors.append(.required(path.child("path"))) }
        errors += validatePort(action.port, path: path.child("port"))
        for header in action.httpHeaders {
            for message in NameRules.httpHeaderNameErrors(header.name) {
                errors.append(.invalid(path.child("httpHeaders"), .string(header.name), message))
            }
        }
        return errors
    }

    /// A port number in 1-65535 or a valid port name (ValidatePortNumOrName).
    private func validatePort(_ port: IntOrString, path: FieldPath) -> [FieldError] {
        switch port {
        case .int(let number):
            return NameRules.portNumberErrors(Int64(number)).map { .invalid(path, .int(Int64(number)), $0) }
        case .string(let name):
            return NameRules.portNameErrors(name).map { .invalid(path, .string(name), $0) }
        }
    }
}
