using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Adapters.Hub.Http;
using Adapters.Hub.Routing;

namespace Adapters.Hub.Discussions;

/// <summary>
/// Discussions and pull requests of a repository (<c>/api/{type}/{repo}/discussions/...</c>), as Python's
/// <c>get_repo_discussions</c>, <c>create_discussion</c>, <c>create_pull_request</c>, <c>comment_discussion</c>,
/// <c>change_discussion_status</c>, <c>rename_discussion</c> and <c>merge_pull_request</c>. A pull request's head
/// is the revision <see cref="PullRequestRevision"/> (<c>refs/pr/N</c>): commit to it, download from it.
/// Writes are sent once (never resent by the retry pipeline), as Python sends them.
/// </summary>
public sealed class DiscussionsClient
{
    private const string DefaultDescription = "Opened from .NET with the Adapters.Hub client.";
    private readonly HubConnection _connection;

    internal DiscussionsClient(HubConnection connection) => _connection = connection;

    /// <summary>The git revision of pull request <paramref name="number"/>: <c>refs/pr/N</c>.</summary>
    public static string PullRequestRevision(int number)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return "refs/pr/" + number.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Lists discussions and pull requests, newest first, page by page (<c>?p=0,1,...</c>) until
    /// <c>start + count of page</c> reaches the total.
    /// </summary>
    /// <param name="repoId">The repository.</param>
    /// <param name="repoType">The repository type.</param>
    /// <param name="type"><c>all</c>, <c>discussion</c> or <c>pull_request</c> (default: all).</param>
    /// <param name="status"><c>all</c>, <c>open</c> or <c>closed</c> (default: all).</param>
    /// <param name="author">Only those opened by this user.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    public async IAsyncEnumerable<Discussion> ListAsync(
        string repoId,
        RepoType repoType = RepoType.Model,
        string? type = null,
        string? status = null,
        string? author = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        var filters = "";
        if (type is not null) filters += "&type=" + Uri.EscapeDataString(type);
        if (status is not null) filters += "&status=" + Uri.EscapeDataString(status);
        if (author is not null) filters += "&author=" + Uri.EscapeDataString(author);
        for (var page = 0; ; page++)
        {
            var uri = _connection.BuildUri($"{HubRoutes.ListDiscussions.Expand(repoType, repoId)}?p={page.ToString(CultureInfo.InvariantCulture)}{filters}");
            var listing = await _connection.GetJsonAsync<DiscussionPage>(uri, cancellationToken).ConfigureAwait(false);
            foreach (var discussion in listing.Discussions) yield return discussion;
            if (listing.Discussions.Count == 0 || listing.Start + listing.Discussions.Count >= listing.Count) yield break;
        }
    }

    /// <summary>A discussion or pull request with its events (<c>GET .../discussions/{num}?diff=1</c>).</summary>
    /// <exception cref="HubHttpException">404 when there is no such discussion.</exception>
    public Task<DiscussionWithDetails> GetAsync(string repoId, int number, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        RepoIds.Validate(repoId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return _connection.GetJsonAsync<DiscussionWithDetails>(_connection.BuildUri(HubRoutes.DiscussionDetails.Expand(repoType, repoId, number: number) + "?diff=1"), cancellationToken);
    }

    /// <summary>Opens a discussion (<c>POST .../discussions</c>) and returns it with its details.</summary>
    public Task<DiscussionWithDetails> CreateAsync(string repoId, string title, string? description = null, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default) =>
        CreateCoreAsync(repoId, title, description, pullRequest: false, repoType, cancellationToken);

    /// <summary>
    /// Opens a pull request (<c>POST .../discussions</c> with <c>pullRequest: true</c>); it starts as a draft,
    /// and commits to <see cref="PullRequestRevision"/> of its number add to it.
    /// </summary>
    public Task<DiscussionWithDetails> CreatePullRequestAsync(string repoId, string title, string? description = null, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default) =>
        CreateCoreAsync(repoId, title, description, pullRequest: true, repoType, cancellationToken);

    /// <summary>Adds a comment (<c>POST .../discussions/{num}/comment</c>) and returns the new comment event.</summary>
    public Task<DiscussionEvent> CommentAsync(string repoId, int number, string comment, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(comment);
        return PostEventAsync(HubRoutes.CommentDiscussion, repoId, number, null, new Dictionary<string, string> { ["comment"] = comment }, "newMessage", repoType, cancellationToken);
    }

    /// <summary>Renames a discussion (<c>POST .../discussions/{num}/title</c>) and returns the title-change event.</summary>
    public Task<DiscussionEvent> RenameAsync(string repoId, int number, string newTitle, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(newTitle);
        return PostEventAsync(HubRoutes.RenameDiscussion, repoId, number, null, new Dictionary<string, string> { ["title"] = newTitle.Trim() }, "newTitle", repoType, cancellationToken);
    }

    /// <summary>
    /// Opens or closes a discussion or pull request (<c>POST .../discussions/{num}/status</c>), optionally with
    /// a comment, and returns the status-change event.
    /// </summary>
    /// <param name="repoId">The repository.</param>
    /// <param name="number">The discussion number.</param>
    /// <param name="newStatus"><c>open</c> or <c>closed</c>.</param>
    /// <param name="comment">A comment posted with the change.</param>
    /// <param name="repoType">The repository type.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public Task<DiscussionEvent> ChangeStatusAsync(string repoId, int number, string newStatus, string? comment = null, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        var status = newStatus?.ToLowerInvariant();
        if (status is not ("open" or "closed")) throw new ArgumentException($"A discussion's status can be set to 'open' or 'closed', not '{newStatus}'.", nameof(newStatus));
        var body = new Dictionary<string, string> { ["status"] = status };
        if (comment is not null) body["comment"] = comment;
        return PostEventAsync(HubRoutes.DiscussionStatus, repoId, number, null, body, "newStatus", repoType, cancellationToken);
    }

    /// <summary>Merges a pull request into its target branch (<c>POST .../discussions/{num}/merge</c>).</summary>
    public async Task MergePullRequestAsync(string repoId, int number, string? comment = null, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        var uri = NumberUri(HubRoutes.MergePullRequest, repoId, number, null, repoType);
        object? body = comment is null ? null : new Dictionary<string, string> { ["comment"] = comment };
        using var _ = await _connection.SendJsonAsync(HttpMethod.Post, uri, body, sendOnce: true, cancellationToken).ConfigureAwait(false);
    }

    private async Task<DiscussionWithDetails> CreateCoreAsync(string repoId, string title, string? description, bool pullRequest, RepoType repoType, CancellationToken cancellationToken)
    {
        RepoIds.Validate(repoId);
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        var body = new Dictionary<string, object>
        {
            ["title"] = title.Trim(),
            ["description"] = string.IsNullOrWhiteSpace(description) ? DefaultDescription : description,
            ["pullRequest"] = pullRequest,
        };
        var uri = _connection.BuildUri(HubRoutes.CreateDiscussion.Expand(repoType, repoId));
        using var answer = await _connection.SendJsonAsync(HttpMethod.Post, uri, body, sendOnce: true, cancellationToken).ConfigureAwait(false);
        if (answer is null || answer.RootElement.ValueKind != JsonValueKind.Object || !answer.RootElement.TryGetProperty("num", out var num) || !num.TryGetInt32(out var number) || number <= 0)
        {
            throw new HubException($"{uri} created the discussion but answered no positive 'num'.");
        }
        return await GetAsync(repoId, number, repoType, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Edits a comment (<c>POST .../discussions/{num}/comment/{id}/edit</c>) and returns the updated comment event.</summary>
    public Task<DiscussionEvent> EditCommentAsync(string repoId, int number, string commentId, string newContent, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commentId);
        ArgumentException.ThrowIfNullOrWhiteSpace(newContent);
        return PostEventAsync(HubRoutes.EditComment, repoId, number, commentId, new Dictionary<string, string> { ["content"] = newContent }, "updatedComment", repoType, cancellationToken);
    }

    /// <summary>Hides a comment (<c>POST .../discussions/{num}/comment/{id}/hide</c>, no body) and returns the updated comment event.</summary>
    public Task<DiscussionEvent> HideCommentAsync(string repoId, int number, string commentId, RepoType repoType = RepoType.Model, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(commentId);
        return PostEventAsync(HubRoutes.HideComment, repoId, number, commentId, null, "updatedComment", repoType, cancellationToken);
    }

    private async Task<DiscussionEvent> PostEventAsync(HubRoute route, string repoId, int number, string? commentId, Dictionary<string, string>? body, string field, RepoType repoType, CancellationToken cancellationToken)
    {
        var uri = NumberUri(route, repoId, number, commentId, repoType);
        using var answer = await _connection.SendJsonAsync(HttpMethod.Post, uri, body, sendOnce: true, cancellationToken).ConfigureAwait(false);
        if (answer is null || answer.RootElement.ValueKind != JsonValueKind.Object || !answer.RootElement.TryGetProperty(field, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            throw new HubException($"{uri} answered without the '{field}' event.");
        }
        return element.Deserialize<DiscussionEvent>(HubConnection.JsonOptions)
            ?? throw new HubException($"{uri} answered a '{field}' that is not an event.");
    }

    private Uri NumberUri(HubRoute route, string repoId, int number, string? commentId, RepoType repoType)
    {
        RepoIds.Validate(repoId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(number);
        return _connection.BuildUri(route.Expand(repoType, repoId, number: number, commentId: commentId));
    }

    private sealed class DiscussionPage
    {
        public int Count { get; init; }
        public int Start { get; init; }
        public List<Discussion> Discussions { get; init; } = [];
    }
}
