//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// The environment contract of `scripts/test.sh` (Tests/IntegrationTests/README.md). Each accessor is nil when its
/// variable is unset or empty, so a suite can gate itself with `.enabled(if:)` and plain `swift test` skips it.
enum TestEnvironment {
    private static func value(_ name: String) -> String? {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
        return text
    }

    /// `amqp://127.0.0.1:PORT` of the private RabbitMQ node (guest/guest, addresses `/queue/NAME`).
    static var rabbitMQURL: String? { self.value("IOTBRIDGE_RABBITMQ_URL") }
    /// A `rabbitmqctl` wrapper bound to the test node's cookie and epmd port.
    static var rabbitMQCtl: String? { self.value("IOTBRIDGE_RABBITMQCTL") }
    /// The test node's name, for `rabbitmqctl -n`.
    static var rabbitMQNode: String? { self.value("IOTBRIDGE_RABBITMQ_NODE") }
    /// Proton's C example broker.
    static var protonBroker: String? { self.value("IOTBRIDGE_PROTON_BROKER") }
    /// `/usr/bin/python3`, which imports Debian's `python3-qpid-proton`.
    static var python: String? { self.value("IOTBRIDGE_PYTHON") }
    /// The folder of the Python peers.
    static var peers: String? { self.value("IOTBRIDGE_PEERS") }
    /// The `iotbridge` binary of the same build.
    static var binary: String? { self.value("IOTBRIDGE_BIN") }

    /// `postgres://iotbridge:PASSWORD@127.0.0.1:PORT/iotbridge` of the private PostgreSQL server (a superuser).
    static var postgresURL: String? { self.value("IOTBRIDGE_POSTGRES_URL") }
    /// A `pg_ctl` wrapper for that server: `stop`, `start`, `restart`, `status`.
    static var postgresCtl: String? { self.value("IOTBRIDGE_POSTGRES_CTL") }

    /// Whether the Python peers can be run.
    static var hasPythonPeers: Bool { self.python != nil && self.peers != nil }

    /// Whether an `openssl` command is available for making test certificates.
    static var openSSL: String? {
        ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
