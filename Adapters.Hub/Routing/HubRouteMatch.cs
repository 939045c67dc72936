namespace Adapters.Hub.Routing;

/// <summary>
/// The values a request path gave a <see cref="HubRoute"/>'s placeholders, each percent-decoded. A value the
/// template does not name is null (<see cref="RepoType"/> is then <see cref="Adapters.Hub.RepoType.Model"/>).
/// </summary>
/// <param name="Route">The route that matched.</param>
public sealed record HubRouteMatch(HubRoute Route)
{
    /// <summary>From <c>{type}</c> or <c>{prefix}</c>.</summary>
    public RepoType RepoType { get; init; }

    /// <summary>From <c>{repo}</c> or <c>{repo}.git</c> (without <c>.git</c>): one or two segments joined by <c>/</c>.</summary>
    public string? RepoId { get; init; }

    /// <summary>From <c>{rev}</c>: a revision, or the name of a branch or tag (may contain <c>/</c> once decoded).</summary>
    public string? Revision { get; init; }

    /// <summary>From <c>{path}</c> or <c>{encodedPath}</c>: the path in the repository.</summary>
    public string? Path { get; init; }

    /// <summary>From <c>{num}</c>, as sent (the server decides whether it is a discussion number).</summary>
    public string? Number { get; init; }

    /// <summary>From <c>{commentId}</c>.</summary>
    public string? CommentId { get; init; }
}
