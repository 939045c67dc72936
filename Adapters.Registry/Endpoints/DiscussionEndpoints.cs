using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// The community API as <c>huggingface_hub</c> calls it: list, details, create (discussion or pull
/// request), comment, rename, change status, merge, edit and hide a comment, under
/// <c>/api/{type}/{repo}/discussions</c>. Reading needs read access to the repository, everything else a write token.
/// </summary>
internal static class DiscussionEndpoints
{
    /// <summary>Discussions per page of the listing (<c>?p=</c> counts pages from 0).</summary>
    public const int PageSize = 50;

    /// <summary><c>GET .../discussions?p=&amp;type=&amp;status=&amp;author=</c>: <c>{count, start, discussions}</c>, newest first.</summary>
    public static Task ListAsync(HttpContext context, ServeServices services, RepoKey key)
    {
        services.RequireRead(context, key);
        var type = HttpIo.Query(context, "type") ?? "all";
        var status = HttpIo.Query(context, "status") ?? "all";
        var author = HttpIo.Query(context, "author");
        if (type is not ("all" or "discussion" or "pull_request")) throw RegistryException.BadRequest($"'type={type}' must be all, discussion or pull_request.");
        if (status is not ("all" or "open" or "closed" or "merged" or "draft")) throw RegistryException.BadRequest($"'status={status}' must be all, open, closed, merged or draft.");
        var page = 0;
        if (HttpIo.Query(context, "p") is { } pageText && (!int.TryParse(pageText, NumberStyles.None, CultureInfo.InvariantCulture, out page) || page > 1_000_000))
        {
            throw RegistryException.BadRequest($"'p={pageText}' must be a page number from 0.");
        }
        var matching = services.Store.ListDiscussions(key)
            .Where(d => type == "all" || d.IsPullRequest == (type == "pull_request"))
            .Where(d => status == "all" || d.Status == status)
            .Where(d => author is null || string.Equals(d.Author, author, StringComparison.OrdinalIgnoreCase))
            .ToList();
        var start = page * PageSize;
        return HttpIo.WriteJsonAsync(context, new Dictionary<string, object?>
        {
            ["discussions"] = matching.Skip(start).Take(PageSize).Select(d => Summary(key, d)).ToList(),
            ["count"] = matching.Count,
            ["start"] = start,
            ["numClosedDiscussions"] = matching.Count(d => d.Status != DiscussionStatus.Open && d.Status != DiscussionStatus.Draft),
        });
    }

    /// <summary><c>GET .../discussions/{num}[?diff=1]</c>: the discussion with its events; a pull request adds <c>changes</c>, <c>filesWithConflicts</c> and the <c>diff</c>.</summary>
    public static Task DetailsAsync(HttpContext context, ServeServices services, RepoKey key, int number)
    {
        services.RequireRead(context, key);
        return HttpIo.WriteJsonAsync(context, Details(services, key, services.Store.GetDiscussion(key, number), HttpIo.QueryFlag(context, "diff")));
    }

