using System.Text;
using System.Text.Json;
using Adapters.Hub.Legacy;
using WireMock.Server;
using WireMock.ResponseBuilders;
using WireMock.RequestBuilders;
using WireMock.Matchers;

namespace Adapters.Hub.Tests.Legacy;

public sealed class GitHubLegacyRegistrySourceTests : IDisposable
{
    private const string Reference = GitHubRegistryOptions.PinnedReference;
    private readonly WireMockServer _server = WireMockServer.Start();

    public GitHubLegacyRegistrySourceTests()
    {
        var root = LegacyFixtures.RegistryRoot;
        var tree = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(p => !p.StartsWith("python-written/", StringComparison.Ordinal))
            .Select(p => new { path = p, mode = "100644", type = "blob", sha = new string('0', 40), size = 1, url = "http://unused" })
            .ToList();
        var treeJson = JsonSerializer.Serialize(new { sha = Reference, url = "http://unused", tree, truncated = false });

        _server.Given(Request.Create().WithPath(new WildcardMatcher($"*/repos/adapter-hub/Hub/git/trees/{Reference}")).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(treeJson));
        _server.Given(Request.Create().WithPath(new WildcardMatcher("*/repos/adapter-hub/Hub/contents/*")).UsingGet())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var marker = "/contents/";
                var relative = Uri.UnescapeDataString(request.Path[(request.Path.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..]);
                var file = Path.Combine(root, relative);
                var query = request.Query;
                if (!File.Exists(file) || query is null || !query.TryGetValue("ref", out var refs) || refs.FirstOrDefault() != Reference)
                {
                    return new WireMock.ResponseMessage { StatusCode = 404, BodyData = Body("{\"message\":\"Not Found\"}") };
                }
                var bytes = File.ReadAllBytes(file);
                var base64 = Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks).Replace("\r", "", StringComparison.Ordinal);
                var json = JsonSerializer.Serialize(new
                {
                    type = "file", encoding = "base64", size = bytes.Length, name = Path.GetFileName(relative), path = relative,
                    content = base64, sha = new string('0', 40), url = "http://unused", git_url = "http://unused", html_url = "http://unused", download_url = "http://unused",
                });
                var message = new WireMock.ResponseMessage { StatusCode = 200, BodyData = Body(json) };
                message.AddHeader("Content-Type", "application/json");
                return message;
            }));
    }

    private static WireMock.Util.BodyData Body(string text) => new()
    {
        BodyAsString = text,
        DetectedBodyType = WireMock.Types.BodyType.String,
        Encoding = Encoding.UTF8,
    };

    public void Dispose() => _server.Dispose();

    private GitHubRegistryOptions Options(string cache, string? token = null) => new()
    {
        ApiBaseAddress = new Uri(_server.Url!),
        CacheDirectory = cache,
        Token = token,
    };

    [Fact]
    public async Task Resolves_through_the_github_api_and_a_second_run_makes_no_requests()
    {
        var cache = LegacyFixtures.NewTempFolder();
        var first = new AdapterResolver(LegacyRegistry.FromGitHub(Options(cache, token: "ghp_test_token")));

        var result = await first.ResolveAsync("sentiment/sst-2@ukp", "bert-base-uncased", "houlsby");
        var requestsAfterFirstRun = _server.LogEntries.Count;

        Assert.Equal("AdapterHub/bert-base-uncased_sentiment_sst-2_houlsby", result.RepoId);
        Assert.InRange(requestsAfterFirstRun, 2, 6);
        Assert.All(_server.LogEntries, e => Assert.Equal("token ghp_test_token", e.RequestMessage.Headers!["Authorization"].Single(), ignoreCase: true));

        var second = new AdapterResolver(LegacyRegistry.FromGitHub(Options(cache)));
        var again = await second.ResolveAsync("sentiment/sst-2@ukp", "bert-base-uncased", "houlsby");

        Assert.Equal(result.EntryPath, again.EntryPath);
        Assert.Equal(requestsAfterFirstRun, _server.LogEntries.Count);
        Assert.DoesNotContain("ghp_test_token", string.Concat(Directory.EnumerateFiles(cache, "*", SearchOption.AllDirectories).Select(File.ReadAllText)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cards_validate_the_same_way_and_missing_files_cost_no_request()
    {
        var cache = LegacyFixtures.NewTempFolder();
        var registry = LegacyRegistry.FromGitHub(Options(cache));

        var card = await registry.GetCardAsync("adapters/kabirahuja2431/bert-base-multilingual-cased_nli_MultiNLI_adapter_config.yaml");
        var before = _server.LogEntries.Count;
        var missing = await registry.FindEntryAsync("adapters/ukp/not-there.json");

        Assert.Equal("2", card.DefaultVersion);
        Assert.Null(missing);
        Assert.Equal(before, _server.LogEntries.Count);
        var paths = await registry.ListCardPathsAsync();
        Assert.Equal(291, paths.Count);
    }

    [Fact]
    public async Task An_unknown_reference_is_reported_with_the_repository()
    {
        var options = Options(LegacyFixtures.NewTempFolder());
        options.Reference = "0000000000000000000000000000000000000000";

        var error = await Assert.ThrowsAsync<LegacyRegistryException>(() => LegacyRegistry.FromGitHub(options).GetModelIndexAsync("gpt2"));

        Assert.Contains("github:adapter-hub/Hub@0000000000000000000000000000000000000000", error.Message, StringComparison.Ordinal);
    }
}
