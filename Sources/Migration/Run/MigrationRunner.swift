//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Logging
import StateStore

/// Runs, inspects, cleans and rolls back one plan against its target, journalling every step in a state store.
public struct MigrationRunner: Sendable {
    /// The plan.
    public let plan: MigrationPlan
    let target: any InstanceBackend
    let source: any InstanceBackend
    let store: any StateStore
    let logger: Logger

    /// Creates a runner.
    public init(
        plan: MigrationPlan,
        source: any InstanceBackend,
        target: any InstanceBackend,
        store: any StateStore,
        logger: Logger = Logger(label: "iotbridge.migration")
    ) {
        self.plan = plan
        self.source = source
        self.target = target
        self.store = store
        self.logger = logger
    }

    private func entries() async throws -> [String: JournalEntry] {
        do {
            let list = try await self.store.entries(migrationId: self.plan.migrationId)
            return Dictionary(list.map { ($0.stepId, $0) }, uniquingKeysWith: { first, _ in first })
        } catch {
            throw MigrationError(.journal, "\(error)")
        }
    }

    private func journal(_ entry: JournalEntry?) throws -> StepJournal {
        guard let entry else { return StepJournal() }
        guard let state = StepJournal.State(rawValue: entry.state) else {
            throw MigrationError(.journal, "unknown journal state '\(entry.state)'", step: entry.stepId)
        }
        return StepJournal(
            state: state,
            targetId: entry.targetId,
            created: entry.created,
            attempts: entry.attempts,
            lastError: entry.lastError
        )
    }

    func save(
        _ journal: StepJournal,
        action: StepAction,
        stepId: String,
        name: String,
        ordinal: Int,
        events: [OutboxDraft] = []
    )
        async throws
    {
        do {
            try await self.store.save(
                JournalEntry(
                    migrationId: self.plan.migrationId,
                    stepId: stepId,
                    ordinal: ordinal,
                    action: action.rawValue,
                    name: name,
                    state: journal.state.rawValue,
                    targetId: journal.targetId,
                    created: journal.created,
                    attempts: journal.attempts,
                    lastError: journal.lastError
                ),
                events: events
            )
        } catch {
            throw MigrationError(.journal, "\(error)", step: stepId)
        }
    }

    /// The journal side of a runner: what needs no backend.
    struct Journal {
        let plan: MigrationPlan
        let store: any StateStore

        /// Symbol → target ID of the done steps and the plan's `existing` marks.
        func knownIds() async throws -> [String: String] {
            let entries = try await self.store.entries(migrationId: self.plan.migrationId)
            var ids: [String: String] = [:]
            for step in self.plan.steps {
                if let existing = step.existing { ids[step.id] = existing }
            }
            for entry in entries where entry.state == StepJournal.State.done.rawValue {
                if let id = entry.targetId { ids[entry.stepId] = id }
            }
            return ids
        }
    }

    /// Symbol → target ID from the journal and from the plan's `existing` marks.
    private func knownIds(_ entries: [String: JournalEntry]) -> [String: String] {
        var ids: [String: String] = [:]
        for step in self.plan.steps {
            if let existing = step.existing { ids[step.id] = existing }
            if let entry = entries[step.id], entry.state == StepJournal.State.done.rawValue, let id = entry.targetId {
                ids[step.id] = id
            }
        }
        return ids
    }

