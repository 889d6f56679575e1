//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Logging

/// A minimal in-memory AMQP broker on top of `AMQPListener`: one FIFO queue per address, each message to one
/// consumer, at-least-once. It serves `iotbridge amqp broker` and `amqp demo` (demos, local development, tests)
/// and keeps nothing on disk; it lives in the CLI, not in the AMQP library, because it is demo code with none of
/// the platform's consumer-group rules (the instance simulator and the listener sink have those).
///
/// A publisher's delivery is accepted only once the message is in the queue; a queue that is full holds the
/// delivery unsettled, so the publisher's credit runs out (back-pressure, not loss). A message a consumer does
/// not accept goes back to the head of its queue. Messages are kept and sent on as the bytes that arrived (only
/// the delivery annotations, which are for one hop, are dropped), so every section passes through unchanged.
/// A queue with no messages and no link is forgotten, so clients attaching to ever new addresses leave nothing
/// behind.
actor AMQPMemoryBroker {
    private var queues: [String: MemoryQueue] = [:]
    /// Links attached per address; a queue is forgotten once it has none and is empty.
    private var linkCounts: [String: Int] = [:]
    private let capacity: Int
    private let logger: Logger

    /// Creates a broker whose queues hold at most `queueCapacity` messages each.
    init(queueCapacity: Int = 100_000, logger: Logger) {
        self.capacity = queueCapacity
        self.logger = logger
    }

    /// Serves every link of `listener` until its link stream ends (the listener is closed) or the task is
    /// cancelled; then stops every publisher and consumer task it started.
    func serve(_ listener: AMQPListener) async {
        await withDiscardingTaskGroup { group in
            defer { group.cancelAll() }
            for await link in listener.links {
                switch link {
                case .publishing(let receiver, let peer):
                    let address = receiver.address ?? ""
                    let queue = self.attach(address)
                    self.logger.debug("publisher attached", metadata: ["amqp.address": "\(address)", "amqp.peer": "\(peer.remoteAddress)"])
                    group.addTask {
                        await Self.pump(from: receiver, into: queue)
                        await self.detach(address)
                    }
                case .consuming(let sender, let peer):
                    let address = sender.address ?? ""
                    let queue = self.attach(address)
                    self.logger.debug("consumer attached", metadata: ["amqp.address": "\(address)", "amqp.peer": "\(peer.remoteAddress)"])
                    group.addTask {
                        await Self.drain(queue, to: sender)
                        await self.detach(address)
                    }
                }
            }
            // The listener closed or we were cancelled: wake consumers waiting on empty queues so they end.
            for queue in self.queues.values { await queue.close() }
        }
    }

    /// How many messages wait in the queue for `address`.
    func depth(of address: String) async -> Int {
        await self.queues[address]?.count ?? 0
    }

    /// How many queues exist (addresses with messages or links).
    var queueCount: Int { self.queues.count }

    private func attach(_ address: String) -> MemoryQueue {
        self.linkCounts[address, default: 0] += 1
        if let queue = self.queues[address] { return queue }
        let queue = MemoryQueue(capacity: self.capacity)
        self.queues[address] = queue
        return queue
    }

    private func detach(_ address: String) async {
        let remaining = (self.linkCounts[address] ?? 1) - 1
        self.linkCounts[address] = remaining > 0 ? remaining : nil
        guard remaining <= 0, let queue = self.queues[address] else { return }
        // Awaiting the count lets other links attach meanwhile: check again afterwards.
        if await queue.count == 0, self.linkCounts[address] == nil {
            self.queues.removeValue(forKey: address)
        }
    }

    private static func pump(from receiver: AMQPReceiver, into queue: MemoryQueue) async {
        do {
            for try await delivery in receiver.deliveries {
                // The listener itself rejects what does not decode; this guards other listeners' links.
                guard delivery.decodingError == nil, let message = try? AMQPEncodedMessage(bytes: delivery.encoded) else {
                    delivery.reject(
                        AMQPCondition(name: AMQPCondition.decodeError, description: delivery.decodingError?.message ?? "not an AMQP message")
                    )
                    continue
                }
                await queue.put(message.withoutDeliveryAnnotations)
                delivery.accept()
            }
        } catch {
            // The publisher went away; what it had not been told "accepted" it will send again.
        }
    }

    /// Sends the queue's messages to `sender` until the client detaches (or the broker stops).
    private static func drain(_ queue: MemoryQueue, to sender: AMQPSender) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await sender.waitClosed() }
            group.addTask { await Self.deliver(queue, to: sender) }
            // Whichever ends first ends both: a consumer that detached must not stay waiting on an empty queue.
            await group.next()
            group.cancelAll()
        }
    }

    private static func deliver(_ queue: MemoryQueue, to sender: AMQPSender) async {
        while !Task.isCancelled {
            guard let message = await queue.take() else { return }
            do {
                try await sender.enqueue(encoded: message) { result in
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

/// One queue: a FIFO of encoded messages with a capacity, and waiters on both ends.
actor MemoryQueue {
    private var messages: [[UInt8]] = []
    private var head = 0
    private let capacity: Int
    private var takers: [(id: UInt64, continuation: CheckedContinuation<[UInt8]?, Never>)] = []
    private var nextTaker: UInt64 = 0
    private var putters: [CheckedContinuation<Void, Never>] = []
    private var isClosed = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { self.messages.count - self.head }

    func put(_ message: [UInt8]) async {
        while self.count >= self.capacity && self.takers.isEmpty && !self.isClosed {
            await withCheckedContinuation { self.putters.append($0) }
        }
        self.deliver(message, atFront: false)
    }

    func putBack(_ message: [UInt8]) {
        self.deliver(message, atFront: true)
    }

    /// Ends every waiting `take` with nil and refuses to wait from now on.
    func close() {
        self.isClosed = true
        for taker in self.takers { taker.continuation.resume(returning: nil) }
        self.takers.removeAll()
        for putter in self.putters { putter.resume() }
        self.putters.removeAll()
    }

    /// The next message, waiting while the queue is empty; nil once closed or when the task is cancelled.
    func take() async -> [UInt8]? {
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
        let id = self.nextTaker
        self.nextTaker += 1
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: nil)
                } else {
                    self.takers.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.cancelTaker(id) }
        }
    }

    private func cancelTaker(_ id: UInt64) {
        guard let index = self.takers.firstIndex(where: { $0.id == id }) else { return }
        self.takers.remove(at: index).continuation.resume(returning: nil)
    }

    private func deliver(_ message: [UInt8], atFront: Bool) {
        if !self.takers.isEmpty {
            self.takers.removeFirst().continuation.resume(returning: message)
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
