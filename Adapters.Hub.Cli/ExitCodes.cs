namespace Adapters.Hub.Cli;

/// <summary>
/// The process exit codes of <c>adapters-hub</c>, one per kind of failure a script may want to branch on.
/// <see cref="CommandErrors.ExitCodeFor"/> holds the table from exception types to these codes.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The verb did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>Bad arguments or input (parse errors, invalid config strings, unusable folders) and any failure not listed below.</summary>
    public const int Usage = 1;

    /// <summary>Something named does not exist: a Hub repository, revision or file, a local file or folder, an adapter id.</summary>
    public const int NotFound = 2;

    /// <summary>Bytes are not what they should be: hash or size mismatch, corrupt or unsafe safetensors/pickle/zip, a cache that fails verification.</summary>
    public const int Integrity = 3;

    /// <summary>The server refused the credentials (401/403, gated repository) or a write needs a token that was not given.</summary>
    public const int Auth = 4;

    /// <summary>The Hub could not be reached or kept failing: connection errors, timeouts, 5xx and 429 after every retry.</summary>
    public const int Network = 5;

    /// <summary>Interrupted with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;

    /// <summary>The table as printed by the root <c>--help</c> and the README.</summary>
    public const string HelpText = """
        Exit codes:
          0    ok
          1    usage: bad arguments or input
          2    not found: Hub repository, revision or file; local file or folder; adapter id
          3    integrity: hash or size mismatch, corrupt or unsafe file, cache verification failure
          4    auth: token refused (401/403, gated repository) or missing for a write
          5    network: Hub unreachable, timeouts, 5xx/429 after retries
          130  cancelled (Ctrl+C); partial downloads are kept and resumed by the next pull
        """;
}
