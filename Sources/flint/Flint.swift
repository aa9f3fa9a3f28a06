import ArgumentParser

/// `flint`: the developer CLI. Each subcommand is one file.
@main
struct Flint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flint",
        abstract: "Flint: serve ML models on AWS Lambda from Swift.",
        subcommands: [
            EmulateCommand.self, BenchCommand.self, TuneCommand.self, QuantizeCommand.self, InspectCommand.self,
            TokenizeCommand.self,
            EmbedCommand.self, RerankCommand.self, ClassifyCommand.self, IndexCommand.self, EvalCommand.self,
        ]
    )
}
