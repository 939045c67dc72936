using Adapters.Hub.IO;
using System.Text;
using Octokit;
using Octokit.Internal;

namespace Adapters.Hub.Legacy;

/// <summary>
/// Reads the registry from a GitHub repository at a fixed reference through Octokit: one recursive tree call
/// lists the files, and each file is fetched raw on first use. Both are kept in an on-disk cache keyed by
/// owner, repository and reference, so a second run makes no requests at all.
/// </summary>
public sealed class GitHubLegacyRegistrySource : ILegacyRegistrySource
{
    private const string TreeFileName = "tree.txt";
    private readonly IGitHubClient _client;
    private readonly GitHubRegistryOptions _options;
    private readonly string _cacheRoot;
    private readonly SemaphoreSlim _treeLock = new(1, 1);
    private IReadOnlyList<string>? _tree;

    /// <summary>Creates the source; nothing is fetched until a file is asked for.</summary>
    public GitHubLegacyRegistrySource(GitHubRegistryOptions? options = null)
    {
        _options = options ?? new GitHubRegistryOptions();
        ArgumentException.ThrowIfNullOrEmpty(_options.Owner);
        ArgumentException.ThrowIfNullOrEmpty(_options.Repository);
        ArgumentException.ThrowIfNullOrEmpty(_options.Reference);
        var product = new ProductHeaderValue("adapters-net-legacy-hub");
        var credentials = string.IsNullOrEmpty(_options.Token) ? Credentials.Anonymous : new Credentials(_options.Token);
        var handler = _options.HttpMessageHandler;
        var http = handler is null ? new HttpClientAdapter(HttpMessageHandlerFactory.CreateDefault) : new HttpClientAdapter(() => handler);
        var connection = new Connection(product, _options.ApiBaseAddress ?? GitHubClient.GitHubApiUrl,
            new InMemoryCredentialStore(credentials), http, new SimpleJsonSerializer());
        _client = new GitHubClient(connection);
        _cacheRoot = Path.Combine(_options.ResolveCacheDirectory(), Safe(_options.Owner), Safe(_options.Repository), Safe(_options.Reference));
    }

    /// <inheritdoc />
    public string Description => $"github:{_options.Owner}/{_options.Repository}@{_options.Reference}";

    /// <summary>The folder this source caches into.</summary>
    public string CacheFolder => _cacheRoot;

    /// <inheritdoc />
    public async Task<string?> ReadTextAsync(string path, CancellationToken cancellationToken = default)
    {
        var normalized = RegistryPaths.Normalize(path);
        var cached = Path.Combine(_cacheRoot, "files", normalized);
        if (File.Exists(cached)) return await File.ReadAllTextAsync(cached, cancellationToken).ConfigureAwait(false);

        var tree = await GetTreeAsync(cancellationToken).ConfigureAwait(false);
        if (tree.BinarySearch(normalized, StringComparer.Ordinal) < 0) return null;

        byte[] bytes;
        try
        {
            // The JSON contents call (base64 body) is used rather than the raw media type because its response shape
            // does not depend on how the server labels raw content.
            var contents = await _client.Repository.Content.GetAllContentsByRef(_options.Owner, _options.Repository, normalized, _options.Reference)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            var file = contents.FirstOrDefault(c => c.Path == normalized) ?? contents.FirstOrDefault()
                ?? throw new LegacyRegistryException($"{Description}:{normalized}", null, "GitHub returned no content for the file");
            if (file.EncodedContent is null)
            {
                throw new LegacyRegistryException($"{Description}:{normalized}", null, $"GitHub returned no inline content (type {file.Type.StringValue}, size {file.Size})");
            }
            bytes = Convert.FromBase64String(file.EncodedContent.Replace("\n", "", StringComparison.Ordinal));
        }
        catch (NotFoundException)
        {
            return null;
        }
        catch (ApiException ex)
        {
            throw new LegacyRegistryException($"{Description}:{normalized}", null, $"GitHub answered {(int)ex.StatusCode}: {ex.Message}", ex);
        }
        await WriteAtomicallyAsync(cached, bytes, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(bytes);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListFilesAsync(string folder, CancellationToken cancellationToken = default)
    {
        var prefix = RegistryPaths.Normalize(folder) + "/";
        var tree = await GetTreeAsync(cancellationToken).ConfigureAwait(false);
        return tree.Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    private async Task<List<string>> GetTreeAsync(CancellationToken cancellationToken)
    {
        if (_tree is List<string> known) return known;
        await _treeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_tree is List<string> again) return again;
            var cached = Path.Combine(_cacheRoot, TreeFileName);
            List<string> paths;
            if (File.Exists(cached))
            {
                paths = (await File.ReadAllLinesAsync(cached, cancellationToken).ConfigureAwait(false)).Where(l => l.Length > 0).ToList();
            }
            else
            {
                TreeResponse response;
                try
                {
                    response = await _client.Git.Tree.GetRecursive(_options.Owner, _options.Repository, _options.Reference)
                        .WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ApiException ex)
                {
                    throw new LegacyRegistryException(Description, null, $"cannot list the repository tree: GitHub answered {(int)ex.StatusCode}: {ex.Message}", ex);
                }
                if (response.Truncated)
                {
                    throw new LegacyRegistryException(Description, null, "GitHub truncated the recursive tree listing; the registry is too large to list in one call");
                }
                paths = response.Tree.Where(item => item.Type.Value == TreeType.Blob).Select(item => item.Path).ToList();
                paths.Sort(StringComparer.Ordinal);
                await WriteAtomicallyAsync(cached, Encoding.UTF8.GetBytes(string.Join('\n', paths) + "\n"), cancellationToken).ConfigureAwait(false);
            }
            paths.Sort(StringComparer.Ordinal);
            _tree = paths;
            return paths;
        }
        finally
        {
            _treeLock.Release();
        }
    }

    private static Task WriteAtomicallyAsync(string path, byte[] bytes, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllBytesAsync(path, bytes, cancellationToken: cancellationToken);

    private static string Safe(string segment) =>
        string.Concat(segment.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
