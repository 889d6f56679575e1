//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore

/// A fresh temporary folder for one test's state file; removed with the value.
final class StateFolder: Sendable {
    /// The folder.
    let url: URL
    /// The state file inside it (not created until a store opens it).
    let statePath: String

    /// Creates the folder.
    init() throws {
        self.url = FileManager.default.temporaryDirectory.appendingPathComponent("iotbridge-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.url, withIntermediateDirectories: true)
        self.statePath = self.url.appendingPathComponent("state.sqlite").path
    }

    deinit {
        try? FileManager.default.removeItem(at: self.url)
    }

    /// Opens a store on the state file.
    func open(
        synchronous: SQLiteStateStore.Synchronous = .normal,
        exclusive: Bool = false
    ) throws -> SQLiteStateStore {
        try SQLiteStateStore(path: self.statePath, synchronous: synchronous, exclusive: exclusive)
    }
}

/// The claim key of message `n` (16 bytes) with content digest `digest`.
func key(_ n: UInt8, digest: Int64 = 7) -> ClaimKey {
    ClaimKey(key: [UInt8](repeating: n, count: 16), contentDigest: digest)
}

/// Options of `owner` claiming at `now` for a lease of `lease` ms.
func by(_ owner: String, at now: Int64, lease: Int64 = 1_000, othersGone: Bool = false) -> ClaimOptions {
    ClaimOptions(owner: owner, now: now, leaseUntil: now + lease, otherOwnersAreGone: othersGone)
}

extension ClaimStore {
    /// Claims one key and returns its result.
    func claim(_ key: ClaimKey, from upstream: String = "up-a", _ options: ClaimOptions) async throws -> ClaimResult {
        try await self.claim([ClaimRequest(key: key, upstream: upstream)], options: options)[0]
    }

    /// Records terminal targets of one claim.
    func record(_ key: ClaimKey, _ targets: Set<String>, deadLettered: Bool = false, complete: Bool) async throws {
        try await self.record([
            ClaimUpdate(key: key, terminalTargets: targets, deadLettered: deadLettered, complete: complete)
        ])
    }
}
