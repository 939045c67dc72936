using System.Text.Json.Nodes;
using Adapters.Core.Composition;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using Adapters.Testing;
using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Tests.Models;

/// <summary>
/// GPT-2 and Llama adapter sites against what Python's adapters 1.1.0 computes (fixtures/decoder-sites): AdapterFusion
/// loaded under Python's keys, Parallel, ReFT, prefix tuning on a grouped-query model and UniPELT on GPT-2's fused c_attn.
/// </summary>
public sealed class DecoderSiteGoldenTests
{
    [Theory]
    [InlineData("compositions/gpt2/fuse_seq_bn", "Fuse(a, b)")]
    [InlineData("compositions/llama_gqa/fuse_seq_bn", "Fuse(a, b)")]
    [InlineData("compositions/llama_gqa/parallel_seq_bn", "Parallel(a, b)")]
    public void Compositions_equal_python_with_nothing_missing_or_unexpected(string folder, string setup)
    {
        using var scope = NewDisposeScope();
        var (lm, golden) = Load(folder);
        var model = lm.BaseModel;
        var caseFolder = Fixture(folder);
        foreach (var name in new[] { "a", "b" })
            AssertClean(model.LoadAdapter(Path.Combine(caseFolder, name + "_st")));
        if (Directory.Exists(Path.Combine(caseFolder, "fusion_st")))
            AssertClean(model.LoadAdapterFusion(Path.Combine(caseFolder, "fusion_st")));
        model.SetActiveAdapters(CompositionParser.Parse(setup));

        AssertEqualsGolden(lm, golden);
        ((nn.Module)lm).Dispose();
    }

    [Theory]
    [InlineData("compositions/gpt2/fuse_seq_bn")]
    [InlineData("compositions/llama_gqa/fuse_seq_bn")]
    public void A_saved_decoder_fusion_has_pythons_keys_and_values(string folder)
    {
        using var scope = NewDisposeScope();
        var (lm, _) = Load(folder);
        var model = lm.BaseModel;
        var fusionFolder = Path.Combine(Fixture(folder), "fusion_st");
        foreach (var name in new[] { "a", "b" }) model.LoadAdapter(Path.Combine(Fixture(folder), name + "_st"));
        model.LoadAdapterFusion(fusionFolder);
        var target = Directory.CreateTempSubdirectory("decoder-fusion-").FullName;
        try
        {
            model.SaveAdapterFusion(target, "a,b");
            var python = TensorFiles.Load(Path.Combine(fusionFolder, AdapterFusionFiles.FusionSafetensorsFile));
            // Python saved from a bare model (no base prefix); ours carries it, which Python's loader strips.
            var prefix = model.Interface.BaseModelPrefix + ".";
            var ours = TensorFiles.Load(Path.Combine(target, AdapterFusionFiles.FusionSafetensorsFile))
                .ToDictionary(p => p.Key.StartsWith(prefix, StringComparison.Ordinal) ? p.Key[prefix.Length..] : p.Key, p => p.Value, StringComparer.Ordinal);
            Assert.Equal(python.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, value) in python) Assert.True(value.equal(ours[key]).all().item<bool>(), key);
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
        ((nn.Module)lm).Dispose();
    }

    [Theory]
    [InlineData("adapters/gpt2/loreft", "adapter_st")]
    [InlineData("adapters/llama_gqa/noreft", "adapter_st")]
    [InlineData("adapters/llama_gqa/prefix_tuning_flat", "adapter")]
    [InlineData("adapters/gpt2/unipelt", "adapter")]
    public void Single_adapters_equal_python_with_nothing_missing_or_unexpected(string folder, string adapterFolder)
    {
        using var scope = NewDisposeScope();
        var (lm, golden) = Load(folder);
        AssertClean(lm.BaseModel.LoadAdapter(Path.Combine(Fixture(folder), adapterFolder), setActive: true));

        AssertEqualsGolden(lm, golden);
        ((nn.Module)lm).Dispose();
    }

