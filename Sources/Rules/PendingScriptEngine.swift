//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

public import RuleSQL

/// The parser-script engine used until the `RuleScript` language is plugged in: it checks the documented
/// size limit and accepts the script, and running it fails with a clear error.
///
/// The `RuleScript` module provides the real ``ParserScriptEngine``; pass it to ``RuleCompiler`` (the CLI
/// does) and parser rules run.
public struct PendingScriptEngine: ParserScriptEngine {
    /// Creates the engine.
    public init() {}

    /// Accepts any script within the size limit.
    public func compile(_ source: SourceText) throws(Diagnostic) -> any CompiledParserScript {
        if source.bytes.count > ParserScriptLimits.maximumScriptBytes {
            throw source.diagnostic(
                .limit,
                "the script has \(source.bytes.count) bytes; a parser script is at most "
                    + "\(ParserScriptLimits.maximumScriptBytes / 1024) KB",
                at: SourceRange(start: source.location(ofOffset: 0), end: source.location(ofOffset: 0))
            )
        }
        return PendingScript(source: source)
    }
}

/// A script accepted by ``PendingScriptEngine``; running it reports that no script engine is available.
struct PendingScript: CompiledParserScript {
    let source: SourceText

    func run(_ message: MessageContext) throws(Diagnostic) -> [ForwardingCall] {
        let start = self.source.location(ofOffset: 0)
        throw self.source.diagnostic(
            .runtime,
            "parser scripts cannot run in this build: no script engine is plugged in (RuleScript)",
            at: SourceRange(start: start, end: start)
        )
    }
}
