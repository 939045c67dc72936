using Adapters.Core.Composition;
using Adapters.Core.Conversion;
using Adapters.Core.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// A linear layer that can carry LoRA-family modules, in the role of Python's <c>LoRALinear</c>: it keeps the
/// <c>weight</c>/<c>bias</c> names of <c>nn.Linear</c> and holds its modules under <c>loras.&lt;name&gt;</c>. Models (built-in or
/// a user's own) use it for every projection that LoRA, IA³, DoRA or VeRA may adapt.
/// </summary>
public sealed class AdaptableLinear : nn.Module<Tensor, Tensor>, IFourBitLinear, IDeferredFourBitLinear
{
    private readonly ActiveAdapterSetup _setup;
    private readonly Composer _composition;
    private Tensor? _weightBeforeMerge;
    private Parameter _weight;
    private Parameter? _bias;
    private FourBitQuantState? _quantState;
    private ScalarType _computeDtype;
    private (FourBitOptions Options, Device Device)? _deferred;

    /// <summary>
    /// Creates the layer with PyTorch's default init; <paramref name="location"/> says what LoRA config flags select it.
    /// <paramref name="fanInFanOut"/> stores <c>weight</c> as (in, out), the layout of transformers' <c>Conv1D</c>
    /// (GPT-2), as Python's <c>fan_in_fan_out=True</c> does; LoRA modules still see the (out, in) matrix through
    /// <see cref="OutInWeight"/>.
    /// </summary>
    public AdaptableLinear(long inFeatures, long outFeatures, bool hasBias, ActiveAdapterSetup setup, int layerIndex, LoRALocation location,
        Device? device = null, ScalarType? dtype = null, bool fanInFanOut = false)
        : base(nameof(AdaptableLinear))
    {
        FanInFanOut = fanInFanOut;
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        LayerIndex = layerIndex;
        Location = location;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // Inside a FourBitLoadScope the dense weight is never allocated: the loader quantizes the stored one into place.
        var deferred = FourBitLoadScope.Current;
        var weightDevice = deferred is null ? device : FourBitLoadScope.Placeholder;
        _weight = new Parameter(fanInFanOut ? empty([inFeatures, outFeatures], dtype, weightDevice) : empty([outFeatures, inFeatures], dtype, weightDevice), requires_grad: deferred is null);
        register_parameter("weight", _weight);
        if (hasBias)
        {
            _bias = new Parameter(deferred is null ? empty([outFeatures], dtype, device) : zeros([outFeatures], dtype, device));
            register_parameter("bias", _bias);
        }
        if (deferred is not null)
        {
            _deferred = (deferred, device ?? CPU);
        }
        else
        {
            using var linear = nn.Linear(inFeatures, outFeatures, hasBias, device, dtype);
            using var _ = no_grad();
            _weight.copy_(fanInFanOut ? linear.weight.t() : linear.weight);
            _bias?.copy_(linear.bias!);
        }
        register_module("loras", Loras);
        _composition = new Composer(this);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>
    /// The frozen weight, shape (out, in), or (in, out) with <see cref="FanInFanOut"/>; once <see cref="QuantizeWeight"/>
    /// ran, the packed 4-bit bytes (uint8, <c>[(out·in + 1) / 2, 1]</c>, bitsandbytes' layout of the (out, in) matrix).
    /// </summary>
    public Parameter weight
    {
        get => _weight;
        set => _weight = ParameterReplacement.Replace(nameof(AdaptableLinear), nameof(weight), _weight, value, p => ConditionallyRegisterParameter(nameof(weight), p));
    }

    /// <summary>Whether <see cref="weight"/> is stored (in, out), as transformers' <c>Conv1D</c> stores it.</summary>
    public bool FanInFanOut { get; }

    /// <summary>
    /// The weight as an (out, in) matrix whatever the storage layout: a view of <see cref="weight"/>, or for a 4-bit
    /// weight a freshly dequantized copy in <see cref="ComputeDtype"/>.
    /// </summary>
    public Tensor OutInWeight => _quantState is { } state ? Dequantized(state, _computeDtype) : FanInFanOut ? weight.t() : weight;

    /// <summary>The 4-bit state of a quantized weight (see <see cref="QuantizeWeight"/>), or null for a dense weight.</summary>
    public FourBitQuantState? QuantState => _quantState;

    /// <summary>The dtype a 4-bit weight is dequantized to for the matmul: the dense weight's, then the model's after <c>.to(dtype)</c>.</summary>
    public ScalarType ComputeDtype => _quantState is null ? weight.dtype : _computeDtype;

    /// <summary>
    /// Replaces the dense weight by its 4-bit form (QLoRA's frozen base): <see cref="weight"/> becomes the packed uint8
    /// bytes and <see cref="QuantState"/> their state; the forward pass dequantizes into <see cref="ComputeDtype"/>
    /// per call and every LoRA-family module keeps working on top.
    /// </summary>
    /// <exception cref="InvalidOperationException">An adapter is merged, or the weight is already quantized.</exception>
    public void QuantizeWeight(FourBitOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_quantState is not null) throw new InvalidOperationException("The weight is already quantized to 4 bits.");
        if (MergedAdapter is not null) throw new InvalidOperationException($"Adapter \"{MergedAdapter}\" is merged into this layer; reset it before quantizing.");
        using var _ = no_grad();
        var (packed, state) = FourBitQuantizer.Quantize(OutInWeight.detach(), options);
        UseQuantizedWeight(packed, state, weight.dtype);
    }

