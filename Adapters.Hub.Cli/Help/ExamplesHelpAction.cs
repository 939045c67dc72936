using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Adapters.Hub.Cli.Help;

/// <summary>
/// The <c>--help</c> action: System.CommandLine's help, then the command's examples and, for the root,
/// the exit codes.
/// </summary>
internal sealed class ExamplesHelpAction(HelpAction standard) : SynchronousCommandLineAction
{
    private const int FixedWidth = 120;

    /// <summary>Swaps the help option's action of <paramref name="root"/> (subcommands inherit it) for this one.</summary>
    public static void Install(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var option in root.Options)
        {
            if (option is HelpOption { Action: HelpAction standard } help) help.Action = new ExamplesHelpAction(standard);
        }
    }

    /// <inheritdoc />
    public override int Invoke(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var output = parseResult.InvocationConfiguration.Output;
        // A terminal gets its own width; any other writer (a pipe, a test) a fixed one, so the text is reproducible.
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected) standard.MaxWidth = FixedWidth;
        var result = standard.Invoke(parseResult);
        var command = parseResult.CommandResult.Command;
        var examples = CommandExamples.Of(command);
        if (examples.Count > 0)
        {
            output.WriteLine("Examples:");
            foreach (var example in examples) output.WriteLine("  " + example);
            output.WriteLine();
        }
        if (command is RootCommand)
        {
            output.WriteLine(ExitCodes.HelpText.TrimEnd());
            output.WriteLine();
        }
        return result;
    }
}
