//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// Rules read and write JSON values everywhere: whoever imports RuleSQL gets the JSON module's `JSONValue`,
// `JSONObject`, `JSONParser` and `Base64` with it, as before the JSON model moved to its own target.
@_exported public import JSON
