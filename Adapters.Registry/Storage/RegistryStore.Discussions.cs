using System.Globalization;
using System.Security.Cryptography;
using Adapters.Registry.Storage.Metadata;

namespace Adapters.Registry.Storage;

/// <summary>
/// Discussions and pull requests. Every change runs under the repository's lock and is one metadata transaction:
/// a pull request's record and ref appear together, and a merge moves the target branch (compare-and-set), stores
/// the merge commit and marks the pull request merged at once, so a crash leaves either the old state or the new one.
/// </summary>
internal sealed partial class RegistryStore
{
    /// <summary>Titles the Hub accepts (its documented 3 to 200 characters).</summary>
    public const int MinTitleLength = 3;

    public const int MaxTitleLength = 200;

    /// <summary>Longest comment or description kept; longer ones are refused rather than stored.</summary>
    public const int MaxCommentLength = 64 * 1024;

    /// <summary>How often opening a discussion retries when another writer took its number first.</summary>
    private const int MaxNumberAttempts = 8;

    /// <summary>All discussions and pull requests of the repository, newest first.</summary>
    public IReadOnlyList<DiscussionRecord> ListDiscussions(RepoKey key)
    {
        GetRepo(key);
        return _metadata.ListDiscussions(key).OrderByDescending(d => d.Number).ToList();
    }

    public DiscussionRecord GetDiscussion(RepoKey key, int number)
    {
        GetRepo(key);
        return (number > 0 ? _metadata.FindDiscussion(key, number) : null)
            ?? throw new RegistryException(404, null, $"Discussion #{number} does not exist in {key}.");
    }

    /// <summary>
    /// Opens a discussion, or a draft pull request whose <c>refs/pr/N</c> starts at the head of
    /// the default branch, as <c>create_discussion</c> / <c>create_pull_request</c> do.
    /// </summary>
    public Task<DiscussionRecord> CreateDiscussionAsync(RepoKey key, string title, string description, string author, bool pullRequest, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () =>
        {
            var cleanTitle = CheckTitle(title);
            CheckComment(description);
            // Numbers are taken by the first writer to store them: on a clash with another replica, take the next.
            for (var attempt = 1; ; attempt++)
            {
                MetadataChange change;
                DiscussionRecord opened;
                if (!pullRequest)
                {
                    opened = new DiscussionRecord
                    {
                        Number = NextDiscussionNumber(key),
                        Title = cleanTitle,
                        Author = author,
                        CreatedAt = DateTimeOffset.UtcNow,
                        Status = DiscussionStatus.Open,
                        Events = [CommentEvent(author, description)],
                    };
                    change = new MetadataChange { Discussions = [new DiscussionWrite(opened, IsNew: true)] };
                }
                else
                {
                    var head = Resolve(key, DefaultBranch);
                    opened = NewPullRequest(key, cleanTitle, description, author, DefaultBranch, head.CommitId, DiscussionStatus.Draft, firstCommit: null);
                    change = new MetadataChange
                    {
                        Refs = [new RefUpdate(DiscussionRecord.PullRequestRef(opened.Number), Expected: null, head.CommitId)],
                        Discussions = [new DiscussionWrite(opened, IsNew: true)],
                    };
                }
                if (_metadata.TryApply(key, change)) return GetDiscussion(key, opened.Number);
                if (attempt == MaxNumberAttempts) throw new RegistryException(409, null, $"No free discussion number in {key} after {MaxNumberAttempts} attempts; try again.");
            }
        });

    public Task<DiscussionEventRecord> CommentAsync(RepoKey key, int number, string author, string comment, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () =>
        {
            if (string.IsNullOrWhiteSpace(comment)) throw RegistryException.BadRequest("A comment needs some text in 'comment'.");
            CheckComment(comment);
            var discussion = GetDiscussion(key, number);
            var added = CommentEvent(author, comment);
            WriteDiscussion(key, discussion with { Events = [.. discussion.Events, added] });
            return added;
        });

    public Task<DiscussionEventRecord> RenameAsync(RepoKey key, int number, string author, string title, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () =>
        {
            var cleanTitle = CheckTitle(title);
            var discussion = GetDiscussion(key, number);
            var change = NewEvent(DiscussionEventRecord.TitleChange, author) with { From = discussion.Title, To = cleanTitle };
            WriteDiscussion(key, discussion with { Title = cleanTitle, Events = [.. discussion.Events, change] });
            return change;
        });

