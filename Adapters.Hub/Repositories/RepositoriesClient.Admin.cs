using System.Net;
using System.Text.Json.Serialization;
using Adapters.Hub.Http;

namespace Adapters.Hub.Repositories;

public sealed partial class RepositoriesClient
{
    /// <summary>
    /// Creates a repository (<c>POST /api/repos/create</c>). With <paramref name="existOk"/> an existing
    /// repository is not an error, as Python's <c>create_repo(exist_ok=True)</c>.
    /// </summary>
    /// <returns>The repository's URL.</returns>
    /// <exception cref="HubConflictException">The repository exists and <paramref name="existOk"/> is false.</exception>
    public async Task<Uri> CreateRepoAsync(string repoId, RepoType repoType = RepoType.Model, bool isPrivate = false, bool existOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        var (organization, name) = Split(repoId);
        var request = new CreateRepoRequest(name, organization, repoType.Singular(), isPrivate ? "private" : "public", isPrivate);
        try
        {
            var created = await _connection.PostJsonAsync<CreateRepoRequest, CreateRepoResponse>(_connection.BuildUri("api/repos/create"), request, cancellationToken: cancellationToken).ConfigureAwait(false);
            return new Uri(created.Url ?? RepoUrl(repoId, repoType));
        }
        catch (HubConflictException) when (existOk)
        {
            return new Uri(RepoUrl(repoId, repoType));
        }
    }

    /// <summary>Deletes a repository (<c>DELETE /api/repos/delete</c>); with <paramref name="missingOk"/> a missing one is not an error.</summary>
    public async Task DeleteRepoAsync(string repoId, RepoType repoType = RepoType.Model, bool missingOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        var (organization, name) = Split(repoId);
        using var response = await _connection.SendAsync(HttpMethod.Delete, _connection.BuildUri("api/repos/delete"), RedirectPolicy.None, request =>
        {
            request.Content = HubConnection.JsonBody(new DeleteRepoRequest(name, organization, repoType.Singular()));
        }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (missingOk && response.StatusCode == HttpStatusCode.NotFound) return;
        try
        {
            await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (RepositoryNotFoundException) when (missingOk)
        {
        }
    }

    /// <summary>The account the token belongs to (<c>GET /api/whoami-v2</c>).</summary>
    /// <exception cref="InvalidOperationException">No token is configured.</exception>
    public Task<WhoAmI> WhoAmIAsync(CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(_connection.Options.Token))
        {
            throw new InvalidOperationException("whoami needs a token: set HF_TOKEN, log in with 'adapters-hub login', or pass one in HubClientOptions.Token.");
        }
        return _connection.GetJsonAsync<WhoAmI>(_connection.BuildUri("api/whoami-v2"), cancellationToken);
    }

    /// <summary>Creates a branch (<c>POST /api/{type}/{repo}/branch/{branch}</c>) from <paramref name="startingPoint"/> (default: the main head).</summary>
    /// <exception cref="HubConflictException">The branch exists and <paramref name="existOk"/> is false.</exception>
    public async Task CreateBranchAsync(string repoId, string branch, string? startingPoint = null, RepoType repoType = RepoType.Model, bool existOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(branch);
        var uri = _connection.BuildUri($"api/{repoType.ApiSegment()}/{repoId}/branch/{Uri.EscapeDataString(branch)}");
        try
        {
            using var response = await _connection.SendAsync(HttpMethod.Post, uri, RedirectPolicy.None, request =>
            {
                request.Content = HubConnection.JsonBody(new CreateBranchRequest(startingPoint));
            }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        }
        catch (HubConflictException) when (existOk)
        {
        }
    }

    /// <summary>Branches, tags and (optionally) pull requests of a repository (<c>GET /api/{type}/{repo}/refs</c>).</summary>
    public Task<RepoRefs> ListRefsAsync(string repoId, RepoType repoType = RepoType.Model, bool includePullRequests = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        return _connection.GetJsonAsync<RepoRefs>(_connection.BuildUri($"api/{repoType.ApiSegment()}/{repoId}/refs{(includePullRequests ? "?include_prs=1" : "")}"), cancellationToken);
    }

    private string RepoUrl(string repoId, RepoType repoType) => new Uri(_connection.Endpoint, repoType.UrlPrefix() + repoId).ToString();

    private static (string? Organization, string Name) Split(string repoId)
    {
        var slash = repoId.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? (null, repoId) : (repoId[..slash], repoId[(slash + 1)..]);
    }

    private sealed record CreateRepoRequest(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("organization")] string? Organization,
        [property: JsonPropertyName("type")] string Type,
        [property: JsonPropertyName("visibility")] string Visibility,
        [property: JsonPropertyName("private")] bool Private);

    private sealed record CreateRepoResponse([property: JsonPropertyName("url")] string? Url);

    private sealed record DeleteRepoRequest(
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("organization")] string? Organization,
        [property: JsonPropertyName("type")] string Type);

    private sealed record CreateBranchRequest(
        [property: JsonPropertyName("startingPoint"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StartingPoint);
}
