//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import PostgresStateStore
import RuleSQL
import Rules
import Yams

/// Reads `migration.yaml` strictly through the same reader as rule files and `bridge.yaml`: unknown keys (with
/// the closest known key), wrong types, enum values (listed), keys that do not apply to a side's kind and missing
/// export files are all reported, each at its own `file:line:col` with the source line and a caret.
///
/// Codable alone cannot do this: it ignores unknown keys and its errors carry coding paths, not positions.
struct MigrationConfigReader {
    private var decoder: Rules.YAMLDecoder
    private let folder: String

    /// The keys of each mapping, in the order README documents them.
    static let rootKeys = ["source", "target", "options", "state"]
    static let sideKeys = ["kind", "regionId", "iotInstanceId", "endpoint", "accessKeyId", "accessKeySecret", "file", "create"]
    static let optionKeys = [
        "consumerGroupNaming", "translationConsumerGroup", "products", "stopSourceRules", "startMigratedRules",
        "retry", "connectTimeoutMilliseconds", "requestTimeoutMilliseconds",
    ]
    static let retryKeys = ["maxAttempts", "initialBackoffMilliseconds", "maxBackoffMilliseconds"]

    /// The keys that only mean something for some kinds; a side of another kind that sets one is refused.
    static let keysByKind: [InstanceConfig.Kind: Set<String>] = [
        .aliyun: ["kind", "regionId", "iotInstanceId", "endpoint", "accessKeyId", "accessKeySecret"],
        .sim: ["kind", "regionId", "iotInstanceId", "endpoint", "accessKeyId", "accessKeySecret"],
        .file: ["kind", "regionId", "iotInstanceId", "file", "create"],
    ]

    /// Reads `text` as the file `file`; relative `file:` paths resolve against its folder.
    ///
    /// - Returns: the configuration when there is no error, and every diagnostic in file order.
    static func read(text: String, file: String) -> (config: MigrationConfig?, diagnostics: [Diagnostic]) {
        var reader = MigrationConfigReader(
            decoder: Rules.YAMLDecoder(source: SourceText(text, file: file)),
            folder: URL(fileURLWithPath: file).deletingLastPathComponent().path
        )
        reader.decoder.code = Diagnostic.Code("config")
        let config = reader.configuration(text: text)
        let diagnostics = reader.decoder.diagnostics.sorted { $0.location < $1.location }
        return (diagnostics.contains { $0.severity == .error } ? nil : config, diagnostics)
    }

