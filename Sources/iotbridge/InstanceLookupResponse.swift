//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import StateStore

/// `GET /instances/{pk}/{dn}` of the bridge's HTTP port: 200 with the registry row as JSON, 404 for an unknown
/// device, 503 when the store fails.
enum InstanceLookupResponse {
    static func answer(
        _ registry: any InstanceRegistryStore,
        productKey: String,
        deviceName: String
    ) async -> (Int, [UInt8]) {
        let device = DeviceKey(productKey: productKey, deviceName: deviceName)
        do {
            guard let record = try await registry.lookup(device) else {
                let body = "{\"error\":\"unknown device\",\"device\":\(RegistryJSON.quoted(device.description))}\n"
                return (404, Array(body.utf8))
            }
            return (200, Array((RegistryJSON.line(record) + "\n").utf8))
        } catch {
            return (503, Array("{\"error\":\(RegistryJSON.quoted("\(error)"))}\n".utf8))
        }
    }
}
