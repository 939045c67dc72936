using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Cards;
using Adapters.Testing;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace Adapters.Hub.Cli.Tests;

public sealed class PushCommandTests : IDisposable
{
    private const string Token = "hf_cli_push_token";
    private const string Commit = "89abcdef0123456789abcdef0123456789abcdef";
    private readonly WireMockServer _hub = WireMockServer.Start();
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("adapters-cli-home-");
    private readonly string? _previousHome = Environment.GetEnvironmentVariable("HF_HOME");

    public PushCommandTests()
    {
        Environment.SetEnvironmentVariable("HF_HOME", _home.FullName);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("HF_HOME", _previousHome);
        _hub.Stop();
        _hub.Dispose();
        _home.Delete(recursive: true);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await CliApplication.RunAsync(args, output, error, CancellationToken.None);
        return (exitCode, output.ToString(), error.ToString());
    }

    private void StubHubWrites(string repo, IEnumerable<string> lfsPaths)
    {
        var lfs = lfsPaths.ToHashSet(StringComparer.Ordinal);
        _hub.Given(Request.Create().WithPath("/api/repos/create").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(409).WithBody("{\"error\":\"You already created this model repo\"}"));
        _hub.Given(Request.Create().WithPath($"/api/models/{repo}/preupload/main").UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var files = JsonDocument.Parse(request.Body!).RootElement.GetProperty("files").EnumerateArray()
                    .Select(f => f.GetProperty("path").GetString()!)
                    .Select(p => new { path = p, uploadMode = lfs.Contains(p) ? "lfs" : "regular", shouldIgnore = false });
                return new WireMock.ResponseMessage
                {
                    StatusCode = 200,
                    BodyData = new WireMock.Util.BodyData { BodyAsString = JsonSerializer.Serialize(new { files, commitOid = new string('0', 40) }), DetectedBodyType = WireMock.Types.BodyType.String },
                };
            }));
        _hub.Given(Request.Create().WithPath($"/{repo}.git/info/lfs/objects/batch").UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var objects = JsonDocument.Parse(request.Body!).RootElement.GetProperty("objects").EnumerateArray()
                    .Select(o => new
                    {
                        oid = o.GetProperty("oid").GetString(),
                        size = o.GetProperty("size").GetInt64(),
                        actions = new { upload = new { href = $"{_hub.Url}/lfs/{o.GetProperty("oid").GetString()}" } },
                    });
                return new WireMock.ResponseMessage
                {
                    StatusCode = 200,
                    BodyData = new WireMock.Util.BodyData { BodyAsString = JsonSerializer.Serialize(new { objects }), DetectedBodyType = WireMock.Types.BodyType.String },
                };
            }));
        _hub.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/lfs/*")).UsingPut()).RespondWith(Response.Create().WithStatusCode(200));
        _hub.Given(Request.Create().WithPath($"/api/models/{repo}/commit/main").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(JsonSerializer.Serialize(new { success = true, commitOid = Commit, commitUrl = $"{_hub.Url}/{repo}/commit/{Commit}" })));
    }

    [Fact]
    public async Task Pushing_a_python_written_adapter_folder_makes_the_commit_python_would()
    {
        var source = TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter");
        const string repo = "me/mbert-md";
        StubHubWrites(repo, ["pytorch_adapter.bin", "pytorch_model_head.bin"]);

        var (exitCode, output, error) = await RunAsync("push", source, repo, "--endpoint", _hub.Url!, "--token", Token, "--json");

        Assert.True(exitCode == 0, error);
        Assert.Equal(Commit, JsonDocument.Parse(output).RootElement.GetProperty("commitOid").GetString());
        var lines = Encoding.UTF8.GetString(_hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/commit/main", StringComparison.Ordinal)).RequestMessage.BodyAsBytes!)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("{\"summary\":\"Upload model\",\"description\":\"\"}", lines[0].GetProperty("value").GetRawText());

        var byPath = lines.Skip(1).ToDictionary(l => l.GetProperty("value").GetProperty("path").GetString()!, l => l);
        Assert.Equal(["README.md", "adapter_config.json", "head_config.json", "pytorch_adapter.bin", "pytorch_model_head.bin"], byPath.Keys.Order(StringComparer.Ordinal));
        var weights = byPath["pytorch_adapter.bin"].GetProperty("value");
        Assert.Equal("lfsFile", byPath["pytorch_adapter.bin"].GetProperty("key").GetString());
        Assert.Equal("71b52764b4c83bb69aab615bc7d94b33edb23da5ec8965e950b9556a4fcc9d42", weights.GetProperty("oid").GetString());
        Assert.Equal(3594853, weights.GetProperty("size").GetInt64());
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "adapter_config.json")),
            Convert.FromBase64String(byPath["adapter_config.json"].GetProperty("value").GetProperty("content").GetString()!));

        var card = ModelCard.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(byPath["README.md"].GetProperty("value").GetProperty("content").GetString()!)));
        Assert.Equal(["adapter-transformers", "bert"], card.Metadata.Tags);
        Assert.Contains("model.load_adapter(\"me/mbert-md\", set_active=True)", card.Body, StringComparison.Ordinal);
        Assert.Contains("includes a prediction head for classification", card.Body, StringComparison.Ordinal);

        var uploaded = _hub.LogEntries.Where(e => e.RequestMessage.Method == "PUT").Select(e => Convert.ToHexStringLower(SHA256.HashData(e.RequestMessage.BodyAsBytes!))).Order().ToList();
        Assert.Equal(["71b52764b4c83bb69aab615bc7d94b33edb23da5ec8965e950b9556a4fcc9d42", "8509a5733fc465a15c8f6f65ff57f5c3b0c836149ab5916fe035c29ac1a72f9c"], uploaded);
        Assert.All(_hub.LogEntries.Where(e => e.RequestMessage.Method == "PUT"), e => Assert.False(e.RequestMessage.Headers!.ContainsKey("Authorization")));
    }

    [Fact]
    public async Task Pushing_a_peft_folder_writes_peft_s_card()
    {
        var source = TestPaths.Fixture("peft-task-models", "bert-seq-cls-lora");
        const string repo = "me/bert-seq-cls-lora";
        StubHubWrites(repo, ["adapter_model.safetensors"]);

        // The folder's own card (save_pretrained wrote it) is pushed as it is; --overwrite-card writes one naming the repository.
        var (exitCode, _, error) = await RunAsync("push", source, repo, "--endpoint", _hub.Url!, "--token", Token, "--json");
        Assert.True(exitCode == 0, error);
        var first = Encoding.UTF8.GetString(_hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/commit/main", StringComparison.Ordinal)).RequestMessage.BodyAsBytes!)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("value")).ToList();
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "README.md")),
            Convert.FromBase64String(first.Single(l => l.GetProperty("path").GetString() == "README.md").GetProperty("content").GetString()!));
        _hub.ResetLogEntries();

        (exitCode, _, error) = await RunAsync("push", source, repo, "--endpoint", _hub.Url!, "--token", Token, "--overwrite-card", "--json");

        Assert.True(exitCode == 0, error);
        var lines = Encoding.UTF8.GetString(_hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/commit/main", StringComparison.Ordinal)).RequestMessage.BodyAsBytes!)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var byPath = lines.Skip(1).ToDictionary(l => l.GetProperty("value").GetProperty("path").GetString()!, l => l);
        Assert.Equal(["README.md", "adapter_config.json", "adapter_model.safetensors"], byPath.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllBytes(Path.Combine(source, "adapter_config.json")),
            Convert.FromBase64String(byPath["adapter_config.json"].GetProperty("value").GetProperty("content").GetString()!));
        var card = ModelCard.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(byPath["README.md"].GetProperty("value").GetProperty("content").GetString()!)));
        Assert.Equal("peft", card.Metadata.GetString("library_name"));
        Assert.Equal("models/bert", card.Metadata.GetString("base_model"));
        Assert.Equal(["base_model:adapter:models/bert", "lora", "transformers"], card.Metadata.Tags);
        Assert.Null(card.Metadata.GetString("pipeline_tag"));
        Assert.Contains("PeftModel.from_pretrained(model, \"me/bert-seq-cls-lora\")", card.Body, StringComparison.Ordinal);
        Assert.Contains("AutoModelForSequenceClassification", card.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_without_adapter_config_fails_with_one_line()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_home.FullName, "not-an-adapter")).FullName;

        var (exitCode, _, error) = await RunAsync("push", empty, "me/x", "--endpoint", _hub.Url!, "--token", Token);

        Assert.Equal(1, exitCode);
        Assert.Equal($"error: '{empty}' is not an adapter folder: adapter_config.json is missing.", error.Trim());
        Assert.Empty(_hub.LogEntries);
    }

    [Fact]
    public async Task Login_checks_the_token_then_stores_it_with_mode_0600()
    {
        _hub.Given(Request.Create().WithPath("/api/whoami-v2").WithHeader("Authorization", $"Bearer {Token}").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("{\"type\":\"user\",\"name\":\"ada\",\"orgs\":[{\"name\":\"lab\"}],\"auth\":{\"type\":\"access_token\",\"accessToken\":{\"displayName\":\"ci\",\"role\":\"write\"}}}"));

        var (exitCode, output, error) = await RunAsync("login", "--token", Token, "--endpoint", _hub.Url!);

        Assert.True(exitCode == 0, error);
        var tokenPath = Path.Combine(_home.FullName, "token");
        Assert.Equal(Token, File.ReadAllText(tokenPath));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenPath));
        Assert.Contains("Logged in as ada", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, output, StringComparison.Ordinal);
        // Python 1.x saves every login under the token's name in stored_tokens (INI, 0600) as well.
        var storedTokens = Path.Combine(_home.FullName, "stored_tokens");
        Assert.Equal($"[ci]\nhf_token = {Token}\n\n", File.ReadAllText(storedTokens));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(storedTokens));

        var (whoamiExit, whoami, _) = await RunAsync("whoami", "--endpoint", _hub.Url!);
        Assert.Equal(0, whoamiExit);
        Assert.Equal("ada\norgs: lab", whoami.Trim().ReplaceLineEndings("\n"));

        var (logoutExit, _, _) = await RunAsync("logout");
        Assert.Equal(0, logoutExit);
        Assert.False(File.Exists(tokenPath));
        Assert.False(File.Exists(storedTokens), "logout must not leave the secret behind in stored_tokens");
    }

    [Fact]
    public async Task Login_with_a_rejected_token_stores_nothing()
    {
        _hub.Given(Request.Create().WithPath("/api/whoami-v2").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(401).WithBody("{\"error\":\"Invalid credentials in Authorization header\"}"));

        var (exitCode, _, error) = await RunAsync("login", "--token", "hf_bad", "--endpoint", _hub.Url!);

        Assert.Equal(ExitCodes.Auth, exitCode);
        Assert.Contains("401", error, StringComparison.Ordinal);
        Assert.DoesNotContain("hf_bad", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_home.FullName, "token")));
    }

    [Fact]
    public async Task Card_writes_a_model_card_into_the_adapter_folder()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_home.FullName, "adapter")).FullName;
        var source = TestPaths.Fixture("python-written", "AnHu2410__MD_crosslingual", "adapter", "adapter_config.json");
        File.Copy(source, Path.Combine(folder, "adapter_config.json"));
        File.WriteAllBytes(Path.Combine(folder, "adapter.safetensors"), [8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8.ToArray()]);

        var (exitCode, output, error) = await RunAsync("card", folder, "--repo-id", "me/md", "--license", "apache-2.0", "--dataset", "xnli");

        Assert.True(exitCode == 0, error);
        var card = ModelCard.Load(output.Trim());
        Assert.Equal("apache-2.0", card.Metadata.GetString("license"));
        Assert.Equal(["xnli"], card.Metadata.GetList("datasets"));
        Assert.Equal("bert-base-multilingual-cased", card.Metadata.GetString("base_model"));
    }
}
