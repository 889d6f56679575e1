//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton

/// Turns Proton's conditions into `AMQPError`s that say what to do.
enum ProtonErrors {
    /// Copies a `pn_condition_t` if it is set.
    static func condition(_ condition: OpaquePointer?) -> AMQPCondition? {
        guard let condition, pn_condition_is_set(condition) else { return nil }
        let name = pn_condition_get_name(condition).map { String(cString: $0) } ?? ""
        let description = pn_condition_get_description(condition).map { String(cString: $0) } ?? ""
        return AMQPCondition(name: name, description: description)
    }

    /// The error for a connection that ended with `condition`; `remote` is the peer's Close condition.
    static func connectionError(
        transport condition: AMQPCondition?,
        remote: AMQPCondition?,
        label: String,
        endpoint: String,
        isPlatform: Bool,
        mechanism: String = "PLAIN"
    ) -> AMQPError? {
        if let remote {
            if remote.name == AMQPCondition.unauthorizedAccess {
                return self.authenticationError(remote, label: label, endpoint: endpoint, isPlatform: isPlatform, mechanism: mechanism)
            }
            return AMQPError(
                .remoteClose,
                "\(endpoint) closed the connection for \(label): \(remote.name)"
                    + (remote.description.isEmpty ? "" : " (\(remote.description))"),
                condition: remote
            )
        }
        guard let condition else { return nil }
        let text = (condition.name + " " + condition.description).lowercased()
        if condition.name == AMQPCondition.unauthorizedAccess || text.contains("authentication failed") {
            return self.authenticationError(condition, label: label, endpoint: endpoint, isPlatform: isPlatform, mechanism: mechanism)
        }
        if text.contains("connection refused") {
            return AMQPError(
                .connectionRefused,
                "connection refused at \(endpoint) — check the host and port, and that the broker is running",
                condition: condition
            )
        }
        if text.contains("name or service not known") || text.contains("getaddrinfo") || text.contains("name resolution")
            || text.contains("no address associated") || text.contains("nodename nor servname")
        {
            return AMQPError(
                .nameResolution,
                "cannot resolve the host of \(endpoint) — check the spelling and DNS",
                condition: condition
            )
        }
        if text.contains("expected sasl protocol header") || text.contains("expected amqp protocol header") {
            return AMQPError(
                .transport,
                "the peer at \(endpoint) does not speak AMQP 1.0 — check the port (5672 for amqp, 5671 for amqps)",
                condition: condition
            )
        }
        if text.contains("certificate") || text.contains("ssl") || text.contains("tls") {
            return AMQPError(
                .tlsVerification,
                "TLS handshake with \(endpoint) failed — check the server certificate, the CA file (--ca-file) and "
                    + "that the host name matches the certificate",
                condition: condition
            )
        }
        if text.contains("idle") && text.contains("timeout") {
            return AMQPError(
                .idleTimeout,
                "no frame from \(endpoint) within the idle timeout — the network or the peer stalled",
                condition: condition
            )
        }
        if text.contains("no route") || text.contains("unreachable") || text.contains("timed out") {
            return AMQPError(
                .timeout,
                "\(endpoint) is unreachable — check the network path and firewalls",
                condition: condition
            )
        }
        return AMQPError(
            .transport, "connection to \(endpoint) failed: \(condition.description.isEmpty ? condition.name : condition.description)", condition: condition)
    }

    private static func authenticationError(
        _ condition: AMQPCondition,
        label: String,
        endpoint: String,
        isPlatform: Bool,
        mechanism: String
    ) -> AMQPError {
        // A server that says why in its Close (our listener does: TLS required, no login) is quoted; Proton's own
        // text for a failed SASL outcome ("Authentication failed [mech=PLAIN]") adds nothing to the hint.
        let reason = condition.description
        // "[mech=none]": the client allows exactly one mechanism and the server did not offer it, so no password
        // was ever checked; saying "check the password" would send the user the wrong way.
        if reason.contains("[mech=none]") {
            let hint =
                mechanism == "ANONYMOUS"
                ? "the peer does not offer ANONYMOUS: it requires a login — pass --user and --password-env "
                    + "(or amqp://USER@HOST)"
                : "the peer does not offer SASL PLAIN, so no user and password can be used: it offers only other "
                    + "mechanisms, such as ANONYMOUS (`iotbridge amqp broker` without --user offers only ANONYMOUS) — "
                    + "connect without a user, or start the broker with --user and --password-env"
            return AMQPError(.authentication, "authentication failed for \(label) at \(endpoint): \(hint)", condition: condition)
        }
        if !reason.isEmpty && !reason.lowercased().hasPrefix("authentication failed") {
            return AMQPError(.authentication, "\(endpoint) refused the login of \(label): \(reason)", condition: condition)
        }
        let hint =
            isPlatform
            ? "check the AccessKey pair, the consumer group and the instance id"
            : "check the user name and password"
        return AMQPError(.authentication, "authentication failed for \(label) at \(endpoint) — \(hint)", condition: condition)
    }
}
