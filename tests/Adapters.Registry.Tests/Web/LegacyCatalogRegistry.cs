using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Hub;
using Adapters.Hub.Legacy;
using Adapters.Hub.Legacy.Migration;
using Adapters.Hub.Upload;
using Adapters.Registry.Auth;
using Adapters.Registry.Storage;
using Adapters.Testing;

namespace Adapters.Registry.Tests.Web;

/// <summary>
/// One registry for the web page tests: the 291 adapters of the legacy AdapterHub registry (fixtures/legacy-hub)
/// as the migration publishes them, plus adapters pushed through our client with real weights, a private one and
/// one with a hostile card. Tokens are configured, so anonymous callers see only public repositories.
/// </summary>
/// <remarks>
/// The legacy weights live in zips on the legacy servers (not reachable from tests), so each legacy repository
/// holds what the migration derives from the registry itself: <c>README.md</c> from <see cref="LegacyModelCard"/>
/// and <c>adapter_config.json</c> from the index entry's recorded config, normalised by
/// <see cref="LegacyAdapterNormalizer.NormalizeAdapterConfig"/>.
/// </remarks>
public sealed class LegacyCatalogRegistry : IAsyncLifetime
{
    public const string WriteToken = "hf_web_writer";

    public const string LoraRepo = "team/bert-tagging-lora";

    public const string PeftRepo = "team/llama-peft-lora";

    public const string PrivateRepo = "team/secret-sentiment";

    public const string HostileRepo = "team/hostile-card";

    private DirectoryInfo? _scratch;

    private RegistryServer? _server;

    private readonly List<HubClient> _clients = [];

    public RegistryServer Server => _server ?? throw new InvalidOperationException("The registry is not started.");

    /// <summary>The legacy registry's plan: one item per legacy adapter, with its card.</summary>
    public IReadOnlyList<MigrationPlanItem> Legacy { get; private set; } = [];

    /// <summary>How many legacy repositories got an <c>adapter_config.json</c> (the rest have an index config the normaliser refuses).</summary>
    public int LegacyConfigs { get; private set; }

    public static string LoraFolder => TestPaths.Fixture("python-goldens", "heads", "bert", "tagging_lora", "adapter_st");

    public static string PeftFolder => TestPaths.Fixture("python-goldens", "peft", "llama", "lora", "adapter");

