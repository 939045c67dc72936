using Adapters.Hub.Discussions;
using Adapters.Hub.Download;
using Adapters.Hub.Http;
using Adapters.Hub.Repositories;
using Adapters.Hub.Upload;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub;

/// <summary>
/// The Hugging Face Hub client: one <see cref="HubConnection"/> shared by the per-resource clients
/// <see cref="Files"/> (downloads into the cache Python uses), <see cref="Repositories"/> (information,
/// listings, search, branches, tags, commit history), <see cref="Commits"/> (uploads) and
/// <see cref="Discussions"/> (discussions and pull requests).
/// </summary>
public sealed class HubClient : IDisposable
{
    /// <summary>The name of the <see cref="HttpClient"/> registered by <c>AddHuggingFaceHub</c>.</summary>
    public const string HttpClientName = "Adapters.Hub";

    /// <summary>A client configured from the environment exactly as Python's <c>huggingface_hub</c> would be.</summary>
    public HubClient() : this(HubClientOptions.FromEnvironment()) { }

    /// <summary>A client with its own <see cref="HttpClient"/> and the <see cref="HubResilience"/> retry pipeline.</summary>
    public HubClient(HubClientOptions options)
        : this(new HubConnection(CreateHttpClient(options ?? throw new ArgumentNullException(nameof(options))), options, ownsHttpClient: true))
    {
    }

    /// <summary>A client over an <see cref="HttpClient"/> from <c>IHttpClientFactory</c> (see <c>AddHuggingFaceHub</c>).</summary>
    public HubClient(HttpClient httpClient, HubClientOptions options)
        : this(new HubConnection(httpClient, options))
    {
    }

    /// <summary>A client over an existing connection.</summary>
    public HubClient(HubConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection = connection;
        Repositories = new RepositoriesClient(connection);
        Files = new FilesClient(connection, Repositories);
        Commits = new CommitsClient(connection, Repositories);
        Discussions = new DiscussionsClient(connection);
    }

    /// <summary>The shared transport (JSON calls, streaming, error mapping) for clients built on this one.</summary>
    public HubConnection Connection { get; }

    /// <summary>The options in use.</summary>
    public HubClientOptions Options => Connection.Options;

    /// <summary>File and snapshot downloads.</summary>
    public FilesClient Files { get; }

    /// <summary>Repository information, trees and model search.</summary>
    public RepositoriesClient Repositories { get; }

    /// <summary>Commits: file additions and deletions, LFS uploads, folder uploads.</summary>
    public CommitsClient Commits { get; }

    /// <summary>Discussions and pull requests: open, list, read, comment, close or reopen, merge.</summary>
    public DiscussionsClient Discussions { get; }

    private static HttpClient CreateHttpClient(HubClientOptions options)
    {
        options.Validated();
        var primary = options.HttpMessageHandler ?? HubResilience.CreatePrimaryHandler();
        var logger = options.LoggerFactory?.CreateLogger(HubConnection.LogCategory);
        return new HttpClient(HubResilience.CreateHandler(options.Retry, primary, logger), disposeHandler: options.HttpMessageHandler is null);
    }

    /// <inheritdoc />
    public void Dispose() => Connection.Dispose();
}
