using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>A user's own pre-LN TorchSharp model gets adapters by describing its attachment points.</summary>
public sealed class CustomModelTests
{
    private sealed class TinyPreLnModel : AdapterModel
    {
        private readonly Block[] _blocks;

        public TinyPreLnModel(int width, int layers) : base(nameof(TinyPreLnModel))
        {
            var list = new Core.Methods.AdapterModuleDict();
            _blocks = Enumerable.Range(0, layers).Select(i => new Block(width, i, Setup)).ToArray();
            for (var i = 0; i < layers; i++) list.Add($"{i}", _blocks[i]);
            register_module("layers", list);
            RegisterAdapterContainers();
        }

        public override string ModelClassName => "TinyPreLnModel";

        protected override AdapterModelInterface CreateInterface() =>
            new("tiny", "model", 16, _blocks.Select(b => new AdapterLayerInterface(b.Index, b.Mix, null, b.Value, b.Up, b.Down, null, b.Site)).ToArray());

        protected override void RegisterComponents() { }

        public Tensor Forward(Tensor x)
        {
            foreach (var block in _blocks) x = block.Forward(x);
            return x;
        }
    }

    private sealed class Block : nn.Module
    {
        private readonly LayerNorm _norm;

        public Block(int width, int index, Core.Methods.ActiveAdapterSetup setup) : base(nameof(Block))
        {
            Index = index;
            Mix = new AdaptableLinear(width, width, true, setup, index, LoRALocation.Query);
            Value = new AdaptableLinear(width, width, true, setup, index, LoRALocation.Value);
            Up = new AdaptableLinear(width, 2 * width, true, setup, index, LoRALocation.Intermediate);
            Down = new AdaptableLinear(2 * width, width, true, setup, index, LoRALocation.Output);
            _norm = nn.LayerNorm(width);
            Site = new BottleneckSite(setup, index, BottleneckLocation.Output);
            register_module("mix", Mix);
            register_module("value", Value);
            register_module("up", Up);
            register_module("down", Down);
            register_module("norm", _norm);
            register_module("output_adapters", Site.Adapters);
        }

        public int Index { get; }
        public AdaptableLinear Mix { get; }
        public AdaptableLinear Value { get; }
        public AdaptableLinear Up { get; }
        public AdaptableLinear Down { get; }
        public BottleneckSite Site { get; }

        protected override void RegisterComponents() { }

        public Tensor Forward(Tensor x)
        {
            var h = x + Value.call(Mix.call(_norm.call(x)));
            // Pre-LN: the bottleneck site gets no LayerNorm, only the residual.
            return Site.Forward(Down.call(nn.functional.gelu(Up.call(_norm.call(h)))), h, null);
        }
    }

    [Fact]
    public void A_custom_model_gets_lora_and_bottleneck_adapters_and_trains_them()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var model = new TinyPreLnModel(16, 2);
        var x = randn(3, 5, 16);
        var baseline = model.Forward(x).detach();
        var baseWeights = TinyModels.CloneState(model);

        model.AddAdapter("task", "lora[attn_matrices=['q','v'], output_lora=True]|seq_bn[reduction_factor=4]");
        model.TrainAdapter("task");

        var keys = model.GetAdapterStateDict("task").Keys.ToHashSet();
        Assert.Contains("model.layers.0.mix.loras.task.lora_A", keys);
        Assert.Contains("model.layers.1.value.loras.task.lora_B", keys);
        Assert.Contains("model.layers.1.down.loras.task.lora_A", keys);
        Assert.Contains("model.layers.0.output_adapters.task.adapter_down.0.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains(".up.loras.", StringComparison.Ordinal));

        var target = randn(3, 5, 16);
        using var optimizer = optim.SGD(model.parameters().Where(p => p.requires_grad), 0.05);
        var first = 0f;
        var last = 0f;
        for (var step = 0; step < 10; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(model.Forward(x), target);
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }

        Assert.True(last < first);
        foreach (var (key, value) in baseWeights) Assert.True(TinyModels.Same(value, model.state_dict()[key]), key);
        model.SetActiveAdapters();
        using var _ = no_grad();
        Assert.True(TinyModels.Same(baseline, model.Forward(x)));
    }
}
