using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Adapters.Hub;
using Adapters.Registry.Tests.Backends;

namespace Adapters.Registry.Tests;

/// <summary>
/// The calls of issue 17's "Done means", reproduced over real HTTP as <c>huggingface_hub</c> 0.36 / 1.x sends
/// them (method, path, body, headers), and answered in the shapes its parsers read
/// (see hf-hub-protocol-2026.md §1-§5 and §9).
/// </summary>
public abstract partial class ServePythonProtocolTests(RegistryBackend backend) : BackendSuite(backend)
{
    private const string Writer = "hf_writer_token";

    [Fact]
    public async Task Create_repo_with_exist_ok_gets_a_409_whose_body_names_the_url_in_both_client_versions()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);

        // 1.x: visibility, organization split off the name.
        var created = await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "exists", organization = "me", visibility = "public" }));
        Assert.Equal($"{wire.BaseUrl}/me/exists", created.GetProperty("url").GetString());
        Assert.Equal("me/exists", created.GetProperty("name").GetString());
        Assert.Matches("^[0-9a-f]{24}$", created.GetProperty("id").GetString());

        // 1.x again, then 0.36 ("private": false) and a dataset: each 409 carries error and url (RepoUrl(d["url"])).
        using var again = await wire.PostJsonAsync("/api/repos/create", new { name = "exists", organization = "me", visibility = "public" });
        var conflict = await PythonWire.ErrorOf(again, 409);
        Assert.Equal($"{wire.BaseUrl}/me/exists", conflict.GetProperty("url").GetString());
        Assert.Contains("already created", conflict.GetProperty("error").GetString());
        Assert.StartsWith("application/json", again.Content.Headers.ContentType!.ToString());
        var legacy = await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/repos/create", new { name = "exists", organization = "me", @private = false }), 409);
        Assert.Equal($"{wire.BaseUrl}/me/exists", legacy.GetProperty("url").GetString());
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "set", organization = (string?)null, type = "dataset" }));
        var dataset = await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/repos/create", new { name = "set", organization = (string?)null, type = "dataset" }), 409);
        Assert.Equal($"{wire.BaseUrl}/datasets/set", dataset.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Upload_large_folder_requests_create_preupload_lfs_and_commit_and_the_files_come_back()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        // upload_large_folder starts with create_repo(exist_ok=True), twice when resumed: the 409 must carry the url.
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "large", organization = "me" }));
        Assert.Equal($"{wire.BaseUrl}/me/large", (await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/repos/create", new { name = "large", organization = "me" }), 409)).GetProperty("url").GetString());

        // 0.36 with hf_xet installed then asks repo_info(revision, expand="xetEnabled"): no true xetEnabled, so it
        // keeps LFS batches of one file (1.x dropped the field and the call).
        var info = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/large/revision/main?expand=xetEnabled"));
        Assert.False(info.TryGetProperty("xetEnabled", out var xet) && xet.ValueKind == JsonValueKind.True);

        var weights = RandomNumberGenerator.GetBytes(200_000);
        var oid = Convert.ToHexStringLower(SHA256.HashData(weights));
        var config = "{\"r\": 8}";
        var modes = await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/large/preupload/main", new
        {
            files = new object[]
            {
                new { path = "weights.safetensors", sample = Convert.ToBase64String(weights[..512]), size = weights.Length },
                new { path = "config.json", sample = Convert.ToBase64String(Encoding.UTF8.GetBytes(config)), size = config.Length },
            },
        }));
        var uploadModes = modes.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("path").GetString()!, f => f.GetProperty("uploadMode").GetString());
        Assert.Equal("lfs", uploadModes["weights.safetensors"]);
        Assert.Equal("regular", uploadModes["config.json"]);

        var batchBody = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(new
        {
            operation = "upload",
            transfers = new[] { "basic", "multipart" },
            objects = new[] { new { oid, size = weights.Length } },
            hash_algo = "sha256",
            @ref = new { name = "main" },
        }));
        batchBody.Headers.ContentType = new MediaTypeHeaderValue("application/vnd.git-lfs+json");
        var batch = await PythonWire.JsonOf(await wire.SendAsync(HttpMethod.Post, "/me/large.git/info/lfs/objects/batch", batchBody));
        var actions = batch.GetProperty("objects")[0].GetProperty("actions");
        using (var upload = new HttpClient())
        {
            (await upload.PutAsync(actions.GetProperty("upload").GetProperty("href").GetString(), new ByteArrayContent(weights))).EnsureSuccessStatusCode();
        }
        await PythonWire.JsonOf(await wire.PostJsonAsync(new Uri(actions.GetProperty("verify").GetProperty("href").GetString()!).AbsolutePath, new { oid, size = weights.Length }));
        var commit = await PythonWire.JsonOf(await wire.CommitAsync("me/large", "main", "Add files using upload-large-folder tool",
        [
            PythonWire.File("config.json", config),
            new { key = "lfsFile", value = new { path = "weights.safetensors", algo = "sha256", oid, size = weights.Length } },
        ]));
        var commitOid = commit.GetProperty("commitOid").GetString()!;
        Assert.Equal($"{wire.BaseUrl}/me/large/commit/{commitOid}", commit.GetProperty("commitUrl").GetString());

        // A resumed run asks preupload again: unchanged files come back with their oid (so they are skipped).
        var resumed = await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/large/preupload/main", new
        {
            files = new[] { new { path = "weights.safetensors", sample = Convert.ToBase64String(weights[..512]), size = weights.Length } },
        }));
        Assert.Equal(oid, resumed.GetProperty("files")[0].GetProperty("oid").GetString());

        var snapshot = await host.Client(Writer).Files.SnapshotDownloadAsync("me/large");
        Assert.Equal(commitOid, snapshot.CommitHash);
        Assert.Equal(weights, await File.ReadAllBytesAsync(Path.Combine(snapshot.Path, "weights.safetensors")));
        Assert.Equal(config, await File.ReadAllTextAsync(Path.Combine(snapshot.Path, "config.json")));
    }

    [Fact]
    public async Task Tags_are_created_listed_in_refs_resolvable_as_revisions_and_deleted()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "tagged", organization = "me" }));
        var first = (await PythonWire.JsonOf(await wire.CommitAsync("me/tagged", "main", "First", [PythonWire.File("a.txt", "one")]))).GetProperty("commitOid").GetString()!;
        var second = (await PythonWire.JsonOf(await wire.CommitAsync("me/tagged", "main", "Second", [PythonWire.File("a.txt", "two")]))).GetProperty("commitOid").GetString()!;

        // create_tag(repo, tag="v1.0", tag_message=..., revision=None) tags main; a 7-hex short id works too.
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/tagged/tag/main", new { tag = "v1.0", message = "first release" }));
        await PythonWire.JsonOf(await wire.PostJsonAsync($"/api/models/me/tagged/tag/{first[..7]}", new { tag = "v0.9" }));
        var duplicate = await wire.PostJsonAsync("/api/models/me/tagged/tag/main", new { tag = "v1.0" });
        await PythonWire.ErrorOf(duplicate, 409);
        var missingRevision = await wire.PostJsonAsync("/api/models/me/tagged/tag/no-such-branch", new { tag = "v2" });
        await PythonWire.ErrorOf(missingRevision, 404);
        Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(missingRevision));
        await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/models/me/tagged/tag/main", new { tag = "has space" }), 400);

        var refs = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/tagged/refs"));
        Assert.Equal(JsonValueKind.Array, refs.GetProperty("converts").ValueKind);
        Assert.False(refs.TryGetProperty("pullRequests", out _));
        var tags = refs.GetProperty("tags").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => (Ref: t.GetProperty("ref").GetString(), Target: t.GetProperty("targetCommit").GetString()));
        Assert.Equal(("refs/tags/v1.0", second), tags["v1.0"]);
        Assert.Equal(("refs/tags/v0.9", first), tags["v0.9"]);
        Assert.Equal(["main"], refs.GetProperty("branches").EnumerateArray().Select(b => b.GetProperty("name").GetString()));

        // model_info(revision="v0.9"), hf_hub_download(revision="refs/tags/v0.9") and the client's snapshot.
        Assert.Equal(first, (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/tagged/revision/v0.9"))).GetProperty("sha").GetString());
        using (var resolved = await wire.GetAsync($"/me/tagged/resolve/{Uri.EscapeDataString("refs/tags/v0.9")}/a.txt"))
        {
            Assert.Equal("one", await resolved.Content.ReadAsStringAsync());
            Assert.Equal(first, resolved.Headers.GetValues("X-Repo-Commit").Single());
        }
        var snapshot = await host.Client(Writer).Files.SnapshotDownloadAsync("me/tagged", revision: "v0.9");
        Assert.Equal(first, snapshot.CommitHash);

        // A commit cannot move a tag.
        await PythonWire.ErrorOf(await wire.CommitAsync("me/tagged", "refs/tags/v0.9", "Move the tag", [PythonWire.File("b.txt", "x")]), 404);

        await PythonWire.JsonOf(await wire.DeleteAsync($"/api/models/me/tagged/tag/{Uri.EscapeDataString("v1.0")}"));
        using var deletedAgain = await wire.DeleteAsync("/api/models/me/tagged/tag/v1.0");
        await PythonWire.ErrorOf(deletedAgain, 404);
        Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(deletedAgain));
        // The branch route does not delete tags.
        await PythonWire.ErrorOf(await wire.DeleteAsync($"/api/models/me/tagged/branch/{Uri.EscapeDataString("refs/tags/v0.9")}"), 404);
        var after = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/tagged/refs"));
        Assert.Equal(["v0.9"], after.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task List_repo_commits_is_newest_first_and_paginated_with_an_absolute_link_python_follows()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "history", organization = "me" }));
        var made = new List<string>();
        for (var i = 1; i <= 5; i++)
        {
            made.Add((await PythonWire.JsonOf(await wire.CommitAsync("me/history", "main", $"Commit <{i}>", [PythonWire.File($"f{i}.txt", $"{i}")]))).GetProperty("commitOid").GetString()!);
        }

        // Python: paginate() sends the first request with its params, then follows Link rel="next" verbatim.
        var items = new List<JsonElement>();
        var url = "/api/models/me/history/commits/main?limit=2&expand%5B%5D=formatted";
        var pages = 0;
        while (url is not null)
        {
            using var response = await wire.GetAsync(url);
            items.AddRange((await PythonWire.JsonOf(response)).EnumerateArray());
            Assert.Equal("6", response.Headers.GetValues("X-Total-Count").Single());
            pages++;
            url = null;
            if (response.Headers.TryGetValues("Link", out var links))
            {
                var next = LinkPattern().Match(links.Single());
                Assert.True(next.Success, links.Single());
                Assert.Equal("next", next.Groups[2].Value);
                url = new Uri(next.Groups[1].Value).PathAndQuery;
            }
        }
        Assert.Equal(3, pages);
        Assert.Equal(((IEnumerable<string>)made).Reverse(), items.Take(5).Select(i => i.GetProperty("id").GetString()!));
        var newest = items[0];
        Assert.Equal("Commit <5>", newest.GetProperty("title").GetString());
        Assert.Equal("Commit &lt;5&gt;", newest.GetProperty("formatted").GetProperty("title").GetString());
        Assert.True(DateTimeOffset.TryParse(newest.GetProperty("date").GetString(), out _));
        Assert.Equal("local", newest.GetProperty("authors")[0].GetProperty("user").GetString());
        var initial = items[^1];
        Assert.Equal("initial commit", initial.GetProperty("title").GetString());
        Assert.Equal("system", initial.GetProperty("authors")[0].GetProperty("user").GetString());

        // From an older commit the history stops there; without a limit one page holds it all.
        var older = await PythonWire.JsonOf(await wire.GetAsync($"/api/models/me/history/commits/{made[1]}"));
        Assert.Equal([made[1], made[0]], older.EnumerateArray().Take(2).Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(3, older.GetArrayLength());
        using var missing = await wire.GetAsync("/api/models/me/history/commits/nope");
        Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(missing));
    }

    [Fact]
    public async Task A_pull_request_is_created_commented_committed_to_and_merged_into_its_target_branch()
    {
        await using var host = await StartHostAsync(tokens: [Writer, "read:hf_reader_token"]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "community", organization = "me" }));
        await PythonWire.JsonOf(await wire.CommitAsync("me/community", "main", "Base", [PythonWire.File("shared.txt", "base"), PythonWire.File("keep.txt", "keep")]));

        // create_pull_request: POST discussions {title, description, pullRequest: true}, then GET details ?diff=1.
        var created = await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/community/discussions", new { title = "Add a feature", description = "Please review.", pullRequest = true }));
        var number = created.GetProperty("num").GetInt32();
        Assert.Equal(1, number);
        var details = await PythonWire.JsonOf(await wire.GetAsync($"/api/models/me/community/discussions/{number}?diff=1"));
        Assert.Equal("draft", details.GetProperty("status").GetString());
        Assert.True(details.GetProperty("isPullRequest").GetBoolean());
        Assert.Equal("refs/heads/main", details.GetProperty("changes").GetProperty("base").GetString());
        Assert.Equal("me/community", details.GetProperty("repo").GetProperty("name").GetString());
        Assert.Equal("model", details.GetProperty("repo").GetProperty("type").GetString());
        Assert.Equal(JsonValueKind.Array, details.GetProperty("filesWithConflicts").ValueKind);
        var description = details.GetProperty("events")[0];
        Assert.Equal("comment", description.GetProperty("type").GetString());
        Assert.Equal("Please review.", description.GetProperty("data").GetProperty("latest").GetProperty("raw").GetString());
        Assert.False(description.GetProperty("data").GetProperty("hidden").GetBoolean());

        // Commits to the PR go to /commit/refs%2Fpr%2F1, which also resolves as a revision.
        var prCommit = (await PythonWire.JsonOf(await wire.CommitAsync("me/community", "refs/pr/1", "Feature", [PythonWire.File("feature.txt", "new"), PythonWire.File("shared.txt", "changed by the PR")]))).GetProperty("commitOid").GetString()!;
        using (var onPr = await wire.GetAsync($"/me/community/resolve/{Uri.EscapeDataString("refs/pr/1")}/feature.txt"))
        {
            Assert.Equal("new", await onPr.Content.ReadAsStringAsync());
        }
        var prRefs = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/community/refs?include_prs=1"));
        Assert.Equal(prCommit, prRefs.GetProperty("pullRequests").EnumerateArray().Single(r => r.GetProperty("ref").GetString() == "refs/pr/1").GetProperty("targetCommit").GetString());

        // comment_discussion, rename_discussion, edit and hide a comment, as Python posts them.
        var comment = (await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/community/discussions/1/comment", new { comment = "Looks good" }))).GetProperty("newMessage");
        Assert.Equal("Looks good", comment.GetProperty("data").GetProperty("latest").GetProperty("raw").GetString());
        var rename = (await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/community/discussions/1/title", new { title = "Add the feature" }))).GetProperty("newTitle");
        Assert.Equal("Add a feature", rename.GetProperty("data").GetProperty("from").GetString());
        Assert.Equal("Add the feature", rename.GetProperty("data").GetProperty("to").GetString());
        var commentId = comment.GetProperty("id").GetString()!;
        var edited = (await PythonWire.JsonOf(await wire.PostJsonAsync($"/api/models/me/community/discussions/1/comment/{commentId}/edit", new { content = "Looks great" }))).GetProperty("updatedComment");
        Assert.True(edited.GetProperty("data").GetProperty("edited").GetBoolean());
        Assert.Equal("Looks great", edited.GetProperty("data").GetProperty("latest").GetProperty("raw").GetString());
        var hidden = (await PythonWire.JsonOf(await wire.PostEmptyAsync($"/api/models/me/community/discussions/1/comment/{commentId}/hide"))).GetProperty("updatedComment");
        Assert.True(hidden.GetProperty("data").GetProperty("hidden").GetBoolean());

        // A read token can read but not merge.
        using var reader = new PythonWire(host.Endpoint, "hf_reader_token");
        await PythonWire.JsonOf(await reader.GetAsync("/api/models/me/community/discussions/1"));
        await PythonWire.ErrorOf(await reader.PostEmptyAsync("/api/models/me/community/discussions/1/merge"), 403);

        // merge_pull_request(comment=None) posts no body; main gets the PR's files in a commit titled "title (#1)".
        await PythonWire.JsonOf(await wire.PostEmptyAsync("/api/models/me/community/discussions/1/merge"));
        var main = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/community"));
        var mainSha = main.GetProperty("sha").GetString()!;
        using (var merged = await wire.GetAsync("/me/community/resolve/main/shared.txt"))
        {
            Assert.Equal("changed by the PR", await merged.Content.ReadAsStringAsync());
        }
        var mergedDetails = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/community/discussions/1?diff=1"));
        Assert.Equal("merged", mergedDetails.GetProperty("status").GetString());
        Assert.Equal(mainSha, mergedDetails.GetProperty("changes").GetProperty("mergeCommitId").GetString());
        Assert.Equal("status-change", mergedDetails.GetProperty("events").EnumerateArray().Last().GetProperty("type").GetString());
        Assert.Contains(mergedDetails.GetProperty("events").EnumerateArray(), e => e.GetProperty("type").GetString() == "commit" && e.GetProperty("data").GetProperty("oid").GetString() == prCommit);
        var history = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/community/commits/main"));
        Assert.Equal("Add the feature (#1)", history[0].GetProperty("title").GetString());
        // refs/pr/1 stays resolvable after the merge, and a merged PR cannot be merged or reopened.
        Assert.Equal(prCommit, (await PythonWire.JsonOf(await wire.GetAsync($"/api/models/me/community/revision/{Uri.EscapeDataString("refs/pr/1")}"))).GetProperty("sha").GetString());
        await PythonWire.ErrorOf(await wire.PostEmptyAsync("/api/models/me/community/discussions/1/merge"), 400);
        await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/models/me/community/discussions/1/status", new { status = "open" }), 400);
        var snapshot = await host.Client(Writer).Files.SnapshotDownloadAsync("me/community");
        Assert.Equal(mainSha, snapshot.CommitHash);
        Assert.Equal(["feature.txt", "keep.txt", "shared.txt"], snapshot.Files.Where(f => f.EndsWith(".txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Discussions_list_by_page_type_and_status_and_create_pr_commits_open_numbered_pull_requests()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "busy", organization = "me" }));
        for (var i = 0; i < 52; i++)
        {
            await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/busy/discussions", new { title = $"Question {i}", description = "", pullRequest = false }));
        }
        // create_commit(create_pr=True): the answer's pullRequestUrl ends in /discussions/N, and refs/pr/N resolves.
        var commit = await PythonWire.JsonOf(await wire.CommitAsync("me/busy", "main", "Proposed change", [PythonWire.File("p.txt", "p")], "?create_pr=1"));
        var prUrl = commit.GetProperty("pullRequestUrl").GetString()!;
        Assert.Equal($"{wire.BaseUrl}/me/busy/discussions/53", prUrl);
        Assert.Equal(commit.GetProperty("commitOid").GetString(), (await PythonWire.JsonOf(await wire.GetAsync($"/api/models/me/busy/revision/{Uri.EscapeDataString("refs/pr/53")}"))).GetProperty("sha").GetString());
        // The main branch did not move.
        using (var onMain = await wire.GetAsync("/me/busy/resolve/main/p.txt"))
        {
            Assert.Equal("EntryNotFound", PythonWire.ErrorCode(onMain));
        }

        // get_repo_discussions: p from 0 while start + len < count.
        var seen = new List<int>();
        for (var page = 0; ; page++)
        {
            var listing = await PythonWire.JsonOf(await wire.GetAsync($"/api/models/me/busy/discussions?p={page}"));
            var discussions = listing.GetProperty("discussions").EnumerateArray().ToList();
            seen.AddRange(discussions.Select(d => d.GetProperty("num").GetInt32()));
            Assert.Equal(53, listing.GetProperty("count").GetInt32());
            if (listing.GetProperty("start").GetInt32() + discussions.Count >= listing.GetProperty("count").GetInt32()) break;
        }
        Assert.Equal(Enumerable.Range(1, 53).Reverse(), seen);
        var prs = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/busy/discussions?p=0&type=pull_request&status=open"));
        var pr = Assert.Single(prs.GetProperty("discussions").EnumerateArray());
        Assert.Equal(53, pr.GetProperty("num").GetInt32());
        Assert.Equal("Proposed change", pr.GetProperty("title").GetString());
        Assert.True(pr.GetProperty("isPullRequest").GetBoolean());
        Assert.Equal("local", pr.GetProperty("author").GetProperty("name").GetString());

        // change_discussion_status closes a discussion (with a comment) and reopens it.
        var closed = (await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/busy/discussions/3/status", new { status = "closed", comment = "Answered" }))).GetProperty("newStatus");
        Assert.Equal("closed", closed.GetProperty("data").GetProperty("status").GetString());
        Assert.Equal(1, (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/busy/discussions?status=closed"))).GetProperty("count").GetInt32());
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/busy/discussions/3/status", new { status = "open" }));
        // Merging a discussion, a title of 2 characters and an unknown number are refused.
        await PythonWire.ErrorOf(await wire.PostEmptyAsync("/api/models/me/busy/discussions/3/merge"), 400);
        await PythonWire.ErrorOf(await wire.PostJsonAsync("/api/models/me/busy/discussions", new { title = "Hi", description = "", pullRequest = false }), 400);
        await PythonWire.ErrorOf(await wire.GetAsync("/api/models/me/busy/discussions/999"), 404);
    }

    [Fact]
    public async Task Super_squash_history_leaves_one_commit_with_the_same_files_and_refuses_tags_and_unknown_branches()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "squash", organization = "me" }));
        for (var i = 0; i < 3; i++) await PythonWire.JsonOf(await wire.CommitAsync("me/squash", "main", $"Commit {i}", [PythonWire.File($"f{i}.txt", $"{i}")]));
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/squash/tag/main", new { tag = "v1" }));

        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/squash/super-squash/main", new { message = "Super-squash branch 'main' using huggingface_hub" }));
        var history = await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/squash/commits/main"));
        var only = Assert.Single(history.EnumerateArray());
        Assert.Equal("Super-squash branch 'main' using huggingface_hub", only.GetProperty("title").GetString());
        var files = (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/squash"))).GetProperty("siblings").EnumerateArray().Select(f => f.GetProperty("rfilename").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal([".gitattributes", "f0.txt", "f1.txt", "f2.txt"], files);
        // The tag still names the old history.
        Assert.Equal(4, (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/squash/commits/v1"))).GetArrayLength());

        await PythonWire.ErrorOf(await wire.PostJsonAsync($"/api/models/me/squash/super-squash/{Uri.EscapeDataString("refs/tags/v1")}", new { message = "x" }), 400);
        using var missing = await wire.PostJsonAsync("/api/models/me/squash/super-squash/nope", new { message = "x" });
        await PythonWire.ErrorOf(missing, 404);
        Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(missing));
    }

    [Fact]
    public async Task A_pull_request_that_conflicts_with_its_target_is_refused_with_the_conflicting_files_and_nothing_moves()
    {
        await using var host = await StartHostAsync();
        using var wire = new PythonWire(host.Endpoint);
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "clash", organization = "me" }));
        await PythonWire.JsonOf(await wire.CommitAsync("me/clash", "main", "Base", [PythonWire.File("a.txt", "base"), PythonWire.File("b.txt", "base")]));
        await PythonWire.JsonOf(await wire.CommitAsync("me/clash", "main", "Change a on a PR", [PythonWire.File("a.txt", "from the PR"), PythonWire.File("c.txt", "new")], "?create_pr=1"));
        var head = (await PythonWire.JsonOf(await wire.CommitAsync("me/clash", "main", "Change a on main", [PythonWire.File("a.txt", "from main")]))).GetProperty("commitOid").GetString();

        using var refused = await wire.PostJsonAsync("/api/models/me/clash/discussions/1/merge", new { comment = "merging" });
        var error = await PythonWire.ErrorOf(refused, 409);
        Assert.Equal(["a.txt"], error.GetProperty("filesWithConflicts").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal(head, (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/clash"))).GetProperty("sha").GetString());
        Assert.Equal("open", (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/clash/discussions/1"))).GetProperty("status").GetString());

        // Resolving the conflict on the PR (same content as main) lets it merge; b.txt, changed nowhere, stays.
        await PythonWire.JsonOf(await wire.CommitAsync("me/clash", "refs/pr/1", "Take main's a", [PythonWire.File("a.txt", "from main")]));
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/models/me/clash/discussions/1/merge", new { comment = "merging" }));
        var files = (await PythonWire.JsonOf(await wire.GetAsync("/api/models/me/clash"))).GetProperty("siblings").EnumerateArray().Select(s => s.GetProperty("rfilename").GetString()).Order(StringComparer.Ordinal);
        Assert.Equal([".gitattributes", "a.txt", "b.txt", "c.txt"], files);
    }

    [Fact]
    public async Task Every_error_python_maps_carries_its_X_Error_Code_including_anonymous_access_to_a_private_repo()
    {
        await using var host = await StartHostAsync(tokens: [Writer]);
        using var wire = new PythonWire(host.Endpoint, Writer);
        using var anonymous = new PythonWire(host.Endpoint);
        using var stranger = new PythonWire(host.Endpoint, "hf_not_a_token");
        await PythonWire.JsonOf(await wire.PostJsonAsync("/api/repos/create", new { name = "secret", organization = "me", visibility = "private" }));

        // Anonymous, private: the Hub's 401, with the code Python needs over plain http (no bare 401).
        foreach (var path in new[] { "/api/models/me/secret", "/api/models/me/secret/refs", "/me/secret/resolve/main/.gitattributes", "/api/models/me/secret/commits/main", "/api/models/me/secret/discussions", "/api/models/me/nothing-here" })
        {
            using var response = await anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(response));
        }
        using (var anonymousWrite = await anonymous.CommitAsync("me/secret", "main", "Nope", [PythonWire.File("x.txt", "x")]))
        {
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(anonymousWrite));
        }
        using (var anonymousTag = await anonymous.PostJsonAsync("/api/models/me/secret/tag/main", new { tag = "v1" }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymousTag.StatusCode);
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(anonymousTag));
        }
        // A wrong token stays a plain 401 with the Hub's "Invalid credentials" message (Python does not fold it into RepositoryNotFoundError).
        using (var invalid = await stranger.GetAsync("/api/models/me/secret"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, invalid.StatusCode);
            Assert.Null(PythonWire.ErrorCode(invalid));
            Assert.Equal("Invalid credentials in Authorization header", invalid.Headers.GetValues("X-Error-Message").Single());
        }
        using (var missingRepo = await wire.GetAsync("/api/models/me/nothing-here/refs"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missingRepo.StatusCode);
            Assert.Equal("RepoNotFound", PythonWire.ErrorCode(missingRepo));
        }
        using (var missingRevision = await wire.GetAsync("/api/models/me/secret/revision/v9"))
        {
            Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(missingRevision));
        }
        using (var missingEntry = await wire.GetAsync("/me/secret/resolve/main/none.txt"))
        {
            Assert.Equal("EntryNotFound", PythonWire.ErrorCode(missingEntry));
            Assert.Matches("^[0-9a-f]{40}$", missingEntry.Headers.GetValues("X-Repo-Commit").Single());
        }
        using (var missingBranch = await wire.DeleteAsync("/api/models/me/secret/branch/nope"))
        {
            Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(missingBranch));
        }
        using (var commitToMissingBranch = await wire.CommitAsync("me/secret", "nope", "x", [PythonWire.File("x.txt", "x")]))
        {
            Assert.Equal("RevisionNotFound", PythonWire.ErrorCode(commitToMissingBranch));
        }
    }

    [GeneratedRegex("<(https?://[^>]+)>;\\s+rel=\"([^\"]+)\"")]
    private static partial Regex LinkPattern();
}
