using System.CommandLine;
using System.Runtime.CompilerServices;

namespace Adapters.Hub.Cli.Help;

/// <summary>
/// The "Examples:" block of a command's <c>--help</c>, kept beside the command (not in its description)
/// so the help shows it under the usage, arguments and options.
/// </summary>
internal static class CommandExamples
{
    private static readonly ConditionalWeakTable<Command, IReadOnlyList<string>> s_examples = [];

    /// <summary>Attaches example command lines (a trailing <c># comment</c> is allowed) and returns the command.</summary>
    public static TCommand WithExamples<TCommand>(this TCommand command, params string[] examples) where TCommand : Command
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(examples);
        s_examples.AddOrUpdate(command, examples);
        return command;
    }

    /// <summary>The examples of <paramref name="command"/>, empty when it has none.</summary>
    public static IReadOnlyList<string> Of(Command command) =>
        s_examples.TryGetValue(command, out var examples) ? examples : [];
}
