//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import PostgresStateStore
public import RuleSQL
import Rules
import Yams

/// Reads `bridge.yaml` strictly: unknown keys, wrong types, missing `${ENV}` variables and unreadable files are
/// all reported, each with its `file:line:col`, instead of stopping at the first.
public struct BridgeConfigurationLoader {
    /// The environment `${VAR}` references are resolved from.
    public var environment: [String: String]

    /// Creates a loader reading variables from `environment` (default: the process environment).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The result of reading a file: the configuration when there were no errors, and every diagnostic.
    public struct Result: Sendable {
        /// The configuration; nil when `diagnostics` holds an error.
        public var configuration: BridgeConfiguration?
        /// Errors and warnings, in file order.
        public var diagnostics: [Diagnostic]
    }

    /// Reads and checks the file at `path`.
    public func load(path: String) -> Result {
        let text: String
        do {
            // TextFile says why (missing, a folder, permission denied, not UTF-8 at offset N), never Foundation's dump.
            text = try TextFile.read(path, what: "the configuration file")
        } catch {
            let location = SourceLocation(line: 1, column: 1, offset: 0)
            return Result(
                configuration: nil,
                diagnostics: [
                    Diagnostic(
                        code: .configFile,
                        severity: .error,
                        message: error.description,
                        file: path,
                        location: location,
                        sourceLine: "",
                        length: 1
                    )
                ]
            )
        }
        return self.load(text: text, file: path)
    }

    /// Reads and checks `text` as if it were the file `file` (relative paths resolve against its folder).
    public func load(text: String, file: String) -> Result {
        var reader = ConfigReader(
            decoder: Rules.YAMLDecoder(source: SourceText(text, file: file)),
            environment: self.environment,
            folder: URL(fileURLWithPath: file).deletingLastPathComponent().path
        )
        reader.decoder.code = .configFile
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            reader.yamlError(error)
            return Result(configuration: nil, diagnostics: reader.decoder.diagnostics)
        } catch {
            reader.decoder.error("not valid YAML: \(error)", at: nil)
            return Result(configuration: nil, diagnostics: reader.decoder.diagnostics)
        }
        guard let node else {
            reader.decoder.error("the file is empty; see README.md for a bridge.yaml to start from", at: nil)
            return Result(configuration: nil, diagnostics: reader.decoder.diagnostics)
        }
        let configuration = reader.configuration(node, file: file)
        let diagnostics = reader.decoder.diagnostics.sorted { $0.location < $1.location }
        let failed = diagnostics.contains { $0.severity == .error }
        return Result(configuration: failed ? nil : configuration, diagnostics: diagnostics)
    }

    /// The operating system's words for a Foundation error (`TextFile.reason`), never its dump.
    static func reason(_ error: any Error) -> String {
        TextFile.reason(error)
    }
}

extension Diagnostic.Code {
    /// A problem in a configuration file (`bridge.yaml`).
    public static let configFile = Diagnostic.Code("config")
}

/// The walk over one file's YAML tree.
struct ConfigReader {
    var decoder: Rules.YAMLDecoder
    let environment: [String: String]
    let folder: String

    mutating func yamlError(_ error: YamlError) {
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
    }