    private mutating func configuration(text: String) -> MigrationConfig? {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                self.decoder.report(
                    "not valid YAML: \(problem)",
                    at: self.decoder.location(line: mark.line, column: mark.column),
                    length: 1,
                    severity: .error
                )
            default:
                self.decoder.error("not valid YAML: \(error)", at: nil)
            }
            return nil
        } catch {
            self.decoder.error("not valid YAML: \(error)", at: nil)
            return nil
        }
        guard let node else {
            self.decoder.error("the file is empty; README.md (\"migration.yaml\") has one to start from", at: nil)
            return nil
        }
        guard let root = self.decoder.fields(node, "migration.yaml", known: Self.rootKeys) else { return nil }
        for key in ["source", "target"] where !root.has(key) {
            self.decoder.error("missing required key '\(key)' (the instance to migrate \(key == "source" ? "from" : "to"))", at: node)
        }
        let source = self.side(root, "source")
        let target = self.side(root, "target")
        let options = self.options(root["options"])
        var state: String?
        var postgres: PostgresLocation?
        if let path = self.decoder.string(root, "state", required: false) {
            if PostgresLocation.isURL(path) {
                // The checks of bridge.yaml's `state:`, so that both files may name the same database.
                do {
                    postgres = try PostgresLocation(configured: path, environment: ProcessInfo.processInfo.environment)
                    state = postgres?.description
                } catch {
                    // A URL with a literal password: its line would print the password the error refuses.
                    let (_, password) = PostgresLocation.separatingPassword(path)
                    if let password, !password.hasPrefix("${") {
                        self.decoder.errorWithoutSourceLine("\(error)", at: root["state"])
                    } else {
                        self.decoder.error("\(error)", at: root["state"])
                    }
                }
            } else {
                state = path.hasPrefix("/") ? path : URL(fileURLWithPath: self.folder).appendingPathComponent(path).path
            }
        }
        guard let source, let target, let options else { return nil }
        var config = MigrationConfig(source: source, target: target, options: options)
        config.state = state
        config.postgres = postgres
        return config
    }

    private mutating func side(_ root: Fields, _ name: String) -> InstanceConfig? {
        guard let node = root[name], let fields = self.decoder.fields(node, name, known: Self.sideKeys) else { return nil }
        let errors = self.decoder.diagnostics.count
        var side = InstanceConfig()
        side.kind = self.enumeration(fields, "kind", InstanceConfig.Kind.self) ?? .aliyun
        let applicable = Self.keysByKind[side.kind] ?? []
        for entry in fields.entries where !applicable.contains(entry.key) {
            let kinds = Self.keysByKind.filter { $0.value.contains(entry.key) }.map(\.key.rawValue).sorted()
            self.decoder.error(
                "'\(entry.key)' does not apply to \(name).kind \(side.kind.rawValue); it is for kind "
                    + kinds.joined(separator: " or "),
                at: entry.keyNode,
                length: entry.key.count
            )
        }
        side.regionId = self.decoder.string(fields, "regionId", required: false)
        side.iotInstanceId = self.decoder.string(fields, "iotInstanceId", required: false)
        side.endpoint = self.decoder.string(fields, "endpoint", required: false)
        side.accessKeyId = self.decoder.string(fields, "accessKeyId", required: false)
        if let text = self.decoder.string(fields, "accessKeySecret", required: false) {
            do {
                side.accessKeySecret = try SecretReference(parsing: text, field: "\(name).accessKeySecret")
            } catch {
                // Without the source line: the value may be the secret itself.
                self.decoder.append(
                    Diagnostic(
                        code: self.decoder.code,
                        message: (error as? MigrationError)?.message ?? "\(name).accessKeySecret must be ${ENV}",
                        file: self.decoder.source.file,
                        location: self.decoder.location(of: fields["accessKeySecret"]),
                        sourceLine: ""
                    )
                )
            }
        }
        side.create = self.boolean(fields, "create") ?? false
        if let file = self.decoder.string(fields, "file", required: false) {
            side.file = file.hasPrefix("/") ? file : URL(fileURLWithPath: self.folder).appendingPathComponent(file).path
        }
        guard self.decoder.diagnostics.count == errors else { return nil }
        self.check(side, name, fields)
        return self.decoder.diagnostics.count == errors ? side : nil
    }

    /// What each kind needs, reported at the side (or at the value at fault).
    private mutating func check(_ side: InstanceConfig, _ name: String, _ fields: Fields) {
        switch side.kind {
        case .file:
            guard let path = side.file else {
                self.decoder.error(
                    "\(name).file is required when \(name).kind is file: the export file (iotbridge instance export) "
                        + "standing for the instance",
                    at: fields.node
                )
                return
            }
            var isFolder: ObjCBool = false
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
                if !side.create {
                    self.decoder.error(
                        "the export file '\(path)' does not exist; write it with `iotbridge instance export`, or add "
                            + "`create: true` to start \(name) as an empty instance",
                        at: fields["file"]
                    )
                }
            } else if isFolder.boolValue {
                self.decoder.error("'\(path)' is a folder; \(name).file must name an export file", at: fields["file"])
            }
        case .aliyun, .sim:
            if side.kind == .aliyun, side.regionId == nil {
                self.decoder.error("\(name).regionId is required for kind aliyun, e.g. cn-shanghai", at: fields.node)
            }
            if side.resolvedEndpoint == nil {
                self.decoder.error(
                    "\(name).endpoint is required for kind sim: the URL of an OpenAPI-compatible server",
                    at: fields.node
                )
            } else if side.kind == .aliyun, side.resolvedEndpoint?.hasPrefix("https://") != true {
                self.decoder.error(
                    "\(name).endpoint must be https:// for kind aliyun (kind sim allows http://)",
                    at: fields["endpoint"]
                )
            }
            if side.accessKeyId == nil {
                self.decoder.error("\(name).accessKeyId is required for kind \(side.kind.rawValue)", at: fields.node)
            }
            if side.accessKeySecret == nil {
                self.decoder.error(
                    "\(name).accessKeySecret is required for kind \(side.kind.rawValue), as an environment reference "
                        + "such as ${IOT_\(name.uppercased())_SECRET}",
                    at: fields.node
                )
            }
        }
    }

    private mutating func options(_ node: Node?) -> MigrationOptions? {
        var options = MigrationOptions()
        guard let node else { return options }
        guard let fields = self.decoder.fields(node, "options", known: Self.optionKeys) else { return nil }
        let errors = self.decoder.diagnostics.count
        if let naming = self.decoder.string(fields, "consumerGroupNaming", required: false) {
            if naming.contains("{name}") {
                options.consumerGroupNaming = naming
            } else {
                self.decoder.error(
                    "options.consumerGroupNaming must contain {name}, e.g. \"{name}_ent\"",
                    at: fields["consumerGroupNaming"]
                )
            }
        }
        options.translationConsumerGroup =
            self.decoder.string(fields, "translationConsumerGroup", required: false) ?? options.translationConsumerGroup
        if let list = fields["products"] {
            if case .sequence(let items) = list {
                options.products = items.compactMap { item in
                    guard case .scalar(let scalar) = item, !scalar.string.isEmpty else {
                        self.decoder.error("each entry of 'products' must be a ProductKey", at: item)
                        return nil
                    }
                    return scalar.string
                }
            } else {
                self.decoder.error(
                    "'products' must be a list of ProductKeys such as [a1AbCdEfGhI], found \(Rules.YAMLDecoder.describe(list))",
                    at: list
                )
            }
        }
        options.stopSourceRules = self.boolean(fields, "stopSourceRules") ?? options.stopSourceRules
        options.startMigratedRules = self.boolean(fields, "startMigratedRules") ?? options.startMigratedRules
        options.connectTimeoutMilliseconds =
            self.positive(fields, "connectTimeoutMilliseconds") ?? options.connectTimeoutMilliseconds
        options.requestTimeoutMilliseconds =
            self.positive(fields, "requestTimeoutMilliseconds") ?? options.requestTimeoutMilliseconds
        if let retry = self.decoder.fields(fields["retry"], "options.retry", known: Self.retryKeys) {
            options.retry.maxAttempts = self.positive(retry, "maxAttempts") ?? options.retry.maxAttempts
            options.retry.initialBackoffMilliseconds =
                self.positive(retry, "initialBackoffMilliseconds") ?? options.retry.initialBackoffMilliseconds
            options.retry.maxBackoffMilliseconds =
                self.positive(retry, "maxBackoffMilliseconds") ?? options.retry.maxBackoffMilliseconds
        }
        return self.decoder.diagnostics.count == errors ? options : nil
    }

    /// An enum value, listing the valid values when it is not one of them.
    private mutating func enumeration<E: RawRepresentable & CaseIterable>(
        _ fields: Fields,
        _ key: String,
        _ type: E.Type
    ) -> E? where E.RawValue == String {
        guard let value = fields[key] else { return nil }
        let valid = E.allCases.map(\.rawValue)
        guard case .scalar(let scalar) = value, let result = E(rawValue: scalar.string) else {
            let text = if case .scalar(let scalar) = value { scalar.string } else { "" }
            self.decoder.error(
                "'\(key)' must be one of \(valid.joined(separator: ", ")), found \(Rules.YAMLDecoder.describe(value))"
                    + Suggestion.didYouMean(text, among: valid),
                at: value,
                length: max(1, text.count)
            )
            return nil
        }
        return result
    }

    /// `true` or `false`; YAML 1.1's yes/no/on/off are refused as surprising.
    private mutating func boolean(_ fields: Fields, _ key: String) -> Bool? {
        guard let value = fields[key] else { return nil }
        if case .scalar(let scalar) = value {
            if scalar.string == "true" { return true }
            if scalar.string == "false" { return false }
        }
        self.decoder.error("'\(key)' must be true or false, found \(Rules.YAMLDecoder.describe(value))", at: value)
        return nil
    }

    /// A whole number of at least 1.
    private mutating func positive(_ fields: Fields, _ key: String) -> Int? {
        guard let value = fields[key] else { return nil }
        guard let number = self.decoder.integer(value, "'\(key)'") else { return nil }
        guard number >= 1 else {
            self.decoder.error("'\(key)' must be at least 1, found \(number)", at: value)
            return nil
        }
        return number
    }
}
