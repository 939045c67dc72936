using Adapters.Core.Composition;
using Adapters.Core.Conversion;
using Adapters.Core.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// A fused q/k/v projection stored as transformers' <c>Conv1D</c> (GPT-2's <c>c_attn</c>): <c>weight</c> (in, 3·part),
/// <c>bias</c> (3·part), <c>y = x·W + b</c>. It carries LoRA/IA³ modules under <c>loras.&lt;name&gt;</c> with the
/// semantics of Python's <c>LoRAMergedLinear</c> (<see cref="FusedQkvLoRA"/>): one active adapter at a time, no
/// composition, no DoRA. Its weight can be held in 4 bits (QLoRA; bitsandbytes' layout of the (out, in) matrix, as
/// transformers quantizes a <c>Conv1D</c> after transposing it).
/// </summary>
public sealed class FusedQkvLinear : nn.Module<Tensor, Tensor>, IFourBitLinear, IDeferredFourBitLinear
{
    private readonly ActiveAdapterSetup _setup;
    private Tensor? _weightBeforeMerge;
    private Parameter _weight;
    private Parameter _bias;
    private FourBitQuantState? _quantState;
    private ScalarType _computeDtype;
    private (FourBitOptions Options, Device Device)? _deferred;

    /// <summary>Creates the projection with zero weights; the model initialises them.</summary>
    public FusedQkvLinear(long inFeatures, long outFeatures, ActiveAdapterSetup setup, int layerIndex, Device? device = null, ScalarType? dtype = null)
        : base(nameof(FusedQkvLinear))
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        LayerIndex = layerIndex;
        // Inside a FourBitLoadScope the dense weight is never allocated: the loader quantizes the stored one into place.
        var deferred = FourBitLoadScope.Current;
        if (deferred is not null) _deferred = (deferred, device ?? CPU);
        _weight = new Parameter(deferred is null ? zeros([inFeatures, outFeatures], dtype, device) : empty([inFeatures, outFeatures], dtype, FourBitLoadScope.Placeholder), requires_grad: deferred is null);
        _bias = new Parameter(zeros([outFeatures], dtype, device));
        register_parameter("weight", _weight);
        register_parameter("bias", _bias);
        register_module("loras", Loras);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The weight, stored (in, out) as <c>Conv1D</c> stores it; once quantized, the packed 4-bit bytes of the (out, in) matrix.</summary>
    public Parameter weight
    {
        get => _weight;
        set => _weight = ParameterReplacement.Replace(nameof(FusedQkvLinear), nameof(weight), _weight, value, p => ConditionallyRegisterParameter(nameof(weight), p));
    }

    /// <summary>The bias.</summary>
    public Parameter bias
    {
        get => _bias;
        set => _bias = ParameterReplacement.Replace(nameof(FusedQkvLinear), nameof(bias), _bias, value, p => ConditionallyRegisterParameter(nameof(bias), p));
    }

    /// <summary>The bias.</summary>
    Parameter? IFourBitLinear.bias => _bias;

    /// <inheritdoc />
    public FourBitQuantState? QuantState => _quantState;

    /// <inheritdoc />
    public ScalarType ComputeDtype => _quantState is null ? weight.dtype : _computeDtype;

    /// <summary>The (out, in) matrix: a view of the dense weight, or a freshly dequantized copy of a 4-bit one.</summary>
    public Tensor OutInWeight => _quantState is { } state ? Dequantized(state) : weight.t();

    private Tensor Dequantized(FourBitQuantState state) => FourBitQuantizer.Dequantize(_weight, state, _computeDtype).view(OutFeatures, InFeatures);

