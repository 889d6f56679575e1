//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// `thingPropertyFlatMap(property...)`: the TSL properties of a property post, flattened.
///
/// For each named property (every property when none is named) of the payload's `items`, the property's
/// `value` is added under the property's name; when the value is an object its keys are joined to the
/// name with `_` (`Position` with `{"latitude":39.9,"longitude":116.38}` gives `Position_latitude` and
/// `Position_longitude`), recursively. A named property the payload lacks is left out. The result is an
/// object; in a SELECT list its keys are added to the output.
enum ThingFunctions {
    static func flatMap(_ arguments: [JSONValue], context: MessageContext) throws(RuleFunctionError) -> JSONValue {
        let payload: JSONValue
        if let parsed = context.json {
            payload = parsed
        } else {
            do {
                payload = try context.jsonPayload()
            } catch {
                throw RuleFunctionError(
                    code: .input,
                    message: "thingPropertyFlatMap: the payload is not JSON: \(error)"
                )
            }
        }
        var output = JSONObject()
        guard let items = payload["items"]?.objectValue else { return .object(output) }
        if arguments.isEmpty {
            for member in items {
                Self.add(member.key, member.value, into: &output)
            }
        } else {
            for (position, argument) in arguments.enumerated() {
                let name = try Arguments.text(argument, .thingPropertyFlatMap, position + 1)
                if let property = items[name] {
                    Self.add(name, property, into: &output)
                }
            }
        }
        return .object(output)
    }

    private static func add(_ name: String, _ property: JSONValue, into output: inout JSONObject) {
        // A TSL item is {"value": …, "time": …}; anything else is taken as the value itself.
        let value = property["value"] ?? property
        Self.flatten(name, value, into: &output)
    }

    private static func flatten(_ name: String, _ value: JSONValue, into output: inout JSONObject) {
        guard case .object(let object) = value, !object.isEmpty else {
            output[name] = value
            return
        }
        for member in object {
            Self.flatten(name + "_" + member.key, member.value, into: &output)
        }
    }
}