    public async Task InitializeAsync()
    {
        _scratch = Directory.CreateTempSubdirectory("adapters-web-");
        var root = Path.Combine(_scratch.FullName, "registry");
        await SeedLegacyAsync(root);
        _server = await RegistryServer.StartAsync(new RegistryServerOptions
        {
            RootDirectory = root,
            Port = 0,
            Tokens = [AccessToken.Parse("write:" + WriteToken, 0)],
        });
        await PushTeamReposAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var client in _clients) client.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        _scratch?.Delete(recursive: true);
    }

    /// <summary>An HTTP client for the page, with the write token when <paramref name="authorized"/>.</summary>
    public HttpClient Browser(bool authorized = false)
    {
        var http = new HttpClient { BaseAddress = Server.Endpoint };
        if (authorized) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WriteToken);
        return http;
    }

    private async Task SeedLegacyAsync(string root)
    {
        var registryRoot = TestPaths.Fixture("legacy-hub");
        var registry = LegacyRegistry.OpenFolder(registryRoot);
        Legacy = await new MigrationPlanner(registry).PlanAsync();
        using var store = new RegistryStore(root);
        foreach (var item in Legacy)
        {
            var subtask = await registry.FindSubtaskCardAsync(item.Card.Type, item.Card.Task, item.Card.Subtask);
            var files = new List<(string, byte[])> { ("README.md", Encoding.UTF8.GetBytes(LegacyModelCard.Render(item, subtask))) };
            if (AdapterConfig(registryRoot, item) is { } config)
            {
                files.Add(("adapter_config.json", Encoding.UTF8.GetBytes(config)));
                LegacyConfigs++;
            }
            await store.CreateRepoAsync(RepoKey.Parse(RepoType.Model, item.TargetRepo), isPrivate: false, files, CancellationToken.None);
        }
    }

    /// <summary>The config the legacy index records for the entry, in the layout <c>save_adapter</c> writes, normalised as the migration does.</summary>
    private static string? AdapterConfig(string registryRoot, MigrationPlanItem item)
    {
        var entry = JsonNode.Parse(File.ReadAllText(Path.Combine(registryRoot, LegacyRegistry.DistFolder, item.EntryPath)))!;
        if (entry["info"]?["adapter_config"] is not JsonObject recorded) return null;
        var saved = new JsonObject
        {
            ["config"] = recorded.DeepClone(),
            ["model_name"] = item.Card.ModelName,
            ["model_type"] = item.Card.ModelType,
            ["name"] = item.Card.Stem,
        };
        if (item.Card.HiddenSize is { } hidden) saved["hidden_size"] = hidden;
        if (item.Card.ModelClass is { } modelClass) saved["model_class"] = modelClass;
        try
        {
            return LegacyAdapterNormalizer.NormalizeAdapterConfig(saved, item.EntryPath).ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        }
        catch (LegacyArchiveException)
        {
            return null;
        }
    }

    private async Task PushTeamReposAsync()
    {
        var client = new HubClient(new HubClientOptions
        {
            Endpoint = Server.Endpoint,
            Token = WriteToken,
            CacheDirectory = _scratch!.CreateSubdirectory("cache").FullName,
            Retry = new HubRetryOptions { MaxRetries = 0 },
        });
        _clients.Add(client);

        await client.Repositories.CreateRepoAsync(LoraRepo);
        var loraCard = """
            ---
            library_name: adapters
            base_model: models/bert
            pipeline_tag: token-classification
            language:
            - de
            tags:
            - adapters
            - lora
            ---

            # Token tagging LoRA

            A **LoRA** adapter for tiny BERT, written by Python `adapters` 1.1.0. See [its config](adapter_config.json).
            """;
        await client.Commits.CreateCommitAsync(LoraRepo,
            [.. Directory.GetFiles(LoraFolder).Order(StringComparer.Ordinal).Select(f => CommitOperation.AddBytes(Path.GetFileName(f), File.ReadAllBytes(f)))],
            "Add the tagging LoRA");
        await client.Commits.CreateCommitAsync(LoraRepo, [CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(loraCard))], "Describe the adapter");
        await client.Repositories.CreateTagAsync(LoraRepo, "v1");

        await client.Repositories.CreateRepoAsync(PeftRepo);
        var peftCard = """
            ---
            library_name: peft
            base_model: models/llama
            tags:
            - peft
            - lora
            ---

            # Llama LoRA (PEFT)
            """;
        await client.Commits.CreateCommitAsync(PeftRepo,
            [.. Directory.GetFiles(PeftFolder).Order(StringComparer.Ordinal).Select(f => CommitOperation.AddBytes(Path.GetFileName(f), File.ReadAllBytes(f))),
             CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(peftCard))],
            "Add the PEFT LoRA");

        await client.Repositories.CreateRepoAsync(PrivateRepo, isPrivate: true);
        await client.Commits.CreateCommitAsync(PrivateRepo,
            [CommitOperation.AddBytes("README.md", "---\ntags:\n- adapter-transformers\n- adapterhub:sentiment/secret\n---\n\n# Secret sentiment adapter\n"u8.ToArray())],
            "Add the private card");

        await client.Repositories.CreateRepoAsync(HostileRepo);
        await client.Commits.CreateCommitAsync(HostileRepo,
            [CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(HostileMarkdown.FrontMatter + HostileMarkdown.Card))],
            "Add a hostile card");
    }
}

/// <summary>The 291-adapter registry is started once for all web page tests.</summary>
[CollectionDefinition(Name)]
public sealed class LegacyCatalogCollection : ICollectionFixture<LegacyCatalogRegistry>
{
    public const string Name = "legacy catalog registry";
}
