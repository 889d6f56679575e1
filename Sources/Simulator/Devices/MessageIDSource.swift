//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

/// Makes messageIds the way the platform's look (a long decimal number, unique per message), unique within one
/// simulator run and unlikely to repeat across runs: the start time in milliseconds times 10^6, plus a counter.
public final class MessageIDSource: Sendable {
    private let base: UInt64
    private let counter = Atomic<UInt64>(0)

    /// Creates a source based on the current time.
    public init() {
        self.base = UInt64(Date().timeIntervalSince1970 * 1000) &* 1_000_000
    }

    /// The next messageId.
    public func next() -> String {
        String(self.base &+ self.counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }
}
