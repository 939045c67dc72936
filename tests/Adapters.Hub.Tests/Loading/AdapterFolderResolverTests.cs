using System.IO.Compression;
using System.Security.Cryptography;
using Adapters.Core;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Serialization;
using Adapters.Hub.Legacy;
using Adapters.Hub.Loading;
using Adapters.Hub.Tests.Legacy;
using Adapters.Hub.Tests.Stubs;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using static TorchSharp.torch;

namespace Adapters.Hub.Tests.Loading;

public sealed class AdapterFolderResolverTests : IDisposable
{
    private readonly HubStub _stub = new();
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-resolve-");
    private readonly HubClient _hub;

    public AdapterFolderResolverTests()
    {
        _hub = TestHub.Client(_stub, Path.Combine(_scratch.FullName, "hub"));
    }

    public void Dispose()
    {
        _hub.Dispose();
        _stub.Dispose();
        _scratch.Delete(recursive: true);
    }

    private static readonly byte[] Config = "{\n  \"config\": {},\n  \"name\": \"x\"\n}"u8.ToArray();
    private static readonly byte[] Weights = TestHub.RandomBytes(2048, seed: 4);

    private void AddAdapterRepo(string repoId)
    {
        _stub.AddFile(repoId, "adapter_config.json", Config);
        _stub.AddFile(repoId, "pytorch_adapter.bin", Weights, lfs: true);
    }

    [Fact]
    public async Task A_hub_repo_id_downloads_the_adapter_into_the_verified_cache()
    {
        AddAdapterRepo("AdapterHub/roberta-base-pf-sst2");

        var folder = await new AdapterFolderResolver(_hub).ResolveAsync("AdapterHub/roberta-base-pf-sst2");

        Assert.Equal(AdapterSourceKind.HubRepository, folder.Source);
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(folder.Path, "pytorch_adapter.bin")));
        Assert.StartsWith(Path.Combine(_scratch.FullName, "hub", "models--AdapterHub--roberta-base-pf-sst2", "snapshots"), folder.Path, StringComparison.Ordinal);
        Assert.True(await TestHub.AssertEveryBlobVerifiesAsync(Path.Combine(_scratch.FullName, "hub")) >= 2);
    }

    [Fact]
    public async Task A_legacy_id_is_redirected_to_the_migrated_adapterhub_repo_as_python_does()
    {
        AddAdapterRepo("AdapterHub/roberta-base-sst_pfeiffer");
        var options = new AdapterResolveOptions { ModelName = "roberta-base", LegacyResolver = new AdapterResolver(LegacyFixtures.Registry) };

        var folder = await new AdapterFolderResolver(_hub).ResolveAsync("sentiment/sst-2@ukp", options);

        Assert.Equal(AdapterSourceKind.LegacyRedirect, folder.Source);
        Assert.Equal("AdapterHub/roberta-base-sst_pfeiffer", folder.RepoId);
        Assert.Equal(Config, File.ReadAllBytes(Path.Combine(folder.Path, "adapter_config.json")));
    }

    [Fact]
    public async Task When_every_source_fails_the_error_names_each_step()
    {
        var options = new AdapterResolveOptions { ModelName = "roberta-base", LegacyResolver = new AdapterResolver(LegacyFixtures.Registry) };

        var ex = await Assert.ThrowsAsync<AdapterNotFoundException>(() => new AdapterFolderResolver(_hub).ResolveAsync("nobody/nothing", options));

        Assert.StartsWith("Unable to load adapter 'nobody/nothing' from any source.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, ex.Attempts.Count);
        Assert.StartsWith("local folder:", ex.Attempts[0], StringComparison.Ordinal);
        Assert.StartsWith("Hub repository:", ex.Attempts[1], StringComparison.Ordinal);
        Assert.StartsWith("legacy AdapterHub id:", ex.Attempts[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_without_weights_gives_pythons_message()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_scratch.FullName, "half")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "adapter_config.json"), Config);

        var ex = await Assert.ThrowsAsync<AdapterNotFoundException>(() => new AdapterFolderResolver(_hub).ResolveAsync(folder));

        Assert.Contains($"no file pytorch_adapter.bin or adapter.safetensors or no file adapter_config.json found in directory {folder}", ex.Message, StringComparison.Ordinal);
    }

    private byte[] AdapterZip(string innerFolder)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry(innerFolder + "adapter_config.json").Open()) entry.Write(Config);
            using (var entry = zip.CreateEntry(innerFolder + "pytorch_adapter.bin").Open()) entry.Write(Weights);
        }
        return buffer.ToArray();
    }

    [Fact]
    public async Task A_url_zip_is_checked_extracted_flat_and_reused()
    {
        var zip = AdapterZip("sst/");
        _stub.Hub.Given(Request.Create().WithPath("/zips/sst.zip").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(zip));
        var url = _stub.Hub.Url + "/zips/sst.zip";
        var options = new AdapterResolveOptions { UrlCacheDirectory = Path.Combine(_scratch.FullName, "torch"), UrlSha256 = Convert.ToHexStringLower(SHA256.HashData(zip)) };

        var first = await new AdapterFolderResolver(_hub).ResolveAsync(url, options);
        var second = await new AdapterFolderResolver(_hub).ResolveAsync(url, options);

        Assert.Equal(AdapterSourceKind.Url, first.Source);
        Assert.Equal(Weights, File.ReadAllBytes(Path.Combine(first.Path, "pytorch_adapter.bin")));
        Assert.Equal(first.Path, second.Path);
        Assert.Single(_stub.HubRequests, r => r.Path == "/zips/sst.zip");

        var wrong = options with { UrlSha256 = new string('0', 64), UrlCacheDirectory = Path.Combine(_scratch.FullName, "torch2") };
        var ex = await Assert.ThrowsAsync<AdapterNotFoundException>(() => new AdapterFolderResolver(_hub).ResolveAsync(url, wrong));
        Assert.Contains("Failed to verify checksum", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(Path.Combine(_scratch.FullName, "torch2")));
    }

    [Fact]
    public async Task LoadAdapterAsync_pulls_a_pushed_adapter_into_a_fresh_model_with_identical_outputs()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var config = new EncoderConfig { VocabSize = 50, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 40 };
        manual_seed(21);
        using var trained = new BertModel(config);
        trained.eval();
        trained.AddAdapter("sst", "seq_bn", setActive: true);
        using (no_grad())
        {
            foreach (var (_, parameter) in trained.AdapterParameters("sst")) parameter.add_(randn_like(parameter) * 0.05);
        }
        var saved = Path.Combine(_scratch.FullName, "saved");
        trained.SaveAdapter(saved, "sst");
        foreach (var file in Directory.GetFiles(saved))
        {
            _stub.AddFile("me/tiny-sst", Path.GetFileName(file), File.ReadAllBytes(file), lfs: !file.EndsWith(".json", StringComparison.Ordinal));
        }
        manual_seed(21);
        using var fresh = new BertModel(config);
        fresh.eval();
        var ids = randint(2, 50, [2, 5]);

        var result = await fresh.LoadAdapterAsync(_hub, "me/tiny-sst", setActive: true);

        Assert.Equal("sst", result.Name);
        Assert.Empty(result.UnexpectedKeys);
        var expected = ((ITextEncoder)trained).Encode(ids).LastHiddenState;
        var actual = ((ITextEncoder)fresh).Encode(ids).LastHiddenState;
        Assert.True(eq(expected, actual).all().item<bool>());
    }
}