    mutating func configuration(_ node: Node, file: String) -> BridgeConfiguration? {
        let known = ["state", "sync", "dedup", "upstreams", "sinks", "deadLetter", "rules", "http", "shutdown", "limits", "events"]
        guard let root = self.decoder.fields(node, "the configuration", known: known) else { return nil }
        var state: String
        var postgres: PostgresLocation?
        if let text = self.decoder.string(root, "state", required: false), PostgresLocation.isURL(text) {
            postgres = self.postgresLocation(text, at: root["state"])
            state = postgres?.description ?? text
        } else {
            state = self.path(root, "state", mustExist: false) ?? self.resolve("bridge.sqlite")
        }
        let sync = self.enumeration(root, "sync", BridgeConfiguration.SyncMode.self) ?? .normal
        var dedup = BridgeConfiguration.DedupSettings(
            window: .seconds(3600),
            maxEntries: 10_000_000,
            lease: .seconds(60),
            duplicateWait: .seconds(30)
        )
        if let fields = self.decoder.fields(root["dedup"], "dedup", known: ["window", "maxEntries", "lease", "duplicateWait"]) {
            dedup.window = self.duration(fields, "window") ?? dedup.window
            dedup.maxEntries = self.positiveInteger(fields, "maxEntries") ?? dedup.maxEntries
            dedup.lease = self.duration(fields, "lease") ?? dedup.lease
            dedup.duplicateWait = self.duration(fields, "duplicateWait") ?? dedup.duplicateWait
        }
        var upstreams: [UpstreamConfiguration] = []
        if let list = self.list(root, "upstreams", required: true) {
            if list.isEmpty { self.decoder.error("'upstreams' must list at least one upstream", at: root["upstreams"]) }
            for item in list {
                if let upstream = self.upstream(item) { upstreams.append(upstream) }
            }
        }
        self.checkUnique(upstreams.map(\.name), in: root["upstreams"], what: "upstream")
        var sinks: [SinkConfiguration] = []
        if let list = self.list(root, "sinks", required: true) {
            if list.isEmpty { self.decoder.error("'sinks' must list at least one sink", at: root["sinks"]) }
            for item in list {
                if let sink = self.sink(item, what: "a sink") { sinks.append(sink) }
            }
        }
        self.checkUnique(sinks.map(\.name), in: root["sinks"], what: "sink")
        var deadLetter = SinkConfiguration(name: "deadLetter", kind: .jsonl(path: self.resolve("dead-letter.jsonl")), cap: nil)
        if let node = root["deadLetter"] {
            if let sink = self.sink(node, what: "deadLetter", defaultName: "deadLetter") {
                switch sink.kind {
                case .webhook, .listener:
                    self.decoder.error("deadLetter must be kind jsonl or amqp (a dead letter must not fail)", at: node)
                case .amqp, .jsonl:
                    break
                }
                deadLetter = sink
            }
        }
        var rules: [String] = []
        if let list = self.list(root, "rules", required: false) {
            for item in list {
                guard case .scalar(let scalar) = item, !scalar.string.isEmpty else {
                    self.decoder.error("each entry of 'rules' must be a file or folder path", at: item)
                    continue
                }
                let path = self.resolve(self.interpolate(scalar.string, at: item))
                if !FileManager.default.fileExists(atPath: path) {
                    self.decoder.error("the rule file or folder '\(path)' does not exist", at: item)
                }
                rules.append(path)
            }
        }
        var http: BridgeConfiguration.HTTPSettings?
        if let fields = self.decoder.fields(root["http"], "http", known: ["listen"]) {
            if let listen = self.decoder.string(fields, "listen") {
                if let (host, port) = Self.hostAndPort(listen) {
                    http = .init(host: host, port: port)
                } else {
                    self.decoder.error("'listen' must be HOST:PORT, e.g. 127.0.0.1:9464", at: fields["listen"])
                }
            }
        }
        var shutdownDeadline: Duration = .seconds(10)
        if let fields = self.decoder.fields(root["shutdown"], "shutdown", known: ["deadline"]) {
            shutdownDeadline = self.duration(fields, "deadline") ?? shutdownDeadline
        }
        var maxMessageSize = 1 << 20
        var stallAfter: Duration = .seconds(60)
        if let fields = self.decoder.fields(root["limits"], "limits", known: ["maxMessageSize", "stallAfter"]) {
            maxMessageSize = self.positiveInteger(fields, "maxMessageSize") ?? maxMessageSize
            stallAfter = self.duration(fields, "stallAfter") ?? stallAfter
        }
        let events = self.events(root["events"])
        var configuration = BridgeConfiguration(
            file: file,
            state: state,
            postgres: postgres,
            sync: sync,
            dedup: dedup,
            upstreams: upstreams,
            sinks: sinks,
            deadLetter: deadLetter,
            rules: rules,
            http: http,
            shutdownDeadline: shutdownDeadline,
            maxMessageSize: maxMessageSize,
            stallAfter: stallAfter
        )
        configuration.events = events
        return configuration
    }

