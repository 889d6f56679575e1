//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An AMQP server-side subscription consumer group (reference §6.1).
public struct ConsumerGroup: Codable, Sendable, Hashable {
    /// The ID the instance assigned, e.g. `ZTh1JmyLGuZcUfv44p4z00****`.
    public var id: String
    /// The name: 4–30 characters of letters, digits and `_`.
    public var name: String
    /// A free-text description, if any.
    public var description: String?

    /// Creates a consumer group.
    public init(id: String, name: String, description: String? = nil) {
        self.id = id
        self.name = name
        self.description = description
    }

    /// Whether a name satisfies `CreateConsumerGroup`'s rule: 4–30 characters, letters, digits and `_`.
    public static func isValidName(_ name: String) -> Bool {
        (4...30).contains(name.count)
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
            }
    }
}
