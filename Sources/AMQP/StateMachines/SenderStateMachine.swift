//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The deliveries of one sending link: waiting for credit, in flight until the peer's disposition arrives,
/// then done. `Item` is what the engine keeps per message (its encoded bytes and a completion token).
struct SenderStateMachine<Item> {
    /// A message waiting for credit.
    struct Queued {
        /// The tag the delivery will carry; it identifies the disposition that comes back.
        var tag: UInt64
        /// The engine's payload.
        var item: Item
    }

    /// Messages waiting for credit, oldest first (a ring via `queueHead` keeps `removeFirst` O(1)).
    private var queue: [Queued] = []
    private var queueHead = 0
    /// Messages transmitted on the current attachment, by tag, waiting for the peer's disposition.
    private(set) var inFlight: [UInt64: Item] = [:]
    private var nextTag: UInt64 = 1
    /// Whether the link is attached.
    private(set) var isAttached = false

    /// Creates an empty machine.
    init() {}

    /// How many messages wait for credit.
    var queuedCount: Int { self.queue.count - self.queueHead }

    /// Queues a message; returns its tag.
    mutating func enqueue(_ item: Item) -> UInt64 {
        let tag = self.nextTag
        self.nextTag &+= 1
        self.queue.append(Queued(tag: tag, item: item))
        return tag
    }

    /// The link attached (again).
    mutating func attached() {
        self.isAttached = true
    }

    /// The peer granted `credit`: returns the messages to transmit now, in order, and marks them in flight.
    mutating func transmit(credit: Int) -> [Queued] {
        guard self.isAttached, credit > 0, self.queuedCount > 0 else { return [] }
        let count = min(credit, self.queuedCount)
        let batch = Array(self.queue[self.queueHead..<(self.queueHead + count)])
        self.queueHead += count
        if self.queueHead > 1024 && self.queueHead * 2 > self.queue.count {
            self.queue.removeFirst(self.queueHead)
            self.queueHead = 0
        }
        for queued in batch { self.inFlight[queued.tag] = queued.item }
        return batch
    }

    /// The peer's disposition for `tag` arrived: returns the item to complete, or nil for an unknown tag (a
    /// delivery of an earlier attachment, already reported unsettled).
    mutating func remoteSettled(tag: UInt64) -> Item? {
        self.inFlight.removeValue(forKey: tag)
    }

    /// The link or its connection was lost: everything in flight is unsettled (we cannot know whether the peer
    /// has it); queued messages stay and go out on the next attachment.
    mutating func connectionLost() -> [Item] {
        self.isAttached = false
        let lost = Array(self.inFlight.values)
        self.inFlight.removeAll()
        return lost
    }

    /// The link closed for good: returns in-flight items (unsettled) and queued items (never sent).
    mutating func closed() -> (inFlight: [Item], neverSent: [Item]) {
        let lost = self.connectionLost()
        let neverSent = self.queue[self.queueHead...].map(\.item)
        self.queue.removeAll()
        self.queueHead = 0
        return (lost, neverSent)
    }
}
