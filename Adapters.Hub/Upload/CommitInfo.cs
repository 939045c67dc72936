namespace Adapters.Hub.Upload;

/// <summary>The result of a commit.</summary>
/// <param name="CommitOid">The new commit's id; when nothing changed, the branch's current head.</param>
/// <param name="CommitUrl">The commit's page on the Hub.</param>
/// <param name="PullRequestUrl">The pull request's page, when the commit opened one.</param>
/// <param name="PullRequestRevision">The pull request's ref (<c>refs/pr/N</c>), when the commit opened one.</param>
/// <param name="IsEmpty">True when every file was already there with the same content and no commit was made.</param>
public sealed record CommitInfo(string CommitOid, string? CommitUrl, string? PullRequestUrl, string? PullRequestRevision, bool IsEmpty = false);
