using System.CommandLine;
using System.Net;
using Adapters.Core.Serialization;
using Adapters.Hub.Cli.Commands;
using Adapters.Hub.Cli.Logging;
using Adapters.Hub.Http;
using Adapters.Hub.Legacy;
using Adapters.Hub.Legacy.Migration;
using Adapters.Hub.Loading;
using Adapters.Hub.Text;

namespace Adapters.Hub.Cli;

/// <summary>
/// Turns a verb's failure into one line on standard error and an exit code from <see cref="ExitCodes"/>:
/// users see what went wrong and where (the exception messages name the file, field or URL), never a
/// stack trace (that is logged with <c>--verbose</c>), and never a token.
/// </summary>
internal static class CommandErrors
{
    /// <summary>Runs <paramref name="action"/>, reporting any exception as a one-line error with its exit code.</summary>
    public static async Task<int> GuardAsync(ParseResult parseResult, Func<Task<int>> action)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(action);
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var error = parseResult.InvocationConfiguration.Error;
            var secrets = SecretsOf(parseResult);
            var code = ExitCodeFor(ex);
            if (CliLogging.IsVerbose(parseResult))
            {
                // The full chain (types and stack) helps a bug report; it is masked like every other line.
                var chain = string.Join('\n', ex.ToString().ReplaceLineEndings("\n").Split('\n').Select(SafeText.Escape));
                await error.WriteLineAsync(SecretRedactor.Redact($"dbug: adapters-hub: exit {code} for {chain}", secrets)).ConfigureAwait(false);
            }
            var line = code == ExitCodes.Cancelled ? "cancelled" : OneLine(ex);
            await error.WriteLineAsync("error: " + SecretRedactor.Redact(line, secrets)).ConfigureAwait(false);
            return code;
        }
    }

    /// <summary>Synchronous form of <see cref="GuardAsync"/>.</summary>
    public static int Guard(ParseResult parseResult, Func<int> action) =>
        GuardAsync(parseResult, () => Task.FromResult(action())).GetAwaiter().GetResult();

    /// <summary>The one table from failures to exit codes (see <see cref="ExitCodes"/> for what each code means).</summary>
    public static int ExitCodeFor(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) return ExitCodeFor(aggregate.InnerExceptions[0]);
        return exception switch
        {
            OperationCanceledException => ExitCodes.Cancelled,
            MissingTokenException => ExitCodes.Auth,

            // Gated is a RepositoryNotFoundException in Python's hierarchy, but the fix is access, not a different id.
            GatedRepositoryException => ExitCodes.Auth,
            RepositoryNotFoundException or RevisionNotFoundException or EntryNotFoundException => ExitCodes.NotFound,
            HubHttpException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } => ExitCodes.Auth,
            HubHttpException { StatusCode: HttpStatusCode.NotFound } => ExitCodes.NotFound,
            HubHttpException http when IsServerSide(http.StatusCode) => ExitCodes.Network,
            HubHttpException => ExitCodes.Usage,

            LocalEntryNotFoundException or AdapterNotFoundException or LegacyAdapterNotFoundException => ExitCodes.NotFound,
            FileNotFoundException or DirectoryNotFoundException => ExitCodes.NotFound,

            IntegrityException or TensorFormatException or LegacyArchiveException => ExitCodes.Integrity,

            // What is left of HubException is the transport or a server that does not behave like a Hub.
            HubException or HttpRequestException or TimeoutException => ExitCodes.Network,
            _ => ExitCodes.Usage,
        };
    }

    /// <summary>
    /// The exit code of a run in which several things failed: integrity wins (something was corrupt or unsafe),
    /// then the code the failures share, and <see cref="ExitCodes.Usage"/> when they disagree or are unknown.
    /// </summary>
    public static int ExitCodeForAll(IEnumerable<Exception?> failures)
    {
        ArgumentNullException.ThrowIfNull(failures);
        var codes = failures.Select(f => f is null ? ExitCodes.Usage : ExitCodeFor(f)).Distinct().ToList();
        if (codes.Contains(ExitCodes.Integrity)) return ExitCodes.Integrity;
        return codes.Count == 1 ? codes[0] : ExitCodes.Usage;
    }

    /// <summary>The message on one line; framework exceptions that are not ours also name their type.</summary>
    public static string OneLine(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var message = SafeText.OneLine(ex.Message);
        var ours = ex.GetType().Namespace?.StartsWith("Adapters.", StringComparison.Ordinal) == true;
        return ours || ex is IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException
            ? message
            : $"{ex.GetType().Name}: {message}";
    }

    /// <summary>
    /// Every token this invocation could use: <c>--token</c> values on the command line (with a serve
    /// <c>read:</c>/<c>write:</c> scope removed), <c>HF_TOKEN</c> and the stored token file.
    /// </summary>
    public static IReadOnlyCollection<string> SecretsOf(ParseResult parseResult)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        var secrets = new HashSet<string>(StringComparer.Ordinal);
        void Add(string? value)
        {
            if (string.IsNullOrWhiteSpace(value)) return;
            secrets.Add(value);
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && colon < value.Length - 1) secrets.Add(value[(colon + 1)..]);
        }
        var tokens = parseResult.Tokens;
        for (var i = 0; i < tokens.Count; i++)
        {
            var value = tokens[i].Value;
            if (value is "--token" or "--upstream-token" && i + 1 < tokens.Count) Add(tokens[i + 1].Value);
            else if (value.StartsWith("--token=", StringComparison.Ordinal)) Add(value["--token=".Length..]);
            else if (value.StartsWith("--upstream-token=", StringComparison.Ordinal)) Add(value["--upstream-token=".Length..]);
        }
        // serve's mirror token may come from its environment variable instead.
        Add(Environment.GetEnvironmentVariable("ADAPTERS_SERVE_UPSTREAM_TOKEN"));
        try
        {
            Add(HubEnvironment.FromProcess().Token);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // An unreadable token file cannot leak either.
        }
        return secrets;
    }

    private static bool IsServerSide(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;
}