    [Fact]
    public void UniPELT_on_gpt2_records_one_gate_per_enabled_part_of_the_fused_projection()
    {
        using var scope = NewDisposeScope();
        var (lm, golden) = Load("adapters/gpt2/unipelt");
        lm.BaseModel.LoadAdapter(Path.Combine(Fixture("adapters/gpt2/unipelt"), "adapter"), setActive: true);
        lm.BaseModel.Setup.OutputGatingScores = true;
        CausalLMOutput output;
        using (no_grad()) output = lm.Forward(Ids(golden, "input_ids"), attentionMask: Ids(golden, "attention_mask"));

        // unipelt's LoRA adapts q and v: a gate per example and part, under Python's "selfattn" location.
        var scores = output.AdapterOutputs!.GatingScores;
        var selfAttention = scores["unipelt"][1]["selfattn"];
        Assert.Equal([2L, 2L], selfAttention.shape);
        Assert.True(selfAttention.gt(0).all().item<bool>() && selfAttention.lt(1).all().item<bool>());
        Assert.Equal([2L], scores["unipelt"][1]["output_adapter"].shape);
        ((nn.Module)lm).Dispose();
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Parallel_generation_decodes_each_prompt_once_per_child_as_that_child_alone(string modelType)
    {
        using var scope = NewDisposeScope();
        var model = DecoderAdapterMethodTests.Create(modelType);
        // Both children have modules at every site: a child without one passes its rows through the other adapter's
        // pre/post steps, as in Python, and would not equal its run alone.
        model.BaseModel.AddAdapter("a", "double_seq_bn[reduction_factor=4]");
        model.BaseModel.AddAdapter("b", "double_seq_bn[reduction_factor=2]");
        DecoderAdapterMethodTests.Perturb(model.BaseModel, "a", seed: 5);
        DecoderAdapterMethodTests.Perturb(model.BaseModel, "b", seed: 6);
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 4);
        using var mask = tensor(new long[,] { { 1, 1, 1, 1 }, { 0, 1, 1, 1 } });
        var options = new GenerationOptions { MaxNewTokens = 5, KeepLogits = true, StopTokenIds = [] };
        model.BaseModel.SetActiveAdapters("a");
        var alone = new[] { TextGenerator.Generate(model, prompt, options, mask), null! };
        model.BaseModel.SetActiveAdapters("b");
        alone[1] = TextGenerator.Generate(model, prompt, options, mask);
        model.BaseModel.SetActiveAdapters(new Parallel("a", "b"));

        var parallel = TextGenerator.Generate(model, prompt, options, mask);

        Assert.Equal(4, parallel.NewTokens.Count);
        for (var row = 0; row < 4; row++) Assert.Equal(alone[row / 2].NewTokens[row % 2], parallel.NewTokens[row]);
        for (var step = 0; step < 5; step++)
        {
            var expected = cat([alone[0].StepLogits[step], alone[1].StepLogits[step]], 0);
            Assert.True(TinyDecoders.MaxDiff(expected, parallel.StepLogits[step]) < 1e-4, $"step {step}");
        }
        TinyDecoders.AssertCacheMatchesRecompute(model, prompt, steps: 5, mask);
        ((nn.Module)model).Dispose();
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void ReFT_on_decoders_keeps_cached_generation_equal_to_recomputation(string modelType)
    {
        using var scope = NewDisposeScope();
        var model = DecoderAdapterMethodTests.Create(modelType);
        model.BaseModel.AddAdapter("r", "loreft[r=2, prefix_positions=2]", setActive: true);
        DecoderAdapterMethodTests.Perturb(model.BaseModel, "r");
        using var prompt = TinyDecoders.Prompt(batch: 2, length: 5);
        using var noGrad = no_grad();
        var adapted = model.Forward(prompt).Logits;
        model.BaseModel.SetActiveAdapters();
        Assert.True(TinyDecoders.MaxDiff(adapted, model.Forward(prompt).Logits) > 1e-4, "the adapter must change the logits");
        model.BaseModel.SetActiveAdapters("r");

        TinyDecoders.AssertCacheMatchesRecompute(model, prompt, steps: 5);
        using var mask = tensor(new long[,] { { 1, 1, 1, 1, 1 }, { 0, 0, 1, 1, 1 } });
        TinyDecoders.AssertCacheMatchesRecompute(model, prompt, steps: 5, mask);
        ((nn.Module)model).Dispose();
    }

    private static string Fixture(string folder) => TestPaths.Fixture(["decoder-sites", .. folder.Split('/')]);

    private static (ICausalLM Model, JsonObject Golden) Load(string folder)
    {
        Core.TorchRuntime.Initialize();
        var golden = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture(folder), "golden.json")))!.AsObject();
        var modelFolder = Fixture("models/" + golden["model"]!.GetValue<string>());
        var lm = DecoderModels.Create(File.ReadAllText(Path.Combine(modelFolder, "config.json")));
        // The checkpoints are bare GPT2Model / LlamaModel: every base weight loads, the tied or absent LM head aside.
        var (missing, unexpected) = lm.BaseModel.LoadModelStateDict(TensorFiles.Load(Path.Combine(modelFolder, "model.safetensors")));
        Assert.Empty(missing);
        Assert.Empty(unexpected);
        ((nn.Module)lm).eval();
        return (lm, golden);
    }

    private static void AssertClean(AdapterLoadResult result)
    {
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
    }

    private static void AssertEqualsGolden(ICausalLM lm, JsonObject golden)
    {
        ((nn.Module)lm).eval();
        using var _ = no_grad();
        var hidden = lm.Forward(Ids(golden, "input_ids"), attentionMask: Ids(golden, "attention_mask")).HiddenStates;
        var expectedNode = golden["outputs"]!["last_hidden_state"]!;
        var shape = expectedNode["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
        var values = new List<float>();
        void Walk(JsonNode node)
        {
            if (node is JsonArray array) foreach (var item in array) Walk(item!);
            else values.Add(node.GetValue<float>());
        }
        Walk(expectedNode["data"]!);
        Assert.Equal(shape, hidden.shape);
        var difference = TinyDecoders.MaxDiff(hidden, tensor(values.ToArray(), shape));
        Assert.True(difference <= 1e-5, $"max abs difference to Python {difference}");
    }

    private static Tensor Ids(JsonObject golden, string key)
    {
        var rows = golden[key]!.AsArray();
        var values = rows.SelectMany(r => r!.AsArray().Select(x => x!.GetValue<long>())).ToArray();
        return tensor(values, [rows.Count, values.Length / rows.Count]);
    }
}
