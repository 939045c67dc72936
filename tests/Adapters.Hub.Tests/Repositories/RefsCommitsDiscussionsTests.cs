using System.Net;
using System.Text.Json;
using Adapters.Hub.Discussions;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Adapters.Hub.Tests.Repositories;

/// <summary>
/// Tags, commit history, discussions and pull requests, and the error table, against a WireMock Hub that
/// answers the routes and bodies of hf-hub-protocol-2026.md §2–5 and §9.
/// </summary>
public sealed class RefsCommitsDiscussionsTests : IDisposable
{
    private const string Repo = "ada/refs";
    private const string Commit = "89abcdef0123456789abcdef0123456789abcdef";
    private readonly WireMockServer _hub = WireMockServer.Start();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("adapters-refs-");
    private readonly HubClient _client;

    public RefsCommitsDiscussionsTests()
    {
        _client = new HubClient(new HubClientOptions
        {
            Endpoint = new Uri(_hub.Url!),
            Token = "hf_refs_token",
            CacheDirectory = Path.Combine(_folder.FullName, "cache"),
            Retry = new HubRetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
        });
    }

    public void Dispose()
    {
        _client.Dispose();
        _hub.Stop();
        _hub.Dispose();
        _folder.Delete(recursive: true);
    }

    private List<ILogEntry> Requests(string path, string method) =>
        _hub.LogEntries.Where(e => e.RequestMessage.Path == path && e.RequestMessage.Method == method).ToList();

    private static string? Header(ILogEntry entry, string name) =>
        entry.RequestMessage.Headers!.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    private void Answer(string path, string method, int status, object? body = null, Dictionary<string, string>? headers = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json");
        foreach (var (name, value) in headers ?? []) response = response.WithHeader(name, value);
        if (body is not null) response = response.WithBody(body as string ?? JsonSerializer.Serialize(body));
        _hub.Given(Request.Create().WithPath(path).UsingMethod(method)).RespondWith(response);
    }

    [Fact]
    public async Task Tags_are_created_with_a_sized_json_body_deleted_and_listed_in_refs()
    {
        Answer($"/api/models/{Repo}/tag/main", "POST", 200, "{}");
        Answer($"/api/models/{Repo}/tag/v1", "DELETE", 404, "{\"error\":\"Invalid rev id: v1\"}", new() { ["X-Error-Code"] = "RevisionNotFound" });
        Answer($"/api/models/{Repo}/refs", "GET", 200, new
        {
            branches = new[] { new { name = "main", @ref = "refs/heads/main", targetCommit = Commit } },
            converts = Array.Empty<object>(),
            tags = new[] { new { name = "v1", @ref = "refs/tags/v1", targetCommit = Commit } },
        });

        await _client.Repositories.CreateTagAsync(Repo, "v1", message: "first release");
        var refs = await _client.Repositories.ListRefsAsync(Repo);
        await Assert.ThrowsAsync<RevisionNotFoundException>(() => _client.Repositories.DeleteTagAsync(Repo, "v1"));

        var create = Assert.Single(Requests($"/api/models/{Repo}/tag/main", "POST"));
        Assert.Equal("{\"tag\":\"v1\",\"message\":\"first release\"}", create.RequestMessage.Body);
        Assert.Equal(create.RequestMessage.Body!.Length.ToString(), Header(create, "Content-Length"));
        Assert.Null(Header(create, "Transfer-Encoding"));
        Assert.Equal("refs/tags/v1", Assert.Single(refs.Tags).Ref);
    }

