using System.Text;
using Adapters.Hub.Cache;
using Adapters.Hub.Http;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Repositories;

/// <summary>Repository information, file listings and model search (<c>/api/...</c>).</summary>
public sealed partial class RepositoriesClient
{
    private readonly HubConnection _connection;

    internal RepositoriesClient(HubConnection connection) => _connection = connection;

    /// <summary>
    /// <c>GET /api/{type}/{repo}[/revision/{revision}]</c>. Renamed repositories (a relative 307) are followed.
    /// </summary>
    public Task<RepoInfo> RepoInfoAsync(string repoId, RepoType repoType = RepoType.Model, string? revision = null, CancellationToken cancellationToken = default) =>
        _connection.GetJsonAsync<RepoInfo>(InfoUri(repoId, repoType, revision), cancellationToken);

    /// <summary><c>GET /api/models/{repo}[/revision/{revision}]</c>.</summary>
    public Task<ModelInfo> ModelInfoAsync(string repoId, string? revision = null, CancellationToken cancellationToken = default) =>
        _connection.GetJsonAsync<ModelInfo>(InfoUri(repoId, RepoType.Model, revision), cancellationToken);

    /// <summary>
    /// Lists files and folders at <paramref name="revision"/> (<c>GET /api/{type}/{repo}/tree/{revision}[/{path}]</c>),
    /// following <c>Link</c> pagination.
    /// </summary>
    public IAsyncEnumerable<RepoTreeEntry> ListRepoTreeAsync(
        string repoId,
        string? revision = null,
        string? pathInRepo = null,
        bool recursive = false,
        bool expand = false,
        RepoType repoType = RepoType.Model,
        CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        var relative = new StringBuilder(string.IsNullOrEmpty(pathInRepo)
            ? HubRoutes.Tree.Expand(repoType, repoId, revision ?? "main")
            : HubRoutes.TreeAtPath.Expand(repoType, repoId, revision ?? "main", RepoPaths.Validate(pathInRepo.TrimEnd('/'))));
        relative.Append($"?recursive={(recursive ? "true" : "false")}&expand={(expand ? "true" : "false")}");
        return _connection.GetPagedAsync<RepoTreeEntry>(_connection.BuildUri(relative.ToString()), cancellationToken);
    }

    /// <summary>
    /// Information on some paths at <paramref name="revision"/> (<c>POST /api/{type}/{repo}/paths-info/{revision}</c>,
    /// form-encoded as Python sends it). Paths that do not exist are simply absent from the answer.
    /// </summary>
    public async Task<IReadOnlyList<RepoTreeEntry>> GetPathsInfoAsync(
        string repoId,
        IReadOnlyList<string> paths,
        string? revision = null,
        RepoType repoType = RepoType.Model,
        CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentNullException.ThrowIfNull(paths);
        foreach (var path in paths) RepoPaths.Validate(path);
        var uri = _connection.BuildUri(HubRoutes.PathsInfo.Expand(repoType, repoId, revision ?? "main"));
        var form = paths.Select(p => new KeyValuePair<string, string>("paths", p)).Append(new("expand", "false")).ToList();
        using var response = await _connection.SendAsync(HttpMethod.Post, uri, RedirectPolicy.None, request =>
        {
            request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
            request.Content = new FormUrlEncodedContent(form);
        }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await HubConnection.ReadJsonAsync<List<RepoTreeEntry>>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Searches models (<c>GET /api/models</c>), following pagination; stops after <paramref name="limit"/> items when given.
    /// </summary>
    /// <param name="author">Owner to restrict to.</param>
    /// <param name="search">Substring of the id.</param>
    /// <param name="filter">Tags that must all be present (library, task, language, <c>dataset:...</c>); repeated as <c>filter=</c>.</param>
    /// <param name="limit">Most models to return (also the page size requested).</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async IAsyncEnumerable<ModelInfo> ListModelsAsync(
        string? author = null,
        string? search = null,
        IEnumerable<string>? filter = null,
        int? limit = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(search)) query.Add("search=" + Uri.EscapeDataString(search));
        if (!string.IsNullOrEmpty(author)) query.Add("author=" + Uri.EscapeDataString(author));
        foreach (var tag in filter ?? []) query.Add("filter=" + Uri.EscapeDataString(tag));
        if (limit is { } l)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(l, nameof(limit));
            query.Add("limit=" + l);
        }
        var uri = _connection.BuildUri(HubRoutes.ListRepos.Expand(RepoType.Model) + (query.Count == 0 ? "" : "?" + string.Join('&', query)));
        var count = 0;
        await foreach (var model in _connection.GetPagedAsync<ModelInfo>(uri, cancellationToken).ConfigureAwait(false))
        {
            yield return model;
            if (limit is { } max && ++count >= max) yield break;
        }
    }

    private Uri InfoUri(string repoId, RepoType repoType, string? revision)
    {
        RepoIds.Validate(repoId);
        return _connection.BuildUri(revision is null
            ? HubRoutes.RepoInfo.Expand(repoType, repoId)
            : HubRoutes.RepoInfoAtRevision.Expand(repoType, repoId, revision));
    }
}
