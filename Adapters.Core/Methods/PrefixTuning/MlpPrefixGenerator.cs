using Adapters.Core.Configuration;
using Adapters.Core.Methods.Bottleneck;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// The reparameterised prefix (Python's <c>PrefixTuning</c>): <c>wte</c> = Embedding(P, H) and <c>control_trans</c> =
/// Linear(H, bottleneck) → activation → Linear(bottleneck, layers·2·heads·dim), both with PyTorch's default init, so the
/// prefixes are <c>control_trans(wte(0..P-1))</c>. Saved as <c>wte.weight</c>, <c>control_trans.0.*</c>, <c>control_trans.2.*</c>.
/// </summary>
public sealed class MlpPrefixGenerator : PrefixGenerator
{
    private readonly Embedding _wte;
    private readonly Linear _in;
    private readonly Linear _out;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates the generator for <paramref name="layers"/> layers of <paramref name="heads"/> × <paramref name="headDim"/>.</summary>
    public MlpPrefixGenerator(PrefixTuningConfig config, int hiddenSize, int layers, int heads, int headDim, Device? device, ScalarType? dtype)
        : base(nameof(MlpPrefixGenerator), config, layers, heads, headDim)
    {
        _wte = nn.Embedding(config.PrefixLength, hiddenSize, device: device, dtype: dtype);
        _in = nn.Linear(hiddenSize, config.BottleneckSize, true, device, dtype);
        _out = nn.Linear(config.BottleneckSize, (long)layers * 2 * heads * headDim, true, device, dtype);
        _activation = Activation.Get(config.NonLinearity);
        register_module("wte", _wte);
        register_module("control_trans", new IndexedModule((0, _in), (2, _out)));
    }

    /// <inheritdoc />
    public override Tensor FlatPrefixes()
    {
        var positions = arange(Config.PrefixLength, ScalarType.Int64, _wte.weight!.device);
        return _out.call(_activation(_in.call(_wte.call(positions)))).reshape(-1);
    }
}
