using System.CommandLine;

namespace Adapters.Hub.Cli;

/// <summary>
/// Turns a verb's failure into one line on standard error and a non-zero exit code: users see what
/// went wrong and where (the exception messages name the file, field or URL), never a stack trace.
/// </summary>
internal static class CommandErrors
{
    /// <summary>Exit code for a failure the user can act on (bad input, missing file, server error).</summary>
    public const int Failure = 1;

    /// <summary>Exit code when the run was cancelled (Ctrl+C).</summary>
    public const int Cancelled = 130;

    /// <summary>Runs <paramref name="action"/>, reporting any exception as a one-line error.</summary>
    public static async Task<int> GuardAsync(ParseResult parseResult, Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await parseResult.InvocationConfiguration.Error.WriteLineAsync("error: cancelled").ConfigureAwait(false);
            return Cancelled;
        }
        catch (Exception ex)
        {
            await parseResult.InvocationConfiguration.Error.WriteLineAsync("error: " + OneLine(ex)).ConfigureAwait(false);
            return Failure;
        }
    }

    /// <summary>Synchronous form of <see cref="GuardAsync"/>.</summary>
    public static int Guard(ParseResult parseResult, Func<int> action) =>
        GuardAsync(parseResult, () => Task.FromResult(action())).GetAwaiter().GetResult();

    /// <summary>The message on one line; framework exceptions that are not ours also name their type.</summary>
    public static string OneLine(Exception ex)
    {
        var message = ex.Message.ReplaceLineEndings(" ").Trim();
        var ours = ex.GetType().Namespace?.StartsWith("Adapters.", StringComparison.Ordinal) == true;
        return ours || ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException
            ? message
            : $"{ex.GetType().Name}: {message}";
    }
}