    /// <summary><c>POST .../discussions</c> with <c>{title, description, pullRequest}</c>; answers the new discussion (with its <c>num</c>).</summary>
    public static async Task CreateAsync(HttpContext context, ServeServices services, RepoKey key)
    {
        var token = services.RequireWrite(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var pullRequest = body.TryGetProperty("pullRequest", out var flag) && flag.ValueKind == JsonValueKind.True;
        var created = await services.Store.CreateDiscussionAsync(
            key, HttpIo.String(body, "title") ?? "", HttpIo.String(body, "description") ?? "", services.AccountOf(token), pullRequest, context.RequestAborted).ConfigureAwait(false);
        var answer = Summary(key, created);
        answer["url"] = DiscussionUrl(context, key, created.Number);
        await HttpIo.WriteJsonAsync(context, answer).ConfigureAwait(false);
    }

    /// <summary><c>POST .../{num}/comment</c> with <c>{comment}</c>: answers <c>{newMessage: event}</c>.</summary>
    public static async Task CommentAsync(HttpContext context, ServeServices services, RepoKey key, int number)
    {
        var token = services.RequireWrite(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var added = await services.Store.CommentAsync(key, number, services.AccountOf(token), HttpIo.String(body, "comment") ?? "", context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteJsonAsync(context, new { newMessage = Event(added) }).ConfigureAwait(false);
    }

    /// <summary><c>POST .../{num}/title</c> with <c>{title}</c>: answers <c>{newTitle: event}</c>.</summary>
    public static async Task RenameAsync(HttpContext context, ServeServices services, RepoKey key, int number)
    {
        var token = services.RequireWrite(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var change = await services.Store.RenameAsync(key, number, services.AccountOf(token), HttpIo.String(body, "title") ?? "", context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteJsonAsync(context, new { newTitle = Event(change) }).ConfigureAwait(false);
    }

    /// <summary><c>POST .../{num}/status</c> with <c>{status: open|closed, comment?}</c>: answers <c>{newStatus: event}</c>.</summary>
    public static async Task StatusAsync(HttpContext context, ServeServices services, RepoKey key, int number)
    {
        var token = services.RequireWrite(context, key);
        var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var change = await services.Store.ChangeStatusAsync(
            key, number, services.AccountOf(token), HttpIo.String(body, "status") ?? "", HttpIo.String(body, "comment"), context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteJsonAsync(context, new { newStatus = Event(change) }).ConfigureAwait(false);
    }

    /// <summary><c>POST .../{num}/merge</c>, optionally with <c>{comment}</c>: merges the pull request into its target branch.</summary>
    public static async Task MergeAsync(HttpContext context, ServeServices services, RepoKey key, int number)
    {
        var token = services.RequireWrite(context, key);
        var body = await HttpIo.ReadOptionalJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
        var mergeCommit = await services.Store.MergePullRequestAsync(key, number, services.AccountOf(token), HttpIo.String(body, "comment"), context.RequestAborted).ConfigureAwait(false);
        await HttpIo.WriteJsonAsync(context, new { mergeCommitId = mergeCommit }).ConfigureAwait(false);
    }

    /// <summary><c>POST .../{num}/comment/{id}/edit</c> with <c>{content}</c>, or <c>.../hide</c>: answers <c>{updatedComment: event}</c>.</summary>
    public static async Task EditCommentAsync(HttpContext context, ServeServices services, RepoKey key, int number, string commentId, bool hide)
    {
        services.RequireWrite(context, key);
        DiscussionEventRecord updated;
        if (hide)
        {
            updated = await services.Store.HideCommentAsync(key, number, commentId, context.RequestAborted).ConfigureAwait(false);
        }
        else
        {
            var body = await HttpIo.ReadJsonAsync(context, context.RequestAborted).ConfigureAwait(false);
            var content = HttpIo.String(body, "content") ?? throw RegistryException.BadRequest("The request needs the comment's new text in 'content'.");
            updated = await services.Store.EditCommentAsync(key, number, commentId, content, context.RequestAborted).ConfigureAwait(false);
        }
        await HttpIo.WriteJsonAsync(context, new { updatedComment = Event(updated) }).ConfigureAwait(false);
    }

    public static int Number(string segment) =>
        int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : throw RegistryException.BadRequest($"'{segment}' is not a discussion number.");

    private static Dictionary<string, object?> Summary(RepoKey key, DiscussionRecord discussion) => new()
    {
        ["num"] = discussion.Number,
        ["title"] = discussion.Title,
        ["status"] = discussion.Status,
        ["isPullRequest"] = discussion.IsPullRequest,
        ["createdAt"] = HttpIo.Date(discussion.CreatedAt),
        ["author"] = Author(discussion.Author),
        ["repo"] = new Dictionary<string, object?> { ["name"] = key.Id, ["type"] = key.Type.Singular() },
        ["numComments"] = discussion.Events.Count(e => e.Type == DiscussionEventRecord.Comment),
        ["pinned"] = false,
    };

    private static Dictionary<string, object?> Details(ServeServices services, RepoKey key, DiscussionRecord discussion, bool withDiff)
    {
        var details = Summary(key, discussion);
        details["events"] = discussion.Events.Select(Event).ToList();
        if (discussion.IsPullRequest)
        {
            var changes = new Dictionary<string, object?> { ["base"] = "refs/heads/" + (discussion.TargetBranch ?? RegistryStore.DefaultBranch) };
            if (discussion.MergeCommitId is { } merged) changes["mergeCommitId"] = merged;
            details["changes"] = changes;
            details["filesWithConflicts"] = Array.Empty<string>();
            if (withDiff) details["diff"] = Diff(services, key, discussion);
        }
        return details;
    }

    /// <summary>
    /// A git-style summary of what the pull request changes against its base: one <c>diff --git</c> header per
    /// file with its old and new blob ids (the registry keeps file contents by hash, not line diffs).
    /// </summary>
    private static string Diff(ServeServices services, RepoKey key, DiscussionRecord discussion)
    {
        if (discussion.BaseCommit is null) return "";
        var before = services.Store.ReadCommit(key, discussion.BaseCommit).Files;
        var after = services.Store.Resolve(key, DiscussionRecord.PullRequestRef(discussion.Number)).Commit.Files;
        var text = new StringBuilder();
        foreach (var path in before.Keys.Union(after.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            var old = before.GetValueOrDefault(path);
            var @new = after.GetValueOrDefault(path);
            if (old is not null && @new is not null && old.Oid == @new.Oid) continue;
            text.Append("diff --git a/").Append(path).Append(" b/").Append(path).Append('\n');
            if (old is null) text.Append("new file mode 100644\n");
            if (@new is null) text.Append("deleted file mode 100644\n");
            text.Append("index ").Append(old?.Oid[..7] ?? "0000000").Append("..").Append(@new?.Oid[..7] ?? "0000000").Append('\n');
        }
        return text.ToString();
    }

    /// <summary>An event in the Hub's shape (what Python's <c>deserialize_event</c> reads).</summary>
    private static Dictionary<string, object?> Event(DiscussionEventRecord e)
    {
        var data = new Dictionary<string, object?>();
        switch (e.Type)
        {
            case DiscussionEventRecord.Comment:
                var raw = e.Hidden ? "" : e.Content ?? "";
                data["edited"] = e.NumEdits > 0;
                data["hidden"] = e.Hidden;
                data["numEdits"] = e.NumEdits;
                data["latest"] = new Dictionary<string, object?>
                {
                    ["raw"] = raw,
                    ["html"] = "<p>" + WebUtility.HtmlEncode(raw) + "</p>",
                    ["updatedAt"] = HttpIo.Date(e.UpdatedAt ?? e.CreatedAt),
                    ["author"] = Author(e.Author),
                };
                data["history"] = Array.Empty<object>();
                break;
            case DiscussionEventRecord.StatusChange:
                data["status"] = e.Status;
                break;
            case DiscussionEventRecord.Commit:
                data["subject"] = e.Subject;
                data["oid"] = e.Oid;
                break;
            case DiscussionEventRecord.TitleChange:
                data["from"] = e.From;
                data["to"] = e.To;
                break;
        }
        return new Dictionary<string, object?>
        {
            ["id"] = e.Id,
            ["type"] = e.Type,
            ["createdAt"] = HttpIo.Date(e.CreatedAt),
            ["author"] = Author(e.Author),
            ["data"] = data,
        };
    }

    private static Dictionary<string, object?> Author(string name) => new() { ["name"] = name, ["avatarUrl"] = "", ["type"] = "user" };

    private static string DiscussionUrl(HttpContext context, RepoKey key, int number) =>
        $"{HttpIo.BaseUrl(context)}/{key.Type.UrlPrefix()}{key.Id}/discussions/{number}";
}
