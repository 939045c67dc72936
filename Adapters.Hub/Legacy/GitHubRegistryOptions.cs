namespace Adapters.Hub.Legacy;

/// <summary>Settings for reading the registry from GitHub with <see cref="GitHubLegacyRegistrySource"/>.</summary>
public sealed class GitHubRegistryOptions
{
    /// <summary>The registry's final commit before GitHub archived it; the data the live library read.</summary>
    public const string PinnedReference = "a53c6b7237010937aeb330e8802426dae1eae940";

    /// <summary>The repository owner (default <c>adapter-hub</c>).</summary>
    public string Owner { get; set; } = "adapter-hub";

    /// <summary>The repository name (default <c>Hub</c>).</summary>
    public string Repository { get; set; } = "Hub";

    /// <summary>
    /// The git reference to read (default <see cref="PinnedReference"/>). Cached files are keyed by it and never
    /// refreshed, so use a commit SHA; a branch name would keep serving the first snapshot fetched.
    /// </summary>
    public string Reference { get; set; } = PinnedReference;

    /// <summary>An optional GitHub token (raises the API rate limit); never written to the cache.</summary>
    public string? Token { get; set; }

    /// <summary>The API base address; null means <c>https://api.github.com/</c>. Other hosts are treated as GitHub Enterprise (<c>/api/v3/</c>).</summary>
    public Uri? ApiBaseAddress { get; set; }

    /// <summary>Where fetched files are kept; null means <c>$XDG_CACHE_HOME/adapters-net/legacy-hub</c> (default <c>~/.cache</c>).</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>An optional HTTP handler for the GitHub calls (a resilience pipeline, a proxy, a test double).</summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    internal string ResolveCacheDirectory()
    {
        if (CacheDirectory is { Length: > 0 } explicitDirectory) return explicitDirectory;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "adapters-net", "legacy-hub");
    }
}