    /// Executes the plan's steps in order, skipping what the journal has done.
    ///
    /// - Parameter force: run even when the source changed since the plan was made.
    /// - Throws: ``MigrationError``; `.stalePlan` before any step, or the failing step's error after its journal
    ///   entry was marked failed.
    public func run(
        force: Bool = false,
        progress: @Sendable (MigrationProgress) -> Void = { _ in }
    ) async throws
        -> RunSummary
    {
        let entries = try await self.entries()
        // A run is under way while a step is between requested and done, or a step's effect is in place (a
        // resource it created, a source rule it stopped). After a full clean or rollback only adopted resources
        // remain: the plan starts over and must be fresh again.
        let started = entries.values.contains { entry in
            switch entry.state {
            case "requested", "failed", "cleaning", "restoring": return true
            case "done": return entry.created || !(StepAction(rawValue: entry.action)?.createsOnTarget ?? true)
            default: return false
            }
        }
        if started {
            // The first run checked the fingerprint; since then the run itself may have changed the source
            // (stopped rules), so a resume must not compare again.
            self.logger.info("resuming migration", metadata: ["migration.id": "\(self.plan.migrationId)"])
        } else {
            let current = try await self.source.exportSnapshot(products: self.plan.products).fingerprint
            if current != self.plan.sourceFingerprint {
                guard force else {
                    throw MigrationError(
                        .stalePlan,
                        "the source changed since the plan was made (plan \(self.plan.sourceFingerprint.prefix(19))…, "
                            + "source now \(current.prefix(19))…) — run `iotbridge migrate plan` again and review it, "
                            + "or pass --force to run this plan anyway"
                    )
                }
                self.logger.warning("running a stale plan because of --force")
            }
        }
        var ids = self.knownIds(entries)
        let executor = StepExecutor(
            target: self.target,
            source: self.source,
            calls: CallJournal(store: self.store, migrationId: self.plan.migrationId),
            logger: self.logger
        )
        var held = await self.beginBatch()
        var summary = RunSummary()
        let clock = ContinuousClock()
        let begin = clock.now
        var finished = 0
        let total = self.plan.steps.count
        func eta() -> Double? {
            guard summary.executed > 0 else { return nil }
            let elapsed = clock.now - begin
            let perStep = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return perStep / Double(summary.executed) * Double(total - finished)
        }
        for (ordinal, step) in self.plan.steps.enumerated() {
            var journal = try self.journal(entries[step.id])
            switch journal.startRun() {
            case .alreadyDone(let targetId):
                if let targetId { ids[step.id] = targetId }
                summary.resumed += 1
                finished += 1
                progress(
                    MigrationProgress(done: finished, total: total, stepId: step.id, phase: .skipped, etaSeconds: eta())
                )
                continue
            case .execute(let resuming):
                progress(
                    MigrationProgress(done: finished, total: total, stepId: step.id, phase: .started, etaSeconds: eta())
                )
                // Journal `requested` before the first call: a kill from here on is seen by the next run.
                try await self.save(
                    journal,
                    action: step.action,
                    stepId: step.id,
                    name: step.resourceName,
                    ordinal: ordinal
                )
                do {
                    let result: (targetId: String?, created: Bool)
                    if step.existing != nil, let found = try await executor.lookup(step) {
                        // Adopt what the plan found on the target, under the ID it has now; never modify it.
                        result = (found, false)
                        summary.adopted += 1
                    } else {
                        // Not marked existing, or gone from the target since planning: create it.
                        result = try await executor.apply(step, ids: ids)
                        summary.executed += 1
                    }
                    // A resumed step that found its resource by name created it in the killed attempt.
                    let created =
                        result.created
                        || (resuming && step.existing == nil && step.action.createsOnTarget
                            && journal.attempts > 1)
                    journal.succeeded(targetId: result.targetId, created: created)
                    if created { summary.created += 1 }
                    // The step's migration-status event commits with the journal entry that marks it done.
                    let event = StepEvents.draft(for: step, plan: self.plan, targetId: result.targetId)
                    try await self.record(
                        JournalWrite(
                            journal,
                            action: step.action,
                            stepId: step.id,
                            name: step.resourceName,
                            ordinal: ordinal,
                            events: event.map { [$0] } ?? []
                        ),
                        held: &held
                    )
                    if let id = result.targetId { ids[step.id] = id }
                    finished += 1
                    let phase: MigrationProgress.Phase = step.existing == nil ? .finished : .skipped
                    progress(
                        MigrationProgress(
                            done: finished,
                            total: total,
                            stepId: step.id,
                            phase: phase,
                            etaSeconds: eta()
                        )
                    )
                } catch {
                    let failure = (error as? MigrationError ?? MigrationError(.api, "\(error)")).at(step: step.id)
                    // What the earlier steps of the batch did is kept; if even that fails, their entries stay
                    // `requested` and the next run looks their resources up by name.
                    try? await self.settle(&held)
                    journal.failed(failure.message)
                    try? await self.save(
                        journal,
                        action: step.action,
                        stepId: step.id,
                        name: step.resourceName,
                        ordinal: ordinal
                    )
                    progress(
                        MigrationProgress(
                            done: finished,
                            total: total,
                            stepId: step.id,
                            phase: .failed,
                            etaSeconds: nil
                        )
                    )
                    throw failure
                }
            }
        }
        try await self.settle(&held)
        return summary
    }

    /// The calls `run` would make, one line per step, without calling anything or touching the journal.
    public func dryRun() async throws -> [String] {
        let entries = try await self.entries()
        return self.plan.steps.map { step in
            let prefix = "\(step.id): "
            if let entry = entries[step.id], entry.state == StepJournal.State.done.rawValue {
                return prefix + "skip — done in the journal (ID \(entry.targetId ?? "-"))"
            }
            if let existing = step.existing {
                return prefix + "skip — already on the target as \(existing)"
            }
            return prefix + Self.calls(for: step).joined(separator: ", ")
        }
    }

