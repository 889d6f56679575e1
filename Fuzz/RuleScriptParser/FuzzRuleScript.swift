//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import RuleSQL

// The RuleScript sources are compiled into this executable through the `RuleScript` symlink next to this
// file: the main package exports RuleSQL as a product but not RuleScript, and the fuzz package may only
// depend on products.

/// The limits the fuzzer runs scripts under: the platform's, with a smaller step budget and value sizes so
/// each input runs in milliseconds.
private let fuzzLimits = RuleScriptLimits(
    stepBudget: 20_000,
    maximumStringBytes: 64 * 1024,
    maximumCollectionCount: 1_000,
    maximumValueBytes: 256 * 1024
)

/// The messages every compiled script runs over: a property post, the input itself, and a non-JSON payload.
private func messages(for bytes: [UInt8]) -> [MessageContext] {
    let post = Array(
        #"{"items":{"Temperature":{"value":39.5,"time":1},"2Co":{"value":5}},"list":[1,2,3],"s":"x","n":null}"#.utf8
    )
    return [
        MessageContext(
            topic: "/sys/pk/dn/thing/event/property/post",
            payload: post,
            messageId: "m",
            now: 1_543_373_798_943
        ),
        MessageContext(topic: "/pk/dn/user/update", payload: bytes, now: 0),
        MessageContext(topic: "/as/mqtt/status/pk/dn", payload: Array("temp=1".utf8)),
    ]
}

/// libFuzzer entry point: the input is a parser script (and, for one message, its payload).
///
/// Invariants checked (a violation traps, which libFuzzer reports as a crash):
/// - compiling any text either succeeds or throws a `Diagnostic` whose location lies inside the text;
/// - a compiled script runs over any message without crashing, and a failed run's `Diagnostic` lies inside
///   the text too;
/// - a run makes at most 100 forwarding calls, and every call's payload serializes to JSON that parses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRuleScript(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    let length = text.utf8.count

    func check(_ diagnostic: Diagnostic) {
        let location = diagnostic.location
        precondition(location.offset >= 0 && location.offset <= length, "diagnostic outside the text: \(diagnostic)")
        precondition(location.line >= 1 && location.column >= 1, "diagnostic with a zero line or column")
        precondition(!diagnostic.message.isEmpty, "diagnostic without a message")
        _ = diagnostic.description
    }

    let script: RuleScript
    do {
        script = try RuleScript.compile(text, file: "fuzz.js", limits: fuzzLimits)
    } catch {
        check(error)
        return 0
    }
    for message in messages(for: bytes) {
        do {
            let calls = try script.run(message)
            precondition(calls.count <= fuzzLimits.maximumForwardingCalls, "more forwarding calls than the limit")
            for call in calls {
                let json = call.jsonObject.jsonString()
                precondition((try? JSONParser.parse(json)) != nil, "a forwarding call does not serialize: \(json)")
            }
        } catch {
            check(error)
        }
    }
    return 0
}
