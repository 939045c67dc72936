using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub.Cli.Logging;

/// <summary>The global <c>-v/--verbose</c> switch and the logger factory it turns on.</summary>
internal static class CliLogging
{
    /// <summary>The option's name, as verbs look it up from the parse result.</summary>
    public const string VerboseName = "--verbose";

    /// <summary>A fresh <c>-v/--verbose</c> option that every verb inherits.</summary>
    public static Option<bool> CreateVerboseOption() => new(VerboseName, "-v")
    {
        Description = "Log each Hub request (method, URL, status, time), retries, cache hits and verification results to standard error. Tokens are masked.",
        Recursive = true,
    };

    /// <summary>Whether <c>--verbose</c> was given.</summary>
    public static bool IsVerbose(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        return parseResult.GetResult(VerboseName) is not null && parseResult.GetValue<bool>(VerboseName);
    }

    /// <summary>
    /// A logger factory writing to the verb's error writer at Debug level when <c>--verbose</c> was given,
    /// else null (the Hub client then logs nothing).
    /// </summary>
    public static ILoggerFactory? CreateFactory(ParseResult parseResult)
    {
        if (!IsVerbose(parseResult)) return null;
        var provider = new TextWriterLoggerProvider(parseResult.InvocationConfiguration.Error, LogLevel.Debug, CommandErrors.SecretsOf(parseResult));
        return LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(provider));
    }
}
