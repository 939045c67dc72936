using Adapters.Hub.IO;
using System.Security.Cryptography;
using System.Text;
using Adapters.Hub.Legacy.Migration;

namespace Adapters.Hub.Loading;

/// <summary>
/// Turns what a user passes to <c>load_adapter</c> into a local adapter folder, trying what Python's
/// <c>resolve_adapter_path</c> tries, in its order: an http(s) URL (downloaded, verified when a checksum is
/// given, safely extracted), a local folder, a Hub repository id (downloaded into the shared, verified
/// cache), then a legacy AdapterHub id redirected to <c>AdapterHub/&lt;name&gt;</c>.
/// </summary>
public sealed class AdapterFolderResolver
{
    private static readonly string[] s_weightFiles = ["pytorch_adapter.bin", "adapter.safetensors"];
    private const string ConfigFile = "adapter_config.json";

    private readonly HubClient _hub;

    /// <summary>Resolves through <paramref name="hub"/> (its endpoint, token and cache).</summary>
    public AdapterFolderResolver(HubClient hub)
    {
        ArgumentNullException.ThrowIfNull(hub);
        _hub = hub;
    }

    /// <summary>Finds or downloads the adapter folder for <paramref name="idOrPath"/>.</summary>
    /// <exception cref="AdapterNotFoundException">Every step failed; the message lists each step and its error.</exception>
    public async Task<ResolvedAdapterFolder> ResolveAsync(string idOrPath, AdapterResolveOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idOrPath);
        options ??= new AdapterResolveOptions();
        var attempts = new List<string>();

