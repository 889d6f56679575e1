//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// When `iotbridge demo` moves devices, as offsets from the moment the devices start publishing: three grayscale
/// batches (each a quarter of the devices) at 15 %, 30 % and 45 % of the duration, the full migration at 60 %,
/// publishing stops at 100 %. The last 40 % show the bridge after the migration: data-synchronisation copies of
/// the last batch arriving on both instances, then the target alone.
public struct DemoTimeline: Sendable {
    /// One migration step.
    public enum Step: Sendable, Hashable {
        /// Grayscale batch `number` of `count` equal slices of the devices.
        case batch(number: Int, of: Int)
        /// Every device still on the source.
        case full
    }

    /// The steps and when each starts, in order.
    public var steps: [(at: Duration, step: Step)]
    /// When publishing stops.
    public var end: Duration
    /// The data-synchronisation window: 15 % of the duration, so that copies of each batch overlap the next one.
    public var syncWindow: Duration

    /// The timeline of a demo lasting `duration`.
    public init(duration: Duration) {
        func at(_ percent: Int) -> Duration { duration * percent / 100 }
        self.steps = [
            (at(15), .batch(number: 1, of: 4)),
            (at(30), .batch(number: 2, of: 4)),
            (at(45), .batch(number: 3, of: 4)),
            (at(60), .full),
        ]
        self.end = duration
        self.syncWindow = at(15)
    }

}
