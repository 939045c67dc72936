using Adapters.Core.Configuration;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

/// <summary>
/// VeRA and DoRA folders in the layout of Python's adapters (AdapterModel keys, shared VeRA matrices under
/// <c>shared_parameters</c>), and what loading a folder without those shared matrices does.
/// </summary>
public sealed class VeraDoraFolderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("vera-dora-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // TinyBert: hidden 32; the presets' r is 8.
    public static TheoryData<string, string[]> Layouts() => new()
    {
        { "vera", ["bert.encoder.layer.0.attention.self.query.loras.m.vera_B [32, 32]", "bert.encoder.layer.0.attention.self.query.loras.m.vera_D [8, 8]", "bert.shared_parameters.m.lora_A [8, 32]", "bert.shared_parameters.m.lora_B [32, 8]"] },
        { "dora", ["bert.encoder.layer.0.attention.self.query.loras.m.lora_A [8, 32]", "bert.encoder.layer.0.attention.self.query.loras.m.lora_B [32, 8]", "bert.encoder.layer.0.attention.self.query.loras.m.m.weight [32, 1]"] },
        { "dvora", ["bert.encoder.layer.0.attention.self.query.loras.m.m.weight [32, 1]", "bert.encoder.layer.0.attention.self.query.loras.m.vera_B [32, 32]", "bert.encoder.layer.0.attention.self.query.loras.m.vera_D [8, 8]", "bert.shared_parameters.m.lora_A [8, 32]"] },
    };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Saved_folders_hold_pythons_keys_and_reload_with_identical_outputs(string config, string[] someKeys)
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert();
        source.AddAdapter("m", config, setActive: true);
        using (no_grad())
            foreach (var (_, p) in source.AdapterParameters("m")) p.add_(randn_like(p) * 0.05);
        var ids = TinyModels.InputIds();
        var expected = source.Forward(ids).LastHiddenState;

        source.SaveAdapter(_folder, "m");
        using var target = TinyModels.Bert();
        var result = target.LoadAdapter(_folder, setActive: true);

        using var file = TensorFiles.Load(Path.Combine(_folder, AdapterFolderFiles.AdapterSafetensorsFile));
        var keys = file.Select(p => $"{p.Key} [{string.Join(", ", p.Value.shape)}]").ToHashSet();
        Assert.All(someKeys, k => Assert.Contains(k, keys));
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.True(TinyModels.Same(expected, target.Forward(ids).LastHiddenState));
        Assert.Equal(source.GetAdapterConfig("m").ToJsonString(), target.GetAdapterConfig("m").ToJsonString());
    }

    // adapter_config.json as adapters >= 1.2 writes it (every LoRAConfig field, sorted), for the tiny BERT.
    private static string PythonConfigJson(string initWeights, bool useDora, string veraD, string veraB) => $$"""
        {
          "config": {
            "alpha": 8,
            "architecture": "lora",
            "attn_matrices": ["q", "v"],
            "composition_mode": "add",
            "dropout": 0.0,
            "dtype": null,
            "init_weights": "{{initWeights}}",
            "init_weights_seed": null,
            "intermediate_lora": false,
            "leave_out": [],
            "output_lora": false,
            "r": 8,
            "selfattn_lora": true,
            "use_dora": {{(useDora ? "true" : "false")}},
            "use_gating": false,
            "vera_b": {{veraB}},
            "vera_d": {{veraD}}
          },
          "hidden_size": 32,
          "model_class": "BertAdapterModel",
          "model_name": "tiny-bert",
          "model_type": "bert",
          "name": "saved",
          "version": "adapters.1.2.0"
        }
        """;

    // The per-layer (and, for VeRA, shared) tensors Python's save_adapter writes for q and v of both layers: key suffix → shape.
    public static TheoryData<string, bool, string, string, string[]> PythonLayouts() => new()
    {
        { "vera", false, "0.1", "0.0", ["loras.saved.vera_D 8,8", "loras.saved.vera_B 32,32", "shared:lora_A 8,32", "shared:lora_B 32,8"] },
        { "lora", true, "null", "null", ["loras.saved.lora_A 8,32", "loras.saved.lora_B 32,8", "loras.saved.m.weight 32,1"] },
        { "vera", true, "0.1", "0.0", ["loras.saved.vera_D 8,8", "loras.saved.vera_B 32,32", "loras.saved.m.weight 32,1", "shared:lora_A 8,32", "shared:lora_B 32,8"] },
    };

    [Theory]
    [MemberData(nameof(PythonLayouts))]
    public void A_folder_in_pythons_layout_loads_every_tensor_where_python_keeps_it(string initWeights, bool useDora, string veraD, string veraB, string[] layout)
    {
        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, TorchSharp.torch.Tensor>(StringComparer.Ordinal);
        foreach (var entry in layout)
        {
            var (suffix, shape) = (entry.Split(' ')[0], entry.Split(' ')[1].Split(',').Select(long.Parse).ToArray());
            if (suffix.StartsWith("shared:", StringComparison.Ordinal))
            {
                weights["bert.shared_parameters.saved." + suffix["shared:".Length..]] = randn(shape);
                continue;
            }
            foreach (var layer in new[] { 0, 1 })
                foreach (var projection in new[] { "query", "value" })
                    weights[$"bert.encoder.layer.{layer}.attention.self.{projection}.{suffix}"] = randn(shape);
        }
        File.WriteAllText(Path.Combine(_folder, AdapterConfigFile.FileName), PythonConfigJson(initWeights, useDora, veraD, veraB));
        TensorFiles.Save(Path.Combine(_folder, AdapterFolderFiles.AdapterSafetensorsFile), weights);
        using var model = TinyModels.Bert();

        var result = model.LoadAdapter(_folder, loadAs: "m");

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var loaded = model.GetAdapterStateDict("m");
        Assert.Equal(weights.Count, loaded.Count);
        foreach (var (key, tensor) in weights)
            Assert.True(TinyModels.Same(tensor, loaded[key.Replace(".saved.", ".m.", StringComparison.Ordinal)]), key);
        var config = Assert.IsAssignableFrom<LoRAConfig>(model.GetAdapterConfig("m"));
        Assert.Equal(useDora, config.UseDora);
        Assert.Equal(veraD != "null", config.IsVera);
    }

    [Fact]
    public void A_vera_folder_without_its_shared_matrices_loads_as_pythons_bare_model_files_do()
    {
        using var scope = NewDisposeScope();
        using var source = TinyModels.Bert();
        source.AddAdapter("m", "vera");
        // What adapters <= 1.2 writes for a bare model: everything but shared_parameters.
        var weights = source.GetAdapterStateDict("m").Where(p => !p.Key.Contains("shared_parameters", StringComparison.Ordinal)).ToDictionary();
        using var target = TinyModels.Bert();

        var result = target.LoadAdapterStateDict(source.CreateAdapterConfigFile("m"), weights);

        Assert.Equal(["bert.shared_parameters.m.lora_A", "bert.shared_parameters.m.lora_B"], result.MissingKeys);
        Assert.All(target.GetAdapterStateDict("m").Where(p => p.Key.Contains("shared_parameters", StringComparison.Ordinal)),
            p => Assert.False(p.Value.requires_grad));
    }

    [Theory]
    [InlineData("dora")]
    [InlineData("dvora")]
    public void Gpt2_refuses_dora_as_python_does(string config)
    {
        Core.TorchRuntime.Initialize();
        using var model = new Gpt2Model(TinyDecoders.Gpt2Config());

        Assert.Throws<AdapterConfigException>(() => model.AddAdapter("m", config));
    }
}
