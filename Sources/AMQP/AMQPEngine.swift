//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Logging

/// One AMQP event loop: a Qpid Proton proactor on its own thread. Connections and listeners made from one
/// engine share that thread; a process usually needs one engine. Call `shutdown()` when done.
///
/// ```swift
/// let engine = AMQPEngine(logger: logger)
/// let connection = engine.makeConnection(AMQPConnectionConfiguration(endpoint: try AMQPEndpoint(url: url)))
/// try await connection.open()
/// let receiver = try await connection.openReceiver(address: "/queue/telemetry", credit: 1000)
/// for try await delivery in receiver.deliveries {
///     handle(delivery.message)
///     delivery.accept()
/// }
/// ```
public final class AMQPEngine: Sendable {
    let core: ProtonEngine

    /// Starts the proactor thread. Proton's own log lines go to `logger` (frames only at trace level).
    public init(logger: Logger = Logger(label: "iotbridge.amqp")) {
        self.core = ProtonEngine(logger: logger)
    }

    /// Creates a client connection; it starts connecting when you call `open()` on it.
    public func makeConnection(_ configuration: AMQPConnectionConfiguration) -> AMQPConnection {
        AMQPConnection(engine: self, configuration: configuration)
    }

    /// Starts listening for AMQP clients; returns once the port is bound (or throws why it could not be).
    public func listen(_ configuration: AMQPListenerConfiguration) async throws -> AMQPListener {
        let listener = AMQPListener(engine: self, configuration: configuration)
        try await listener.start()
        return listener
    }

    /// Closes every connection and listener, then stops the proactor thread.
    public func shutdown() async {
        await self.core.shutdown()
    }
}
