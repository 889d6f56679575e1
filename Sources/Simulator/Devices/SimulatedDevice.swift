//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// A device: a productKey and a device name, unique together.
public struct SimulatedDevice: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The product's key.
    public var productKey: String
    /// The device's name within the product.
    public var deviceName: String

    /// Creates a device.
    public init(productKey: String, deviceName: String) {
        self.productKey = productKey
        self.deviceName = deviceName
    }

    /// `productKey/deviceName`.
    public var description: String { "\(self.productKey)/\(self.deviceName)" }

    /// Orders by product, then name.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.productKey, lhs.deviceName) < (rhs.productKey, rhs.deviceName)
    }

    /// The names of `count` devices of a product: `device-0001`, `device-0002`, … (at least four digits).
    public static func names(count: Int, prefix: String = "device-") -> [String] {
        let width = max(4, String(count).count)
        return (1...max(1, count)).prefix(count).map { number in
            let digits = String(number)
            return prefix + String(repeating: "0", count: width - digits.count) + digits
        }
    }
}

/// What a device sends, and the subscription flag that routes it (reference §2.2).
public enum SimulatedMessageKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Custom-topic JSON on `/{productKey}/{deviceName}/user/update`, forwarded unchanged.
    case custom
    /// A TSL property post: the device publishes on `/sys/{pk}/{dn}/thing/event/property/post`, consumers get the
    /// converted JSON on `/{pk}/{dn}/thing/event/property/post`.
    case property
    /// An online/offline notice on `/as/mqtt/status/{pk}/{dn}`.
    case status
}
