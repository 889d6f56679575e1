//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// An error a simulated instance answers with, shaped as the platform's: a `Code` such as
/// `iot.consumergroup.NotExist`, a message, and the HTTP status the OpenAPI endpoint sends it with.
///
/// Business errors of the IoT API arrive as HTTP 200 with `Success: false` (reference §6: "On failure, IoT actions
/// return `Success=false`, `Code` … and `ErrorMessage`"); gateway errors (signature, throttling, unknown action)
/// carry a 4xx status. The control plane throws only the former; the OpenAPI endpoint adds the latter.
public struct SimulatedAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The platform's error code, e.g. `iot.rule.TooManyActions`.
    public var code: String
    /// What went wrong, naming the object.
    public var message: String
    /// The HTTP status the endpoint answers with. Default: 200, as the IoT API does for business errors.
    public var httpStatus: Int

    /// Creates an error.
    public init(_ code: String, _ message: String, httpStatus: Int = 200) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// `code: message`.
    public var description: String { "\(self.code): \(self.message)" }

    /// A required parameter is missing or empty.
    static func missing(_ name: String) -> Self {
        Self("InvalidParameter", "\(name) is mandatory for this action.")
    }
}