    /// <summary>Opens or closes a discussion (a draft pull request opened this way becomes ready); a merged pull request stays merged.</summary>
    public Task<DiscussionEventRecord> ChangeStatusAsync(RepoKey key, int number, string author, string status, string? comment, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () =>
        {
            if (status is not (DiscussionStatus.Open or DiscussionStatus.Closed))
            {
                throw RegistryException.BadRequest($"'status' must be '{DiscussionStatus.Open}' or '{DiscussionStatus.Closed}', not '{status}'.");
            }
            if (comment is not null) CheckComment(comment);
            var discussion = GetDiscussion(key, number);
            if (discussion.Status == DiscussionStatus.Merged) throw RegistryException.BadRequest($"Pull request #{number} is merged; its status cannot change.");
            if (discussion.Status == status) throw RegistryException.BadRequest($"Discussion #{number} is already {status}.");
            var events = discussion.Events.ToList();
            if (!string.IsNullOrWhiteSpace(comment)) events.Add(CommentEvent(author, comment));
            var change = NewEvent(DiscussionEventRecord.StatusChange, author) with { Status = status };
            events.Add(change);
            WriteDiscussion(key, discussion with { Status = status, Events = events });
            return change;
        });

    public Task<DiscussionEventRecord> EditCommentAsync(RepoKey key, int number, string commentId, string content, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () =>
        {
            CheckComment(content);
            return ReplaceComment(key, number, commentId, c => c with { Content = content, NumEdits = c.NumEdits + 1, UpdatedAt = DateTimeOffset.UtcNow });
        });

    public Task<DiscussionEventRecord> HideCommentAsync(RepoKey key, int number, string commentId, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () => ReplaceComment(key, number, commentId, c => c with { Hidden = true, UpdatedAt = DateTimeOffset.UtcNow }));