    [Fact]
    public async Task Creating_an_existing_tag_is_a_conflict_unless_exist_ok()
    {
        Answer($"/api/models/{Repo}/tag/*", "POST", 409, "{\"error\":\"Tag v1 already exists\"}");

        var conflict = await Assert.ThrowsAsync<HubConflictException>(() => _client.Repositories.CreateTagAsync(Repo, "v1", revision: "refs/pr/2"));
        await _client.Repositories.CreateTagAsync(Repo, "v1", revision: "refs/pr/2", existOk: true);

        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(2, _hub.LogEntries.Count());
        Assert.All(_hub.LogEntries, e => Assert.EndsWith("/tag/refs%2Fpr%2F2", e.RequestMessage.Url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Commit_history_follows_link_pages_newest_first()
    {
        var secondPage = $"{_hub.Url}/api/models/{Repo}/commits/main?limit=2&cursor=2";
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/commits/main").WithParam("cursor", "2").UsingGet())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new[]
            {
                new { id = "c1", title = "initial commit", message = "", date = "2024-01-01T00:00:00.000Z", authors = new[] { new { user = "system" } } },
            })));
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/commits/main").UsingGet())
            .AtPriority(2)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Link", $"<{secondPage}>; rel=\"next\"").WithHeader("X-Total-Count", "3").WithBody(JsonSerializer.Serialize(new[]
            {
                new { id = "c3", title = "Add weights", message = "big", date = "2024-02-19T10:57:45.000Z", authors = new[] { new { user = "lysandre" } } },
                new { id = "c2", title = "Add config", message = "", date = "2024-02-01T00:00:00.000Z", authors = new[] { new { user = "ada" } } },
            })));

        var commits = await _client.Repositories.ListCommitsAsync(Repo, pageSize: 2).ToListAsync();

        Assert.Equal(["c3", "c2", "c1"], commits.Select(c => c.Id));
        Assert.Equal("lysandre", commits[0].Authors.Single().User);
        Assert.Equal(new DateTimeOffset(2024, 2, 19, 10, 57, 45, TimeSpan.Zero), commits[0].Date);
        Assert.Equal(2, _hub.LogEntries.Count());
        Assert.Contains("limit=2", _hub.LogEntries.First().RequestMessage.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pull_request_is_opened_listed_read_commented_closed_reopened_and_merged()
    {
        var base_ = $"/api/models/{Repo}/discussions";
        Answer(base_, "POST", 200, new { num = 4, url = $"{_hub.Url}/{Repo}/discussions/4" });
        _hub.Given(Request.Create().WithPath(base_).WithParam("p", "0").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new
        {
            count = 3, start = 0,
            discussions = new object[]
            {
                new { num = 4, title = "Add int8 weights", status = "draft", isPullRequest = true, author = new { name = "ada" }, createdAt = "2024-03-01T00:00:00Z" },
                new { num = 3, title = "Question", status = "open", isPullRequest = false },
            },
        })));
        _hub.Given(Request.Create().WithPath(base_).WithParam("p", "1").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new
        {
            count = 3, start = 2,
            discussions = new object[] { new { num = 1, title = "Old", status = "closed", isPullRequest = false, author = new { name = "bob" } } },
        })));
        Answer($"{base_}/4", "GET", 200, new
        {
            num = 4, title = "Add int8 weights", status = "draft", isPullRequest = true, author = new { name = "ada" },
            events = new object[]
            {
                new { id = "e1", type = "comment", author = new { name = "ada" }, data = new { edited = false, hidden = false, latest = new { raw = "Opened" } } },
                new { id = "e2", type = "commit", data = new { subject = "Upload int8", oid = Commit } },
            },
            changes = new { @base = "main" },
            filesWithConflicts = Array.Empty<string>(),
            diff = "diff --git a/x b/x",
        });
        Answer($"{base_}/4/comment", "POST", 200, new { newMessage = new { id = "e3", type = "comment", data = new { latest = new { raw = "Looks good" } } } });
        Answer($"{base_}/4/status", "POST", 200, new { newStatus = new { id = "e4", type = "status-change", data = new { status = "closed" } } });
        Answer($"{base_}/4/merge", "POST", 200, "");

        var opened = await _client.Discussions.CreatePullRequestAsync(Repo, "  Add int8 weights ", description: "");
        var listed = await _client.Discussions.ListAsync(Repo).ToListAsync();
        var comment = await _client.Discussions.CommentAsync(Repo, 4, "Looks good");
        var closed = await _client.Discussions.ChangeStatusAsync(Repo, 4, "closed", comment: "not yet");
        await _client.Discussions.MergePullRequestAsync(Repo, 4, comment: "Thanks!");

        Assert.Equal(4, opened.Num);
        Assert.Equal("refs/pr/4", opened.GitReference);
        Assert.Equal("main", opened.TargetBranch);
        Assert.Equal(["Opened", "none"], opened.Events.Select(e => e.CommentText ?? "none"));
        Assert.Equal(Commit, opened.Events[1].CommitId);
        Assert.Equal([4, 3, 1], listed.Select(d => d.Num));
        Assert.Equal("deleted", listed[1].AuthorName);
        Assert.Equal("Looks good", comment.CommentText);
        Assert.Equal("closed", closed.NewStatus);

        var create = JsonDocument.Parse(Assert.Single(Requests(base_, "POST")).RequestMessage.Body!).RootElement;
        Assert.Equal("Add int8 weights", create.GetProperty("title").GetString());
        Assert.True(create.GetProperty("pullRequest").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(create.GetProperty("description").GetString()));
        Assert.Equal("{\"status\":\"closed\",\"comment\":\"not yet\"}", Assert.Single(Requests($"{base_}/4/status", "POST")).RequestMessage.Body);
        Assert.Equal("{\"comment\":\"Thanks!\"}", Assert.Single(Requests($"{base_}/4/merge", "POST")).RequestMessage.Body);
        Assert.Contains("diff=1", Requests($"{base_}/4", "GET").Single().RequestMessage.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Discussion_writes_are_sent_once_while_reads_are_retried()
    {
        var base_ = $"/api/models/{Repo}/discussions";
        Answer($"{base_}/7/merge", "POST", 500, "{\"error\":\"boom\"}");
        Answer($"{base_}/7", "GET", 503, "{\"error\":\"busy\"}");

        await Assert.ThrowsAsync<HubHttpException>(() => _client.Discussions.MergePullRequestAsync(Repo, 7));
        await Assert.ThrowsAsync<HubHttpException>(() => _client.Discussions.GetAsync(Repo, 7));

        Assert.Single(Requests($"{base_}/7/merge", "POST"));
        Assert.Equal(3, Requests($"{base_}/7", "GET").Count);
    }

    [Fact]
    public async Task Every_error_python_maps_gets_its_type()
    {
        Answer("/api/models/ada/bad/refs", "GET", 400, "{\"error\":\"Invalid tag name\"}");
        Answer("/api/models/ada/disabled/refs", "GET", 403, "{}", new() { ["X-Error-Message"] = "Access to this resource is disabled." });
        Answer("/api/models/ada/private/refs", "GET", 401, "{}", new() { ["X-Error-Code"] = "RepoNotFound", ["X-Error-Message"] = "Repository not found" });
        Answer("/api/models/ada/gated/refs", "GET", 401, "{}", new() { ["X-Error-Code"] = "GatedRepo" });
        Answer("/api/models/ada/badtoken/refs", "GET", 401, "{}", new() { ["X-Error-Message"] = "Invalid credentials in Authorization header" });
        Answer("/api/models/ada/limited/refs", "GET", 429, "{}", new() { ["RateLimit"] = "\"api\";r=0;t=0", ["RateLimit-Policy"] = "\"fixed window\";\"api\";q=500;w=300" });

        await Assert.ThrowsAsync<BadRequestException>(() => _client.Repositories.ListRefsAsync("ada/bad"));
        await Assert.ThrowsAsync<DisabledRepositoryException>(() => _client.Repositories.ListRefsAsync("ada/disabled"));
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => _client.Repositories.ListRefsAsync("ada/private"));
        await Assert.ThrowsAsync<GatedRepositoryException>(() => _client.Repositories.ListRefsAsync("ada/gated"));
        var badToken = await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.ListRefsAsync("ada/badtoken"));
        var limited = await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.ListRefsAsync("ada/limited"));

        Assert.Equal(typeof(HubHttpException), badToken.GetType());
        Assert.Contains("'api' rate limit. Retry after 0 seconds (0/500 requests remaining in current 300s window)", limited.Message, StringComparison.Ordinal);
    }
}
