using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// A linear layer that can carry LoRA-family modules, in the role of Python's <c>LoRALinear</c>: it keeps the
/// <c>weight</c>/<c>bias</c> names of <c>nn.Linear</c> and holds its modules under <c>loras.&lt;name&gt;</c>. Models (built-in or
/// a user's own) use it for every projection that LoRA, IA³, DoRA or VeRA may adapt.
/// </summary>
public sealed class AdaptableLinear : nn.Module<Tensor, Tensor>
{
    private readonly ActiveAdapterSetup _setup;
    private Tensor? _weightBeforeMerge;

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
        weight = new Parameter(fanInFanOut ? empty([inFeatures, outFeatures], dtype, device) : empty([outFeatures, inFeatures], dtype, device));
        register_parameter("weight", weight);
        if (hasBias)
        {
            bias = new Parameter(empty([outFeatures], dtype, device));
            register_parameter("bias", bias);
        }
        using (var linear = nn.Linear(inFeatures, outFeatures, hasBias, device, dtype))
        using (no_grad())
        {
            weight.copy_(fanInFanOut ? linear.weight.t() : linear.weight);
            bias?.copy_(linear.bias!);
        }
        register_module("loras", Loras);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The frozen weight, shape (out, in), or (in, out) with <see cref="FanInFanOut"/>.</summary>
    public Parameter weight { get; }

    /// <summary>Whether <see cref="weight"/> is stored (in, out), as transformers' <c>Conv1D</c> stores it.</summary>
    public bool FanInFanOut { get; }

    /// <summary>The weight as an (out, in) matrix whatever the storage layout (a view, not a copy).</summary>
    public Tensor OutInWeight => FanInFanOut ? weight.t() : weight;

    /// <summary>The bias, or null.</summary>
    public Parameter? bias { get; }

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
        var output = nn.functional.linear(input, OutInWeight, bias);
        if (MergedAdapter is not null) return output;
        var active = _setup.ActiveAt(Loras, LayerIndex);
        if (active.Count == 0) return output;
        Tensor? contribution = null;
        LoRALayer? last = null;
        foreach (var name in active)
        {
            last = Loras.Get<LoRALayer>(name)!;
            contribution = last.Contribution(contribution, input);
        }
        return last!.Combine(output, contribution!, OutInWeight);
    }

    /// <summary>Folds adapter <paramref name="name"/> into the weight; the forward pass then skips all LoRA modules.</summary>
    /// <exception cref="InvalidOperationException">Another adapter is merged, or this one is gated.</exception>
    public void Merge(string name)
    {
        var module = Loras.Get<LoRALayer>(name) ?? throw new ArgumentException($"No LoRA module \"{name}\" on this layer.", nameof(name));
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
