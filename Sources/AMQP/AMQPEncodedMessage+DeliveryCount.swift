//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

extension AMQPEncodedMessage {
    /// The bytes to send with the header's `delivery-count` set to `count` (AMQP 1.0 §3.2.1: how many earlier
    /// attempts to deliver the message failed) and `first-acquirer` false, as a server redelivering a message must.
    /// The header's other fields (durable, priority, ttl) keep their encoded bytes; a message without a header gets one
    /// with only the count; delivery-annotations are dropped as in every forward. Everything after the header is
    /// copied as it is.
    public func forwarded(deliveryCount count: UInt32) -> [UInt8] {
        let scanner = AMQPEncodingScanner(self.bytes)
        // The header's first four fields as encoded, each a whole value (null where absent).
        var fields: [ArraySlice<UInt8>] = []
        if let header = self.section(.header), let list = scanner.elements(ofCompoundAt: header.valueRange.lowerBound) {
            var offset = list.range.lowerBound
            for _ in 0..<min(4, list.count) {
                let end = scanner.skip(offset)
                fields.append(self.bytes[offset..<end])
                offset = end
            }
        }
        while fields.count < 4 { fields.append([0x40]) }
        // first-acquirer: a message that was delivered before may have been acquired by another link (§3.2.1).
        fields[3] = [0x42]
        var elements: [UInt8] = fields.flatMap { $0 }
        // delivery-count is a uint; the long form keeps the encoding simple and valid for every count.
        elements.append(0x70)
        withUnsafeBytes(of: count.bigEndian) { elements.append(contentsOf: $0) }
        var output: [UInt8] = [0x00, 0x53, 0x70, 0xd0]
        withUnsafeBytes(of: UInt32(elements.count + 4).bigEndian) { output.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(5).bigEndian) { output.append(contentsOf: $0) }
        output.append(contentsOf: elements)
        for section in self.sections where section.kind != .header && section.kind != .deliveryAnnotations {
            output.append(contentsOf: self.bytes[section.range])
        }
        return output
    }
}
