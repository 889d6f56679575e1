//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Synchronization

/// A counting window: `acquire` waits while `capacity` messages are in flight. This is how a slow sink slows
/// the upstreams down (they stop being read, so their credit is not topped up) instead of buffering without
/// bound. Waiters are woken in order.
final class SinkWindow: Sendable {
    private struct State {
        var inFlight = 0
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var closed = false
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Messages in flight now.
    var inFlight: Int { self.state.withLock { $0.inFlight } }

    /// Takes a slot, waiting while the window is full; throws once the window is closed.
    func acquire() async throws {
        let acquired: Bool = try self.state.withLock { state in
            if state.closed { throw BridgeError(.shuttingDown, "the sink is shutting down") }
            guard state.inFlight < self.capacity, state.waiters.isEmpty else { return false }
            state.inFlight += 1
            return true
        }
        if acquired { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let immediate: Result<Void, any Error>? = self.state.withLock { state in
                if state.closed { return .failure(BridgeError(.shuttingDown, "the sink is shutting down")) }
                if state.inFlight < self.capacity && state.waiters.isEmpty {
                    state.inFlight += 1
                    return .success(())
                }
                state.waiters.append(continuation)
                return nil
            }
            if let immediate { continuation.resume(with: immediate) }
        }
    }

    /// Gives a slot back; the first waiter takes it.
    func release() {
        let waiter = self.state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.inFlight -= 1
            return nil
        }
        waiter?.resume()
    }

    /// Fails every waiter and every later `acquire`.
    func close() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(throwing: BridgeError(.shuttingDown, "the sink is shutting down")) }
    }
}