    /// The API calls one step makes when nothing of it exists yet.
    static func calls(for step: PlanStep) -> [String] {
        switch step.action {
        case .createConsumerGroup:
            return ["CreateConsumerGroup GroupName=\(step.consumerGroup!.name)"]
        case .createDestination:
            let spec = step.destination!
            return ["CreateDestination Name=\(spec.name) Type=\(spec.type) Configuration=\(spec.configuration)"]
        case .createDataSource:
            let spec = step.dataSource!
            return ["CreateParserDataSource Name=\(spec.name)"]
                + spec.items.map { "CreateDataSourceItem Topic=\($0.topic)" }
        case .createParser:
            let spec = step.parser!
            var calls = ["CreateParser Name=\(spec.name)"]
            if spec.script != nil { calls += ["SaveScript", "PublishScript"] }
            if spec.scriptDraft != nil { calls.append("SaveScript (the draft, not published)") }
            if let ds = spec.dataSource { calls.append("AttachParserDataSource DataSourceId=\(ds)") }
            calls += spec.destinations.map { "AttachDestination DestinationId=\($0)" }
            if let failover = spec.errorDestination {
                calls.append("AttachDestination DestinationId=\(failover) IsFailover=true")
            }
            if spec.start { calls.append("StartParser") }
            return calls
        case .createSubscription:
            let spec = step.subscription!
            return [
                "CreateSubscribeRelation ProductKey=\(spec.productKey) Type=AMQP "
                    + "ConsumerGroupIds=\(spec.consumerGroups.joined(separator: ",")) "
                    + spec.flags.map { "\($0.rawValue)=true" }.joined(separator: " ")
            ]
        case .createRule:
            let spec = step.rule!
            var calls = ["CreateRule Name=\(spec.name) Select=\(spec.select)"]
            calls += spec.actions.map { "CreateRuleAction Type=\($0.type) Configuration=\($0.configuration)" }
            if let error = spec.errorAction {
                calls.append(
                    "CreateRuleAction Type=\(error.type) ErrorActionFlag=true Configuration=\(error.configuration)"
                )
            }
            if spec.start { calls.append("StartRule") }
            return calls
        case .stopSourceRule:
            return ["StopRule RuleId=\(step.sourceResource!.sourceId) (on the source)"]
        case .stopSourceParser:
            return ["StopParser ParserId=\(step.sourceResource!.sourceId) (on the source)"]
        }
    }

    /// The state of every step, in plan order, then journal entries of steps no longer in the plan.
    public func status() async throws -> [StepStatus] {
        try await Self.status(plan: self.plan, store: self.store)
    }

    /// ``status()`` without backends: reads only the plan and the journal, so it needs no credentials.
    public static func status(plan: MigrationPlan, store: any StateStore) async throws -> [StepStatus] {
        let entries: [String: JournalEntry]
        do {
            entries = Dictionary(
                try await store.entries(migrationId: plan.migrationId).map { ($0.stepId, $0) },
                uniquingKeysWith: { first, _ in first }
            )
        } catch {
            throw MigrationError(.journal, "\(error)")
        }
        var rows = plan.steps.map { step in
            let entry = entries[step.id]
            return StepStatus(
                stepId: step.id,
                action: step.action.rawValue,
                state: entry?.state ?? (step.existing != nil ? "existing" : StepJournal.State.pending.rawValue),
                targetId: entry?.targetId ?? step.existing,
                created: entry?.created ?? false,
                attempts: entry?.attempts ?? 0,
                lastError: entry?.lastError,
                inPlan: true
            )
        }
        let planned = Set(plan.steps.map(\.id))
        for entry in entries.values.sorted(by: { $0.ordinal < $1.ordinal }) where !planned.contains(entry.stepId) {
            rows.append(
                StepStatus(
                    stepId: entry.stepId,
                    action: entry.action,
                    state: entry.state,
                    targetId: entry.targetId,
                    created: entry.created,
                    attempts: entry.attempts,
                    lastError: entry.lastError,
                    inPlan: false
                )
            )
        }
        return rows
    }

    /// `status` rows as a table a person can read.
    public static func renderStatus(_ rows: [StepStatus]) -> String {
        let width = max(8, rows.map(\.stepId.count).max() ?? 8)
        func pad(_ text: String, _ length: Int) -> String {
            text.count >= length ? text + " " : text + String(repeating: " ", count: length - text.count)
        }
        var text = pad("STEP", width + 2) + pad("ACTION", 21) + pad("STATE", 11) + pad("TARGET ID", 28) + "TRIES\n"
        var counts: [String: Int] = [:]
        for row in rows {
            counts[row.state, default: 0] += 1
            text += pad(row.stepId, width + 2) + pad(row.action, 21) + pad(row.state, 11)
            text += pad(row.targetId ?? "-", 28) + "\(row.attempts)"
            if row.created { text += "  created" }
            if !row.inPlan { text += "  (not in the plan any more)" }
            if let error = row.lastError { text += "\n    last error: \(error)" }
            text += "\n"
        }
        text += counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return text
    }

