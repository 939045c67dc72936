using System.Net;
using Adapters.Hub.Http;
using Adapters.Hub.Tests.Stubs;
using Microsoft.Extensions.DependencyInjection;

namespace Adapters.Hub.Tests.Http;

public sealed class ConnectionTests : IDisposable
{
    private readonly HubStub _stub = new();
    private readonly string _cache = Directory.CreateTempSubdirectory("adapters-hub-http-").FullName;

    public void Dispose()
    {
        _stub.Dispose();
        Directory.Delete(_cache, recursive: true);
    }

    [Theory]
    [InlineData("\"abc123\"", "abc123")]
    [InlineData("W/\"abc123\"", "abc123")]
    [InlineData("abc123", "abc123")]
    public void Etags_lose_weak_prefix_and_quotes(string raw, string expected)
    {
        Assert.Equal(expected, Adapters.Hub.Download.HubFileMetadata.NormalizeEtag(raw));
    }

    [Fact]
    public void Rate_limit_header_wins_over_retry_after()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        response.Headers.TryAddWithoutValidation("RateLimit", "\"api\";r=0;t=7");
        response.Headers.TryAddWithoutValidation("Retry-After", "30");

        Assert.Equal(TimeSpan.FromSeconds(7), HubResilience.ServerRequestedDelay(response, TimeSpan.FromMinutes(1)));
        Assert.Equal(TimeSpan.FromSeconds(5), HubResilience.ServerRequestedDelay(response, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Retry_after_accepts_seconds_and_dates()
    {
        using var seconds = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        seconds.Headers.TryAddWithoutValidation("Retry-After", "3");
        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddSeconds(20));
        using var none = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);

        Assert.Equal(TimeSpan.FromSeconds(3), HubResilience.ServerRequestedDelay(seconds, TimeSpan.FromMinutes(1)));
        Assert.InRange(HubResilience.ServerRequestedDelay(date, TimeSpan.FromMinutes(1))!.Value, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(21));
        Assert.Null(HubResilience.ServerRequestedDelay(none, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void Link_header_next_is_found_among_several_relations()
    {
        using var response = new HttpResponseMessage(HttpStatusCode.OK) { RequestMessage = new HttpRequestMessage(HttpMethod.Get, "http://127.0.0.1:9/api/models") };
        response.Headers.TryAddWithoutValidation("Link", "<http://127.0.0.1:9/api/models?cursor=a,b>; rel=\"prev\", <http://127.0.0.1:9/api/models?cursor=c>; rel=\"next\"");

        Assert.Equal(new Uri("http://127.0.0.1:9/api/models?cursor=c"), LinkHeader.Next(response));
    }

    [Fact]
    public async Task Other_client_errors_are_not_retried()
    {
        _stub.AddFile("ada/x", "README.md", "x");
        _stub.FailHub("README.md", new StubFault(403, Message: "forbidden by policy"), new StubFault(403));
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<HubHttpException>(() => hub.Files.GetFileMetadataAsync("ada/x", "README.md"));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal("forbidden by policy", error.ServerMessage);
        Assert.Single(_stub.HubRequests);
    }

    [Fact]
    public async Task Relative_redirects_of_a_renamed_repo_are_followed_with_the_token()
    {
        _stub.AddFile("ada/new-name", "README.md", "moved");
        _stub.Hub.Given(WireMock.RequestBuilders.Request.Create().WithPath("/ada/old-name/resolve/main/README.md").UsingHead())
            .AtPriority(1)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(307).WithHeader("Location", "/ada/new-name/resolve/main/README.md"));
        using var hub = TestHub.Client(_stub, _cache);

        var metadata = await hub.Files.GetFileMetadataAsync("ada/old-name", "README.md");

        Assert.Equal(HubStub.CommitA, metadata.CommitHash);
        Assert.Equal(5, metadata.Size);
        Assert.All(_stub.HubRequests, r => Assert.Equal("Bearer " + TestHub.Token, r.Headers!["Authorization"].Single()));
    }

    [Fact]
    public async Task An_absolute_redirect_is_read_not_followed_even_on_the_same_host()
    {
        var cdn = new Uri(_stub.Endpoint, "cdn-on-same-host/blob");
        _stub.Hub.Given(WireMock.RequestBuilders.Request.Create().WithPath("/ada/same/resolve/main/w.bin").UsingHead())
            .AtPriority(1)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(302)
                .WithHeader("Location", cdn.ToString())
                .WithHeader("X-Repo-Commit", HubStub.CommitA)
                .WithHeader("X-Linked-Etag", "\"" + new string('a', 64) + "\"")
                .WithHeader("X-Linked-Size", "12"));
        using var hub = TestHub.Client(_stub, _cache);

        var metadata = await hub.Files.GetFileMetadataAsync("ada/same", "w.bin");

        Assert.Equal(cdn, metadata.Location);
        Assert.Equal(12, metadata.Size);
        Assert.True(metadata.IsLfs);
        Assert.Single(_stub.HubRequests);
    }

    [Fact]
    public async Task A_hub_without_x_repo_commit_is_reported_as_not_a_hub()
    {
        _stub.Hub.Given(WireMock.RequestBuilders.Request.Create().WithPath("/ada/proxy/resolve/main/README.md").UsingHead())
            .AtPriority(1)
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(200).WithHeader("ETag", "\"abc\""));
        using var hub = TestHub.Client(_stub, _cache);

        var error = await Assert.ThrowsAsync<HubException>(() => hub.Files.GetFileMetadataAsync("ada/proxy", "README.md"));

        Assert.Contains("X-Repo-Commit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dependency_injection_builds_a_working_client_from_the_factory()
    {
        _stub.AddFile("ada/di", "README.md", "from DI");
        var services = new ServiceCollection();
        services.AddHuggingFaceHub(options =>
        {
            options.Endpoint = _stub.Endpoint;
            options.CacheDirectory = _cache;
            options.Token = TestHub.Token;
            options.Offline = false;
        });
        using var provider = services.BuildServiceProvider();

        var hub = provider.GetRequiredService<HubClient>();
        var path = await hub.Files.DownloadFileAsync("ada/di", "README.md");

        Assert.Equal("from DI", await File.ReadAllTextAsync(path));
        Assert.Same(hub, provider.GetRequiredService<HubClient>());
    }

    [Fact]
    public void Options_from_the_environment_follow_python()
    {
        var env = HubEnvironment.Resolve(name => name switch
        {
            "HF_ENDPOINT" => "http://127.0.0.1:8080/",
            "HF_HUB_CACHE" => "/tmp/hf-cache",
            "HF_TOKEN" => "hf_abc",
            "HF_HUB_OFFLINE" => "1",
            "HF_HUB_DISABLE_SYMLINKS" => "true",
            _ => null,
        }, "/home/ada");

        var options = HubClientOptions.FromEnvironment(env);

        Assert.Equal(new Uri("http://127.0.0.1:8080"), options.Endpoint);
        Assert.Equal("/tmp/hf-cache", options.CacheDirectory);
        Assert.Equal("hf_abc", options.Token);
        Assert.True(options.Offline);
        Assert.False(options.UseSymlinks);
    }
}
