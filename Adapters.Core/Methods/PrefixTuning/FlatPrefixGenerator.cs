using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// The flat prefix (Python's <c>FlatPrefixTuning</c>): one parameter <c>control_trans</c> of P·layers·2·heads·dim values,
/// initialised with <c>randn</c>.
/// </summary>
public sealed class FlatPrefixGenerator : PrefixGenerator
{
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "control_trans")]
    private Parameter _controlTrans;

    /// <summary>Creates a randomly initialised flat prefix.</summary>
    public FlatPrefixGenerator(PrefixTuningConfig config, int layers, int heads, int headDim, Device? device, ScalarType? dtype)
        : this(config, layers, heads, headDim, null, device, dtype)
    {
    }

    /// <summary>Creates a flat prefix holding <paramref name="values"/> (used when ejecting an MLP prefix).</summary>
    internal FlatPrefixGenerator(PrefixTuningConfig config, int layers, int heads, int headDim, Tensor? values, Device? device, ScalarType? dtype)
        : base(nameof(FlatPrefixGenerator), config, layers, heads, headDim)
    {
        _controlTrans = new Parameter(values ?? randn([FlatSize], dtype, device));
        register_parameter("control_trans", _controlTrans);
    }

    /// <inheritdoc />
    public override Tensor FlatPrefixes() => _controlTrans;
}
