//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Logging

/// A minimal in-memory AMQP broker on top of `AMQPListener`: one FIFO queue per address, each message to one
/// consumer, at-least-once. For demos, local development and tests; it keeps nothing on disk.
///
/// A publisher's delivery is accepted only once the message is in the queue; a queue that is full holds the
/// delivery unsettled, so the publisher's credit runs out (back-pressure, not loss). A message a consumer does
/// not accept goes back to the head of its queue.
public actor AMQPMemoryBroker {
    private var queues: [String: MemoryQueue] = [:]
    private let capacity: Int
    private let logger: Logger

    /// Creates a broker whose queues hold at most `queueCapacity` messages each.
    public init(queueCapacity: Int = 100_000, logger: Logger) {
        self.capacity = queueCapacity
        self.logger = logger
    }

    /// Serves every link of `listener` until its link stream ends (the listener is closed) or the task is
    /// cancelled; then stops every publisher and consumer task it started.
    public func serve(_ listener: AMQPListener) async {
        await withDiscardingTaskGroup { group in
            defer { group.cancelAll() }
            for await link in listener.links {
                switch link {
                case .publishing(let receiver, let peer):
                    let queue = self.queue(receiver.address ?? "")
                    self.logger.debug("publisher attached", metadata: ["amqp.address": "\(receiver.address ?? "")", "amqp.peer": "\(peer.remoteAddress)"])
                    group.addTask { await Self.pump(from: receiver, into: queue) }
                case .consuming(let sender, let peer):
                    let queue = self.queue(sender.address ?? "")
                    self.logger.debug("consumer attached", metadata: ["amqp.address": "\(sender.address ?? "")", "amqp.peer": "\(peer.remoteAddress)"])
                    group.addTask { await Self.drain(queue, to: sender) }
                }
            }
            // The listener closed or we were cancelled: wake consumers waiting on empty queues so they end.
            for queue in self.queues.values { await queue.close() }
        }
    }

    /// How many messages wait in the queue for `address`.
    public func depth(of address: String) async -> Int {
        await self.queues[address]?.count ?? 0
    }

    private func queue(_ address: String) -> MemoryQueue {
        if let queue = self.queues[address] { return queue }
        let queue = MemoryQueue(capacity: self.capacity)
        self.queues[address] = queue
        return queue
    }

    private static func pump(from receiver: AMQPReceiver, into queue: MemoryQueue) async {
        do {
            for try await delivery in receiver.deliveries {
                if let error = delivery.decodingError {
                    // No consumer could read it: reject it, as a broker does, so the publisher learns why.
                    delivery.reject(AMQPCondition(name: AMQPCondition.decodeError, description: error.message))
                    continue
                }
                await queue.put(delivery.message)
                delivery.accept()
            }
        } catch {
            // The publisher went away; what it had not been told "accepted" it will send again.
        }
    }

    private static func drain(_ queue: MemoryQueue, to sender: AMQPSender) async {
        while !Task.isCancelled {
            guard let message = await queue.take() else { return }
            do {
                try await sender.enqueue(message) { result in
                    if case .success(.accepted) = result { return }
                    // Not accepted (released, rejected, unsettled, link gone): keep it for the next consumer.
                    Task { await queue.putBack(message) }
                }
            } catch {
                await queue.putBack(message)
                return
            }
        }
    }
}

/// One queue: a FIFO with a capacity, and waiters on both ends.
actor MemoryQueue {
    private var messages: [AMQPMessage] = []
    private var head = 0
    private let capacity: Int
    private var takers: [CheckedContinuation<AMQPMessage?, Never>] = []
    private var putters: [CheckedContinuation<Void, Never>] = []
    private var isClosed = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { self.messages.count - self.head }

    func put(_ message: AMQPMessage) async {
        while self.count >= self.capacity && self.takers.isEmpty && !self.isClosed {
            await withCheckedContinuation { self.putters.append($0) }
        }
        self.deliver(message, atFront: false)
    }

    func putBack(_ message: AMQPMessage) {
        self.deliver(message, atFront: true)
    }

    /// Ends every waiting `take` with nil and refuses to wait from now on.
    func close() {
        self.isClosed = true
        for taker in self.takers { taker.resume(returning: nil) }
        self.takers.removeAll()
        for putter in self.putters { putter.resume() }
        self.putters.removeAll()
    }

    func take() async -> AMQPMessage? {
        if self.isClosed { return nil }
        if self.count > 0 {
            let message = self.messages[self.head]
            self.head += 1
            if self.head > 4096 && self.head * 2 > self.messages.count {
                self.messages.removeFirst(self.head)
                self.head = 0
            }
            if !self.putters.isEmpty { self.putters.removeFirst().resume() }
            return message
        }
        return await withCheckedContinuation { self.takers.append($0) }
    }

    private func deliver(_ message: AMQPMessage, atFront: Bool) {
        if !self.takers.isEmpty {
            self.takers.removeFirst().resume(returning: message)
        } else if atFront && self.head > 0 {
            self.head -= 1
            self.messages[self.head] = message
        } else if atFront {
            self.messages.insert(message, at: 0)
        } else {
            self.messages.append(message)
        }
    }
}
