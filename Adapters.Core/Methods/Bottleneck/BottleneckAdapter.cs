using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// One bottleneck adapter at one location: Python's <c>Adapter</c> (sequential) or <c>ParallelAdapter</c>.
/// State-dict names: <c>adapter_down.0</c> (or <c>adapter_down.1</c> after a <c>ln_before</c> LayerNorm, which also
/// appears as <c>adapter_norm_before</c>), <c>adapter_up</c>, <c>adapter_norm_after</c>, <c>gate</c>, <c>scaling</c>.
/// </summary>
public sealed class BottleneckAdapter : nn.Module
{
    private readonly BnConfig _config;
    private readonly LayerNorm? _normBefore;
    private readonly nn.Module<Tensor, Tensor> _down;
    private readonly nn.Module<Tensor, Tensor> _up;
    private readonly LayerNorm? _normAfter;
    private readonly Linear? _gate;
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "scaling")]
    private Parameter? _scaling;
    private readonly Func<Tensor, Tensor> _activation;

    /// <summary>Creates the adapter for a sub-block of width <paramref name="inputSize"/> in layer <paramref name="layerIndex"/>.</summary>
    public BottleneckAdapter(BnConfig config, int inputSize, int layerIndex, SharedParameters? shared, Device? device, ScalarType? dtype)
        : base(nameof(BottleneckAdapter))
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        if (config.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
        var bottleneck = config.ReductionFactor.BottleneckSize(inputSize, layerIndex);
        _activation = Activation.Get(config.NonLinearity);

        _down = config.PhmLayer
            ? new PhmLayer(inputSize, bottleneck, PhmPosition.Down, config, shared, device, dtype)
            : nn.Linear(inputSize, bottleneck, true, device, dtype);
        _up = config.PhmLayer
            ? new PhmLayer(bottleneck, inputSize, PhmPosition.Up, config, shared, device, dtype)
            : nn.Linear(bottleneck, inputSize, true, device, dtype);

        if (config.LnBefore)
        {
            _normBefore = nn.LayerNorm(inputSize, device: device, dtype: dtype);
            register_module("adapter_norm_before", _normBefore);
            register_module("adapter_down", new IndexedModule((0, _normBefore), (1, _down)));
        }
        else
        {
            register_module("adapter_down", new IndexedModule((0, _down)));
        }
        register_module("adapter_up", _up);

        if (config.Scaling.Mode == "learned")
        {
            _scaling = new Parameter(ones([1], dtype, device));
            register_parameter("scaling", _scaling);
        }
        else if (config.Scaling.Mode == "channel")
        {
            _scaling = new Parameter(ones([inputSize], dtype, device));
            register_parameter("scaling", _scaling);
        }

        if (config.UseGating)
        {
            _gate = nn.Linear(inputSize, 1, true, device, dtype);
            register_module("gate", _gate);
        }
        if (config.LnAfter)
        {
            _normAfter = nn.LayerNorm(inputSize, device: device, dtype: dtype);
            register_module("adapter_norm_after", _normAfter);
        }
        Initialise();
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config this adapter was built from.</summary>
    public BnConfig Config => _config;

    /// <summary>
    /// Python's <c>pre_forward</c>: decides what the adapter reads and what its residual is. Sequential adapters may
    /// add <paramref name="subBlockInput"/> and apply the pretrained <paramref name="layerNorm"/> first
    /// (<c>original_ln_before</c>); parallel adapters read the sub-block input itself.
    /// </summary>
    public (Tensor Input, Tensor Residual) PreForward(Tensor hidden, Tensor? subBlockInput, Func<Tensor, Tensor>? layerNorm)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (_config.IsParallel) return (subBlockInput ?? hidden, subBlockInput ?? hidden);

        Tensor? residual = null;
        if (_config.ResidualBeforeLn is System.Text.Json.Nodes.JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.True)
            residual = hidden;
        if (_config.OriginalLnBefore)
        {
            if (subBlockInput is not null) hidden = hidden + subBlockInput;
            if (_config.ResidualBeforeLnIsPostAdd) residual = hidden;
            if (layerNorm is not null) hidden = layerNorm(hidden);
        }
        if (!_config.ResidualBeforeLnIsTruthy) residual = hidden;
        return (hidden, residual ?? hidden);
    }

    /// <summary>The adapter itself: down, activation, up, drop path, scaling, dropout, gate and (sequential only) residual.</summary>
    public Tensor Forward(Tensor input, Tensor residual) => Forward(input, residual, out _);

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor)"/> that also returns <paramref name="up"/>, the scaled up-projection before
    /// dropout and residual, which AdapterFusion attends over.
    /// </summary>
    public Tensor Forward(Tensor input, Tensor residual, out Tensor up) => Forward(input, residual, out up, out _);

    /// <summary>
    /// <see cref="Forward(Tensor, Tensor, out Tensor)"/> that also returns the gate value (B, 1, 1) it applied, or null
    /// when the adapter is not gated, for the pass's gating scores.
    /// </summary>
    internal Tensor Forward(Tensor input, Tensor residual, out Tensor up, out Tensor? gate)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(residual);
        var x = _normBefore is not null ? _normBefore.call(input) : input;
        up = _up.call(_activation(_down.call(x)));
        up = StochasticDepth.Apply(up, _config.StochasticDepth, training);
        up = _scaling is not null ? up * _scaling : _config.Scaling.Value == 1.0 ? up : up * _config.Scaling.Value;
        var output = _config.Dropout > 0 ? nn.functional.dropout(up, _config.Dropout, training) : up;
        gate = null;
        if (_gate is not null)
        {
            gate = torch.sigmoid(_gate.call(input)).mean([1]).unsqueeze(-1);
            output = output * gate;
        }
        if (_config.IsParallel)
        {
            return _normAfter is not null ? _normAfter.call(output) : output;
        }
        if (_config.AdapterResidualBeforeLn) output = output + residual;
        if (_normAfter is not null) output = _normAfter.call(output);
        if (!_config.AdapterResidualBeforeLn) output = output + residual;
        return output;
    }

    /// <summary>
    /// Python's <c>post_forward</c>: a parallel adapter adds its output to the sub-block output
    /// <paramref name="subBlockOutput"/>; then, with <c>original_ln_after</c>, the residual and pretrained LayerNorm follow.
    /// </summary>
    public Tensor PostForward(Tensor hidden, Tensor subBlockOutput, Tensor? subBlockInput, Func<Tensor, Tensor>? layerNorm)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (_config.IsParallel) hidden = hidden + subBlockOutput;
        if (!_config.OriginalLnAfter) return hidden;
        if (subBlockInput is not null) hidden = hidden + subBlockInput;
        return layerNorm is not null ? layerNorm(hidden) : hidden;
    }

    private void Initialise()
    {
        using var _ = no_grad();
        switch (_config.InitWeights)
        {
            case "bert":
                if (_down is Linear downBert) WeightInit.Bert(downBert);
                if (_up is Linear upBert) WeightInit.Bert(upBert);
                if (_gate is not null) WeightInit.Bert(_gate);
                break;
            case "mam_adapter":
                if (_down is Linear downMam)
                {
                    nn.init.kaiming_uniform_(downMam.weight, Math.Sqrt(5));
                    nn.init.zeros_(downMam.bias!);
                }
                if (_up is Linear upMam)
                {
                    nn.init.zeros_(upMam.weight);
                    nn.init.zeros_(upMam.bias!);
                }
                if (_gate is not null) WeightInit.Bert(_gate);
                break;
            case "houlsby":
                foreach (var linear in new[] { _down, _up }.OfType<Linear>())
                {
                    WeightInit.TruncNormal(linear.weight, 1e-2, -2 * 1e-2, 2 * 1e-2);
                    nn.init.zeros_(linear.bias!);
                }
                break;
            default:
                throw new AdapterConfigException($"Unknown bottleneck init_weights \"{_config.InitWeights}\"; expected \"bert\", \"mam_adapter\" or \"houlsby\".");
        }
    }
}
