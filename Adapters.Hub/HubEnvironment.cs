using System.Text.RegularExpressions;

namespace Adapters.Hub;

/// <summary>Where the access token in a <see cref="HubEnvironment"/> came from.</summary>
public enum TokenSource
{
    /// <summary>No token was found.</summary>
    None,
    /// <summary>The <c>HF_TOKEN</c> environment variable.</summary>
    HfTokenVariable,
    /// <summary>The legacy <c>HUGGING_FACE_HUB_TOKEN</c> environment variable.</summary>
    LegacyTokenVariable,
    /// <summary>The token file (<c>HF_TOKEN_PATH</c>, default <c>$HF_HOME/token</c>).</summary>
    TokenFile,
    /// <summary>Given explicitly by the caller.</summary>
    Explicit,
}

/// <summary>
/// Hub settings resolved from environment variables with the same names, order and defaults as
/// Python's <c>huggingface_hub</c>, so both share one cache and one login.
/// </summary>
public sealed partial class HubEnvironment
{
    /// <summary>The public Hugging Face Hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    private const string StagingEndpoint = "https://hub-ci.huggingface.co";

    private HubEnvironment(string endpoint, string home, string hubCache, string tokenPath, string? token, TokenSource tokenSource, bool offline, bool disableSymlinks)
    {
        Endpoint = endpoint;
        HfHome = home;
        HubCacheDirectory = hubCache;
        TokenPath = tokenPath;
        Token = token;
        TokenSource = tokenSource;
        Offline = offline;
        DisableSymlinks = disableSymlinks;
    }

    /// <summary>Hub base URL without a trailing slash (<c>HF_ENDPOINT</c>).</summary>
    public string Endpoint { get; }

    /// <summary>The Hugging Face home folder (<c>HF_HOME</c>).</summary>
    public string HfHome { get; }

    /// <summary>The model/dataset cache (<c>HF_HUB_CACHE</c>, then <c>HUGGINGFACE_HUB_CACHE</c>, then <c>$HF_HOME/hub</c>).</summary>
    public string HubCacheDirectory { get; }

    /// <summary>Path of the token file (<c>HF_TOKEN_PATH</c>, default <c>$HF_HOME/token</c>).</summary>
    public string TokenPath { get; }

    /// <summary>The access token, or null when none is configured.</summary>
    public string? Token { get; }

    /// <summary>Where <see cref="Token"/> came from.</summary>
    public TokenSource TokenSource { get; }

    /// <summary>Whether offline mode is on (<c>HF_HUB_OFFLINE</c> or <c>TRANSFORMERS_OFFLINE</c>).</summary>
    public bool Offline { get; }

    /// <summary>Whether snapshot entries are copies instead of symlinks (<c>HF_HUB_DISABLE_SYMLINKS</c>).</summary>
    public bool DisableSymlinks { get; }

    /// <summary>Whether the Xet protocol is off (<c>HF_HUB_DISABLE_XET</c>); files then move as plain HTTP/LFS.</summary>
    public bool DisableXet { get; private init; }

    /// <summary>Resolves the settings from this process's environment.</summary>
    public static HubEnvironment FromProcess() =>
        Resolve(Environment.GetEnvironmentVariable, Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    /// <summary>Resolves the settings from the given variables (for tests and embedding hosts).</summary>
    /// <param name="getVariable">Returns a variable's value, or null when it is unset.</param>
    /// <param name="userHome">The folder <c>~</c> stands for.</param>
    public static HubEnvironment Resolve(Func<string, string?> getVariable, string userHome)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        ArgumentNullException.ThrowIfNull(userHome);

        string? Get(string name)
        {
            var value = getVariable(name);
            return string.IsNullOrEmpty(value) ? null : value;
        }

        bool staging = IsTrue(Get("HUGGINGFACE_CO_STAGING"));
        string endpoint = staging ? StagingEndpoint : (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/');

        string defaultHome = staging
            ? Path.Combine(userHome, ".cache", "huggingface_staging")
            : Path.Combine(Get("XDG_CACHE_HOME") is { } xdg ? Expand(xdg, getVariable, userHome) : Path.Combine(userHome, ".cache"), "huggingface");
        string home = Get("HF_HOME") is { } hfHome ? Expand(hfHome, getVariable, userHome) : defaultHome;

        string hubCache = (Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE")) is { } cache
            ? Expand(cache, getVariable, userHome)
            : Path.Combine(home, "hub");

        string tokenPath = Get("HF_TOKEN_PATH") is { } tp ? Expand(tp, getVariable, userHome) : Path.Combine(home, "token");

        (string? token, TokenSource source) = (CleanToken(Get("HF_TOKEN")), CleanToken(Get("HUGGING_FACE_HUB_TOKEN"))) switch
        {
            ({ } t, _) => (t, TokenSource.HfTokenVariable),
            (null, { } t) => (t, TokenSource.LegacyTokenVariable),
            _ => ReadTokenFile(tokenPath),
        };

        bool offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE"));
        return new HubEnvironment(endpoint, home, hubCache, tokenPath, token, source, offline, IsTrue(Get("HF_HUB_DISABLE_SYMLINKS")))
        {
            DisableXet = IsTrue(Get("HF_HUB_DISABLE_XET")),
        };
    }

    /// <summary>Python's <c>_is_true</c>: <c>1</c>, <c>ON</c>, <c>YES</c> or <c>TRUE</c>, in any case.</summary>
    public static bool IsTrue(string? value) =>
        value is not null && value.ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static (string?, TokenSource) ReadTokenFile(string path)
    {
        try
        {
            if (!File.Exists(path)) return (null, TokenSource.None);
            var token = CleanToken(File.ReadAllText(path));
            return token is null ? (null, TokenSource.None) : (token, TokenSource.TokenFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, TokenSource.None);
        }
    }

    /// <summary>As Python: carriage returns and newlines removed, then trimmed; empty means none.</summary>
    private static string? CleanToken(string? raw)
    {
        if (raw is null) return null;
        var cleaned = raw.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal).Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }

    /// <summary>Python's <c>expanduser(expandvars(path))</c>: unknown variables stay as written.</summary>
    private static string Expand(string path, Func<string, string?> getVariable, string userHome)
    {
        var expanded = VariablePattern().Replace(path, m =>
        {
            var name = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            return getVariable(name) ?? m.Value;
        });
        if (expanded == "~") return userHome;
        if (expanded.StartsWith("~/", StringComparison.Ordinal)) return Path.Combine(userHome, expanded[2..]);
        return expanded;
    }

    [GeneratedRegex(@"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")]
    private static partial Regex VariablePattern();
}
