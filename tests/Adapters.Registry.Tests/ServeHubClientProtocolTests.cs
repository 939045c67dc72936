using System.Net;
using Adapters.Hub;
using Adapters.Hub.Discussions;
using Adapters.Hub.Upload;

namespace Adapters.Registry.Tests;

/// <summary>
/// Our <see cref="HubClient"/> against a real <c>serve</c> on loopback, over real HTTP: the tag, branch, commit
/// history, discussion and pull-request methods, <c>refs/pr/N</c> as a revision, <c>create_repo</c>'s 409 and the
/// <c>X-Error-Code</c> mapping, end to end through the shared route table.
/// </summary>
public sealed class ServeHubClientProtocolTests
{
    private const string Writer = "hf_writer_token";
    private const string Reader = "read:hf_reader_token";

    private static CommitOperation Text(string path, string text) => CommitOperation.AddBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task Tags_are_created_listed_resolved_as_revisions_and_deleted_through_the_client()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/tagged");
        var first = await client.Commits.CreateCommitAsync("me/tagged", [Text("a.txt", "one")], "First");
        var second = await client.Commits.CreateCommitAsync("me/tagged", [Text("a.txt", "two")], "Second");

        await client.Repositories.CreateTagAsync("me/tagged", "v1.0", message: "release");
        await client.Repositories.CreateTagAsync("me/tagged", "v0.9", revision: first.CommitOid[..7]);
        await Assert.ThrowsAsync<HubConflictException>(() => client.Repositories.CreateTagAsync("me/tagged", "v1.0"));
        await client.Repositories.CreateTagAsync("me/tagged", "v1.0", existOk: true);
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => client.Repositories.CreateTagAsync("me/tagged", "v2", revision: "no-such-branch"));

        var refs = await client.Repositories.ListRefsAsync("me/tagged");
        Assert.Equal(["v0.9", "v1.0"], refs.Tags.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal(("refs/tags/v1.0", second.CommitOid), refs.Tags.Where(t => t.Name == "v1.0").Select(t => (t.Ref, t.TargetCommit)).Single());
        Assert.Equal(first.CommitOid, refs.Tags.Single(t => t.Name == "v0.9").TargetCommit);

        // A tag is a revision for info, downloads and snapshots.
        Assert.Equal(first.CommitOid, (await client.Repositories.RepoInfoAsync("me/tagged", revision: "v0.9")).Sha);
        var reader = host.Client(Writer);
        Assert.Equal("one", await File.ReadAllTextAsync(await reader.Files.DownloadFileAsync("me/tagged", "a.txt", revision: "refs/tags/v0.9")));
        Assert.Equal(first.CommitOid, (await reader.Files.SnapshotDownloadAsync("me/tagged", revision: "v0.9")).CommitHash);

        await client.Repositories.DeleteTagAsync("me/tagged", "v1.0");
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => client.Repositories.DeleteTagAsync("me/tagged", "v1.0"));
        Assert.Equal(["v0.9"], (await client.Repositories.ListRefsAsync("me/tagged")).Tags.Select(t => t.Name));
    }

    [Fact]
    public async Task Commit_history_is_newest_first_across_link_pages()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/history");
        var commits = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            commits.Add((await client.Commits.CreateCommitAsync("me/history", [Text("n.txt", $"{i}")], $"Commit {i}", new CommitOptions { Description = $"body {i}" })).CommitOid);
        }

        // Two per page: the five commits and the repository's initial one come over three Link-chained pages.
        var history = await client.Repositories.ListCommitsAsync("me/history", pageSize: 2).ToListAsync();
        var unpaged = await client.Repositories.ListCommitsAsync("me/history").ToListAsync();

        Assert.Equal(unpaged.Select(c => c.Id), history.Select(c => c.Id));
        Assert.Equal(Enumerable.Reverse(commits), history.Take(5).Select(c => c.Id));
        Assert.Equal(6, history.Count);
        Assert.Equal(("Commit 5", "body 5"), (history[0].Title, history[0].Message));
        Assert.All(history, c => Assert.NotNull(c.Date));
        Assert.Equal(commits[1], (await client.Repositories.ListCommitsAsync("me/history", revision: commits[1]).FirstAsync()).Id);
        await Assert.ThrowsAsync<RevisionNotFoundException>(async () => await client.Repositories.ListCommitsAsync("me/history", revision: "nope").ToListAsync());
    }

    [Fact]
    public async Task Branches_are_created_from_a_starting_point_committed_to_and_deleted()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/branched");
        var first = await client.Commits.CreateCommitAsync("me/branched", [Text("a.txt", "one")], "First");
        await client.Commits.CreateCommitAsync("me/branched", [Text("a.txt", "two")], "Second");

        await client.Repositories.CreateBranchAsync("me/branched", "feature/x", startingPoint: first.CommitOid);
        await Assert.ThrowsAsync<HubConflictException>(() => client.Repositories.CreateBranchAsync("me/branched", "feature/x"));
        await client.Repositories.CreateBranchAsync("me/branched", "feature/x", existOk: true);
        var onBranch = await client.Commits.CreateCommitAsync("me/branched", [Text("b.txt", "branch")], "On the branch", new CommitOptions { Revision = "feature/x" });

        var refs = await client.Repositories.ListRefsAsync("me/branched");
        Assert.Equal(onBranch.CommitOid, refs.Branches.Single(b => b.Name == "feature/x").TargetCommit);
        Assert.Equal("one", await File.ReadAllTextAsync(await client.Files.DownloadFileAsync("me/branched", "a.txt", revision: "feature/x")));
        Assert.Equal("two", await File.ReadAllTextAsync(await client.Files.DownloadFileAsync("me/branched", "a.txt")));

        await client.Repositories.DeleteBranchAsync("me/branched", "feature/x");
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => client.Repositories.DeleteBranchAsync("me/branched", "feature/x"));
        Assert.Equal(["main"], (await client.Repositories.ListRefsAsync("me/branched")).Branches.Select(b => b.Name));
    }

    [Fact]
    public async Task Discussions_and_a_pull_request_go_from_creation_to_merge_with_refs_pr_as_a_revision()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/community");
        await client.Commits.CreateCommitAsync("me/community", [Text("README.md", "# base\n")], "Base");

        var discussion = await client.Discussions.CreateAsync("me/community", "  A question  ", "How do I load this?");
        Assert.Equal((1, "A question", "open", false), (discussion.Num, discussion.Title, discussion.Status, discussion.IsPullRequest));
        var comment = await client.Discussions.CommentAsync("me/community", 1, "Like this.");
        Assert.Equal("comment", comment.Type);
        var edited = await client.Discussions.EditCommentAsync("me/community", 1, comment.Id, "Like that.");
        Assert.Equal("Like that.", edited.Data.GetProperty("latest").GetProperty("raw").GetString());
        var hidden = await client.Discussions.HideCommentAsync("me/community", 1, comment.Id);
        Assert.True(hidden.Data.GetProperty("hidden").GetBoolean());
        Assert.Equal("title-change", (await client.Discussions.RenameAsync("me/community", 1, "Loading question")).Type);
        Assert.Equal("status-change", (await client.Discussions.ChangeStatusAsync("me/community", 1, "closed", comment: "Answered")).Type);

        var pr = await client.Discussions.CreatePullRequestAsync("me/community", "Add weights");
        Assert.Equal((2, "draft", true), (pr.Num, pr.Status, pr.IsPullRequest));
        Assert.Equal("refs/heads/main", pr.Changes!.Base);
        var revision = DiscussionsClient.PullRequestRevision(pr.Num);
        Assert.Equal("refs/pr/2", revision);
        var prCommit = await client.Commits.CreateCommitAsync("me/community", [Text("weights.txt", "w")], "Weights", new CommitOptions { Revision = revision });

        // refs/pr/2 is a revision for downloads and is listed with include_prs only.
        Assert.Equal("w", await File.ReadAllTextAsync(await host.Client(Writer).Files.DownloadFileAsync("me/community", "weights.txt", revision: revision)));
        Assert.Equal(prCommit.CommitOid, (await client.Repositories.ListRefsAsync("me/community", includePullRequests: true)).PullRequests.Single(r => r.Ref == revision).TargetCommit);
        Assert.Empty((await client.Repositories.ListRefsAsync("me/community")).PullRequests);
        Assert.Contains("weights.txt", (await client.Discussions.GetAsync("me/community", 2)).Diff ?? "", StringComparison.Ordinal);
        await Assert.ThrowsAsync<EntryNotFoundException>(() => host.Client(Writer).Files.DownloadFileAsync("me/community", "weights.txt"));

        Assert.Equal("status-change", (await client.Discussions.ChangeStatusAsync("me/community", 2, "open")).Type);
        await client.Discussions.MergePullRequestAsync("me/community", 2, comment: "Thanks");

        var merged = await client.Discussions.GetAsync("me/community", 2);
        Assert.Equal("merged", merged.Status);
        Assert.Matches("^[0-9a-f]{40}$", merged.Changes!.MergeCommitId);
        Assert.Equal(merged.Changes.MergeCommitId, (await client.Repositories.RepoInfoAsync("me/community")).Sha);
        Assert.Equal("w", await File.ReadAllTextAsync(await host.Client(Writer).Files.DownloadFileAsync("me/community", "weights.txt")));

        var all = await client.Discussions.ListAsync("me/community").ToListAsync();
        Assert.Equal([2, 1], all.Select(d => d.Num));
        Assert.Equal([2], (await client.Discussions.ListAsync("me/community", type: "pull_request").ToListAsync()).Select(d => d.Num));
        Assert.Equal([1], (await client.Discussions.ListAsync("me/community", status: "closed").ToListAsync()).Select(d => d.Num));
        var events = (await client.Discussions.GetAsync("me/community", 1)).Events.Select(e => e.Type).ToList();
        Assert.Contains("title-change", events);
        Assert.True(events.IndexOf("title-change") < events.LastIndexOf("status-change"), string.Join(", ", events));
        Assert.Contains(comment.Id, (await client.Discussions.GetAsync("me/community", 1)).Events.Select(e => e.Id));
    }

    [Fact]
    public async Task A_commit_with_create_pr_opens_a_pull_request_whose_revision_takes_further_commits()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var client = host.Client(Writer);
        await client.Repositories.CreateRepoAsync("me/prs");
        await client.Commits.CreateCommitAsync("me/prs", [Text("a.txt", "base")], "Base");

        var opened = await client.Commits.CreateCommitAsync("me/prs", [Text("a.txt", "proposed")], "Propose", new CommitOptions { CreatePullRequest = true });
        Assert.Equal("refs/pr/1", opened.PullRequestRevision);
        Assert.EndsWith("/me/prs/discussions/1", opened.PullRequestUrl, StringComparison.Ordinal);
        var more = await client.Commits.CreateCommitAsync("me/prs", [Text("b.txt", "more")], "More", new CommitOptions { Revision = opened.PullRequestRevision });

        var onPr = await host.Client(Writer).Files.SnapshotDownloadAsync("me/prs", revision: "refs/pr/1");
        Assert.Equal(more.CommitOid, onPr.CommitHash);
        Assert.Equal("proposed", await File.ReadAllTextAsync(Path.Combine(onPr.Path, "a.txt")));
        Assert.Equal("base", await File.ReadAllTextAsync(await host.Client(Writer).Files.DownloadFileAsync("me/prs", "a.txt")));
        Assert.Equal(more.CommitOid, (await client.Repositories.ListCommitsAsync("me/prs", revision: "refs/pr/1").FirstAsync()).Id);
    }

    [Fact]
    public async Task Create_repo_returns_the_url_of_the_409_body_with_exist_ok_and_is_a_conflict_without()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer]);
        var client = host.Client(Writer);

        var created = await client.Repositories.CreateRepoAsync("me/exists");
        var again = await client.Repositories.CreateRepoAsync("me/exists", existOk: true);
        var dataset = await client.Repositories.CreateRepoAsync("set", RepoType.Dataset);
        var datasetAgain = await client.Repositories.CreateRepoAsync("set", RepoType.Dataset, existOk: true);

        Assert.Equal(new Uri(host.Server.Endpoint, "me/exists"), created);
        Assert.Equal(created, again);
        Assert.Equal(new Uri(host.Server.Endpoint, "datasets/set"), datasetAgain);
        Assert.Equal(dataset, datasetAgain);
        var conflict = await Assert.ThrowsAsync<HubConflictException>(() => client.Repositories.CreateRepoAsync("me/exists"));
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Contains("already", conflict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_error_serve_answers_maps_to_the_type_python_raises_over_plain_http()
    {
        await using var host = await ServeTestHost.StartAsync(tokens: [Writer, Reader]);
        var writer = host.Client(Writer);
        await writer.Repositories.CreateRepoAsync("me/private", isPrivate: true);
        await writer.Repositories.CreateRepoAsync("me/public");
        await writer.Commits.CreateCommitAsync("me/public", [Text("a.txt", "a")], "A");

        // http://127.0.0.1: Python folds nothing by URL there, so each of these needs serve's X-Error-Code.
        var anonymous = host.Client();
        var hidden = await Assert.ThrowsAsync<RepositoryNotFoundException>(() => anonymous.Repositories.RepoInfoAsync("me/private"));
        Assert.Equal(HttpStatusCode.Unauthorized, hidden.StatusCode);
        Assert.Equal("RepoNotFound", hidden.ErrorCode);
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => anonymous.Files.DownloadFileAsync("me/private", "a.txt"));
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => writer.Repositories.ListRefsAsync("me/absent"));
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => writer.Repositories.RepoInfoAsync("me/public", revision: "no-such-branch"));
        await Assert.ThrowsAsync<EntryNotFoundException>(() => writer.Files.DownloadFileAsync("me/public", "missing.txt"));

        // A wrong token is the plain 401 Python keeps (its message says so), not a missing repository.
        var wrongToken = await Assert.ThrowsAsync<HubHttpException>(() => host.Client("hf_wrong").Repositories.RepoInfoAsync("me/public"));
        Assert.Equal((typeof(HubHttpException), HttpStatusCode.Unauthorized), (wrongToken.GetType(), wrongToken.StatusCode));
        // A read token may not write: 403, a plain HTTP error.
        var readOnly = await Assert.ThrowsAsync<HubHttpException>(() => host.Client("hf_reader_token").Repositories.CreateTagAsync("me/public", "v1"));
        Assert.Equal(HttpStatusCode.Forbidden, readOnly.StatusCode);
        await Assert.ThrowsAsync<BadRequestException>(() => writer.Repositories.CreateTagAsync("me/public", "has space"));
    }
}
