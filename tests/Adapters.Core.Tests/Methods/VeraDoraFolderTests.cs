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
