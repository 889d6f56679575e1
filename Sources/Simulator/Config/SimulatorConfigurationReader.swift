//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import IoTPlatform
import Migration
import RuleSQL
import Rules
import Yams

/// Reads `sim.yaml` strictly, as the bridge reads `bridge.yaml`: unknown keys, wrong types, missing `${ENV}`
/// variables, dangling names and unreadable files are all reported, each as `file:line:col: error: …`, instead of
/// stopping at the first. (The bridge's reader lives in the Bridge and Rules modules, which the simulator does not
/// link; this one is the same idea over Yams' nodes.)
public struct SimulatorConfigurationReader {
    /// The environment `${VAR}` references are resolved from.
    public var environment: [String: String]

    /// Creates a reader (default: the process environment).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The configuration when there were no errors, and every error as `file:line:col: error: message`.
    public struct Result: Sendable {
        /// The configuration; nil when `errors` is not empty.
        public var configuration: SimulatorConfiguration?
        /// The errors, in file order.
        public var errors: [String]
    }

    /// Reads the file at `path`.
    public func load(path: String) -> Result {
        let text: String
        do {
            // Says why: missing, a folder, permission denied, or not UTF-8 (never silently replaced bytes).
            text = try TextFile.read(path, what: "the configuration file")
        } catch {
            return Result(configuration: nil, errors: ["\(path):1:1: error: \(error.description)"])
        }
        return self.load(text: text, file: path)
    }

    /// Reads `text` as the file `file` (relative paths resolve against its folder).
    public func load(text: String, file: String) -> Result {
        var walk = Walk(
            file: file,
            text: text,
            environment: self.environment,
            folder: URL(fileURLWithPath: file).deletingLastPathComponent().path
        )
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
                return Result(configuration: nil, errors: ["\(file):\(mark.line):\(mark.column): error: not valid YAML: \(problem)"])
            default:
                return Result(configuration: nil, errors: ["\(file):1:1: error: not valid YAML: \(error)"])
            }
        } catch {
            return Result(configuration: nil, errors: ["\(file):1:1: error: not valid YAML: \(error)"])
        }
        guard let root else {
            return Result(configuration: nil, errors: ["\(file):1:1: error: the file is empty; see `iotbridge sim --help` for one to start from"])
        }
        let configuration = walk.configuration(root)
        let errors = walk.diagnostics.sorted { $0.location < $1.location }.map(\.description)
        return Result(configuration: errors.isEmpty ? configuration : nil, errors: errors)
    }
}

/// The walk over one file's tree, collecting errors.
private struct Walk {
    let file: String
    let environment: [String: String]
    let folder: String
    /// The file's lines, for the source line and caret under each error.
    let lines: [Substring]
    var diagnostics: [Diagnostic] = []

    init(file: String, text: String, environment: [String: String], folder: String) {
        self.file = file
        self.environment = environment
        self.folder = folder
        self.lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// Records an error at a node, compiler-style like bridge.yaml's: `file:line:col: error: …`, the source line and
    /// a caret under the node (a line that may hold a secret or password is not echoed).
    mutating func error(_ message: String, at node: Node?) {
        let line = node?.mark?.line ?? 1
        let column = node?.mark?.column ?? 1
        var source = line >= 1 && line <= self.lines.count ? String(self.lines[line - 1]) : ""
        if source.hasSuffix("\r") { source.removeLast() }
        let lowered = source.lowercased()
        if ["secret", "password", "token"].contains(where: { lowered.contains($0) }) { source = "" }
        let length = node?.scalar.map { max(1, $0.string.count) } ?? 1
        self.diagnostics.append(
            Diagnostic(
                code: Self.configFile,
                message: message,
                file: self.file,
                location: SourceLocation(line: line, column: column, offset: self.offset(line: line, column: column)),
                sourceLine: source,
                length: node?.scalar == nil ? 1 : length
            )
        )
    }

    /// A problem in `sim.yaml`.
    static let configFile = Diagnostic.Code("config")

    /// The character offset of a line and column (the diagnostics are sorted by it into file order).
    private func offset(line: Int, column: Int) -> Int {
        self.lines.prefix(max(0, line - 1)).reduce(0) { $0 + $1.count + 1 } + max(0, column - 1)
    }

    // MARK: Shapes

    /// A mapping's values by key; unknown keys and missing required ones are errors.
    mutating func fields(_ node: Node?, _ what: String, known: [String], required: [String] = []) -> [String: Node]? {
        guard let node else { return nil }
        guard case .mapping(let mapping) = node else {
            self.error("\(what) must be a mapping (key: value)", at: node)
            return nil
        }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else {
                self.error("keys of \(what) must be text", at: key)
                continue
            }
            guard known.contains(name) else {
                let hint = Suggestion.didYouMean(name, among: known)
                self.error("unknown key '\(name)' in \(what)\(hint) (known keys: \(known.joined(separator: ", ")))", at: key)
                continue
            }
            result[name] = value
        }
        for name in required where result[name] == nil {
            self.error("\(what) needs '\(name)'", at: node)
        }
        return result
    }

