namespace Adapters.Hub.Routing;

/// <summary>
/// The Hub's URL space, defined once: <see cref="HubClient"/>'s resource clients build their URLs from these
/// routes and <c>adapters-hub serve</c> registers its handlers against them, so client and server cannot drift
/// apart. Templates, methods and encodings follow <c>huggingface_hub</c> (hf-hub-protocol.md §0,
/// hf-hub-protocol-2026.md §1-§8). Query strings are not part of a route; callers add them.
/// </summary>
public static class HubRoutes
{
    /// <summary><c>HEAD|GET /{prefix}/{repo}/resolve/{rev}/{path}</c>: file metadata and bytes (<c>hf_hub_download</c>).</summary>
    public static HubRoute ResolveFile { get; } = new("resolve-file", "{prefix}/{repo}/resolve/{rev}/{path}", "GET", "HEAD");

    /// <summary><c>HEAD|GET /{prefix}/{repo}/raw/{rev}/{path}</c>: the git blob itself (an LFS file's pointer).</summary>
    public static HubRoute RawFile { get; } = new("raw-file", "{prefix}/{repo}/raw/{rev}/{path}", "GET", "HEAD");

    /// <summary><c>GET /api/{type}</c>: search (<c>list_models</c>, <c>list_datasets</c>, <c>list_spaces</c>).</summary>
    public static HubRoute ListRepos { get; } = new("list-repos", "api/{type}", "GET", "HEAD");

    /// <summary><c>GET /api/{type}/{repo}</c>: repository info at the default branch.</summary>
    public static HubRoute RepoInfo { get; } = new("repo-info", "api/{type}/{repo}", "GET", "HEAD");

    /// <summary><c>GET /api/{type}/{repo}/revision/{rev}</c>: repository info at a revision.</summary>
    public static HubRoute RepoInfoAtRevision { get; } = new("repo-info-at-revision", "api/{type}/{repo}/revision/{rev}", "GET", "HEAD");

    /// <summary><c>GET /api/{type}/{repo}/tree/{rev}</c>: the tree listing from the root (<c>list_repo_tree</c>).</summary>
    public static HubRoute Tree { get; } = new("tree", "api/{type}/{repo}/tree/{rev}", "GET");

    /// <summary><c>GET /api/{type}/{repo}/tree/{rev}/{encodedPath}</c>: the listing of a folder (Python encodes its <c>/</c>).</summary>
    public static HubRoute TreeAtPath { get; } = new("tree-at-path", "api/{type}/{repo}/tree/{rev}/{encodedPath}", "GET");

    /// <summary><c>POST /api/{type}/{repo}/paths-info/{rev}</c> (<c>get_paths_info</c>).</summary>
    public static HubRoute PathsInfo { get; } = new("paths-info", "api/{type}/{repo}/paths-info/{rev}", "POST");

    /// <summary><c>GET /api/{type}/{repo}/refs</c> (<c>list_repo_refs</c>).</summary>
    public static HubRoute Refs { get; } = new("refs", "api/{type}/{repo}/refs", "GET");

    /// <summary><c>POST /api/{type}/{repo}/branch/{rev}</c> creates the branch named by <c>{rev}</c>.</summary>
    public static HubRoute CreateBranch { get; } = new("create-branch", "api/{type}/{repo}/branch/{rev}", "POST");

    /// <summary><c>DELETE /api/{type}/{repo}/branch/{rev}</c> deletes the branch named by <c>{rev}</c>.</summary>
    public static HubRoute DeleteBranch { get; } = new("delete-branch", "api/{type}/{repo}/branch/{rev}", "DELETE");

    /// <summary><c>POST /api/{type}/{repo}/tag/{rev}</c> tags the revision <c>{rev}</c> (the tag's name is in the body).</summary>
    public static HubRoute CreateTag { get; } = new("create-tag", "api/{type}/{repo}/tag/{rev}", "POST");

    /// <summary><c>DELETE /api/{type}/{repo}/tag/{rev}</c> deletes the tag named by <c>{rev}</c>.</summary>
    public static HubRoute DeleteTag { get; } = new("delete-tag", "api/{type}/{repo}/tag/{rev}", "DELETE");

    /// <summary><c>GET /api/{type}/{repo}/commits/{rev}</c> (<c>list_repo_commits</c>, paginated by <c>Link</c>).</summary>
    public static HubRoute Commits { get; } = new("commits", "api/{type}/{repo}/commits/{rev}", "GET");

    /// <summary><c>POST /api/{type}/{repo}/super-squash/{rev}</c> (<c>super_squash_history</c>).</summary>
    public static HubRoute SuperSquash { get; } = new("super-squash", "api/{type}/{repo}/super-squash/{rev}", "POST");

    /// <summary><c>POST /api/{type}/{repo}/preupload/{rev}</c>: upload modes before a commit.</summary>
    public static HubRoute Preupload { get; } = new("preupload", "api/{type}/{repo}/preupload/{rev}", "POST");

    /// <summary><c>POST /api/{type}/{repo}/commit/{rev}</c>: an NDJSON commit (<c>create_commit</c>).</summary>
    public static HubRoute Commit { get; } = new("commit", "api/{type}/{repo}/commit/{rev}", "POST");

