//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

extension MigrationWorkspace {
    /// Reads the source (and what the target can tell) and answers the pre-migration checklist.
    ///
    /// - Parameters:
    ///   - products: the products to assess; empty means `options.products`, and that empty means all.
    ///   - answers: the operator's answers to the questions the API cannot answer.
    public func assess(
        products: [String] = [], answers: AssessmentAnswers = AssessmentAnswers()
    ) async throws
        -> AssessmentReport
    {
        let scope = products.isEmpty ? self.config.options.products : products
        let sourceBackend = try self.backend(self.config.source)
        let source = try await sourceBackend.exportSnapshot(products: scope)
        if let missing = scope.first(where: { !source.products.contains($0) }) {
            throw MigrationError(
                .config,
                "product \(missing) is not on the source \(source.identity) — check --product / options.products"
            )
        }
        if let stray = answers.products.first(where: { !source.products.contains($0) }) {
            throw MigrationError(.config, "--answer \(stray):…: \(stray) is not a product of this assessment")
        }
        let groups = Array(Set(source.subscriptions.filter { $0.type == .amqp }.flatMap(\.consumerGroupIds))).sorted()
        let sourceFacts = try await Self.facts(of: sourceBackend, products: source.products, groups: groups)
        let targetBackend = try self.backend(self.config.target)
        let targetFacts = try await Self.facts(of: targetBackend, products: [], groups: [])
        return Assessor(options: self.config.options, answers: answers).assess(
            source: source,
            sourceFacts: sourceFacts,
            target: targetBackend.identity,
            targetFacts: targetFacts
        )
    }

    /// The facts `migrate assess` reads about the products and consumer groups of an exported side, for
    /// `instance export --assessment`.
    public func assessmentFacts(side name: String, of snapshot: InstanceSnapshot) async throws -> InstanceFacts {
        let groups = Array(Set(snapshot.subscriptions.filter { $0.type == .amqp }.flatMap(\.consumerGroupIds)))
        return try await Self.facts(
            of: try self.backend(try self.side(name)),
            products: snapshot.products,
            groups: groups.sorted()
        )
    }

    static func facts(
        of backend: any InstanceBackend, products: [String], groups: [String]
    ) async throws
        -> InstanceFacts
    {
        guard let source = backend as? any AssessmentFactsSource else {
            let reason = "the \(backend.identity.kind) backend records no assessment facts"
            return InstanceFacts(
                unavailable: [
                    FactName.product: reason, FactName.deviceCount: reason, FactName.otaJobs: reason,
                    FactName.connectedClients: reason, FactName.onlineDeviceSpec: reason,
                ]
            )
        }
        return try await source.assessmentFacts(products: products, consumerGroupIds: groups)
    }
}
