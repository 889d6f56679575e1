//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Events
import Foundation
import StateStore

/// The migration-status event of a completed `migrate run` step, written in the same transaction as the journal
/// entry that marks it done (the outbox rule): consumer groups, subscriptions, rules and parsers. Destinations,
/// data sources and source stops are steps other resources depend on, with no fact a subscriber acts on; they
/// give no event.
enum StepEvents {
    /// The event of `step`, done with `targetId`; nil for steps that give none.
    static func draft(
        for step: PlanStep,
        plan: MigrationPlan,
        targetId: String?,
        time: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) -> OutboxDraft? {
        let type: MigrationEventType
        let kind: String
        var oldId = ""
        switch step.action {
        case .createConsumerGroup:
            type = .consumerGroupRecreated
            kind = "consumerGroup"
            oldId = step.consumerGroup?.sourceId ?? ""
        case .createSubscription:
            type = .subscriptionTranslated
            kind = "subscription"
        case .createRule:
            type = .ruleMigrated
            kind = "rule"
        case .createParser:
            type = .parserMigrated
            kind = "parser"
        case .createDestination, .createDataSource, .stopSourceRule, .stopSourceParser:
            return nil
        }
        let newId = targetId ?? ""
        let event = MigrationEvent(
            source: MigrationEvent.migrateSource,
            type: type,
            time: time,
            subject: newId.isEmpty ? step.id : newId,
            data: MigrationEventData(
                migrationId: plan.migrationId,
                productKey: step.subscription?.productKey ?? step.rule?.productKey,
                fromInstanceId: plan.source.iotInstanceId ?? "",
                toInstanceId: plan.target.iotInstanceId ?? "",
                resourceKind: kind,
                resourceName: step.resourceName,
                oldId: oldId,
                newId: newId,
                status: StepJournal.State.done.rawValue
            )
        )
        return event.draft()
    }
}