    // MARK: - Upstreams and sinks

    mutating func upstream(_ node: Node) -> UpstreamConfiguration? {
        let known = ["name", "url", "tls", "auth", "connections", "credit", "durable", "connectsPerMinute"]
        guard let fields = self.decoder.fields(node, "an upstream", known: known) else { return nil }
        let name = self.decoder.string(fields, "name")
        let endpoint = self.endpoint(fields)
        let tls = self.tls(fields)
        let auth = self.auth(fields, upstream: true)
        let connections = self.positiveInteger(fields, "connections", maximum: 128) ?? 1
        let credit = self.positiveInteger(fields, "credit", maximum: 100_000) ?? 200
        let durable = self.bool(fields, "durable")
        let connectsPerMinute = self.positiveInteger(fields, "connectsPerMinute", maximum: 100_000) ?? 100
        guard let name, let endpoint, let auth else { return nil }
        var label = name
        switch auth {
        case .aksign(let platform), .ststoken(let platform):
            if !platform.iotInstanceId.isEmpty { label = platform.iotInstanceId }
        case .plain, .anonymous:
            break
        }
        return UpstreamConfiguration(
            name: name,
            endpoint: endpoint,
            tls: tls,
            auth: auth,
            connections: connections,
            credit: credit,
            durable: durable ?? !auth.isPlatform,
            instanceLabel: label,
            connectsPerMinute: connectsPerMinute
        )
    }

