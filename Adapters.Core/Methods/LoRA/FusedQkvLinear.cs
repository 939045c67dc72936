using Adapters.Core.Composition;
using Adapters.Core.Conversion;
using Adapters.Core.Methods.Gating;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// A fused q/k/v projection stored as transformers' <c>Conv1D</c> (GPT-2's <c>c_attn</c>): <c>weight</c> (in, 3·part),
/// <c>bias</c> (3·part), <c>y = x·W + b</c>. It carries LoRA/IA³ modules under <c>loras.&lt;name&gt;</c> with the
/// semantics of Python's <c>LoRAMergedLinear</c> (<see cref="FusedQkvLoRA"/>): one active adapter at a time, no
/// composition, no DoRA.
/// </summary>
public sealed class FusedQkvLinear : nn.Module<Tensor, Tensor>
{
    private readonly ActiveAdapterSetup _setup;
    private Tensor? _weightBeforeMerge;
    private Parameter _weight;
    private Parameter _bias;

    /// <summary>Creates the projection with zero weights; the model initialises them.</summary>
    public FusedQkvLinear(long inFeatures, long outFeatures, ActiveAdapterSetup setup, int layerIndex, Device? device = null, ScalarType? dtype = null)
        : base(nameof(FusedQkvLinear))
    {
        _setup = setup ?? throw new ArgumentNullException(nameof(setup));
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        LayerIndex = layerIndex;
        _weight = new Parameter(zeros([inFeatures, outFeatures], dtype, device));
        _bias = new Parameter(zeros([outFeatures], dtype, device));
        register_parameter("weight", _weight);
        register_parameter("bias", _bias);
        register_module("loras", Loras);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The weight, stored (in, out) as <c>Conv1D</c> stores it.</summary>
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
        var output = addmm(bias, input.reshape(-1, InFeatures), weight, 1, 1).reshape([.. input.shape[..^1], OutFeatures]);
        if (MergedAdapter is not null) return output;
        if (_setup.SetupAt(Loras, LayerIndex) is not { } setup) return output;
        // Python's LoRAMergedLinear runs a setup of exactly one adapter; any composition block with LoRA here fails.
        if (setup.Children.Count != 1 || setup.Children[0].Adapter is not { } name || Loras.Get<FusedQkvLoRA>(name) is not { } lora)
            throw new AdapterCompositionException(
                $"A fused q/k/v projection (layer {LayerIndex}) runs one LoRA adapter at a time, as Python's LoRAMergedLinear; the setup {setup} composes it with others.");
        var result = lora.Combine(output, lora.Contribution(null, input), weight);
        // Python stores the fused projection's gate under the self-attention LoRA location.
        if (lora.LastGate is { } gate) GatingScoreRecorder.Record(name, LayerIndex, "selfattn", gate);
        return result;
    }

    /// <summary>Folds adapter <paramref name="name"/> into the weight.</summary>
    /// <exception cref="InvalidOperationException">Another adapter is merged.</exception>
    public void Merge(string name)
    {
        var module = Loras.Get<FusedQkvLoRA>(name) ?? throw new ArgumentException($"No LoRA module \"{name}\" on this layer.", nameof(name));
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
