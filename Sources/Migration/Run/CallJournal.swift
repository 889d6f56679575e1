//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import StateStore

/// A create call that a run is about to send, written to the journal before it goes out.
///
/// Names find most resources a lost call created; rule actions have none. For them the journal keeps the IDs the
/// rule had before the call, so that a resume after a kill, like a retry within the run, adopts only an action
/// that is new and matches, and never takes an older one for the call's result.
struct RuleActionAttempt: Codable, Sendable, Hashable {
    /// The rule on the target.
    var ruleId: String
    /// The rule's action IDs before the call.
    var knownActionIds: [String]
    /// The action being created, as ``RuleActionKey/description``.
    var action: String
}

/// Journals ``RuleActionAttempt``s in the state store's per-migration metadata (one per step), next to the step
/// entries, so that the store's schema stays as it is.
struct CallJournal: Sendable {
    let store: any StateStore
    let migrationId: String

    private func key(_ stepId: String) -> String { "attempt:\(stepId)" }

    /// Writes the attempt before the call; durable when it returns.
    func record(_ attempt: RuleActionAttempt, stepId: String) async throws {
        let text = String(decoding: try JSONEncoder().encode(attempt), as: UTF8.self)
        do {
            try await self.store.setMetadata(migrationId: self.migrationId, key: self.key(stepId), value: text)
        } catch {
            throw MigrationError(.journal, "\(error)", step: stepId)
        }
    }

    /// The attempt a killed run left for the step, if any.
    func pending(stepId: String) async throws -> RuleActionAttempt? {
        let text: String?
        do {
            text = try await self.store.metadata(migrationId: self.migrationId, key: self.key(stepId))
        } catch {
            throw MigrationError(.journal, "\(error)", step: stepId)
        }
        guard let text, !text.isEmpty else { return nil }
        return try? JSONDecoder().decode(RuleActionAttempt.self, from: Data(text.utf8))
    }

    /// The step's calls all answered: nothing is pending any more.
    func clear(stepId: String) async throws {
        do {
            try await self.store.setMetadata(migrationId: self.migrationId, key: self.key(stepId), value: "")
        } catch {
            throw MigrationError(.journal, "\(error)", step: stepId)
        }
    }
}
