//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation
import RuleSQL

/// The JSON form of a message that webhook and JSON-lines sinks write, and the dead letter's record:
///
/// ```json
/// {"topic":"/a1/dev/user/up","messageId":"1690","generateTime":1700000000000,"iotInstanceId":"iot-…",
///  "properties":{…},"payload":"{\"t\":21}"}
/// ```
///
/// The payload is text when it is valid UTF-8, else base64 with `"payloadEncoding":"base64"`.
enum MessageEnvelope {
    /// The envelope of a sink message.
    static func json(_ item: SinkMessage) -> JSONObject {
        let message = item.message
        var object = JSONObject()
        if let topic = message.topic { object.updateValue(.string(topic), forKey: "topic") }
        if let id = message.messageId { object.updateValue(.string(id), forKey: "messageId") }
        if let time = message.generateTime { object.updateValue(.int(Int(time)), forKey: "generateTime") }
        object.updateValue(.string(message.instanceLabel), forKey: "iotInstanceId")
        object.updateValue(.string(message.upstream), forKey: "upstream")
        if let rule = item.rule { object.updateValue(.string(rule), forKey: "rule") }
        var properties = JSONObject()
        let received = message.properties  // decoded on each call
        for key in received.keys.sorted() where !["topic", "messageId", "generateTime"].contains(key) {
            properties.updateValue(Self.json(received[key]!), forKey: key)
        }
        if !properties.isEmpty { object.updateValue(.object(properties), forKey: "properties") }
        let payload = item.payload
        if let text = String(validating: payload, as: UTF8.self) {
            object.updateValue(.string(text), forKey: "payload")
        } else {
            object.updateValue(.string(Data(payload).base64EncodedString()), forKey: "payload")
            object.updateValue(.string("base64"), forKey: "payloadEncoding")
        }
        return object
    }

    /// One JSON line (with its newline) for a sink message.
    static func line(_ item: SinkMessage) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONValue.object(Self.json(item)).writeJSON(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    /// One dead-letter line: the envelope, the reason, and the message exactly as received (base64), which
    /// `iotbridge deadletter replay` sends again.
    static func deadLetterLine(_ item: SinkMessage) -> [UInt8] {
        var object = Self.json(item)
        object.updateValue(.string(item.deadLetterReason ?? "unknown"), forKey: "reason")
        if let sink = item.refusedBy { object.updateValue(.string(sink), forKey: "sink") }
        object.updateValue(.int(Int(Date().timeIntervalSince1970 * 1000)), forKey: "deadLetteredAt")
        object.updateValue(.string(Data(item.message.receivedEncoding).base64EncodedString()), forKey: "amqp")
        var bytes: [UInt8] = []
        JSONValue.object(object).writeJSON(into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    static func json(_ value: AMQPValue) -> JSONValue {
        switch value {
        case .null, .unsupported: return .null
        case .bool(let v): return .bool(v)
        case .int(let v): return .int(Int(v))
        case .long(let v), .timestamp(let v): return .int(Int(v))
        case .ulong(let v): return Int(exactly: v).map { .int($0) } ?? .string(String(v))
        case .double(let v): return .double(v)
        case .string(let v), .symbol(let v): return .string(v)
        case .binary(let v), .uuid(let v): return .string(Data(v).base64EncodedString())
        }
    }
}
