using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Peft;
using Adapters.Core.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>
/// Every load path leaves every module in the model's current mode: loading into an <c>eval()</c> model gives no
/// module in training mode (dropout off everywhere), loading into a <c>train()</c> model none in eval mode.
/// </summary>
public sealed class LoadTrainingModeTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("load-mode-");

    public void Dispose() => _dir.Delete(recursive: true);

    private static AdapterModel Create(string type)
    {
        TorchRuntime.Initialize();
        manual_seed(4);
        return type switch
        {
            "gpt2" => new Gpt2Model(TinyDecoders.Gpt2Config()),
            "llama" => new LlamaModel(TinyDecoders.LlamaConfig()),
            _ => TinyModels.Bert(),
        };
    }

    private static void AssertMode(nn.Module model, bool training, string path)
    {
        var wrong = model.named_modules().Where(m => m.module.training != training).Select(m => m.name.Length == 0 ? "(root)" : m.name).ToArray();
        Assert.True(wrong.Length == 0, $"after {path}, {wrong.Length} module(s) are in {(training ? "eval" : "training")} mode: {string.Join(", ", wrong.Take(8))}");
    }

    public static TheoryData<string, bool> Models() => new()
    {
        { "bert", false }, { "bert", true }, { "gpt2", false }, { "gpt2", true }, { "llama", false }, { "llama", true },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Adapter_head_and_peft_loads_follow_the_models_mode(string type, bool training)
    {
        using var scope = NewDisposeScope();
        string[] methods = type == "bert"
            ? ["seq_bn", "lora", "ia3", "prefix_tuning", "seq_bn_inv", "prompt_tuning", "loreft", "compacter[reduction_factor=8]"]
            : ["seq_bn", "lora", "ia3", "prefix_tuning", "seq_bn_inv", "prompt_tuning"];
        using (var source = new FlexHeadModel(Create(type)))
        {
            for (var i = 0; i < methods.Length; i++)
            {
                source.BaseModel.AddAdapter($"m{i}", methods[i]);
                source.AddClassificationHead($"m{i}");
                source.SaveAdapter(Path.Combine(_dir.FullName, $"m{i}"), $"m{i}");
            }
            source.BaseModel.SavePeftAdapter(Path.Combine(_dir.FullName, "peft"), $"m{Array.IndexOf(methods, "lora")}");
        }

        using var target = new FlexHeadModel(Create(type));
        target.train(training);
        for (var i = 0; i < methods.Length; i++)
        {
            target.LoadAdapter(Path.Combine(_dir.FullName, $"m{i}"), setActive: true);
            AssertMode(target, training, $"LoadAdapter({methods[i]}) with its head");
        }
        target.BaseModel.LoadPeftAdapter(Path.Combine(_dir.FullName, "peft"), "from_peft");
        AssertMode(target, training, "LoadPeftAdapter");
        target.train(!training);
        AssertMode(target, !training, $"train({!training})");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fusion_loads_follow_the_models_mode(bool training)
    {
        using var scope = NewDisposeScope();
        using (var source = Create("bert"))
        {
            source.AddAdapter("a", "seq_bn");
            source.AddAdapter("b", "seq_bn");
            source.AddAdapterFusion(["a", "b"]);
            source.SaveAdapterFusion(_dir.FullName, "a,b");
        }
        using var target = Create("bert");
        target.AddAdapter("a", "seq_bn");
        target.AddAdapter("b", "seq_bn");
        target.train(training);

        target.LoadAdapterFusion(_dir.FullName, setActive: true);

        AssertMode(target, training, "LoadAdapterFusion");
    }

    [Fact]
    public void Pretrained_encoders_load_in_eval_mode_as_from_pretrained()
    {
        using var scope = NewDisposeScope();

        using var bert = PretrainedEncoders.Load(Adapters.Testing.TestPaths.Fixture("python-goldens", "models", "bert"));

        AssertMode(bert, false, "PretrainedEncoders.Load");
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("llama")]
    public void Pretrained_decoders_load_in_eval_mode(string type)
    {
        using var scope = NewDisposeScope();
        var folder = Adapters.Testing.TestPaths.Fixture("python-goldens", "models", type);

        using var lm = (nn.Module)PretrainedDecoders.Load(folder);
        using var bare = PretrainedDecoders.LoadBaseModel(folder);

        AssertMode(lm, false, "PretrainedDecoders.Load");
        AssertMode(bare, false, "PretrainedDecoders.LoadBaseModel");
    }
}
