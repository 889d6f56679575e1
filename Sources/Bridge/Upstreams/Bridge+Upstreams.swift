//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import IoTPlatform
import Logging
import Metrics
import StateStore
import Synchronization

/// The upstream side of the bridge: one task per connection, each with its one receiver link.
extension Bridge {
    /// One connection of an upstream with its one receiver link: connects, attaches, reads batches, and
    /// re-attaches with backoff when the peer detaches the link. Ends when the bridge drains.
    func consume(_ upstream: UpstreamConfiguration, connectionIndex: Int, slot: Int) async {
        let configuration = self.connectionConfiguration(upstream, index: connectionIndex)
        let connection = self.engine.makeConnection(configuration)
        self.connections.withLock { $0[slot] = connection }
        var attempt = 0
        defer { self.receivers.withLock { _ = $0.removeValue(forKey: slot) } }
        while !self.isDraining {
            do {
                try await connection.open()
                let receiver = try await connection.openReceiver(
                    address: upstream.endpoint.address,
                    credit: upstream.credit,
                    durable: upstream.durable,
                    // BridgeMessage reads everything from the encoding.
                    decodesMessages: false
                )
                if self.isDraining {
                    receiver.close()
                    break
                }
                self.receivers.withLock { $0[slot] = receiver }
                self.upstreamEvent(upstream.name) {
                    $0.connectionsOpen += 1
                    $0.state = "flowing"
                }
                attempt = 0
                var iterator = receiver.deliveries.makeAsyncIterator()
                while true {
                    let batch = try await iterator.nextBatch()
                    if batch.isEmpty { break }
                    // Draining: these stay unsettled and are released when the link detaches.
                    if self.isDraining { continue }
                    await self.process(batch, upstream: upstream, slot: slot)
                }
                self.upstreamEvent(upstream.name) { $0.connectionsOpen -= 1 }
            } catch is CancellationError {
                break
            } catch {
                if self.isDraining { break }
                attempt += 1
                let message = (error as? AMQPError)?.message ?? "\(error)"
                self.upstreamEvent(upstream.name) {
                    $0.lastError = message
                    $0.reconnects += 1
                    $0.state = "backing-off"
                    if $0.connectionsOpen > 0 { $0.connectionsOpen -= 1 }
                }
                self.metrics.reconnect(upstream.name)
                self.logger.warning(
                    "upstream link failed; attaching again",
                    metadata: ["upstream": "\(upstream.name)", "connection": "\(connectionIndex)", "error": "\(message)"]
                )
                let delay = configuration.reconnect.delay(forAttempt: attempt, random: Double.random(in: 0..<1))
                try? await Task.sleep(for: delay)
            }
        }
        await connection.close()
    }

    func connectionConfiguration(_ upstream: UpstreamConfiguration, index: Int) -> AMQPConnectionConfiguration {
        var configuration = AMQPConnectionConfiguration(endpoint: upstream.endpoint)
        configuration.tls = upstream.tls
        configuration.label = "\(upstream.name)#\(index)"
        // A service rides out everything: the first connect is retried too.
        configuration.reconnect.retryInitialConnect = true
        configuration.reconnect.maximumDelay = .seconds(10)
        configuration.connectBudget = self.connectBudgets[upstream.name]
        switch upstream.auth {
        case .anonymous:
            configuration.authentication = .anonymous
        case .plain(let user, let password):
            configuration.authentication = .plain(username: user, password: password.value)
        case .aksign(let platform), .ststoken(let platform):
            configuration.platformRules = true
            // The loader built this login once already, so it cannot fail here.
            if let login = try? PlatformLoginFactory.login(platform, upstream: upstream.name, index: index, sts: upstream.auth.isSTS) {
                configuration.authentication = .plain(username: login.username, password: login.password)
                configuration.label = "\(upstream.name)#\(index) clientId \(login.clientId)"
            }
        }
        return configuration
    }

    var isDraining: Bool { self.draining.load(ordering: .acquiring) }

    func upstreamEvent(_ name: String, _ update: (inout BridgeStatistics.Upstream) -> Void) {
        self.statistics.withLock { statistics in
            update(&statistics.upstreams[name, default: .init()])
        }
    }
}