    /// <inheritdoc />
    public void QuantizeWeight(FourBitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_quantState is not null) throw new InvalidOperationException("The weight is already quantized to 4 bits.");
        if (MergedAdapter is not null) throw new InvalidOperationException($"Adapter \"{MergedAdapter}\" is merged into this layer; reset it before quantizing.");
        using var _ = no_grad();
        var (packed, state) = FourBitQuantizer.Quantize(weight.detach().t(), options);
        UseQuantizedWeight(packed, state, weight.dtype);
    }

    /// <inheritdoc />
    public void UseQuantizedWeight(Tensor packed, FourBitQuantState state, ScalarType computeDtype)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentNullException.ThrowIfNull(state);
        if (!state.Shape.SequenceEqual([OutFeatures, InFeatures]))
            throw new QuantizationException($"A 4-bit weight of shape [{string.Join(", ", state.Shape)}] does not fit a fused q/k/v projection of (out, in) = ({OutFeatures}, {InFeatures}).");
        if (MergedAdapter is not null) throw new InvalidOperationException($"Adapter \"{MergedAdapter}\" is merged into this layer; reset it first.");
        var device = _deferred?.Device ?? weight.device;
        var stored = new Parameter(packed.to(device).DetachFromDisposeScope(), requires_grad: false);
        stored.DetachFromDisposeScope();
        state.MoveTo(device);
        ConditionallyRegisterParameter(nameof(weight), stored);
        _weight.Dispose();
        _quantState?.Dispose();
        _weight = stored;
        _quantState = state;
        _computeDtype = computeDtype;
        _deferred = null;
    }

    /// <inheritdoc />
    public void DequantizeWeight()
    {
        if (_quantState is not { } state) return;
        using var _ = no_grad();
        var dense = Dequantized(state);
        var stored = new Parameter(dense.t().contiguous().DetachFromDisposeScope(), requires_grad: false);
        stored.DetachFromDisposeScope();
        ConditionallyRegisterParameter(nameof(weight), stored);
        _weight.Dispose();
        state.Dispose();
        _weight = stored;
        _quantState = null;
    }

    /// <inheritdoc />
    bool IDeferredFourBitLinear.AwaitsFourBitWeight => _deferred is not null;

    /// <inheritdoc />
    void IDeferredFourBitLinear.QuantizeLoadedWeight(Tensor stored)
    {
        if (_deferred is not { } deferred) throw new InvalidOperationException("The weight is not waiting for a stored tensor.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var dense = stored.to(_weight.dtype, deferred.Device);
        var (packed, state) = FourBitQuantizer.Quantize(dense.t(), deferred.Options);
        UseQuantizedWeight(packed.DetachFromDisposeScope(), state, _weight.dtype);
    }

    /// <summary>Keeps 4-bit state on the weight's device and takes a new floating dtype as the compute dtype; the bytes stay packed.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (_quantState is null) return;
        if (device is not null) _quantState.MoveTo(_weight.device);
        if (dtype is { } type) _computeDtype = type;
    }

    /// <summary>Input width.</summary>
    public long InFeatures { get; }

    /// <summary>Output width (q, k and v together).</summary>
    public long OutFeatures { get; }

    /// <summary>The layer index inside the model.</summary>
    public int LayerIndex { get; }

    /// <summary>The LoRA/IA³ modules by adapter name.</summary>
    public AdapterModuleDict Loras { get; } = new();

    /// <summary>The adapter merged into <see cref="weight"/>, or null.</summary>
    public string? MergedAdapter { get; private set; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        Tensor output;
        if (_quantState is { } quantized)
        {
            var dtype = input.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16 ? input.dtype : _computeDtype;
            output = FourBitMatmul.Apply(input, new FourBitMatmul.Operand(_weight, quantized, dtype)) + bias;
        }
        else
        {
            output = addmm(bias, input.reshape(-1, InFeatures), weight, 1, 1).reshape([.. input.shape[..^1], OutFeatures]);
        }
        if (MergedAdapter is not null) return output;
        if (_setup.SetupAt(Loras, LayerIndex) is not { } setup) return output;
        // Python's LoRAMergedLinear runs a setup of exactly one adapter; any composition block with LoRA here fails.
        if (setup.Children.Count != 1 || setup.Children[0].Adapter is not { } name || Loras.Get<FusedQkvLoRA>(name) is not { } lora)
            throw new AdapterCompositionException(
                $"A fused q/k/v projection (layer {LayerIndex}) runs one LoRA adapter at a time, as Python's LoRAMergedLinear; the setup {setup} composes it with others.");
        Tensor result;
        if (_quantState is null || !lora.CombineReadsWeight) result = lora.Combine(output, lora.Contribution(null, input), weight);
        else
        {
            using var dense = OutInWeight;
            result = lora.Combine(output, lora.Contribution(null, input), dense.t());
        }
        // Python stores the fused projection's gate under the self-attention LoRA location.
        if (lora.HasGate && _setup.OpenForward?.Outputs is { RecordsGatingScores: true } outputs && lora.ReportedGate(input) is { } gate)
            outputs.RecordGatingScore(name, LayerIndex, "selfattn", gate);
        return result;
    }

    /// <summary>Folds adapter <paramref name="name"/> into the weight.</summary>
    /// <exception cref="InvalidOperationException">Another adapter is merged.</exception>
    /// <exception cref="QuantizationException">The weight is 4-bit; dequantize it first (see <see cref="AdaptableLinear.Merge"/>).</exception>
    public void Merge(string name)
    {
        var module = Loras.Get<FusedQkvLoRA>(name) ?? throw new ArgumentException($"No LoRA module \"{name}\" on this layer.", nameof(name));
        if (_quantState is { } quantized)
            throw new QuantizationException(
                $"Cannot merge adapter \"{name}\" into a 4-bit ({quantized.Type.Name()}) weight: requantizing would round most of the adapter away. Dequantize the layer (DequantizeWeight) first, merge, and quantize again if needed.");
        if (MergedAdapter == name) return;
        if (!module.CanMerge) throw new InvalidOperationException($"Adapter \"{name}\" is gated (use_gating); a gated LoRA cannot be merged, as in Python.");
        if (MergedAdapter is not null)
            throw new InvalidOperationException($"Adapter \"{MergedAdapter}\" is already merged into this layer; reset it first.");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        _weightBeforeMerge = weight.detach().clone().DetachFromDisposeScope();
        var delta = module.MergeDelta(InFeatures).t();
        if (module.IsScale) weight.mul_(delta);
        else weight.add_(delta);
        MergedAdapter = name;
    }

    /// <summary>Restores the weight saved by <see cref="Merge"/>, bit for bit.</summary>
    public void Reset()
    {
        if (MergedAdapter is null) return;
        using (no_grad()) weight.copy_(_weightBeforeMerge!);
        _weightBeforeMerge!.Dispose();
        _weightBeforeMerge = null;
        MergedAdapter = null;
    }
}
