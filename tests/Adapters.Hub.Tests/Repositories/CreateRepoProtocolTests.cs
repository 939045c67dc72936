using System.Net;
using System.Text.Json;
using Adapters.Hub.Http;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Adapters.Hub.Tests.Repositories;

/// <summary>
/// <c>create_repo</c> as Python runs it (hf-hub-protocol-2026.md §1): the 409's <c>url</c> is the answer of
/// <c>exist_ok=True</c>, a refused create is forgiven when the repository can be read, and the POST is
/// sent once; plus the 401 row of the error table over http and https (§9).
/// </summary>
public sealed class CreateRepoProtocolTests : IDisposable
{
    private readonly WireMockServer _hub = WireMockServer.Start();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("adapters-create-");
    private readonly HubClient _client;

    public CreateRepoProtocolTests()
    {
        _client = new HubClient(new HubClientOptions
        {
            Endpoint = new Uri(_hub.Url!),
            Token = "hf_create_token",
            CacheDirectory = Path.Combine(_folder.FullName, "cache"),
            Retry = new HubRetryOptions { MaxRetries = 3, BaseDelay = TimeSpan.FromMilliseconds(5), MaxDelay = TimeSpan.FromMilliseconds(20) },
        });
    }

    public void Dispose()
    {
        _client.Dispose();
        _hub.Stop();
        _hub.Dispose();
        _folder.Delete(recursive: true);
    }

    private void Answer(string path, string method, int status, string body, Dictionary<string, string>? headers = null)
    {
        var response = Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json; charset=utf-8").WithBody(body);
        foreach (var (name, value) in headers ?? []) response = response.WithHeader(name, value);
        _hub.Given(Request.Create().WithPath(path).UsingMethod(method)).RespondWith(response);
    }

    private int Count(string path, string method) =>
        _hub.LogEntries.Count(e => e.RequestMessage.Path == path && e.RequestMessage.Method == method);