    mutating func list(_ node: Node?, _ what: String) -> [Node]? {
        guard let node else { return nil }
        guard case .sequence(let sequence) = node else {
            self.error("\(what) must be a list", at: node)
            return nil
        }
        return Array(sequence)
    }

    /// A text value with `${VAR}` resolved.
    mutating func string(_ node: Node?, _ what: String) -> String? {
        guard let node else { return nil }
        guard case .scalar(let scalar) = node else {
            self.error("\(what) must be text", at: node)
            return nil
        }
        return self.interpolate(scalar.string, at: node, what)
    }

    mutating func interpolate(_ text: String, at node: Node, _ what: String) -> String? {
        var output = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            output += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                self.error("\(what): '${' without a closing '}'", at: node)
                return nil
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = self.environment[name] else {
                self.error("\(what): the environment variable \(name) is not set", at: node)
                return nil
            }
            output += value
            rest = rest[rest.index(after: end)...]
        }
        return output + rest
    }

    mutating func integer(_ node: Node?, _ what: String, range: ClosedRange<Int>) -> Int? {
        guard let text = self.string(node, what) else { return nil }
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")), range.contains(value) else {
            self.error("\(what) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'", at: node)
            return nil
        }
        return value
    }

    mutating func number(_ node: Node?, _ what: String) -> Double? {
        guard let text = self.string(node, what) else { return nil }
        guard let value = Double(text), value > 0, value.isFinite else {
            self.error("\(what) must be a positive number, not '\(text)'", at: node)
            return nil
        }
        return value
    }

    /// `500ms`, `30s`, `2m`, `24h`.
    mutating func duration(_ node: Node?, _ what: String) -> Duration? {
        guard let text = self.string(node, what) else { return nil }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (unit, seconds) in units where text.hasSuffix(unit) {
            if let value = Double(text.dropLast(unit.count)), value > 0, value.isFinite {
                return .milliseconds(Int64((value * seconds * 1000).rounded()))
            }
        }
        self.error("\(what) must be a positive duration such as 500ms, 30s, 2m or 24h, not '\(text)'", at: node)
        return nil
    }

    /// A name: letters, digits, `-`, `_`, `.` (they go into topics and JSON unescaped).
    mutating func name(_ node: Node?, _ what: String) -> String? {
        guard let text = self.string(node, what) else { return nil }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        guard !text.isEmpty, text.unicodeScalars.allSatisfy({ allowed.contains($0) && $0.isASCII }) else {
            self.error("\(what) '\(text)' must be letters, digits, '-', '_' or '.'", at: node)
            return nil
        }
        return text
    }

    // MARK: The file

    mutating func configuration(_ root: Node) -> SimulatorConfiguration? {
        guard
            let top = self.fields(
                root, "the configuration", known: ["listen", "accessKeys", "instances", "devices", "migration", "openapi"],
                required: ["accessKeys", "instances", "devices"])
        else { return nil }
        let host = self.string(top["listen"], "listen") ?? "127.0.0.1"
        var keys: [PlatformLoginVerifier.AccessKey] = []
        var secrets: [String: String] = [:]
        if let list = self.list(top["accessKeys"], "accessKeys") {
            if list.isEmpty { self.error("accessKeys must list at least one AccessKey pair", at: top["accessKeys"]) }
            for item in list {
                guard let key = self.fields(item, "an access key", known: ["accessKeyId", "accessKeySecret"], required: ["accessKeyId", "accessKeySecret"]),
                    let id = self.name(key["accessKeyId"], "accessKeyId"),
                    let secret = self.string(key["accessKeySecret"], "accessKeySecret")
                else { continue }
                if secret.isEmpty { self.error("accessKeySecret is empty", at: key["accessKeySecret"]) }
                keys.append(PlatformLoginVerifier.AccessKey(accessKeyId: id, accessKeySecret: secret))
                if secrets.updateValue(secret, forKey: id) != nil { self.error("accessKeyId '\(id)' is listed twice", at: key["accessKeyId"]) }
            }
        }
        var instances: [SimulatorConfiguration.Instance] = []
        if let list = self.list(top["instances"], "instances") {
            if list.isEmpty { self.error("instances must list at least one instance", at: top["instances"]) }
            for item in list {
                if let instance = self.instance(item, host: host, keys: keys) {
                    if instances.contains(where: { $0.name == instance.name }) {
                        self.error("instance name '\(instance.name)' is used twice", at: item)
                    }
                    instances.append(instance)
                }
            }
        }
        let names = instances.map(\.name)
        let devices = self.devices(top["devices"], instances: names)
        let migration = self.migration(top["migration"], instances: names)
        let openAPI = self.openAPI(top["openapi"], host: host, secrets: secrets, instances: instances, instancesNode: top["instances"])
        guard let devices else { return nil }
        return SimulatorConfiguration(file: self.file, instances: instances, devices: devices, migration: migration, openAPI: openAPI)
    }

    /// `openapi: { port: 0, platformQPS: false }` (the default), or `openapi: off`.
    mutating func openAPI(
        _ node: Node?,
        host: String,
        secrets: [String: String],
        instances: [SimulatorConfiguration.Instance],
        instancesNode: Node?
    ) -> SimulatedOpenAPIConfiguration? {
        var configuration = SimulatedOpenAPIConfiguration(host: host, port: 0, accessKeys: secrets)
        if let node, case .scalar(let scalar) = node {
            guard scalar.string == "off" else {
                self.error("openapi must be off or { port: PORT, platformQPS: true|false }, not '\(scalar.string)'", at: node)
                return nil
            }
            return nil
        }
        if let fields = self.fields(node, "openapi", known: ["port", "platformQPS"]) {
            configuration.port = self.integer(fields["port"], "port", range: 0...65_535) ?? 0
            switch self.string(fields["platformQPS"], "platformQPS") {
            case "true": configuration.throttling.actionQPS = SimulatedOpenAPIConfiguration.Throttling.platformQPS
            case "false", nil: break
            case let other?: self.error("platformQPS must be true or false, not '\(other)'", at: fields["platformQPS"])
            }
        }
        // One endpoint tells instances apart by IotInstanceId: at most one legacy instance, IDs unique.
        if instances.filter({ $0.identity.iotInstanceId == nil }).count > 1 {
            self.error(
                "the OpenAPI endpoint serves at most one legacy instance (it has no IotInstanceId); set openapi: off or make one enterprise",
                at: node ?? instancesNode)
        }
        return configuration
    }

    mutating func instance(_ node: Node, host: String, keys: [PlatformLoginVerifier.AccessKey]) -> SimulatorConfiguration.Instance? {
        guard
            let fields = self.fields(
                node, "an instance",
                known: ["name", "kind", "iotInstanceId", "regionId", "amqp", "consumerGroups", "subscriptions"],
                required: ["name", "kind"]
            ), let name = self.name(fields["name"], "name")
        else { return nil }
        var instanceId: String?
        switch self.string(fields["kind"], "kind") {
        case "legacy":
            if fields["iotInstanceId"] != nil {
                self.error("a legacy public instance has no iotInstanceId; use kind: enterprise for one with an ID", at: fields["iotInstanceId"])
            }
        case "enterprise":
            instanceId = self.name(fields["iotInstanceId"], "iotInstanceId")
            if fields["iotInstanceId"] == nil { self.error("an enterprise instance needs 'iotInstanceId', e.g. iot-06z00sim", at: node) }
        case let other?:
            self.error("kind must be legacy or enterprise, not '\(other)'", at: fields["kind"])
        case nil:
            break
        }
        let region = self.string(fields["regionId"], "regionId") ?? "cn-shanghai"
        let identity = InstanceIdentity(kind: "aliyun", regionId: region, iotInstanceId: instanceId)
        var amqp = SimulatedAMQPSettings(host: host, accessKeys: keys)
        if let settings = self.fields(fields["amqp"], "amqp", known: ["port", "tls", "ackTimeout", "attachTimeout", "retention"]) {
            amqp.port = self.integer(settings["port"], "port", range: 0...65_535) ?? amqp.port
            amqp.ackTimeout = self.duration(settings["ackTimeout"], "ackTimeout") ?? amqp.ackTimeout
            amqp.attachTimeout = self.duration(settings["attachTimeout"], "attachTimeout") ?? amqp.attachTimeout
            if let tls = settings["tls"] {
                if case .mapping = tls {
                    if let files = self.fields(tls, "tls", known: ["certificate", "privateKey"], required: ["certificate", "privateKey"]),
                        let certificate = self.path(files["certificate"], "certificate"),
                        let key = self.path(files["privateKey"], "privateKey")
                    {
                        amqp.transport = .tls(AMQPListenerConfiguration.TLS(certificateFile: certificate, privateKeyFile: key))
                    }
                } else {
                    switch self.string(tls, "tls") {
                    case "selfSigned": amqp.transport = .selfSignedTLS
                    case "plain": amqp.transport = .plain
                    case let other?: self.error("tls must be selfSigned, plain or { certificate: FILE, privateKey: FILE }, not '\(other)'", at: tls)
                    case nil: break
                    }
                }
            }
            if let retention = self.fields(settings["retention"], "retention", known: ["maxAge", "maxCount"]) {
                amqp.retention.maxAge = self.duration(retention["maxAge"], "maxAge") ?? amqp.retention.maxAge
                amqp.retention.maxCount = self.integer(retention["maxCount"], "maxCount", range: 1...100_000_000) ?? amqp.retention.maxCount
            }
        }
        var groups: [ConsumerGroup] = []
        for item in self.list(fields["consumerGroups"], "consumerGroups") ?? [] {
            guard let group = self.fields(item, "a consumer group", known: ["id", "name"], required: ["id"]),
                let id = self.name(group["id"], "id")
            else { continue }
            if groups.contains(where: { $0.id == id }) { self.error("consumer group '\(id)' is listed twice", at: item) }
            groups.append(ConsumerGroup(id: id, name: self.string(group["name"], "name") ?? id))
        }
        var relations: [SubscribeRelation] = []
        for item in self.list(fields["subscriptions"], "subscriptions") ?? [] {
            guard
                let relation = self.fields(
                    item, "a subscription", known: ["productKey", "flags", "consumerGroups"], required: ["productKey", "flags", "consumerGroups"]),
                let productKey = self.name(relation["productKey"], "productKey")
            else { continue }
            var flags: [SubscriptionFlag] = []
            for flag in self.list(relation["flags"], "flags") ?? [] {
                guard let text = self.string(flag, "a flag") else { continue }
                guard let value = SubscriptionFlag(rawValue: text) else {
                    self.error("unknown flag '\(text)'; use \(SubscriptionFlag.allCases.map(\.rawValue).joined(separator: ", "))", at: flag)
                    continue
                }
                flags.append(value)
            }
            var members: [String] = []
            for member in self.list(relation["consumerGroups"], "consumerGroups") ?? [] {
                guard let id = self.string(member, "a consumer group") else { continue }
                if !groups.contains(where: { $0.id == id }) {
                    self.error("consumer group '\(id)' is not one of this instance's consumerGroups", at: member)
                }
                members.append(id)
            }
            relations.append(SubscribeRelation(productKey: productKey, type: .amqp, flags: flags, consumerGroupIds: members))
        }
        let snapshot = InstanceSnapshot(
            identity: identity,
            products: Array(Set(relations.map(\.productKey))).sorted(),
            consumerGroups: groups,
            subscriptions: relations
        )
        return SimulatorConfiguration.Instance(name: name, identity: identity, amqp: amqp, snapshot: snapshot)
    }

    mutating func path(_ node: Node?, _ what: String) -> String? {
        guard let text = self.string(node, what) else { return nil }
        let path = text.hasPrefix("/") ? text : self.folder + "/" + text
        if !FileManager.default.fileExists(atPath: path) { self.error("\(what) file '\(path)' does not exist", at: node) }
        return path
    }

    mutating func devices(_ node: Node?, instances: [String]) -> SimulatorConfiguration.Devices? {
        guard let node, let fields = self.fields(node, "devices", known: ["products", "home", "rate", "mix"], required: ["products", "home"])
        else { return nil }
        var devices: [SimulatedDevice] = []
        for item in self.list(fields["products"], "products") ?? [] {
            guard let product = self.fields(item, "a product", known: ["productKey", "count", "names"], required: ["productKey"]),
                let productKey = self.name(product["productKey"], "productKey")
            else { continue }
            var names: [String] = []
            if let list = self.list(product["names"], "names") {
                names = list.compactMap { self.name($0, "a device name") }
            }
            if let count = self.integer(product["count"], "count", range: 1...1_000_000) {
                names += SimulatedDevice.names(count: count)
            }
            if product["names"] == nil && product["count"] == nil {
                self.error("a product needs 'count' (how many devices) or 'names'", at: item)
            }
            for name in names {
                let device = SimulatedDevice(productKey: productKey, deviceName: name)
                if devices.contains(device) { self.error("device \(device) is listed twice", at: item) }
                devices.append(device)
            }
        }
        let home = self.string(fields["home"], "home") ?? ""
        if !home.isEmpty, !instances.contains(home) {
            self.error("home '\(home)' is not an instance; use one of \(instances.joined(separator: ", "))", at: fields["home"])
        }
        var traffic = DeviceTraffic(rate: self.number(fields["rate"], "rate") ?? 10)
        if let mix = self.fields(fields["mix"], "mix", known: SimulatedMessageKind.allCases.map(\.rawValue)) {
            traffic.mix = [:]
            for kind in SimulatedMessageKind.allCases {
                traffic.mix[kind] = self.integer(mix[kind.rawValue], kind.rawValue, range: 0...1000) ?? 0
            }
            if traffic.mix.values.allSatisfy({ $0 == 0 }) { self.error("mix gives every kind weight 0: nothing would be sent", at: fields["mix"]) }
        }
        return SimulatorConfiguration.Devices(devices: devices, home: home, traffic: traffic)
    }

    mutating func migration(_ node: Node?, instances: [String]) -> SimulatorConfiguration.MigrationPair? {
        guard let node, let fields = self.fields(node, "migration", known: ["source", "target", "syncWindow"], required: ["source", "target"])
        else { return nil }
        let source = self.string(fields["source"], "source") ?? ""
        let target = self.string(fields["target"], "target") ?? ""
        for (name, key) in [(source, "source"), (target, "target")] where !name.isEmpty && !instances.contains(name) {
            self.error("\(key) '\(name)' is not an instance; use one of \(instances.joined(separator: ", "))", at: fields[key])
        }
        if !source.isEmpty, source == target { self.error("the migration's source and target are the same instance", at: fields["target"]) }
        let window = self.duration(fields["syncWindow"], "syncWindow") ?? .seconds(30)
        return SimulatorConfiguration.MigrationPair(source: source, target: target, syncWindow: window)
    }
}
