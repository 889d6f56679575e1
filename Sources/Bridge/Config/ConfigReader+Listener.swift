//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import IoTPlatform
import Rules
import Yams

/// The `listener` sink's part of `bridge.yaml`, kept apart from the other kinds so that each reads on its own:
///
/// ```yaml
/// - name: backends
///   kind: listener
///   listen: 0.0.0.0:5671
///   tls: { certificate: server.pem, privateKey: server.key }
///   consumerGroups:
///     - id: cg-backend
///       accessKeys: [ { accessKeyId: LTAI…, accessKeySecret: "${BACKEND_SECRET}" } ]
///       users: [ { user: svc, password: "${SVC_PW}" } ]
/// ```
extension ConfigReader {
    /// The keys only a listener sink has.
    static let listenerKeys = [
        "listen", "allowInsecure", "consumerGroups", "ackTimeout", "maxMessageSize", "maxConsumersPerGroup",
        "maxLinksPerSession", "window", "migrationEvents",
    ]

    mutating func listenerSink(_ fields: Fields) -> ListenerSinkSettings? {
        var address: (String, Int)?
        if let listen = self.decoder.string(fields, "listen") {
            address = Self.hostAndPort(listen)
            if address == nil {
                self.decoder.error("'listen' must be HOST:PORT, e.g. 0.0.0.0:5671, found '\(listen)'", at: fields["listen"])
            }
        }
        let allowInsecure = self.bool(fields, "allowInsecure") ?? false
        let tls = self.listenerTLS(fields)
        if tls == nil, !allowInsecure, fields["tls"] == nil {
            self.decoder.error(
                "a listener needs 'tls: { certificate: FILE, privateKey: FILE }' (backends send their login over it, "
                    + "and the platform is TLS-only); set 'allowInsecure: true' only for a loopback test",
                at: fields.node
            )
        }
        let ackTimeout = self.duration(fields, "ackTimeout") ?? .seconds(30)
        if ackTimeout <= .zero { self.decoder.error("'ackTimeout' must be positive", at: fields["ackTimeout"]) }
        let maxMessageSize = self.positiveInteger(fields, "maxMessageSize", maximum: 256 * 1_048_576) ?? 1_048_576
        let maxConsumers = self.positiveInteger(fields, "maxConsumersPerGroup", maximum: 100_000) ?? 128
        let maxLinks = self.positiveInteger(fields, "maxLinksPerSession", maximum: 65_536) ?? 16
        let window = self.positiveInteger(fields, "window", maximum: 100_000) ?? 1000
        let migrationEvents = self.bool(fields, "migrationEvents") ?? false
        var groups: [PlatformLoginVerifier.ConsumerGroup] = []
        if let list = self.list(fields, "consumerGroups", required: true) {
            if list.isEmpty { self.decoder.error("'consumerGroups' needs at least one group", at: fields["consumerGroups"]) }
            for node in list {
                if let group = self.consumerGroup(node) { groups.append(group) }
            }
        }
        self.checkUnique(groups.map(\.id), in: fields["consumerGroups"], what: "consumer group")
        let logins: PlatformLoginVerifier
        do {
            logins = try PlatformLoginVerifier(consumerGroups: groups)
        } catch {
            self.decoder.error(error.message, at: fields["consumerGroups"])
            return nil
        }
        guard let (host, port) = address, !groups.isEmpty else { return nil }
        var settings = ListenerSinkSettings(
            host: host,
            port: port,
            tls: tls,
            allowInsecure: allowInsecure,
            logins: logins,
            ackTimeout: ackTimeout,
            maxMessageSize: maxMessageSize,
            maxConsumersPerGroup: maxConsumers,
            maxLinksPerSession: maxLinks,
            window: window
        )
        settings.migrationEvents = migrationEvents
        return settings
    }

    /// What a stream sink may be and an event sink may not: a listener (events are served on the stream listener's
    /// reserved `migration-events` address, with `migrationEvents: true`), or a legacy envelope (an event's body is
    /// the CloudEvent).
    mutating func checkEventSink(_ sink: SinkConfiguration, at node: Node) {
        switch sink.kind {
        case .listener:
            self.decoder.error(
                "an event sink cannot be a listener: backends get events on a stream listener's "
                    + "'\(ListenerReservedAddress.migrationEvents)' address when that sink has 'migrationEvents: true'; "
                    + "use an amqp, webhook or jsonl event sink here",
                at: node
            )
        case .amqp(let settings) where settings.envelope != .platform:
            self.decoder.error("'envelope' does not apply to an event sink: its body is the CloudEvent", at: node)
        case .webhook(let settings) where settings.envelope != .platform:
            self.decoder.error("'envelope' does not apply to an event sink: its body is the CloudEvent", at: node)
        default:
            break
        }
    }

    private mutating func listenerTLS(_ fields: Fields) -> AMQPListenerConfiguration.TLS? {
        guard let tls = self.decoder.fields(fields["tls"], "tls", known: ["certificate", "privateKey", "privateKeyPassword"]) else {
            return nil
        }
        let certificate = self.path(tls, "certificate", mustExist: true)
        let key = self.path(tls, "privateKey", mustExist: true)
        if certificate == nil { self.decoder.error("missing required key 'certificate'", at: tls.node) }
        if key == nil { self.decoder.error("missing required key 'privateKey'", at: tls.node) }
        let password = tls.has("privateKeyPassword") ? self.secret(tls, "privateKeyPassword")?.value : nil
        guard let certificate, let key else { return nil }
        return AMQPListenerConfiguration.TLS(certificateFile: certificate, privateKeyFile: key, privateKeyPassword: password)
    }

    private mutating func consumerGroup(_ node: Node) -> PlatformLoginVerifier.ConsumerGroup? {
        guard let fields = self.decoder.fields(node, "a consumer group", known: ["id", "accessKeys", "users"]) else { return nil }
        guard let id = self.decoder.string(fields, "id") else { return nil }
        if id.isEmpty || id.contains(where: { $0 == "|" || $0 == "," }) {
            self.decoder.error("consumer group id '\(id)' is empty or contains '|' or ','", at: fields["id"])
        }
        var keys: [PlatformLoginVerifier.AccessKey] = []
        for item in self.list(fields, "accessKeys", required: false) ?? [] {
            guard let key = self.decoder.fields(item, "an access key", known: ["accessKeyId", "accessKeySecret"]) else { continue }
            guard let keyId = self.decoder.string(key, "accessKeyId"), let secret = self.secret(key, "accessKeySecret") else { continue }
            keys.append(.init(accessKeyId: keyId, accessKeySecret: secret.value))
        }
        var users: [PlatformLoginVerifier.PlainUser] = []
        for item in self.list(fields, "users", required: false) ?? [] {
            guard let user = self.decoder.fields(item, "a user", known: ["user", "password"]) else { continue }
            guard let name = self.decoder.string(user, "user"), let password = self.secret(user, "password") else { continue }
            users.append(.init(user: name, password: password.value))
        }
        if keys.isEmpty && users.isEmpty {
            self.decoder.error("consumer group '\(id)' has neither 'accessKeys' nor 'users': nobody could log in to it", at: node)
        }
        return PlatformLoginVerifier.ConsumerGroup(id: id, accessKeys: keys, users: users)
    }
}
