using System.Net;
using System.Text;
using Adapters.Hub;
using Adapters.Hub.Routing;
using Adapters.Hub.Upload;

namespace Adapters.Registry.Tests;

/// <summary>
/// The route table is shared: every URL <see cref="HubRoutes"/> lets the client build, for every repository
/// type and method, reaches one of <c>serve</c>'s handlers (no "not a route" 404), and reaches the right one.
/// </summary>
public sealed class ServeRouteTableTests : IAsyncLifetime
{
    private const string Writer = "hf_writer_token";
    private ServeTestHost _host = null!;
    private HttpClient _http = null!;
    private readonly Dictionary<RepoType, string> _commentIds = [];

    public async Task InitializeAsync()
    {
        _host = await ServeTestHost.StartAsync(tokens: [Writer]);
        _http = new HttpClient { BaseAddress = _host.Server.Endpoint };
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Writer);
        var client = _host.Client(Writer);
        foreach (var (repo, type) in Repos)
        {
            await client.Repositories.CreateRepoAsync(repo, type);
            await client.Commits.CreateCommitAsync(repo, [CommitOperation.AddBytes("dir/file.txt", "x"u8.ToArray())], "Add a file", new CommitOptions { RepoType = type });
            await client.Discussions.CreatePullRequestAsync(repo, "A pull request", repoType: type);
            _commentIds[type] = (await client.Discussions.CommentAsync(repo, 1, "A comment", type)).Id;
        }
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _host.DisposeAsync();
    }

    private static readonly (string Repo, RepoType Type)[] Repos = [("me/model", RepoType.Model), ("me/set", RepoType.Dataset), ("app", RepoType.Space)];

    public static TheoryData<string, string, RepoType> EveryRouteMethodAndType()
    {
        var data = new TheoryData<string, string, RepoType>();
        foreach (var route in HubRoutes.All)
        {
            foreach (var method in route.Methods)
            {
                foreach (var (_, type) in Repos) data.Add(route.Name, method, type);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryRouteMethodAndType))]
    public async Task Every_route_the_client_can_build_is_answered_by_a_handler_of_serve(string name, string method, RepoType type)
    {
        var route = HubRoutes.All.Single(r => r.Name == name);
        var repo = Repos.Single(r => r.Type == type).Repo;
        var url = route.Expand(type, repo, revision: "refs/pr/1", path: "dir/file.txt", number: 1, commentId: _commentIds[type]);
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (method is "POST") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");

        using var response = await _http.SendAsync(request);
        var body = method == "HEAD" ? "" : await response.Content.ReadAsStringAsync();

        Assert.False(IsRouteMissing(response, body), $"{method} /{url}: {(int)response.StatusCode} {body}");
        Assert.True((int)response.StatusCode < 500, $"{method} /{url}: {(int)response.StatusCode} {body}");
    }

    [Fact]
    public async Task The_routes_read_their_values_from_the_url_the_client_built()
    {
        // Each answer names what only the right handler with the right values can know.
        var client = _host.Client(Writer);
        var prHead = (await client.Repositories.ListRefsAsync("me/set", RepoType.Dataset, includePullRequests: true)).PullRequests.Single().TargetCommit;
        using (var info = await _http.GetAsync(HubRoutes.RepoInfoAtRevision.Expand(RepoType.Dataset, "me/set", "refs/pr/1")))
        {
            Assert.Contains($"\"sha\":\"{prHead}\"", await info.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var file = await _http.GetAsync(HubRoutes.ResolveFile.Expand(RepoType.Space, "app", "main", "dir/file.txt")))
        {
            Assert.Equal("x", await file.Content.ReadAsStringAsync());
        }
        using (var tree = await _http.GetAsync(HubRoutes.TreeAtPath.Expand(RepoType.Model, "me/model", "main", "dir")))
        {
            Assert.Contains("\"path\":\"dir/file.txt\"", await tree.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // A path that fits two repository ids goes to the repository that exists: the refs of 'app', not the info of 'app/refs'.
        using (var refs = await _http.GetAsync(HubRoutes.Refs.Expand(RepoType.Space, "app")))
        {
            Assert.Equal(HttpStatusCode.OK, refs.StatusCode);
            Assert.Contains("\"branches\"", await refs.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_path_outside_the_table_is_the_route_missing_404_the_theory_looks_for()
    {
        using var response = await _http.GetAsync("api/models/me/model/no-such-action/main");
        Assert.True(IsRouteMissing(response, await response.Content.ReadAsStringAsync()));
        using var wrongMethod = await _http.PutAsync(HubRoutes.Refs.Expand(RepoType.Model, "me/model"), new StringContent(""));
        Assert.True(IsRouteMissing(wrongMethod, await wrongMethod.Content.ReadAsStringAsync()));
    }

    private static bool IsRouteMissing(HttpResponseMessage response, string body) =>
        response.StatusCode == HttpStatusCode.NotFound && !response.Headers.Contains("X-Error-Code")
        && (response.RequestMessage!.Method == HttpMethod.Head || body.Contains("is not a route of this registry", StringComparison.Ordinal));
}
