using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// The LoRA (or IA³) module of a fused q/k/v projection, as Python's <c>LoRAMergedLinear</c> builds it for the
/// <c>n</c> enabled matrices of <c>attn_matrices</c>: <c>lora_A</c> (r·n, in) and <c>lora_B</c> (out/3·n, r), where
/// group <c>g</c> pairs rows <c>[g·r, (g+1)·r)</c> of A with rows <c>[g·out/3, (g+1)·out/3)</c> of B (Python's grouped
/// <c>conv1d</c>), so the update is block-diagonal. IA³ (<c>composition_mode="scale"</c>) has only <c>lora_B</c>
/// (out/3·n, 1). It is a <see cref="LoRALayer"/> like every LoRA-family module (gate, scaling, combine and merge
/// rules shared); a gate has one head per enabled part, as Python's.
/// </summary>
public sealed class FusedQkvLoRA : LoRALayer
{
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "lora_A")]
    private Parameter? _a;
    [ComponentName(Name = "lora_B")]
    private Parameter _b;

    /// <summary>Creates the module for a fused projection of width <paramref name="inFeatures"/> → <paramref name="outFeatures"/> (all three parts).</summary>
    /// <exception cref="AdapterConfigException">The config asks for something Python's <c>LoRAMergedLinear</c> cannot do.</exception>
    public FusedQkvLoRA(LoRAConfig config, long inFeatures, long outFeatures, Device? device, ScalarType? dtype)
        : base(nameof(FusedQkvLoRA), Checked(config, outFeatures), inFeatures, outFeatures, null, device, dtype, gateHeads: EnabledParts(config).Count(e => e))
    {
        Enabled = EnabledParts(config);
        Groups = Enabled.Count(e => e);
        PartWidth = outFeatures / 3;
        IsScale = config.CompositionMode == "scale";
        if (IsScale)
        {
            _b = new Parameter(zeros([PartWidth * Groups, 1], dtype, device));
            using (no_grad()) LoRAInit.Scale(_b, config.InitWeights);
            register_parameter("lora_B", _b);
        }
        else
        {
            _a = new Parameter(zeros([config.R * Groups, inFeatures], dtype, device));
            _b = new Parameter(zeros([PartWidth * Groups, config.R], dtype, device));
            using (no_grad()) LoRAInit.LowRank(_a, _b, config.InitWeights, allowVera: false, "LoRA on a fused q/k/v projection");
            register_parameter("lora_A", _a);
            register_parameter("lora_B", _b);
        }
        RegisterCommon();
    }

    private static bool[] EnabledParts(LoRAConfig config) =>
        [config.AttnMatrices.Contains("q"), config.AttnMatrices.Contains("k"), config.AttnMatrices.Contains("v")];

    private static LoRAConfig Checked(LoRAConfig config, long outFeatures)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!EnabledParts(config).Any(e => e)) throw new AdapterConfigException("selfattn_lora on a fused q/k/v projection needs at least one of q, k, v in attn_matrices.");
        if (outFeatures % 3 != 0) throw new AdapterConfigException($"A fused q/k/v projection must have an output width divisible by 3, got {outFeatures}.");
        if (config.UseDora) throw new AdapterConfigException("use_dora is not supported on a fused q/k/v projection (GPT-2 c_attn); Python's LoRAMergedLinear never applies the DoRA rescale.");
        if (config.IsVera) throw new AdapterConfigException("VeRA is not supported on a fused q/k/v projection (GPT-2 c_attn).");
        if (config is MTLLoRAConfig) throw new AdapterConfigException("mtl_lora is not supported on a fused q/k/v projection (GPT-2 c_attn).");
        if (config.R <= 0) throw new AdapterConfigException($"LoRA r must be positive, got {config.R}.");
        switch (config.CompositionMode)
        {
            case "add":
                break;
            case "scale":
                if (config.R != 1) throw new AdapterConfigException($"composition_mode \"scale\" needs r=1, got r={config.R}.");
                if (config.Dropout > 0) throw new AdapterConfigException("composition_mode \"scale\" does not support dropout.");
                break;
            default:
                throw new AdapterConfigException($"Unknown composition_mode \"{config.CompositionMode}\"; expected \"add\" or \"scale\".");
        }
        return config;
    }

    /// <summary>Which of q, k, v (in that order) carry an update.</summary>
    public bool[] Enabled { get; }

    /// <summary>How many of q, k, v are enabled (<c>n</c>).</summary>
    public int Groups { get; }

    /// <summary>The width of one of the three parts (out/3).</summary>
    public long PartWidth { get; }

    /// <summary>Whether this is IA³ (multiplicative) rather than LoRA (additive).</summary>
    public bool IsScale { get; }

    /// <inheritdoc />
    protected override double Scale => IsScale ? Config.Alpha : base.Scale;

    /// <summary>
    /// The padded update for input <paramref name="layerInput"/> (…, out), scaled by alpha/r (alpha for IA³) or, when
    /// gated, by each enabled part's gate <c>mean_seq(sigmoid(gate(x)))</c>; the fused projection runs one adapter, so
    /// <paramref name="previous"/> is always null.
    /// </summary>
    public override Tensor Contribution(Tensor? previous, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(layerInput);
        var gate = GateHeads(layerInput);
        Tensor Scaled(Tensor t)
        {
            if (gate is null) return t * Scale;
            var padded = Pad(gate.repeat_interleave(PartWidth, dim: -1), 1.0);
            return t * (layerInput.dim() == 3 ? padded.unsqueeze(1) : padded);
        }
        if (IsScale) return Scaled(Pad(_b.reshape(-1), 1.0));
        var afterA = nn.functional.linear(InputDropout(layerInput), _a!);
        var shape = afterA.shape;
        var grouped = afterA.reshape(-1, Groups, Config.R);
        var b = _b.reshape(Groups, PartWidth, Config.R);
        var delta = einsum("tgr,gor->tgo", grouped, b).reshape([.. shape[..^1], Groups * PartWidth]);
        return Scaled(Pad(delta, 0.0));
    }

    /// <summary>One gate value per enabled part of q, k, v (B, parts), as Python reports the fused projection's gate.</summary>
    internal override Tensor? ReportedGate(Tensor layerInput) => GateHeads(layerInput);

    /// <inheritdoc />
    public override Tensor Combine(Tensor layerOutput, Tensor contribution, Tensor weight) =>
        IsScale ? layerOutput * contribution : base.Combine(layerOutput, contribution, weight);

    /// <summary>The (out, in) update that merging adds to (LoRA) or multiplies into (IA³) the frozen weight, scaling included.</summary>
    public Tensor MergeDelta(long inFeatures)
    {
        if (IsScale) return Pad(_b.reshape(-1), 1.0).unsqueeze(1) * Scale;
        return UnscaledDelta() * Scale;
    }

    /// <inheritdoc />
    protected override Tensor UnscaledDelta()
    {
        if (IsScale) throw new InvalidOperationException("IA3 on a fused projection has no additive weight update.");
        var a = _a!.reshape(Groups, Config.R, InFeatures);
        var b = _b.reshape(Groups, PartWidth, Config.R);
        var blocks = matmul(b, a).reshape(Groups * PartWidth, InFeatures);
        return Pad(blocks.t(), 0.0).t();
    }

    /// <summary>Python's <c>pad</c>: scatters the enabled parts into q/k/v thirds of the last dimension, filling the rest.</summary>
    private Tensor Pad(Tensor parts, double fill)
    {
        var pieces = new List<Tensor>(3);
        var group = 0;
        foreach (var enabled in Enabled)
        {
            if (enabled)
            {
                pieces.Add(parts.narrow(-1, group * PartWidth, PartWidth));
                group++;
            }
            else
            {
                pieces.Add(full([.. parts.shape[..^1], PartWidth], fill, parts.dtype, parts.device));
            }
        }
        return cat(pieces, -1);
    }
}