    /// Deletes, in reverse order, exactly what `run` created, as the journal records it. Running it again does
    /// nothing more.
    ///
    /// - Returns: the IDs of the steps whose resources were deleted.
    @discardableResult
    public func clean() async throws -> [String] {
        let entries = try await self.entries()
        let executor = StepExecutor(target: self.target, source: self.source)
        let planned = Dictionary(self.plan.steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var deleted: [String] = []
        var held = await self.beginBatch()
        for entry in entries.values.sorted(by: { $0.ordinal > $1.ordinal }) {
            guard let action = StepAction(rawValue: entry.action), action.createsOnTarget else { continue }
            var journal = try self.journal(entry)
            let mayHaveCreated = planned[entry.stepId]?.existing == nil
            guard case .delete = journal.startClean(mayHaveCreated: mayHaveCreated) else { continue }
            try await self.save(journal, action: action, stepId: entry.stepId, name: entry.name, ordinal: entry.ordinal)
            do {
                try await executor.delete(action: action, name: entry.name)
            } catch {
                try? await self.settle(&held)
                throw (error as? MigrationError ?? MigrationError(.api, "\(error)")).at(step: entry.stepId)
            }
            journal.cleaned()
            try await self.record(
                JournalWrite(journal, action: action, stepId: entry.stepId, name: entry.name, ordinal: entry.ordinal),
                held: &held
            )
            deleted.append(entry.stepId)
        }
        try await self.settle(&held)
        return deleted
    }

    /// Cleans, then starts again on the source every rule and parser the run stopped there.
    ///
    /// - Returns: the deleted step IDs and the restarted step IDs.
    public func rollback() async throws -> (deleted: [String], restarted: [String]) {
        let deleted = try await self.clean()
        let entries = try await self.entries()
        let executor = StepExecutor(target: self.target, source: self.source)
        var restarted: [String] = []
        var held = await self.beginBatch()
        for entry in entries.values.sorted(by: { $0.ordinal > $1.ordinal }) {
            guard let action = StepAction(rawValue: entry.action), !action.createsOnTarget,
                let sourceId = entry.targetId
                    ?? self.plan.steps.first(where: { $0.id == entry.stepId })?.sourceResource?.sourceId
            else { continue }
            var journal = try self.journal(entry)
            guard journal.startRestore() == .restart else { continue }
            try await self.save(journal, action: action, stepId: entry.stepId, name: entry.name, ordinal: entry.ordinal)
            do {
                try await executor.restart((action, sourceId))
            } catch {
                try? await self.settle(&held)
                throw (error as? MigrationError ?? MigrationError(.api, "\(error)")).at(step: entry.stepId)
            }
            journal.restored()
            try await self.record(
                JournalWrite(journal, action: action, stepId: entry.stepId, name: entry.name, ordinal: entry.ordinal),
                held: &held
            )
            restarted.append(entry.stepId)
        }
        try await self.settle(&held)
        return (deleted, restarted)
    }

    /// The migration's consumer-group ID map: each group's target name and, once `run` created or adopted it,
    /// its target ID. Rule files name groups by these names; the bridge turns names into IDs with it.
    public func consumerGroupIdMap() async throws -> [ConsumerGroupIdMapEntry] {
        try await Self.consumerGroupIdMap(plan: self.plan, store: self.store)
    }

    /// ``consumerGroupIdMap()`` from the plan and the journal only: needs no credentials.
    public static func consumerGroupIdMap(
        plan: MigrationPlan,
        store: any StateStore
    ) async throws
        -> [ConsumerGroupIdMapEntry]
    {
        let runner = MigrationRunner.Journal(plan: plan, store: store)
        let ids = try await runner.knownIds()
        let sources = Dictionary(plan.consumerGroupMap.map { ($0.symbol, $0) }, uniquingKeysWith: { a, _ in a })
        return plan.steps.compactMap { step in
            guard let spec = step.consumerGroup else { return nil }
            return ConsumerGroupIdMapEntry(
                name: spec.name,
                targetId: ids[step.id],
                sourceName: sources[step.id]?.sourceName,
                sourceId: spec.sourceId
            )
        }
    }

    /// Compares the target (and, for stop steps, the source) with the plan.
    public func verify() async throws -> VerifyReport {
        let entries = try await self.entries()
        let ids = self.knownIds(entries)
        let target = try await self.target.exportSnapshot(products: [])
        let needsSource = self.plan.steps.contains { !$0.action.createsOnTarget }
        let source = needsSource ? try await self.source.exportSnapshot(products: self.plan.products) : nil
        return VerifyReport.compare(plan: self.plan, target: target, source: source, ids: ids, entries: entries)
    }
}