    mutating func sink(_ node: Node, what: String, defaultName: String? = nil) -> SinkConfiguration? {
        let known =
            [
                "name", "kind", "url", "tls", "auth", "window", "maxAttempts", "durable", "path", "format", "timeout",
                "concurrency", "headers", "cap", "envelope",
            ] + Self.listenerKeys
        guard let fields = self.decoder.fields(node, what, known: known) else { return nil }
        let name =
            defaultName.map { self.decoder.string(fields, "name", required: false) ?? $0 }
            ?? self.decoder.string(fields, "name")
        guard let kindName = self.decoder.string(fields, "kind") else { return nil }
        let allowed: [(String, [String])] = [
            ("amqp", ["name", "kind", "url", "tls", "auth", "window", "maxAttempts", "durable", "cap", "envelope"]),
            ("webhook", ["name", "kind", "url", "format", "timeout", "concurrency", "headers", "cap", "envelope"]),
            ("jsonl", ["name", "kind", "path", "cap"]),
            ("listener", ["name", "kind", "tls", "cap", "envelope"] + Self.listenerKeys),
        ]
        guard let keys = allowed.first(where: { $0.0 == kindName })?.1 else {
            self.decoder.error(
                "unknown sink kind '\(kindName)'" + Suggestion.didYouMean(kindName, among: allowed.map(\.0))
                    + " (kinds: amqp, webhook, jsonl, listener)",
                at: fields["kind"]
            )
            return nil
        }
        for entry in fields.entries where !keys.contains(entry.key) {
            self.decoder.error("'\(entry.key)' does not apply to a sink of kind \(kindName)", at: entry.keyNode)
        }
        let cap = self.cap(fields)
        let envelope = self.enumeration(fields, "envelope", LegacyEnvelope.self) ?? .platform
        let kind: SinkConfiguration.Kind?
        switch kindName {
        case "amqp":
            let endpoint = self.endpoint(fields)
            let tls = self.tls(fields)
            let auth = fields.has("auth") ? self.auth(fields, upstream: false) : endpoint.map(Self.defaultAuth)
            let window = self.positiveInteger(fields, "window", maximum: 100_000) ?? 1000
            let maxAttempts = self.positiveInteger(fields, "maxAttempts", maximum: 1000) ?? 5
            let durable = self.bool(fields, "durable") ?? true
            if let endpoint, let address = endpoint.address, address.hasPrefix("/"), !address.hasPrefix("/queue/") {
                self.decoder.warning(
                    "on RabbitMQ, an address other than /queue/NAME may accept and drop messages "
                        + "(an /amq/queue/ of a missing queue, an unbound exchange); prefer /queue/NAME",
                    at: fields["url"]
                )
            }
            if let endpoint, endpoint.address == nil {
                self.decoder.error("an amqp sink needs a target address in its url, e.g. amqp://HOST:5672//queue/NAME", at: fields["url"])
            }
            if let endpoint, let auth {
                kind = .amqp(
                    AMQPSinkSettings(
                        endpoint: endpoint, tls: tls, auth: auth, window: window, maxAttempts: maxAttempts, durable: durable,
                        envelope: envelope
                    )
                )
            } else {
                kind = nil
            }
        case "listener":
            kind = self.listenerSink(fields).map { settings in
                var settings = settings
                settings.envelope = envelope
                return .listener(settings)
            }
        case "webhook":
            let url = self.decoder.string(fields, "url").map { self.interpolate($0, at: fields["url"]) }
            if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                self.decoder.error("a webhook url must start with http:// or https://", at: fields["url"])
            }
            let format = self.enumeration(fields, "format", WebhookSettings.Format.self) ?? .envelope
            let timeout = self.duration(fields, "timeout") ?? .seconds(10)
            let concurrency = self.positiveInteger(fields, "concurrency", maximum: 1024) ?? 16
            var headers: [String: String] = [:]
            if let headerFields = self.decoder.fields(fields["headers"], "headers", known: []) {
                for entry in headerFields.entries {
                    guard case .scalar(let scalar) = entry.value else {
                        self.decoder.error("a header value must be text", at: entry.value)
                        continue
                    }
                    headers[entry.key] = self.interpolate(scalar.string, at: entry.value)
                }
            }
            if envelope != .platform, fields.has("format") {
                self.decoder.error("'format' and 'envelope: \(envelope.rawValue)' both say what the body is; keep one", at: fields["format"])
            }
            kind = url.map {
                .webhook(
                    WebhookSettings(
                        url: $0, format: format, timeout: timeout, concurrency: concurrency, headers: headers, envelope: envelope
                    )
                )
            }
        default:
            guard let path = self.decoder.string(fields, "path") else { return nil }
            let resolved = path == "-" ? "-" : self.resolve(self.interpolate(path, at: fields["path"]))
            if resolved != "-" {
                let folder = URL(fileURLWithPath: resolved).deletingLastPathComponent().path
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) || !isDirectory.boolValue {
                    self.decoder.error("the folder '\(folder)' of '\(path)' does not exist", at: fields["path"])
                }
            }
            kind = .jsonl(path: resolved)
        }
        guard let name, let kind else { return nil }
        return SinkConfiguration(name: name, kind: kind, cap: cap)
    }

    static func defaultAuth(_ endpoint: AMQPEndpoint) -> AuthConfiguration {
        if let user = endpoint.user {
            return .plain(user: user, password: Secret(value: endpoint.password ?? "", source: "the url"))
        }
        return .anonymous
    }

    mutating func endpoint(_ fields: Fields) -> AMQPEndpoint? {
        guard let url = self.decoder.string(fields, "url") else { return nil }
        do {
            return try AMQPEndpoint(url: self.interpolate(url, at: fields["url"]))
        } catch {
            self.decoder.error("'url': \(error.message)", at: fields["url"])
            return nil
        }
    }

    mutating func tls(_ fields: Fields) -> AMQPConnectionConfiguration.TLS {
        var tls = AMQPConnectionConfiguration.TLS()
        guard let tlsFields = self.decoder.fields(fields["tls"], "tls", known: ["caFile", "serverName", "verify"]) else {
            return tls
        }
        if let caFile = self.path(tlsFields, "caFile", mustExist: true) { tls.caFile = caFile }
        tls.serverName = self.decoder.string(tlsFields, "serverName", required: false)
        if let verify = self.bool(tlsFields, "verify") { tls.verifyPeer = verify }
        return tls
    }

    mutating func auth(_ fields: Fields, upstream: Bool) -> AuthConfiguration? {
        guard let node = fields["auth"] else {
            if upstream { return .anonymous }
            return nil
        }
        let known = [
            "kind", "accessKeyId", "accessKeySecret", "consumerGroupId", "iotInstanceId", "signMethod", "securityToken",
            "clientIdPrefix", "user", "password",
        ]
        guard let auth = self.decoder.fields(node, "auth", known: known), let kind = self.decoder.string(auth, "kind") else {
            return nil
        }
        let allowed: [(String, [String])] = [
            ("aksign", ["kind", "accessKeyId", "accessKeySecret", "consumerGroupId", "iotInstanceId", "signMethod", "clientIdPrefix"]),
            ("ststoken", known.filter { $0 != "user" && $0 != "password" }),
            ("plain", ["kind", "user", "password"]),
            ("anonymous", ["kind"]),
        ]
        guard let keys = allowed.first(where: { $0.0 == kind })?.1 else {
            self.decoder.error(
                "unknown auth kind '\(kind)'" + Suggestion.didYouMean(kind, among: allowed.map(\.0))
                    + " (kinds: aksign, ststoken, plain, anonymous)",
                at: auth["kind"]
            )
            return nil
        }
        for entry in auth.entries where !keys.contains(entry.key) {
            self.decoder.error("'\(entry.key)' does not apply to auth kind \(kind)", at: entry.keyNode)
        }
        switch kind {
        case "aksign", "ststoken":
            let accessKeyId = self.decoder.string(auth, "accessKeyId").map { self.interpolate($0, at: auth["accessKeyId"]) }
            let secret = self.secret(auth, "accessKeySecret")
            var planReference: PlanReference?
            var group: String?
            if case .mapping = auth["consumerGroupId"] {
                planReference = self.planReference(auth["consumerGroupId"])
                // A placeholder until the plan's ID map resolves it (before the bridge starts).
                group = planReference.map { _ in "from-plan" }
            } else {
                group = self.decoder.string(auth, "consumerGroupId").map { self.interpolate($0, at: auth["consumerGroupId"]) }
            }
            let instance = self.decoder.string(auth, "iotInstanceId", required: false) ?? ""
            let method = self.decoder.string(auth, "signMethod", required: false) ?? "hmacsha1"
            if !["hmacsha1", "hmacsha256", "hmacmd5"].contains(method.lowercased()) {
                self.decoder.error("signMethod must be hmacsha1, hmacsha256 or hmacmd5", at: auth["signMethod"])
            }
            let token = kind == "ststoken" ? self.secret(auth, "securityToken") : nil
            let prefix = self.decoder.string(auth, "clientIdPrefix", required: false)
            guard let accessKeyId, let secret, let group else { return nil }
            if kind == "ststoken" && token == nil { return nil }
            let platform = PlatformAuth(
                accessKeyId: accessKeyId,
                accessKeySecret: secret,
                consumerGroupId: group,
                iotInstanceId: self.interpolate(instance, at: auth["iotInstanceId"]),
                signMethod: method.lowercased(),
                securityToken: token,
                clientIdPrefix: prefix,
                consumerGroupFromPlan: planReference
            )
            do {
                _ = try PlatformLoginFactory.login(platform, upstream: "check", index: 0, sts: kind == "ststoken")
            } catch {
                self.decoder.error("auth: \(error)", at: node)
                return nil
            }
            return kind == "aksign" ? .aksign(platform) : .ststoken(platform)
        case "plain":
            let user = self.decoder.string(auth, "user").map { self.interpolate($0, at: auth["user"]) }
            let password = self.secret(auth, "password")
            guard let user, let password else { return nil }
            return .plain(user: user, password: password)
        default:
            return .anonymous
        }
    }

    /// `{ fromPlan: plan.yaml, name: G1 }`.
    mutating func planReference(_ node: Node?) -> PlanReference? {
        guard let fields = self.decoder.fields(node, "consumerGroupId", known: ["fromPlan", "name"]),
            let plan = self.path(fields, "fromPlan", mustExist: true),
            let name = self.decoder.string(fields, "name")
        else { return nil }
        let location = self.decoder.location(of: node)
        return PlanReference(plan: plan, name: name, location: "\(self.decoder.source.file):\(location.line):\(location.column)")
    }

    mutating func cap(_ fields: Fields) -> RateCap? {
        guard let cap = self.decoder.fields(fields["cap"], "cap", known: ["messagesPerSecond", "bytesPerSecond"]) else {
            return nil
        }
        return RateCap(messagesPerSecond: self.positiveNumber(cap, "messagesPerSecond"), bytesPerSecond: self.positiveNumber(cap, "bytesPerSecond"))
    }

    // MARK: - Values

    /// A secret: `${VAR}` only, so that no secret is ever written into the file itself.
    mutating func secret(_ fields: Fields, _ key: String) -> Secret? {
        guard let text = self.decoder.string(fields, key) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("${"), trimmed.hasSuffix("}"), trimmed.count > 3 else {
            self.decoder.errorWithoutSourceLine(
                "'\(key)' must be an environment reference like \"${MY_SECRET}\", never the secret itself",
                at: fields[key]
            )
            return nil
        }
        let variable = String(trimmed.dropFirst(2).dropLast())
        guard let value = self.environment[variable] else {
            self.decoder.error("the environment variable \(variable) (for '\(key)') is not set", at: fields[key])
            return nil
        }
        return Secret(value: value, source: "${\(variable)}")
    }

    /// `state: postgres://USER[:${VAR}]@HOST[:PORT]/DB[?sslmode=…]`: the password only as an environment reference.
    mutating func postgresLocation(_ text: String, at node: Node?) -> PostgresLocation? {
        let (url, reference) = PostgresLocation.separatingPassword(text)
        var password: String?
        if let reference {
            guard reference.hasPrefix("${"), reference.hasSuffix("}"), reference.count > 3 else {
                self.decoder.errorWithoutSourceLine(
                    "the password in 'state' must be an environment reference, as in "
                        + "postgres://USER:${PGPASSWORD}@HOST:5432/DB, never the password itself",
                    at: node
                )
                return nil
            }
            let variable = String(reference.dropFirst(2).dropLast())
            guard let value = self.environment[variable] else {
                self.decoder.error("the environment variable \(variable) (the password in 'state') is not set", at: node)
                return nil
            }
            password = value
        }
        do {
            return try PostgresLocation(url: self.interpolate(url, at: node), password: password)
        } catch {
            self.decoder.error("state: \(error)", at: node)
            return nil
        }
    }

    /// Replaces every `${VAR}` in `text`, reporting variables that are not set.
    mutating func interpolate(_ text: String, at node: Node?) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                self.decoder.error("unclosed '${' in '\(text)'", at: node)
                return text
            }
            let variable = String(rest[start.upperBound..<end])
            if let value = self.environment[variable] {
                result += value
            } else {
                self.decoder.error("the environment variable \(variable) is not set", at: node)
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: self.folder).appendingPathComponent(path).standardized.path
    }

    mutating func path(_ fields: Fields, _ key: String, mustExist: Bool) -> String? {
        guard let text = self.decoder.string(fields, key, required: false) else { return nil }
        let path = self.resolve(self.interpolate(text, at: fields[key]))
        if mustExist, !FileManager.default.isReadableFile(atPath: path) {
            self.decoder.error("cannot read '\(path)' (for '\(key)')", at: fields[key])
        } else if !mustExist {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            if !FileManager.default.fileExists(atPath: folder) {
                self.decoder.error("the folder '\(folder)' (for '\(key)') does not exist", at: fields[key])
            }
        }
        return path
    }

    mutating func list(_ fields: Fields, _ key: String, required: Bool) -> [Node]? {
        guard let node = fields[key] else {
            if required { self.decoder.error("missing required key '\(key)'", at: fields.node) }
            return nil
        }
        guard case .sequence(let sequence) = node else {
            self.decoder.error("'\(key)' must be a list, found \(Rules.YAMLDecoder.describe(node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    mutating func bool(_ fields: Fields, _ key: String) -> Bool? {
        guard let node = fields[key] else { return nil }
        guard case .scalar(let scalar) = node, let value = Bool(scalar.string.lowercased()) else {
            self.decoder.error("'\(key)' must be true or false, found \(Rules.YAMLDecoder.describe(node))", at: node)
            return nil
        }
        return value
    }

    mutating func positiveInteger(_ fields: Fields, _ key: String, maximum: Int = Int.max) -> Int? {
        guard let node = fields[key] else { return nil }
        guard case .scalar(let scalar) = node, let value = Int(scalar.string.replacingOccurrences(of: "_", with: "")),
            value > 0, value <= maximum
        else {
            let range = maximum == Int.max ? "a positive integer" : "an integer from 1 to \(maximum)"
            self.decoder.error("'\(key)' must be \(range), found \(Rules.YAMLDecoder.describe(node))", at: node)
            return nil
        }
        return value
    }

    mutating func positiveNumber(_ fields: Fields, _ key: String) -> Double? {
        guard let node = fields[key] else { return nil }
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value > 0 else {
            self.decoder.error("'\(key)' must be a positive number, found \(Rules.YAMLDecoder.describe(node))", at: node)
            return nil
        }
        return value
    }

    mutating func duration(_ fields: Fields, _ key: String) -> Duration? {
        guard let node = fields[key] else { return nil }
        guard case .scalar(let scalar) = node, let value = Self.parseDuration(scalar.string) else {
            self.decoder.error("'\(key)' must be a duration like 500ms, 30s, 10m, 1h or 1d, found \(Rules.YAMLDecoder.describe(node))", at: node)
            return nil
        }
        return value
    }

    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ fields: Fields, _ key: String, _ type: E.Type) -> E?
    where E.RawValue == String {
        guard let text = self.decoder.string(fields, key, required: false) else { return nil }
        guard let value = E(rawValue: text) else {
            let names = E.allCases.map(\.rawValue)
            self.decoder.error(
                "'\(key)' must be one of \(names.joined(separator: ", "))" + Suggestion.didYouMean(text, among: names),
                at: fields[key]
            )
            return nil
        }
        return value
    }

    mutating func checkUnique(_ names: [String], in node: Node?, what: String) {
        var seen: Set<String> = []
        for name in names where !seen.insert(name).inserted {
            self.decoder.error("two \(what)s are named '\(name)'; names must be unique", at: node)
        }
    }

    /// `500ms`, `30s`, `10m`, `1h`, `1d`, or a plain number of seconds.
    static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { continue }
            if suffix == "m", text.hasSuffix("ms") { continue }
            return .milliseconds(Int64(number * factor * 1000))
        }
        if let seconds = Double(text), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        return nil
    }

    /// `HOST:PORT`, `[V6]:PORT` or `:PORT`.
    static func hostAndPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}
