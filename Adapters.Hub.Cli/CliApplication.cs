using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Hub.Cli.Commands;
using Adapters.Hub.Cli.Logging;

namespace Adapters.Hub.Cli;

/// <summary>Builds the <c>adapters-hub</c> command tree and runs it.</summary>
public static class CliApplication
{
    /// <summary>Creates the root command with every verb.</summary>
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("adapters-hub: adapters and the Hugging Face Hub from .NET.");
        root.Options.Add(CliLogging.CreateVerboseOption());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(PushCommand.Create());
        root.Subcommands.Add(CardCommand.Create());
        root.Subcommands.Add(LoginCommands.CreateLogin());
        root.Subcommands.Add(LoginCommands.CreateLogout());
        root.Subcommands.Add(LoginCommands.CreateWhoAmI());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(ConvertAdapterCommand.Create());
        root.Subcommands.Add(PullCommand.Create());
        root.Subcommands.Add(CacheCommand.Create());
        root.Subcommands.Add(ResolveCommand.Create());
        root.Subcommands.Add(MigrateCommand.Create());
        root.Subcommands.Add(SummaryCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(RegistryCommand.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        ExamplesHelpAction.Install(root);
        root.WithExamples(
            "adapters-hub quickstart",
            "adapters-hub pull AdapterHub/bert-base-uncased-pf-sst2",
            "adapters-hub -v pull me/my-adapter --revision v2",
            "adapters-hub push ./my-adapter me/my-adapter",
            "adapters-hub pull --help");
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the selected verb, writing to the given writers.</summary>
    /// <returns>The process exit code.</returns>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        // Legacy AdapterHub ids start with '@' (@ukp/bert-base-uncased_sentiment_sst-2_pfeiffer), so '@' must
        // not mean "read arguments from this response file".
        var parseResult = BuildRootCommand().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var configuration = new InvocationConfiguration { Output = output, Error = error };
        return parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
