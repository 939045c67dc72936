namespace Adapters.Registry;

/// <summary>
/// A request the registry refuses, carried to the HTTP layer as the Hub would answer it: a status, an
/// optional <c>X-Error-Code</c> (RepoNotFound, RevisionNotFound, EntryNotFound) and a message.
/// </summary>
internal sealed class RegistryException(int statusCode, string? errorCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public string? ErrorCode { get; } = errorCode;

    /// <summary>Headers the error response must carry besides the code (e.g. <c>X-Repo-Commit</c> on EntryNotFound).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Fields of the JSON body besides <c>error</c>: clients read some (create_repo's 409 must name the repository's <c>url</c>).</summary>
    public IReadOnlyDictionary<string, object?> BodyFields { get; init; } = new Dictionary<string, object?>();

    public static RegistryException RepoNotFound(string repo) =>
        new(404, "RepoNotFound", $"Repository not found: {repo}");

    public static RegistryException RevisionNotFound(string repo, string revision) =>
        new(404, "RevisionNotFound", $"Invalid rev id: {revision} (repository {repo})");

    public static RegistryException EntryNotFound(string path, string? commit) =>
        new(404, "EntryNotFound", $"Entry not found: {path}")
        {
            Headers = commit is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["X-Repo-Commit"] = commit },
        };

    public static RegistryException BadRequest(string message) => new(400, null, message);

    /// <summary>413: a body over the route's limit, refused while it streams in.</summary>
    public static RegistryException TooLarge(string what, long limit) =>
        new(413, null, $"{what} is larger than this registry accepts ({limit} bytes).");
}