    /// <summary>Installs an already packed weight (read from a bitsandbytes checkpoint); the layer owns both afterwards.</summary>
    /// <exception cref="QuantizationException">The state's shape is not this layer's (out, in).</exception>
    public void UseQuantizedWeight(Tensor packed, FourBitQuantState state, ScalarType computeDtype)
    {
        ArgumentNullException.ThrowIfNull(packed);
        ArgumentNullException.ThrowIfNull(state);
        if (!state.Shape.SequenceEqual([OutFeatures, InFeatures]))
            throw new QuantizationException($"A 4-bit weight of shape [{string.Join(", ", state.Shape)}] does not fit a linear layer of (out, in) = ({OutFeatures}, {InFeatures}).");
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
    bool IDeferredFourBitLinear.AwaitsFourBitWeight => _deferred is not null;

    /// <inheritdoc />
    void IDeferredFourBitLinear.QuantizeLoadedWeight(Tensor stored)
    {
        if (_deferred is not { } deferred) throw new InvalidOperationException("The weight is not waiting for a stored tensor.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // The dense weight transformers would hold (the model's dtype), then quantized as QuantizeWeight quantizes it.
        var dense = stored.to(_weight.dtype, deferred.Device);
        var (packed, state) = FourBitQuantizer.Quantize(FanInFanOut ? dense.t() : dense, deferred.Options);
        UseQuantizedWeight(packed.DetachFromDisposeScope(), state, _weight.dtype);
    }

    /// <summary>Turns a 4-bit weight back into a dense one in <see cref="ComputeDtype"/> (it keeps the quantization error).</summary>
    public void DequantizeWeight()
    {
        if (_quantState is not { } state) return;
        using var _ = no_grad();
        var dense = Dequantized(state, _computeDtype);
        var stored = new Parameter((FanInFanOut ? dense.t().contiguous() : dense).DetachFromDisposeScope(), requires_grad: false);
        stored.DetachFromDisposeScope();
        ConditionallyRegisterParameter(nameof(weight), stored);
        _weight.Dispose();
        state.Dispose();
        _weight = stored;
        _quantState = null;
    }

    private Tensor Dequantized(FourBitQuantState state, ScalarType dtype) => FourBitQuantizer.Dequantize(_weight, state, dtype).view(OutFeatures, InFeatures);

    /// <summary>Keeps 4-bit state on the weight's device and takes a new floating dtype as the compute dtype; the bytes stay packed.</summary>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        if (_quantState is null) return;
        if (device is not null) _quantState.MoveTo(_weight.device);
        if (dtype is { } type) _computeDtype = type;
    }

    /// <summary>The bias, or null.</summary>
    public Parameter? bias
    {
        get => _bias;
        set => _bias = ParameterReplacement.Replace(nameof(AdaptableLinear), nameof(bias), _bias, value!, p => ConditionallyRegisterParameter(nameof(bias), p));
    }

    /// <summary>Input width.</summary>
    public long InFeatures { get; }

    /// <summary>Output width.</summary>
    public long OutFeatures { get; }

    /// <summary>The layer index inside the model.</summary>
    public int LayerIndex { get; }

    /// <summary>The LoRA location this projection belongs to.</summary>
    public LoRALocation Location { get; }

    /// <summary>The LoRA-family modules, by adapter name.</summary>
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
            output = FourBitMatmul.Apply(input, new FourBitMatmul.Operand(_weight, quantized, dtype));
            if (bias is not null) output = output + bias;
        }
        else
        {
            output = nn.functional.linear(input, OutInWeight, bias);
        }
        // A merged LoRA replaces composition entirely, as in Python.
        if (MergedAdapter is not null) return output;
        var setup = _setup.SetupAt(Loras, LayerIndex);
        if (setup is null) return output;
        var state = CompositionDriver<LoRAState>.Compose(_composition, setup, new LoRAState(input, null, output, null), _setup);
        if (state.Delta is null || state.Last is null) return state.Output;
        var last = Loras.Get<LoRALayer>(state.Last)!;
        if (_quantState is null || !last.CombineReadsWeight) return last.Combine(state.Output, state.Delta, OutInWeight);
        using var dense = OutInWeight;
        return last.Combine(state.Output, state.Delta, dense);
    }

    // Python's LoRA location keys, under which gate values are reported (q, k and v share "selfattn").
    private string GateLocation => Location switch
    {
        LoRALocation.Intermediate => "intermediate",
        LoRALocation.Output => "output",
        _ => "selfattn",
    };

    /// <summary>The hooks of a LoRA-family layer (Python's <c>LoRALinear</c>): Stack, BatchSplit, MultiTask, Parallel and Average.</summary>
    private sealed class Composer(AdaptableLinear layer) : ICompositionSite<LoRAState>
    {
        public string MethodName => "LoRA-family adapters (LoRA, IA3, DoRA, VeRA)";

        public int LayerIndex => layer.LayerIndex;

        public IReadOnlyList<Type> SupportedBlocks { get; } = [typeof(Stack), typeof(BatchSplit), typeof(MultiTask), typeof(Parallel), typeof(Average)];

        public bool Has(string adapter) => layer.Loras.Contains(adapter);

        public LoRAState Single(string adapter, LoRAState state)
        {
            var module = layer.Loras.Get<LoRALayer>(adapter)!;
            var delta = module.Contribution(state.Delta, state.Input);
            // Only gated modules look up the pass's outputs, so ungated LoRA pays nothing for gating scores.
            if (module.HasGate && layer._setup.OpenForward?.Outputs is { RecordsGatingScores: true } outputs && module.ReportedGate(state.Input) is { } gate)
                outputs.RecordGatingScore(adapter, layer.LayerIndex, layer.GateLocation, gate);
            return state with { Delta = delta, Last = adapter };
        }

        public long BatchSize(LoRAState state) => state.Input.shape[0];

        public LoRAState Rows(LoRAState state, long start, long end) => state.Rows(start, end);

        public LoRAState SelectRows(LoRAState state, Tensor index) => state.SelectRows(index);

        public LoRAState Repeat(LoRAState state, int copies) => state.Repeat(copies);

        public LoRAState PadAndConcat(IReadOnlyList<LoRAState> states)
        {
            var last = states.LastOrDefault(s => s.Last is not null).Last;
            Tensor? delta = null;
            if (last is not null)
            {
                // Rows whose child has no module here get the neutral contribution: 0 for additive modules, 1 for IA³.
                var scale = layer.Loras.Get<LoRALayer>(last) is IA3Module;
                delta = cat(states.Select(s => s.Delta is { } d ? d.expand_as(s.Output) : scale ? ones_like(s.Output) : zeros_like(s.Output)).ToArray(), 0);
            }
            return new LoRAState(
                cat(states.Select(s => s.Input).ToArray(), 0),
                delta,
                cat(states.Select(s => s.Output).ToArray(), 0),
                last);
        }

        public LoRAState Mean(LoRAState input, IReadOnlyList<LoRAState> states, IReadOnlyList<double> weights, Average average)
        {
            // A block child that ran no module here has no contribution; it is left out with its weight.
            var deltas = new List<Tensor>(states.Count);
            var kept = new List<double>(states.Count);
            string? last = null;
            for (var i = 0; i < states.Count; i++)
            {
                if (states[i].Delta is not { } delta) continue;
                deltas.Add(delta);
                kept.Add(weights[i]);
                last = states[i].Last;
            }
            if (deltas.Count == 0) return input;
            return input with { Delta = Bottleneck.BottleneckSite.AverageStates(deltas, kept, average), Last = last };
        }
    }

    /// <summary>Folds adapter <paramref name="name"/> into the weight; the forward pass then skips all LoRA modules.</summary>
    /// <exception cref="InvalidOperationException">Another adapter is merged, or this one is gated.</exception>
    /// <exception cref="QuantizationException">
    /// The weight is 4-bit: merging would requantize it and lose most of the adapter. Call <see cref="DequantizeWeight"/>
    /// first (then merge, and <see cref="QuantizeWeight"/> again if a 4-bit result is wanted).
    /// </exception>
    public void Merge(string name)
    {
        var module = Loras.Get<LoRALayer>(name) ?? throw new ArgumentException($"No LoRA module \"{name}\" on this layer.", nameof(name));
        if (_quantState is { } quantized)
            throw new QuantizationException(
                $"Cannot merge adapter \"{name}\" into a 4-bit ({quantized.Type.Name()}) weight: requantizing would round most of the adapter away. Dequantize the layer (DequantizeWeight) first, merge, and quantize again if needed.");
        if (MergedAdapter == name) return;
        if (MergedAdapter is not null)
            throw new InvalidOperationException($"Adapter \"{MergedAdapter}\" is already merged into this layer; reset it first.");
        if (!module.CanMerge) throw new InvalidOperationException($"Adapter \"{name}\" uses gating and cannot be merged.");
        using var _ = no_grad();
        _weightBeforeMerge = weight.detach().clone();
        using var merged = module.MergedWeight(OutInWeight.detach());
        weight.copy_(FanInFanOut ? merged.t() : merged);
        MergedAdapter = name;
    }

    /// <summary>
    /// Undoes <see cref="Merge"/> by restoring the saved weight, so the base weight comes back bit for bit
    /// (Python subtracts or divides instead, which is not exact, and leaves DoRA merged).
    /// </summary>
    public void Reset()
    {
        if (MergedAdapter is null) return;
        using (no_grad()) weight.copy_(_weightBeforeMerge!);
        _weightBeforeMerge!.Dispose();
        _weightBeforeMerge = null;
        MergedAdapter = null;
    }
}
