using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Adapters.Hub.Http;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Repositories;

public sealed partial class RepositoriesClient
{
    /// <summary>
    /// Creates a repository (<c>POST /api/repos/create</c>, sent once: Python sends it without retries, and a
    /// resend after a lost answer would turn success into a conflict; only a 409 saying another operation is in
    /// progress is sent again, as Python does). With <paramref name="existOk"/> an
    /// existing repository is not an error, as Python's <c>create_repo(exist_ok=True)</c>: the URL is then the
    /// one the 409 body names (or, if it names none, the one built from the endpoint), and a 401/402/403 (a token
    /// that may not create there) is forgiven when the repository can be read.
    /// </summary>
    /// <returns>The repository's URL, as the Hub reported it.</returns>
    /// <exception cref="HubConflictException">The repository exists and <paramref name="existOk"/> is false.</exception>
    public async Task<Uri> CreateRepoAsync(string repoId, RepoType repoType = RepoType.Model, bool isPrivate = false, bool existOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        var (organization, name) = Split(repoId);
        var request = new CreateRepoRequest(name, organization, repoType.Singular(), isPrivate ? "private" : "public", isPrivate);
        var uri = _connection.BuildUri(HubRoutes.CreateRepo.Expand());
        HttpResponseMessage response;
        for (var attempt = 1; ; attempt++)
        {
            response = await _connection.SendAsync(HttpMethod.Post, uri, RedirectPolicy.None, message =>
            {
                message.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
                message.Content = HubConnection.JsonBody(request);
                TransientFailures.SendOnce(message);
            }, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            // The one conflict that says nothing was created: Python resends at once (without a bound; we stop).
            if (attempt >= MaxBusyConflicts || response.StatusCode != HttpStatusCode.Conflict
                || !(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Contains(BusyConflict, StringComparison.Ordinal))
            {
                break;
            }
            response.Dispose();
        }
        using var _ = response;

        if (existOk && response.StatusCode == HttpStatusCode.Conflict)
        {
            // Python reads only the body's url; a server that leaves it out gets the URL built here instead of an error.
            return await UrlInBodyAsync(response, cancellationToken).ConfigureAwait(false) ?? new Uri(RepoUrl(repoId, repoType));
        }
        if (existOk && response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.PaymentRequired or HttpStatusCode.Forbidden)
        {
            var refused = await HubErrorMap.ToExceptionAsync(response, cancellationToken).ConfigureAwait(false);
            try
            {
                await RepoInfoAsync(repoId, repoType, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (HubException)
            {
                throw refused;
            }
            return new Uri(RepoUrl(repoId, repoType));
        }
        var created = await HubConnection.ReadJsonAsync<CreateRepoResponse>(response, cancellationToken).ConfigureAwait(false);
        return new Uri(created.Url ?? RepoUrl(repoId, repoType));
    }

    /// <summary>The Hub's 409 text when another operation on the namespace is running and nothing was created.</summary>
    private const string BusyConflict = "Cannot create repo: another conflicting operation is in progress";

    /// <summary>How often a create refused with <see cref="BusyConflict"/> is sent before the conflict is reported.</summary>
    private const int MaxBusyConflicts = 10;

    /// <summary>The absolute <c>url</c> of a JSON error body (the Hub's 409 on an existing repository), or null.</summary>
    private static async Task<Uri?> UrlInBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
                && Uri.TryCreate(url.GetString(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
                ? uri
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Deletes a repository (<c>DELETE /api/repos/delete</c>); with <paramref name="missingOk"/> a missing one is not an error.</summary>
    public async Task DeleteRepoAsync(string repoId, RepoType repoType = RepoType.Model, bool missingOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        var (organization, name) = Split(repoId);
        using var response = await _connection.SendAsync(HttpMethod.Delete, _connection.BuildUri(HubRoutes.DeleteRepo.Expand()), RedirectPolicy.None, request =>
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
        return _connection.GetJsonAsync<WhoAmI>(_connection.BuildUri(HubRoutes.WhoAmI.Expand()), cancellationToken);
    }

    /// <summary>Creates a branch (<c>POST /api/{type}/{repo}/branch/{branch}</c>) from <paramref name="startingPoint"/> (default: the main head).</summary>
    /// <exception cref="HubConflictException">The branch exists and <paramref name="existOk"/> is false.</exception>
    public async Task CreateBranchAsync(string repoId, string branch, string? startingPoint = null, RepoType repoType = RepoType.Model, bool existOk = false, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(branch);
        var uri = _connection.BuildUri(HubRoutes.CreateBranch.Expand(repoType, repoId, branch));
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
        return _connection.GetJsonAsync<RepoRefs>(_connection.BuildUri(HubRoutes.Refs.Expand(repoType, repoId) + (includePullRequests ? "?include_prs=1" : "")), cancellationToken);
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