    /// <summary>
    /// Merges pull request <paramref name="number"/> into its target branch with a three-way merge per file
    /// (base = the commit the pull request started from). A file changed on both sides differently is a
    /// conflict: 409 naming the files, and nothing moves. The merge commit has both heads as parents and is
    /// titled like the Hub's, "<c>title (#N)</c>".
    /// </summary>
    public Task<string> MergePullRequestAsync(RepoKey key, int number, string author, string? comment, CancellationToken cancellationToken) =>
        UnderLockAsync(key, cancellationToken, () =>
        {
            if (comment is not null) CheckComment(comment);
            var discussion = GetDiscussion(key, number);
            if (!discussion.IsPullRequest) throw RegistryException.BadRequest($"Discussion #{number} is not a pull request.");
            if (discussion.Status is DiscussionStatus.Merged or DiscussionStatus.Closed)
            {
                throw RegistryException.BadRequest($"Pull request #{number} is {discussion.Status}; only an open or draft pull request can be merged.");
            }
            var targetBranch = discussion.TargetBranch ?? DefaultBranch;
            var head = Resolve(key, targetBranch);
            var pullRequest = Resolve(key, DiscussionRecord.PullRequestRef(number));
            var baseFiles = (discussion.BaseCommit is { } baseId ? _metadata.FindCommit(key, baseId)?.Files : null) ?? head.Commit.Files;
            var files = new SortedDictionary<string, FileRecord>(head.Commit.Files, StringComparer.Ordinal);
            var touched = new List<string>();
            var conflicts = new List<string>();
            foreach (var path in baseFiles.Keys.Union(pullRequest.Commit.Files.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var before = baseFiles.GetValueOrDefault(path);
                var proposed = pullRequest.Commit.Files.GetValueOrDefault(path);
                var current = head.Commit.Files.GetValueOrDefault(path);
                if (SameContent(proposed, before) || SameContent(proposed, current)) continue;
                if (!SameContent(current, before))
                {
                    conflicts.Add(path);
                    continue;
                }
                if (proposed is null) files.Remove(path);
                else files[path] = proposed;
                if (proposed is not null) touched.Add(path);
            }
            if (conflicts.Count > 0)
            {
                throw new RegistryException(409, null, $"Pull request #{number} conflicts with {targetBranch} in {conflicts.Count} file(s): {string.Join(", ", conflicts.Take(10))}")
                {
                    BodyFields = new Dictionary<string, object?> { ["filesWithConflicts"] = conflicts },
                };
            }
            CheckNoFileFolderClash(files.Keys);
            var merge = Seal(new CommitRecord
            {
                Parents = [head.CommitId, pullRequest.CommitId],
                Title = $"{discussion.Title} (#{number})",
                Description = comment ?? "",
                Date = DateTimeOffset.UtcNow,
                Author = author,
                Files = files,
            }, touched);
            var events = discussion.Events.ToList();
            if (!string.IsNullOrWhiteSpace(comment)) events.Add(CommentEvent(author, comment));
            events.Add(NewEvent(DiscussionEventRecord.StatusChange, author) with { Status = DiscussionStatus.Merged });
            var merged = _metadata.TryApply(key, new MetadataChange
            {
                NewCommit = merge,
                Refs = [new RefUpdate(targetBranch, head.CommitId, merge.Id)],
                Discussions = [new DiscussionWrite(discussion with { Status = DiscussionStatus.Merged, MergeCommitId = merge.Id, Events = events }, IsNew: false)],
            });
            if (!merged) throw new RegistryException(409, null, $"{targetBranch} moved while pull request #{number} was being merged; merge it again.");
            return merge.Id;
        });

    /// <summary>The record of a new pull request under the next free number (the caller stores it with its ref).</summary>
    private DiscussionRecord NewPullRequest(RepoKey key, string title, string description, string author, string targetBranch, string baseCommit, string status, CommitRecord? firstCommit)
    {
        var number = NextDiscussionNumber(key);
        var events = new List<DiscussionEventRecord> { CommentEvent(author, description) };
        if (firstCommit is not null) events.Add(CommitEvent(author, firstCommit));
        return new DiscussionRecord
        {
            Number = number,
            Title = title.Length > MaxTitleLength ? title[..MaxTitleLength] : title,
            Author = author,
            CreatedAt = DateTimeOffset.UtcNow,
            IsPullRequest = true,
            Status = status,
            TargetBranch = targetBranch,
            BaseCommit = baseCommit,
            Events = events,
        };
    }

    /// <summary>The pull request of <paramref name="pullRequestRef"/> with a commit event added, to store as its ref moves; null when it has no record.</summary>
    private DiscussionRecord? PullRequestWithCommit(RepoKey key, string pullRequestRef, CommitRecord commit, string author)
    {
        if (!int.TryParse(pullRequestRef["refs/pr/".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var number)) return null;
        var discussion = _metadata.FindDiscussion(key, number);
        return discussion is null ? null : discussion with { Events = [.. discussion.Events, CommitEvent(author, commit)] };
    }

    private DiscussionEventRecord ReplaceComment(RepoKey key, int number, string commentId, Func<DiscussionEventRecord, DiscussionEventRecord> change)
    {
        var discussion = GetDiscussion(key, number);
        var events = discussion.Events.ToList();
        var index = events.FindIndex(e => e.Type == DiscussionEventRecord.Comment && string.Equals(e.Id, commentId, StringComparison.OrdinalIgnoreCase));
        if (index < 0) throw new RegistryException(404, null, $"Comment {commentId} does not exist in discussion #{number}.");
        events[index] = change(events[index]);
        WriteDiscussion(key, discussion with { Events = events });
        return events[index];
    }

    private int NextDiscussionNumber(RepoKey key)
    {
        var fromRecords = _metadata.ListDiscussions(key).Select(d => d.Number);
        // A refs/pr/N without a record (a registry written before discussions were kept) still holds N: never reuse it.
        var fromRefs = ReadRefs(key).Keys
            .Where(r => r.StartsWith("refs/pr/", StringComparison.Ordinal))
            .Select(r => int.TryParse(r["refs/pr/".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0);
        return fromRecords.Concat(fromRefs).DefaultIfEmpty(0).Max() + 1;
    }

    /// <summary>
    /// Stores an edited discussion. Edits of one discussion by two replicas at the same moment: the later one wins
    /// (the per-repository lock orders them within one process).
    /// </summary>
    private void WriteDiscussion(RepoKey key, DiscussionRecord discussion)
    {
        if (!_metadata.TryApply(key, new MetadataChange { Discussions = [new DiscussionWrite(discussion, IsNew: false)] }))
        {
            throw new RegistryException(404, null, $"Discussion #{discussion.Number} does not exist in {key}.");
        }
    }

    private async Task<T> UnderLockAsync<T>(RepoKey key, CancellationToken cancellationToken, Func<T> action)
    {
        var gate = LockOf(key);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return action();
        }
        finally
        {
            gate.Release();
        }
    }

    private static bool SameContent(FileRecord? a, FileRecord? b) =>
        a is null ? b is null : b is not null && a.Oid == b.Oid && a.Lfs == b.Lfs;

    private static string CheckTitle(string? title)
    {
        var clean = (title ?? "").Trim();
        if (clean.Length is < MinTitleLength or > MaxTitleLength || clean.Any(char.IsControl))
        {
            throw RegistryException.BadRequest($"A title must be {MinTitleLength} to {MaxTitleLength} characters on one line; got {clean.Length}.");
        }
        return clean;
    }

    private static void CheckComment(string text)
    {
        if (text.Length > MaxCommentLength) throw RegistryException.BadRequest($"A comment or description may have at most {MaxCommentLength} characters; got {text.Length}.");
    }

    private static DiscussionEventRecord NewEvent(string type, string author) => new()
    {
        Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)),
        Type = type,
        CreatedAt = DateTimeOffset.UtcNow,
        Author = author,
    };

    private static DiscussionEventRecord CommentEvent(string author, string content)
    {
        var comment = NewEvent(DiscussionEventRecord.Comment, author);
        return comment with { Content = content, UpdatedAt = comment.CreatedAt };
    }

    private static DiscussionEventRecord CommitEvent(string author, CommitRecord commit) =>
        NewEvent(DiscussionEventRecord.Commit, author) with { Subject = commit.Title, Oid = commit.Id };
}
