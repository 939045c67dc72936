using System.Net;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Repositories;

public sealed partial class RepositoriesClient
{
    /// <summary>
    /// Tags <paramref name="revision"/> (default <c>main</c>; a branch, tag or commit, short ids included)
    /// as <paramref name="tag"/> (<c>POST /api/{type}/{repo}/tag/{revision}</c>); the tag then resolves as a
    /// revision everywhere and is listed by <see cref="ListRefsAsync"/>.
    /// </summary>
    /// <param name="repoId">The repository.</param>
    /// <param name="tag">The tag name.</param>
    /// <param name="revision">What to tag (default <c>main</c>).</param>
    /// <param name="message">An annotation for the tag.</param>
    /// <param name="repoType">The repository type.</param>
    /// <param name="existOk">Whether an existing tag (409) is not an error, as Python's <c>exist_ok</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="RevisionNotFoundException">The revision to tag does not exist.</exception>
    /// <exception cref="HubConflictException">The tag exists and <paramref name="existOk"/> is false.</exception>
    public async Task CreateTagAsync(string repoId, string tag, string? revision = null, string? message = null, RepoType repoType = RepoType.Model, bool existOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(tag);
        var body = new Dictionary<string, string> { ["tag"] = tag };
        if (message is not null) body["message"] = message;
        try
        {
            using var _ = await _connection.SendJsonAsync(HttpMethod.Post, _connection.BuildUri(HubRoutes.CreateTag.Expand(repoType, repoId, revision ?? "main")), body, sendOnce: false, cancellationToken).ConfigureAwait(false);
        }
        catch (HubConflictException ex) when (existOk && ex.StatusCode == HttpStatusCode.Conflict)
        {
        }
    }

    /// <summary>Deletes a tag (<c>DELETE /api/{type}/{repo}/tag/{tag}</c>).</summary>
    /// <exception cref="RevisionNotFoundException">The tag does not exist.</exception>
    public async Task DeleteTagAsync(string repoId, string tag, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(tag);
        using var _ = await _connection.SendJsonAsync(HttpMethod.Delete, _connection.BuildUri(HubRoutes.DeleteTag.Expand(repoType, repoId, tag)), null, sendOnce: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a branch (<c>DELETE /api/{type}/{repo}/branch/{branch}</c>).</summary>
    /// <exception cref="RevisionNotFoundException">The branch does not exist.</exception>
    public async Task DeleteBranchAsync(string repoId, string branch, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(branch);
        using var _ = await _connection.SendJsonAsync(HttpMethod.Delete, _connection.BuildUri(HubRoutes.DeleteBranch.Expand(repoType, repoId, branch)), null, sendOnce: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The history of <paramref name="revision"/>, newest first (<c>GET /api/{type}/{repo}/commits/{revision}</c>),
    /// following <c>Link: rel="next"</c> pages as Python's <c>list_repo_commits</c> does.
    /// </summary>
    /// <param name="repoId">The repository.</param>
    /// <param name="revision">Branch, tag, commit or <c>refs/pr/N</c> (default <c>main</c>).</param>
    /// <param name="repoType">The repository type.</param>
    /// <param name="pageSize">Commits asked for per page (<c>limit</c>); null leaves it to the server.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public IAsyncEnumerable<GitCommitInfo> ListCommitsAsync(string repoId, string? revision = null, RepoType repoType = RepoType.Model, int? pageSize = null, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        if (pageSize is { } size) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size, nameof(pageSize));
        var relative = HubRoutes.Commits.Expand(repoType, repoId, revision ?? "main");
        if (pageSize is { } limit) relative += "?limit=" + limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return _connection.GetPagedAsync<GitCommitInfo>(_connection.BuildUri(relative), cancellationToken);
    }
}
