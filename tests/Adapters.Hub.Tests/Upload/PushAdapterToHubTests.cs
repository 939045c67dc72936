using System.Text;
using System.Text.Json;
using Adapters.Core;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using Adapters.Hub.Cards;
using Adapters.Hub.Upload;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;
using static TorchSharp.torch;

namespace Adapters.Hub.Tests.Upload;

public sealed class PushAdapterToHubTests : IDisposable
{
    private const string Repo = "me/tiny-lora";
    private readonly WireMockServer _hub = WireMockServer.Start();
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-push-model-");

    public void Dispose()
    {
        _hub.Stop();
        _hub.Dispose();
        _scratch.Delete(recursive: true);
    }

    private static ResponseMessage Json(object body) => new()
    {
        StatusCode = 200,
        BodyData = new BodyData { BodyAsString = JsonSerializer.Serialize(body), DetectedBodyType = BodyType.String },
    };

    private void StubHub()
    {
        _hub.Given(Request.Create().WithPath("/api/repos/create").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($"{{\"url\":\"{_hub.Url}/{Repo}\",\"name\":\"{Repo}\"}}"));
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/preupload/main").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Json(new
            {
                files = JsonDocument.Parse(request.Body!).RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()!)
                    .Select(p => new { path = p, uploadMode = p.EndsWith(".json", StringComparison.Ordinal) || p.EndsWith(".md", StringComparison.Ordinal) ? "regular" : "lfs", shouldIgnore = false }),
                commitOid = new string('0', 40),
            })));
        _hub.Given(Request.Create().WithPath($"/{Repo}.git/info/lfs/objects/batch").UsingPost()).RespondWith(Response.Create().WithCallback(request =>
            Json(new
            {
                objects = JsonDocument.Parse(request.Body!).RootElement.GetProperty("objects").EnumerateArray().Select(o => new
                {
                    oid = o.GetProperty("oid").GetString(),
                    size = o.GetProperty("size").GetInt64(),
                    actions = new { upload = new { href = $"{_hub.Url}/lfs/{o.GetProperty("oid").GetString()}" } },
                }),
            })));
        _hub.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/lfs/*")).UsingPut()).RespondWith(Response.Create().WithStatusCode(200));
        _hub.Given(Request.Create().WithPath($"/api/models/{Repo}/commit/main").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($"{{\"success\":true,\"commitOid\":\"{new string('7', 40)}\",\"commitUrl\":\"{_hub.Url}/{Repo}/commit/x\"}}"));
    }

    [Fact]
    public async Task A_trained_model_adapter_is_pushed_in_pythons_layout_and_the_pushed_weights_load_back()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        manual_seed(11);
        var config = new EncoderConfig { VocabSize = 50, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64, MaxPositionEmbeddings = 40, NameOrPath = "tiny-bert" };
        using var model = new FlexHeadModel(new BertModel(config));
        model.BaseModel.AddAdapter("sst", "lora[r=4]", setActive: true);
        model.AddClassificationHead("sst", numLabels: 2);
        StubHub();
        using var hub = new HubClient(new HubClientOptions { Endpoint = new Uri(_hub.Url!), Token = "hf_x", CacheDirectory = Path.Combine(_scratch.FullName, "cache") });

        var info = await hub.PushAdapterToHubAsync(model, Repo, "sst", new AdapterPushOptions { Card = new AdapterCardFields { DatasetTag = "glue" } });

        Assert.Equal(new string('7', 40), info.CommitOid);
        var lines = Encoding.UTF8.GetString(_hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/commit/main", StringComparison.Ordinal)).RequestMessage.BodyAsBytes!)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("value")).ToList();
        Assert.Equal(
            ["README.md", "adapter.safetensors", "adapter_config.json", "head_config.json", "model_head.safetensors", "pytorch_adapter.bin", "pytorch_model_head.bin"],
            lines.Select(l => l.GetProperty("path").GetString()).Order(StringComparer.Ordinal));

        var readme = Encoding.UTF8.GetString(Convert.FromBase64String(lines.Single(l => l.GetProperty("path").GetString() == "README.md").GetProperty("content").GetString()!));
        var card = ModelCard.Parse(readme);
        Assert.Equal(["adapter-transformers", "bert"], card.Metadata.Tags);
        Assert.Equal("tiny-bert", card.Metadata.GetString("base_model"));
        var loraParameters = model.BaseModel.AdapterParameters("sst").Sum(p => p.Parameter.numel());
        Assert.Contains($"- Parameters: {loraParameters:N0} (", card.Body, StringComparison.Ordinal);
        Assert.Contains("- Method: `lora`", card.Body, StringComparison.Ordinal);

        var binOid = lines.Single(l => l.GetProperty("path").GetString() == "pytorch_adapter.bin").GetProperty("oid").GetString();
        var pushed = Path.Combine(_scratch.FullName, "pushed.bin");
        File.WriteAllBytes(pushed, _hub.LogEntries.Single(e => e.RequestMessage.Path == $"/lfs/{binOid}").RequestMessage.BodyAsBytes!);
        using var weights = TensorFiles.Load(pushed);
        var ours = model.BaseModel.GetAdapterStateDict("sst");
        Assert.Equal(ours.Keys.Order(), weights.Keys.Order());
        Assert.All(ours, p => Assert.True(eq(p.Value, weights[p.Key]).all().item<bool>(), p.Key));
    }

    [Fact]
    public async Task A_peft_adapter_is_pushed_in_pefts_layout_with_pefts_card_and_loads_back()
    {
        TorchRuntime.Initialize();
        using var model = ModelFactory.Load(Adapters.Testing.TestPaths.Fixture("python-goldens", "peft", "models", "llama"));
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", PeftConfig.Create("LORA", new System.Text.Json.Nodes.JsonObject { ["r"] = 4, ["target_modules"] = "all-linear", ["task_type"] = "CAUSAL_LM" }));
        StubHub();
        using var hub = new HubClient(new HubClientOptions { Endpoint = new Uri(_hub.Url!), Token = "hf_x", CacheDirectory = Path.Combine(_scratch.FullName, "cache") });

        await hub.PushAdapterToHubAsync(peft, Repo, baseModelNameOrPath: "TinyLlama/TinyLlama-1.1B-Chat-v1.0");

        var lines = Encoding.UTF8.GetString(_hub.LogEntries.Single(e => e.RequestMessage.Path.EndsWith("/commit/main", StringComparison.Ordinal)).RequestMessage.BodyAsBytes!)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("value")).ToList();
        Assert.Equal(["README.md", "adapter_config.json", "adapter_model.safetensors"], lines.Select(l => l.GetProperty("path").GetString()).Order(StringComparer.Ordinal));
        var card = ModelCard.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(lines.Single(l => l.GetProperty("path").GetString() == "README.md").GetProperty("content").GetString()!)));
        Assert.Equal("peft", card.Metadata.GetString("library_name"));
        Assert.Equal("TinyLlama/TinyLlama-1.1B-Chat-v1.0", card.Metadata.GetString("base_model"));
        Assert.Equal("text-generation", card.Metadata.GetString("pipeline_tag"));
        Assert.Equal(["base_model:adapter:TinyLlama/TinyLlama-1.1B-Chat-v1.0", "lora", "transformers"], card.Metadata.Tags);
        var config = JsonDocument.Parse(Convert.FromBase64String(lines.Single(l => l.GetProperty("path").GetString() == "adapter_config.json").GetProperty("content").GetString()!)).RootElement;
        Assert.Equal("TinyLlama/TinyLlama-1.1B-Chat-v1.0", config.GetProperty("base_model_name_or_path").GetString());
        Assert.True(config.GetProperty("inference_mode").GetBoolean());

        var oid = lines.Single(l => l.GetProperty("path").GetString() == "adapter_model.safetensors").GetProperty("oid").GetString();
        var pushed = Path.Combine(_scratch.FullName, "adapter_model.safetensors");
        File.WriteAllBytes(pushed, _hub.LogEntries.Single(e => e.RequestMessage.Path == $"/lfs/{oid}").RequestMessage.BodyAsBytes!);
        using var weights = TensorFiles.Load(pushed);
        var ours = peft.SavedTensors("default").ToDictionary(t => t.Key, t => (Tensor)t.Tensor);
        Assert.Equal(2 * 7 * 2, weights.Count);
        Assert.Equal(ours.Keys.Order(StringComparer.Ordinal), weights.Keys.Order(StringComparer.Ordinal));
        Assert.All(ours, p => Assert.True(eq(p.Value, weights[p.Key]).all().item<bool>(), p.Key));
    }
}
