//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Migration

extension OpenAPIActions {
    /// What `migrate assess` reads beyond the forwarding configuration: products, device counts, OTA jobs and
    /// consumer-group clients, answered from the instance's seeded facts (an export's `assessment:` section), else
    /// from the running simulation (`iotbridge sim`: its devices on this instance, its AMQP consumers).
    /// A product without facts answers zero devices, no OTA jobs; a group without facts has no clients.
    static func assessment(
        _ action: String,
        _ p: OpenAPIParameters,
        on plane: SimulatedControlPlane
    ) async throws -> [String: Any] {
        let facts = await plane.currentFacts() ?? InstanceFacts()
        let products = await plane.listProducts()
        switch action {
        case "QueryProductList":
            let page = try p.page(products, pageKey: "CurrentPage", defaultSize: 10, sizes: 1...200)
            let infos = page.items.map { key -> [String: Any] in
                let item = facts.product(key)
                return [
                    "ProductKey": key, "ProductName": item?.name ?? key, "NodeType": item?.nodeType ?? 0,
                    "DeviceCount": item?.deviceCount ?? 0,
                ]
            }
            return [
                "Data": [
                    "Total": products.count, "CurrentPage": page.page, "PageSize": page.size,
                    "PageCount": (products.count + page.size - 1) / page.size, "List": ["ProductInfo": infos],
                ]
            ]
        case "QueryProduct", "QueryDeviceStatistics":
            let key = try p.required("ProductKey")
            guard products.contains(key) else {
                throw SimulatedAPIError("iot.prod.NotExistedProduct", "product \(key) does not exist.")
            }
            let item = facts.product(key)
            if action == "QueryDeviceStatistics" {
                let count = item?.deviceCount ?? 0
                return ["Data": ["deviceCount": count, "onlineCount": item?.onlineCount ?? 0, "activeCount": count]]
            }
            return [
                "Data": [
                    "ProductKey": key, "ProductName": item?.name ?? key, "DeviceCount": item?.deviceCount ?? 0,
                    "AuthType": item?.authType ?? "secret", "Id2": item?.id2 ?? false, "NodeType": item?.nodeType ?? 0,
                    "Owner": item?.owner ?? true,
                ]
            ]
        case "ListOTAFirmware":
            var firmware: [[String: Any]] = []
            var seen = Set<String>()
            for item in facts.products {
                for job in item.otaJobs ?? [] {
                    guard let id = job.firmwareId, seen.insert("\(id) \(item.productKey)").inserted else { continue }
                    firmware.append(["FirmwareId": id, "ProductKey": item.productKey])
                }
            }
            let page = try p.page(firmware, pageKey: "CurrentPage", defaultSize: 10, sizes: 1...100)
            return [
                "FirmwareInfo": ["SimpleFirmwareInfo": page.items], "Total": firmware.count,
                "CurrentPage": page.page, "PageSize": page.size,
            ]
        case "ListOTAJobByFirmware":
            let firmwareId = try p.required("FirmwareId")
            let jobs = facts.products.flatMap { item in
                (item.otaJobs ?? []).filter { $0.firmwareId == firmwareId }.map { job -> [String: Any] in
                    [
                        "JobId": job.jobId, "FirmwareId": firmwareId, "JobStatus": job.status,
                        "JobType": job.type ?? "UPGRADE_FIRMWARE", "ProductKey": item.productKey,
                    ]
                }
            }
            let page = try p.page(jobs, pageKey: "CurrentPage", defaultSize: 10, sizes: 1...100)
            return [
                "Data": ["SimpleOTAJobInfo": page.items], "Total": jobs.count, "CurrentPage": page.page,
                "PageSize": page.size,
            ]
        case "QueryConsumerGroupStatus":
            let group = try await plane.consumerGroup(id: try p.required("GroupId"))
            let clients = (facts.consumerGroup(group.id)?.connectedClients ?? []).map { client -> [String: Any] in
                // 192.0.2.0/24 is TEST-NET-1: an address that cannot be mistaken for a real client.
                ["ClientId": client, "ClientIpPort": "192.0.2.1:5671", "OnlineTime": 1_700_000_000_000]
            }
            return [
                "AccumulationCount": 0, "ConsumerSpeed": 0,
                "ClientConnectionStatusList": ["ConsumerGroupClientConnectionInfo": clients],
            ]
        default:
            throw SimulatedAPIError("InvalidAction.NotFound", "Specified api \(action) is not found.", httpStatus: 404)
        }
    }
}
