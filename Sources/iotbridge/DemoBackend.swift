//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

/// The demo's backend: it reads the bridge's JSON-lines sink as it grows and records the messageId of every line,
/// repeats included (a repeat is a duplicate delivered to the backend). A line is only read once it is complete
/// (ends in a newline), so a line being written is never miscounted.
///
/// Why a JSON-lines file and not an AMQP consumer: the file is exactly what the bridge confirmed (it writes a line
/// before it accepts upstream), it needs no second protocol stack in the demo, and a person can open it afterwards.
final class DemoBackend: Sendable {
    /// The sink's file.
    let path: String
    private struct State {
        var offset: UInt64 = 0
        var partial: [UInt8] = []
        var deliveries: [String] = []
        var unique = Set<String>()
        var unreadable = 0
    }
    private let state = Mutex(State())

    init(path: String) {
        self.path = path
    }

    /// Reads what was appended since the last call; returns the number of deliveries so far.
    @discardableResult
    func poll() -> Int {
        guard let handle = FileHandle(forReadingAtPath: self.path) else { return self.deliveryCount }
        defer { try? handle.close() }
        return self.state.withLock { state in
            try? handle.seek(toOffset: state.offset)
            guard let data = try? handle.readToEnd(), !data.isEmpty else { return state.deliveries.count }
            state.offset += UInt64(data.count)
            var bytes = state.partial
            bytes.append(contentsOf: data)
            var start = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\n") {
                let line = bytes[start..<index]
                start = index + 1
                guard !line.isEmpty else { continue }
                if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let id = object["messageId"] as? String {
                    state.deliveries.append(id)
                    state.unique.insert(id)
                } else {
                    state.unreadable += 1
                }
            }
            state.partial = Array(bytes[start...])
            return state.deliveries.count
        }
    }

    /// Every messageId received, in order, one entry per delivery.
    var deliveries: [String] { self.state.withLock { $0.deliveries } }
    /// How many deliveries so far.
    var deliveryCount: Int { self.state.withLock { $0.deliveries.count } }
    /// Whether every one of `ids` has arrived.
    func hasReceived(all ids: Set<String>) -> Bool { self.state.withLock { ids.isSubset(of: $0.unique) } }
    /// Lines without a messageId (the platform always sends one; counted so that nothing is hidden).
    var unreadableLines: Int { self.state.withLock { $0.unreadable } }
}
