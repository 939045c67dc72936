using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.ReFT;
using Adapters.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Methods;

/// <summary>
/// A user's own pre-LN TorchSharp model that exposes LoRA targets, a bottleneck site and a ReFT hook through the
/// plugin interface (no prefix hook, as in Python's plugin interface).
/// </summary>
internal sealed class PluginModel : AdapterModel
{
    private readonly Block[] _blocks;
    private readonly int _width;

    private PluginModel(int width, int layers) : base(nameof(PluginModel))
    {
        _width = width;
        var list = new AdapterModuleDict();
        _blocks = Enumerable.Range(0, layers).Select(i => new Block(width, i, Setup)).ToArray();
        for (var i = 0; i < layers; i++) list.Add($"{i}", _blocks[i]);
        register_module("layers", list);
        RegisterAdapterContainers();
    }

    public static PluginModel Create(int width, int layers, long seed = 4)
    {
        TorchRuntime.Initialize();
        manual_seed(seed);
        var model = new PluginModel(width, layers);
        model.eval();
        return model;
    }

    public override string ModelClassName => "PluginModel";

    protected override AdapterModelInterface CreateInterface() =>
        new("plugin", "model", _width, _blocks.Select(b => new AdapterLayerInterface(b.Index, b.Query, null, b.Value, b.Up, b.Down, null, b.Site) { Reft = b.Reft }).ToArray());

    protected override void RegisterComponents() { }

    public Tensor Forward(Tensor x, Tensor? mask = null)
    {
        using var adapterForward = BeginAdapterForward(mask);
        foreach (var block in _blocks) x = block.Forward(x);
        return x;
    }

    private sealed class Block : nn.Module
    {
        private readonly LayerNorm _norm;

        public Block(int width, int index, ActiveAdapterSetup setup) : base(nameof(Block))
        {
            Index = index;
            Query = new AdaptableLinear(width, width, true, setup, index, LoRALocation.Query);
            Value = new AdaptableLinear(width, width, true, setup, index, LoRALocation.Value);
            Up = new AdaptableLinear(width, 2 * width, true, setup, index, LoRALocation.Intermediate);
            Down = new AdaptableLinear(2 * width, width, true, setup, index, LoRALocation.Output);
            _norm = nn.LayerNorm(width);
            Site = new BottleneckSite(setup, index, BottleneckLocation.Output);
            Reft = new ReftLayer(setup, index);
            register_module("q", Query);
            register_module("v", Value);
            register_module("up", Up);
            register_module("down", Down);
            register_module("norm", _norm);
            register_module("output_adapters", Site.Adapters);
            register_module("reft_layer", Reft);
        }

        public int Index { get; }
        public AdaptableLinear Query { get; }
        public AdaptableLinear Value { get; }
        public AdaptableLinear Up { get; }
        public AdaptableLinear Down { get; }
        public BottleneckSite Site { get; }
        public ReftLayer Reft { get; }

        protected override void RegisterComponents() { }

        public Tensor Forward(Tensor x)
        {
            var h = x + Value.call(Query.call(_norm.call(x)));
            var output = Site.Forward(Down.call(nn.functional.gelu(Up.call(_norm.call(h)))), h, null);
            return Reft.Forward(output);
        }
    }
}
