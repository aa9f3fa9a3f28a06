import Testing

/// Every suite that runs environments as children of this test process, run one at a time: their checks for
/// leftover `bootstrap` children would otherwise see each other's.
@Suite(.serialized) struct EmulatorIntegration {}