    [Fact]
    public async Task Exist_ok_returns_the_url_the_409_body_names_as_python_does()
    {
        // The production answer, recorded: the url is the Hub's own, not one built from our endpoint.
        Answer("/api/repos/create", "POST", 409, "{\"error\":\"You already created this space repo\",\"url\":\"https://huggingface.co/spaces/user/tmp_test_space\"}");

        var url = await _client.Repositories.CreateRepoAsync("user/tmp_test_space", RepoType.Space, existOk: true);

        Assert.Equal(new Uri("https://huggingface.co/spaces/user/tmp_test_space"), url);
        var conflict = await Assert.ThrowsAsync<HubConflictException>(() => _client.Repositories.CreateRepoAsync("user/tmp_test_space", RepoType.Space));
        Assert.Contains("You already created this space repo", conflict.Message, StringComparison.Ordinal);
        var body = JsonDocument.Parse(_hub.LogEntries.First().RequestMessage.Body!).RootElement;
        Assert.Equal(("tmp_test_space", "user", "space"), (body.GetProperty("name").GetString(), body.GetProperty("organization").GetString(), body.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task A_refused_create_is_forgiven_under_exist_ok_only_when_the_repository_can_be_read()
    {
        Answer("/api/repos/create", "POST", 403, "{\"error\":\"You don't have the rights to create a model under the namespace 'org'\"}");
        Answer("/api/models/org/readable", "GET", 200, "{\"id\":\"org/readable\",\"sha\":\"0123456789abcdef0123456789abcdef01234567\",\"siblings\":[]}");
        Answer("/api/models/org/hidden", "GET", 404, "{\"error\":\"Repository not found\"}", new() { ["X-Error-Code"] = "RepoNotFound" });

        Assert.Equal(new Uri(new Uri(_hub.Url!), "org/readable"), await _client.Repositories.CreateRepoAsync("org/readable", existOk: true));
        var refused = await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.CreateRepoAsync("org/hidden", existOk: true));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.CreateRepoAsync("org/readable"));
    }

    [Fact]
    public async Task Create_repo_is_sent_once_even_on_a_5xx_as_python_sends_it_without_backoff()
    {
        Answer("/api/repos/create", "POST", 503, "{\"error\":\"busy\"}");
        Answer("/api/whoami-v2", "GET", 503, "{\"error\":\"busy\"}");

        var error = await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.CreateRepoAsync("me/once"));
        await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.WhoAmIAsync());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal(1, Count("/api/repos/create", "POST"));
        // The same pipeline does retry reads: the control that makes the count above meaningful.
        Assert.Equal(4, Count("/api/whoami-v2", "GET"));
    }

    [Fact]
    public async Task A_409_saying_another_operation_is_in_progress_is_sent_again_and_then_succeeds()
    {
        const string Busy = "{\"error\":\"Cannot create repo: another conflicting operation is in progress\"}";
        _hub.Given(Request.Create().WithPath("/api/repos/create").UsingPost()).InScenario("busy").WillSetStateTo("once")
            .RespondWith(Response.Create().WithStatusCode(409).WithBody(Busy));
        _hub.Given(Request.Create().WithPath("/api/repos/create").UsingPost()).InScenario("busy").WhenStateIs("once").WillSetStateTo("twice")
            .RespondWith(Response.Create().WithStatusCode(409).WithBody(Busy));
        _hub.Given(Request.Create().WithPath("/api/repos/create").UsingPost()).InScenario("busy").WhenStateIs("twice")
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{\"url\":\"https://huggingface.co/me/busy\",\"name\":\"me/busy\",\"id\":\"67cae56f9b4f4ee4713c83e7\"}"));

        Assert.Equal(new Uri("https://huggingface.co/me/busy"), await _client.Repositories.CreateRepoAsync("me/busy"));
        Assert.Equal(3, Count("/api/repos/create", "POST"));
    }

    [Fact]
    public async Task A_bare_401_over_plain_http_stays_an_http_error_while_the_error_code_still_maps()
    {
        Answer("/api/models/me/private", "GET", 401, "{\"error\":\"Unauthorized\"}");
        Answer("/api/models/me/coded", "GET", 401, "{\"error\":\"Repository not found\"}", new() { ["X-Error-Code"] = "RepoNotFound" });

        var bare = await Assert.ThrowsAsync<HubHttpException>(() => _client.Repositories.RepoInfoAsync("me/private"));
        Assert.Equal(typeof(HubHttpException), bare.GetType());
        Assert.Equal(HttpStatusCode.Unauthorized, bare.StatusCode);
        await Assert.ThrowsAsync<RepositoryNotFoundException>(() => _client.Repositories.RepoInfoAsync("me/coded"));
    }

    public static TheoryData<string, string?, Type> UnauthorizedRows() => new()
    {
        // Python's REPO_API_REGEX: https only, /api/{models|datasets|spaces}/... or .../resolve/...
        { "https://huggingface.co/api/models/me/private", null, typeof(RepositoryNotFoundException) },
        { "https://huggingface.co/datasets/me/set/resolve/main/a.csv", null, typeof(RepositoryNotFoundException) },
        { "https://huggingface.co/api/models/me/private", "Invalid credentials in Authorization header", typeof(HubHttpException) },
        { "http://127.0.0.1:8080/api/models/me/private", null, typeof(HubHttpException) },
        { "http://127.0.0.1:8080/me/model/resolve/main/config.json", null, typeof(HubHttpException) },
        { "https://huggingface.co/api/models", null, typeof(HubHttpException) },
        { "https://huggingface.co/api/repos/create", null, typeof(HubHttpException) },
    };

    [Theory]
    [MemberData(nameof(UnauthorizedRows))]
    public async Task A_401_is_folded_into_repository_not_found_exactly_where_python_folds_it(string url, string? errorMessage, Type expected)
    {
        using var response = new HttpResponseMessage(HttpStatusCode.Unauthorized)
        {
            RequestMessage = new HttpRequestMessage(HttpMethod.Get, url),
            // A body saying "Invalid credentials" is not the header Python reads.
            Content = new StringContent("{\"error\":\"Invalid credentials in Authorization header\"}"),
        };
        if (errorMessage is not null) response.Headers.Add("X-Error-Message", errorMessage);

        var error = await HubErrorMap.ToExceptionAsync(response);

        Assert.Equal(expected, error.GetType());
    }
}