    /// <summary><c>POST /{prefix}/{repo}.git/info/lfs/objects/batch</c>: the git-LFS batch API.</summary>
    public static HubRoute LfsBatch { get; } = new("lfs-batch", "{prefix}/{repo}.git/info/lfs/objects/batch", "POST");

    /// <summary><c>POST /{prefix}/{repo}.git/info/lfs/objects/verify</c>: the git-LFS verify action.</summary>
    public static HubRoute LfsVerify { get; } = new("lfs-verify", "{prefix}/{repo}.git/info/lfs/objects/verify", "POST");

    /// <summary><c>GET /api/{type}/{repo}/discussions</c> (<c>get_repo_discussions</c>, pages by <c>?p=</c>).</summary>
    public static HubRoute ListDiscussions { get; } = new("list-discussions", "api/{type}/{repo}/discussions", "GET");

    /// <summary><c>POST /api/{type}/{repo}/discussions</c>: a new discussion or pull request.</summary>
    public static HubRoute CreateDiscussion { get; } = new("create-discussion", "api/{type}/{repo}/discussions", "POST");

    /// <summary><c>GET /api/{type}/{repo}/discussions/{num}</c> (<c>get_discussion_details</c>).</summary>
    public static HubRoute DiscussionDetails { get; } = new("discussion-details", "api/{type}/{repo}/discussions/{num}", "GET");

    /// <summary><c>POST /api/{type}/{repo}/discussions/{num}/comment</c>.</summary>
    public static HubRoute CommentDiscussion { get; } = new("comment-discussion", "api/{type}/{repo}/discussions/{num}/comment", "POST");

    /// <summary><c>POST /api/{type}/{repo}/discussions/{num}/title</c>.</summary>
    public static HubRoute RenameDiscussion { get; } = new("rename-discussion", "api/{type}/{repo}/discussions/{num}/title", "POST");

    /// <summary><c>POST /api/{type}/{repo}/discussions/{num}/status</c>.</summary>
    public static HubRoute DiscussionStatus { get; } = new("discussion-status", "api/{type}/{repo}/discussions/{num}/status", "POST");

    /// <summary><c>POST /api/{type}/{repo}/discussions/{num}/merge</c>: merges a pull request into its target branch.</summary>
    public static HubRoute MergePullRequest { get; } = new("merge-pull-request", "api/{type}/{repo}/discussions/{num}/merge", "POST");

    /// <summary><c>POST /api/{type}/{repo}/discussions/{num}/comment/{commentId}/edit</c>.</summary>
    public static HubRoute EditComment { get; } = new("edit-comment", "api/{type}/{repo}/discussions/{num}/comment/{commentId}/edit", "POST");

    /// <summary><c>POST /api/{type}/{repo}/discussions/{num}/comment/{commentId}/hide</c>.</summary>
    public static HubRoute HideComment { get; } = new("hide-comment", "api/{type}/{repo}/discussions/{num}/comment/{commentId}/hide", "POST");

    /// <summary><c>GET /api/whoami-v2</c>.</summary>
    public static HubRoute WhoAmI { get; } = new("whoami", "api/whoami-v2", "GET");

    /// <summary><c>POST /api/validate-yaml</c>: the README metadata check <c>create_commit</c> makes.</summary>
    public static HubRoute ValidateYaml { get; } = new("validate-yaml", "api/validate-yaml", "POST");

    /// <summary><c>POST /api/repos/create</c>.</summary>
    public static HubRoute CreateRepo { get; } = new("create-repo", "api/repos/create", "POST");

    /// <summary><c>DELETE /api/repos/delete</c> (the repository is named in the JSON body).</summary>
    public static HubRoute DeleteRepo { get; } = new("delete-repo", "api/repos/delete", "DELETE");

    /// <summary>Every route above, in the order a server should try them.</summary>
    public static IReadOnlyList<HubRoute> All { get; } =
    [
        WhoAmI, ValidateYaml, CreateRepo, DeleteRepo, ListRepos, RepoInfo, RepoInfoAtRevision, Tree, TreeAtPath, PathsInfo,
        Refs, CreateBranch, DeleteBranch, CreateTag, DeleteTag, Commits, SuperSquash, Preupload, Commit,
        ListDiscussions, CreateDiscussion, DiscussionDetails, CommentDiscussion, RenameDiscussion, DiscussionStatus,
        MergePullRequest, EditComment, HideComment, LfsBatch, LfsVerify, ResolveFile, RawFile,
    ];

    /// <summary>
    /// Every (route, values) reading of a request path across <paramref name="routes"/> (default <see cref="All"/>)
    /// that allows <paramref name="method"/>; see <see cref="HubRoute.Match"/>.
    /// </summary>
    public static IReadOnlyList<HubRouteMatch> MatchAll(string method, IReadOnlyList<string> segments, IEnumerable<HubRoute>? routes = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        return (routes ?? All).Where(r => r.Allows(method)).SelectMany(r => r.Match(segments)).ToList();
    }
}