        if (Uri.TryCreate(idOrPath, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
        {
            // Python stops here for URLs too: a URL is never also a folder or a repo id.
            try
            {
                return new ResolvedAdapterFolder(await DownloadUrlAsync(url, options, cancellationToken).ConfigureAwait(false), AdapterSourceKind.Url);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or InvalidDataException or LegacyArchiveException)
            {
                throw new AdapterNotFoundException(idOrPath, [$"URL {url}: {ex.Message}"]);
            }
        }

        if (Directory.Exists(idOrPath))
        {
            if (IsAdapterFolder(idOrPath)) return new ResolvedAdapterFolder(Path.GetFullPath(idOrPath), AdapterSourceKind.LocalFolder);
            throw new AdapterNotFoundException(idOrPath, [$"local folder: no file {string.Join(" or ", s_weightFiles)} or no file {ConfigFile} found in directory {idOrPath}"]);
        }
        attempts.Add($"local folder: '{idOrPath}' does not exist");

        try
        {
            RepoIds.Validate(idOrPath);
            var folder = await DownloadRepoAsync(idOrPath, options.Version, cancellationToken).ConfigureAwait(false);
            return new ResolvedAdapterFolder(folder, AdapterSourceKind.HubRepository, idOrPath, options.Version ?? "main");
        }
        catch (Exception ex) when (ex is ArgumentException or HubException or InvalidDataException)
        {
            attempts.Add($"Hub repository: {ex.Message}");
        }

        if (options.LegacyResolver is null)
        {
            attempts.Add("legacy AdapterHub id: no legacy registry was given (AdapterResolveOptions.LegacyResolver)");
            throw new AdapterNotFoundException(idOrPath, attempts);
        }
        try
        {
            if (string.IsNullOrEmpty(options.ModelName))
            {
                throw new ArgumentException("Unable to resolve adapter without the name of a model. Please specify model_name.");
            }
            var legacy = await options.LegacyResolver.ResolveAsync(idOrPath, options.ModelName, options.Config, options.Version, cancellationToken).ConfigureAwait(false);
            var folder = await DownloadRepoAsync(legacy.RepoId, legacy.Revision, cancellationToken).ConfigureAwait(false);
            return new ResolvedAdapterFolder(folder, AdapterSourceKind.LegacyRedirect, legacy.RepoId, legacy.Revision);
        }
        catch (Exception ex) when (ex is ArgumentException or HubException or InvalidDataException or Legacy.LegacyRegistryException or Legacy.LegacyResolutionException)
        {
            attempts.Add($"legacy AdapterHub id: {ex.Message}");
        }
        throw new AdapterNotFoundException(idOrPath, attempts);
    }

    private async Task<string> DownloadRepoAsync(string repoId, string? revision, CancellationToken cancellationToken)
    {
        var snapshot = await _hub.Files.SnapshotDownloadAsync(repoId, revision, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!IsAdapterFolder(snapshot.Path))
        {
            throw new InvalidDataException($"{repoId} at {revision ?? "main"} has no {ConfigFile} with {string.Join(" or ", s_weightFiles)}; it is not an adapter repository.");
        }
        return snapshot.Path;
    }

    private static bool IsAdapterFolder(string folder) =>
        File.Exists(Path.Combine(folder, ConfigFile)) && s_weightFiles.Any(w => File.Exists(Path.Combine(folder, w)));

    /// <summary>
    /// Python's <c>download_cached</c>: the file is named after the URL's SHA-256, zips are extracted next to
    /// it into <c>NAME-extracted</c> (members flattened to their base names); a finished extraction is reused.
    /// </summary>
    private async Task<string> DownloadUrlAsync(Uri url, AdapterResolveOptions options, CancellationToken cancellationToken)
    {
        var cache = options.UrlCacheDirectory ?? DefaultUrlCache();
        Directory.CreateDirectory(cache);
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.ToString())));
        var file = Path.Combine(cache, name);
        var extracted = Path.Combine(cache, name.Replace('.', '-') + "-extracted");
        if (Directory.Exists(extracted) && IsAdapterFolder(extracted)) return extracted;

        await AtomicFile.WriteThroughPathAsync(file, async (temp, ct) =>
        {
            using (var response = await _hub.Connection.SendAsync(HttpMethod.Get, url, Http.RedirectPolicy.All, cancellationToken: ct).ConfigureAwait(false))
            {
                await Http.HubErrorMap.EnsureSuccessAsync(response, ct).ConfigureAwait(false);
                var target = File.Create(temp);
                await using (target.ConfigureAwait(false))
                {
                    await response.Content.CopyToAsync(target, ct).ConfigureAwait(false);
                }
            }
            if (options.UrlSha256 is { } expected)
            {
                var stream = File.OpenRead(temp);
                string actual;
                await using (stream.ConfigureAwait(false))
                {
                    actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, ct).ConfigureAwait(false));
                }
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidDataException($"Failed to verify checksum of '{url}': sha256 {actual}, expected {expected.ToLowerInvariant()}.");
                }
            }
        }, cancellationToken: cancellationToken).ConfigureAwait(false);

        var staging = extracted + ".incoming-" + Guid.NewGuid().ToString("N");
        try
        {
            await LegacyArchiveExtractor.ExtractAsync(file, staging, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (Directory.Exists(extracted)) Directory.Delete(extracted, recursive: true);
            Directory.Move(staging, extracted);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        if (!IsAdapterFolder(extracted))
        {
            throw new InvalidDataException($"'{url}' unpacked to no {ConfigFile} with {string.Join(" or ", s_weightFiles)}.");
        }
        return extracted;
    }

    /// <summary>Python's <c>ADAPTER_CACHE</c>: <c>$TORCH_HOME/adapters</c>, else <c>$XDG_CACHE_HOME/torch/adapters</c>, else <c>~/.cache/torch/adapters</c>.</summary>
    public static string DefaultUrlCache()
    {
        var torchHome = Environment.GetEnvironmentVariable("TORCH_HOME");
        if (string.IsNullOrEmpty(torchHome))
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            torchHome = Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "torch");
        }
        return Path.Combine(torchHome, "adapters");
    }
}
