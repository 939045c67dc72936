using System.Text.Json.Nodes;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.Tuners;

/// <summary>PEFT's training-time dropouts (lora_dropout, LoHa/LoKr rank and module dropout, OFT/BOFT block dropout): seeded, training only.</summary>
public sealed class PeftDropoutTests
{
    private static readonly string[] s_dropoutFields = ["lora_dropout", "rank_dropout", "module_dropout", "boft_dropout"];

    [Theory]
    [InlineData("LORA", """{"r": 4, "lora_dropout": 0.5, "init_lora_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("LORA", """{"r": 4, "lora_dropout": 0.5, "use_dora": true, "init_lora_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("LOHA", """{"r": 2, "rank_dropout": 0.5, "module_dropout": 0.3, "init_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("LOKR", """{"r": 2, "rank_dropout": 0.5, "module_dropout": 0.3, "rank_dropout_scale": true, "init_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("OFT", """{"r": 4, "oft_block_size": 0, "module_dropout": 0.5, "init_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("BOFT", """{"boft_block_size": 2, "boft_dropout": 0.5, "init_weights": false, "target_modules": ["q", "v"]}""")]
    public void Dropouts_change_training_outputs_reproducibly_and_leave_eval_unchanged(string peftType, string fields)
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", PeftConfig.Create(peftType, JsonNode.Parse(fields)!.AsObject()));
        var ids = TinyTree.Ids();

        model.eval();
        Tensor evalOut;
        using (no_grad())
        {
            evalOut = model.call(ids).clone();
            Assert.True(allclose(model.call(ids), evalOut, 0, 0));
        }

        // The same adapter with every dropout set to 0, read back from its PEFT folder.
        var dir = Directory.CreateTempSubdirectory("peft-dropout-").FullName;
        peft.SaveAdapter(dir);
        var configPath = Path.Combine(dir, PeftConfig.FileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        foreach (var field in s_dropoutFields.Where(f => config[f] is not null)) config[field] = 0.0;
        File.WriteAllText(configPath, config.ToJsonString());
        using var plain = new TinyTree();
        new PeftTunerModel(plain).LoadAdapter(dir);
        using (no_grad())
        {
            plain.eval();
            Assert.True(allclose(plain.call(ids), evalOut, 1e-6, 1e-7), "eval output depends on the dropout settings");
            plain.train();
            Assert.True(allclose(plain.call(ids), evalOut, 1e-6, 1e-7), "without dropout, training and eval outputs agree");

            model.train();
            manual_seed(5);
            var first = model.call(ids).clone();
            manual_seed(5);
            Assert.True(allclose(model.call(ids), first, 0, 0), "the same seed gives the same dropout");
            Assert.False(allclose(first, evalOut, 1e-4, 1e-5), "dropout did not act in training");
            model.eval();
            Assert.True(allclose(model.call(ids), evalOut, 0, 0));
        }
    }

    [Theory]
    [InlineData("LOHA", """{"r": 2, "module_dropout": 1.0, "init_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("LOKR", """{"r": 2, "rank_dropout": 1.0, "init_weights": false, "target_modules": ["q", "v"]}""")]
    [InlineData("OFT", """{"r": 4, "oft_block_size": 0, "module_dropout": 1.0, "init_weights": true, "target_modules": ["q", "v"]}""")]
    public void A_dropout_of_one_removes_the_adapter_in_training(string peftType, string fields)
    {
        Core.TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var model = new TinyTree();
        var peft = new PeftTunerModel(model);
        peft.AddAdapter("default", PeftConfig.Create(peftType, JsonNode.Parse(fields)!.AsObject()));
        var ids = TinyTree.Ids();
        using var _ = no_grad();
        if (peftType == "OFT")
        {
            // Every block becomes the identity, so only the per-output scale is left: give it a value to see.
            var s = model.named_parameters().Where(p => p.name.EndsWith("oft_s.default", StringComparison.Ordinal)).ToArray();
            foreach (var (_, p) in s) p.fill_(1.5);
            var r = model.named_parameters().Where(p => p.name.EndsWith("oft_r.default", StringComparison.Ordinal)).ToArray();
            foreach (var (_, p) in r) p.copy_(randn_like(p));
        }
        model.train();
        Tensor baseOut;
        using (peft.DisableAdapters()) baseOut = model.call(ids).clone();
        var trained = model.call(ids);
        model.eval();
        Assert.False(allclose(model.call(ids), baseOut, 1e-4, 1e-5), "the adapter acts in eval");
        if (peftType != "OFT")
        {
            Assert.True(allclose(trained, baseOut, 1e-6, 1e-7));
            return;
        }
        // OFT: the rotation is the identity, the scale stays: W·1.5 on q and v.
        var deltas = new Dictionary<Tensor, Tensor>();
        foreach (var path in new[] { "blocks.0.q", "blocks.0.v", "blocks.1.q", "blocks.1.v" })
        {
            var weight = ((TorchSharp.Modules.Linear)model.named_modules().First(m => m.name == path).module).weight!;
            deltas[weight] = weight.detach() * 0.5;
        }
        Tensor expected;
        model.train();
        using (peft.DisableAdapters()) expected = PeftTestFolders.WithDeltas(deltas, () => model.call(ids).clone());
        Assert.True(allclose(trained, expected, 1e-5, 1e-6));
    }
}
