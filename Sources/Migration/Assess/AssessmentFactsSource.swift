//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A backend that can tell the assessment's facts (``InstanceFacts``) about its instance.
public protocol AssessmentFactsSource: Sendable {
    /// The facts about some products and consumer groups. A fact the instance cannot tell is recorded as
    /// unavailable with the reason; only failures that say nothing about the instance (unreachable, wrong key,
    /// throttled beyond the retries) throw.
    func assessmentFacts(products: [String], consumerGroupIds: [String]) async throws -> InstanceFacts
}

extension OpenAPIBackend: AssessmentFactsSource {
    /// Reads `QueryProduct`, `QueryDeviceStatistics`, `ListOTAFirmware` + `ListOTAJobByFirmware` and
    /// `QueryConsumerGroupStatus`. An action that fails with an API error (missing on the legacy public instance, no
    /// permission) leaves its facts unavailable with the API's message.
    public func assessmentFacts(products: [String], consumerGroupIds: [String]) async throws -> InstanceFacts {
        var facts = InstanceFacts()
        facts.unavailable[FactName.onlineDeviceSpec] =
            "no OpenAPI action returns an instance's online-device specification; read it on the instance's overview "
            + "page in the console"
        guard !products.isEmpty || !consumerGroupIds.isEmpty else { return facts }
        let jobs = try await self.tolerant("ListOTAFirmware / ListOTAJobByFirmware") {
            try await self.otaJobs(products: Set(products))
        }
        if case .failure(let reason) = jobs { facts.unavailable[FactName.otaJobs] = reason.text }
        for product in products {
            var item = ProductFacts(productKey: product)
            switch try await self.tolerant(
                "QueryProduct", { try await self.client.call("QueryProduct", ["ProductKey": product]) })
            {
            case .success(let response):
                let data = JSON.path(response, "Data") as? [String: Any] ?? [:]
                item.name = JSON.string(data["ProductName"])
                item.owner = data["Owner"].map { JSON.bool($0) }
                item.authType = JSON.string(data["AuthType"])
                item.id2 = data["Id2"].map { JSON.bool($0) }
                item.nodeType = JSON.int(data["NodeType"])
                item.deviceCount = JSON.int(data["DeviceCount"])
                if item.owner == nil { item.unavailable[FactName.product] = "QueryProduct returned no Owner" }
            case .failure(let reason):
                item.unavailable[FactName.product] = reason.text
            }
            let statistics = try await self.tolerant("QueryDeviceStatistics") {
                try await self.client.call("QueryDeviceStatistics", ["ProductKey": product])
            }
            switch statistics {
            case .success(let response):
                item.deviceCount = JSON.int(JSON.path(response, "Data", "deviceCount")) ?? item.deviceCount
                item.onlineCount = JSON.int(JSON.path(response, "Data", "onlineCount"))
            case .failure(let reason):
                if item.deviceCount == nil { item.unavailable[FactName.deviceCount] = reason.text }
            }
            if case .success(let all) = jobs { item.otaJobs = all[product] ?? [] }
            facts.products.append(item)
        }
        for id in consumerGroupIds {
            let status = try await self.tolerant("QueryConsumerGroupStatus") {
                try await self.client.call("QueryConsumerGroupStatus", ["GroupId": id])
            }
            switch status {
            case .success(let response):
                let clients = JSON.objects(response, "ClientConnectionStatusList", "ConsumerGroupClientConnectionInfo")
                facts.consumerGroups.append(
                    ConsumerGroupFacts(id: id, connectedClients: clients.map { JSON.string($0["ClientId"]) ?? "?" })
                )
            case .failure(let reason):
                facts.consumerGroups.append(ConsumerGroupFacts(id: id, unavailable: reason.text))
            }
        }
        return facts
    }

    /// The OTA update batches of the firmware of some products, by product.
    private func otaJobs(products: Set<String>) async throws -> [String: [OTAJobFacts]] {
        let firmware = try await self.client.paginate("ListOTAFirmware", pageSize: 100) {
            JSON.objects($0, "FirmwareInfo", "SimpleFirmwareInfo")
        }
        var jobs: [String: [OTAJobFacts]] = [:]
        for item in firmware {
            guard let id = JSON.string(item["FirmwareId"]), let product = JSON.string(item["ProductKey"]),
                products.contains(product)
            else { continue }
            let batches = try await self.client.paginate("ListOTAJobByFirmware", ["FirmwareId": id], pageSize: 100) {
                JSON.objects($0, "Data", "SimpleOTAJobInfo")
            }
            for batch in batches {
                guard let jobId = JSON.string(batch["JobId"]) else { continue }
                jobs[product, default: []].append(
                    OTAJobFacts(
                        jobId: jobId,
                        firmwareId: id,
                        status: JSON.string(batch["JobStatus"]) ?? "UNKNOWN",
                        type: JSON.string(batch["JobType"])
                    )
                )
            }
        }
        return jobs
    }

    /// Why a fact is unavailable.
    struct Unavailable: Error {
        var text: String
    }

    /// Runs a read; an API error (the action is missing, not permitted, or refused for this instance) becomes the
    /// reason the fact is unavailable. Unreachable, authentication and throttling failures still throw: they say
    /// nothing about the instance, and a report built on them would be wrong.
    private func tolerant<T>(
        _ action: String,
        _ body: () async throws -> T
    ) async throws -> Result<T, Unavailable> {
        do {
            return .success(try await body())
        } catch let error as MigrationError where error.code == .api || error.code == .notFound {
            // The RequestId differs per call; leaving it out keeps the report the same for the same instance.
            let message = error.message.replacing(/\s\(RequestId [^)]*\)/, with: "")
            return .failure(Unavailable(text: "\(action) is not available here: \(message)"))
        }
    }
}

extension FileBackend: AssessmentFactsSource {
    /// The export file's `assessment:` section. A file without one records no facts: every item that needs them
    /// becomes a question.
    public func assessmentFacts(products: [String], consumerGroupIds: [String]) async throws -> InstanceFacts {
        guard let facts = self.assessment else {
            let reason = "the export \(self.path) has no assessment: section"
            var facts = InstanceFacts()
            for name in [FactName.product, FactName.deviceCount, FactName.otaJobs, FactName.connectedClients] {
                facts.unavailable[name] = reason
            }
            facts.unavailable[FactName.onlineDeviceSpec] = reason
            return facts
        }
        return facts
    }
}

/// The part of an export file the assessment reads; the rest is the ``InstanceSnapshot``.
struct ExportAssessmentSection: Decodable {
    var assessment: InstanceFacts?
}

/// An export file as written: the snapshot's keys, then `assessment:` when there are facts.
struct ExportFile: Encodable {
    var snapshot: InstanceSnapshot
    var assessment: InstanceFacts?

    private enum CodingKeys: String, CodingKey { case assessment }

    func encode(to encoder: any Encoder) throws {
        try self.snapshot.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.assessment, forKey: .assessment)
    }
}
