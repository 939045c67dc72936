using Microsoft.Extensions.Logging;

namespace Adapters.Hub;

/// <summary>
/// Settings of a <see cref="HubClient"/>. <see cref="FromEnvironment()"/> fills them the way Python's
/// <c>huggingface_hub</c> does (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HUB_CACHE</c>, <c>HF_HUB_OFFLINE</c>, ...).
/// </summary>
public sealed class HubClientOptions
{
    /// <summary>Hub base URL; plain <c>http://</c> is allowed for local registries.</summary>
    public Uri Endpoint { get; set; } = new(HubEnvironment.DefaultEndpoint);

    /// <summary>Access token sent as <c>Authorization: Bearer</c>, only to the <see cref="Endpoint"/>'s origin.</summary>
    public string? Token { get; set; }

    /// <summary>The Hub cache folder (Python's layout: <c>blobs/</c>, <c>snapshots/</c>, <c>refs/</c>, <c>.locks/</c>).</summary>
    public string CacheDirectory { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub");

    /// <summary>When true no request is sent; files resolve from the cache only.</summary>
    public bool Offline { get; set; }

    /// <summary>The <c>User-Agent</c> header.</summary>
    public string UserAgent { get; set; } = DefaultUserAgent;

    /// <summary>Retry and timeout settings of every request.</summary>
    public HubRetryOptions Retry { get; set; } = new();

    /// <summary>
    /// How long a response body may stall (no bytes arriving) before the read is abandoned and the
    /// download resumes with a <c>Range</c> request.
    /// </summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many files a snapshot download fetches at once.</summary>
    public int MaxConcurrency { get; set; } = 8;

    /// <summary>
    /// Whether downloads and uploads use the Xet protocol when the Hub offers it (default on; off with
    /// <c>HF_HUB_DISABLE_XET</c>). Off, or where the Hub does not offer Xet, files move as plain HTTP/LFS.
    /// </summary>
    public bool UseXet { get; set; } = true;

    /// <summary>
    /// Whether snapshot entries are relative symlinks into <c>blobs/</c> (Python's default). When false,
    /// or when the file system refuses symlinks, the blob is copied instead (<c>HF_HUB_DISABLE_SYMLINKS</c>).
    /// </summary>
    public bool UseSymlinks { get; set; } = true;

    /// <summary>
    /// Innermost handler, for tests and custom transports. It must not follow redirects itself: the
    /// client follows them so that <c>Authorization</c> never reaches another host.
    /// </summary>
    public HttpMessageHandler? HttpMessageHandler { get; set; }

    /// <summary>
    /// Where the client logs each request (method, URL, status, elapsed time), retries, cache hits and
    /// verification results, under the category <c>Adapters.Hub</c>. Tokens never appear: the
    /// <c>Authorization</c> header is not logged and URLs pass through <see cref="Http.SecretRedactor"/>.
    /// Null (the default) logs nothing.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The default <c>User-Agent</c>: this library's name and version.</summary>
    public static string DefaultUserAgent { get; } =
        $"adapters-net/{typeof(HubClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0"}; dotnet/{Environment.Version}";

    /// <summary>Options from an already resolved environment.</summary>
    public static HubClientOptions FromEnvironment(HubEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new HubClientOptions
        {
            Endpoint = new Uri(environment.Endpoint),
            Token = environment.Token,
            CacheDirectory = environment.HubCacheDirectory,
            Offline = environment.Offline,
            UseSymlinks = !environment.DisableSymlinks,
            UseXet = !environment.DisableXet,
        };
    }

    /// <summary>Options from this process's environment variables.</summary>
    public static HubClientOptions FromEnvironment() => FromEnvironment(HubEnvironment.FromProcess());

    internal HubClientOptions Validated()
    {
        if (Endpoint is null || !Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"HubClientOptions.Endpoint must be an absolute http(s) URL, got '{Endpoint}'.", nameof(Endpoint));
        }
        if (string.IsNullOrWhiteSpace(CacheDirectory)) throw new ArgumentException("HubClientOptions.CacheDirectory must be set.", nameof(CacheDirectory));
        if (MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(MaxConcurrency), MaxConcurrency, "HubClientOptions.MaxConcurrency must be at least 1.");
        if (ReadTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ReadTimeout), ReadTimeout, "HubClientOptions.ReadTimeout must be positive.");
        Retry.Validate();
        return this;
    }
}
