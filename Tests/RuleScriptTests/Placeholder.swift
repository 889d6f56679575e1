//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

/// Placeholder so the target builds before its first real test lands; delete it then.
@Suite struct RuleScriptTestsPlaceholder {}
