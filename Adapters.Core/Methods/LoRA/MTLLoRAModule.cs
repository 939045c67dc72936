using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// MTL-LoRA at one linear layer (Python's <c>MTLLoRA</c>): <c>lora_A</c> (r, in), <c>n_up_projection</c>
/// up-projections <c>lora_B</c> (n, out, r), a task-specific r×r matrix <c>T</c> (<c>task_specific.values</c>: a
/// diagonal of shape (r) for "singular_values", a full (r, r) matrix for "linear"; ones at init) and mixing
/// <c>weights</c> (n, ones at init). The contribution is
/// <c>δ = Σ_k w_k · (dropout(x)·Aᵀ·T·B_kᵀ) / Σ_k w_k · alpha/r</c> with <c>w = exp(weights / weights_sharpness)</c>,
/// or the gate instead of alpha/r when gated. Init "lora": A kaiming_uniform(a=√5), B zeros; "bert": both N(0, 0.02).
/// </summary>
public sealed class MTLLoRAModule : LoRALayer
{
    // Named after the registered parameters, so that Module.to(dtype/device) stores the converted tensors here too.
    [ComponentName(Name = "lora_A")]
    private Parameter _a;
    [ComponentName(Name = "lora_B")]
    private Parameter _b;
    [ComponentName(Name = "weights")]
    private Parameter _weights;
    private readonly TaskSpecificMatrix _taskSpecific;
    private readonly double _sharpness;

    /// <summary>Creates the module for a linear layer (in → out) from <paramref name="config"/>.</summary>
    /// <exception cref="AdapterConfigException">The config asks for something MTL-LoRA cannot do.</exception>
    public MTLLoRAModule(MTLLoRAConfig config, long inFeatures, long outFeatures, Device? device, ScalarType? dtype)
        : base(nameof(MTLLoRAModule), Checked(config), inFeatures, outFeatures, null, device, dtype)
    {
        _sharpness = config.WeightsSharpness;
        _a = new Parameter(zeros([config.R, inFeatures], dtype, device));
        var lowRankB = zeros([outFeatures, config.R], dtype, device);
        // Python first initialises a 2-D B with the LoRA rule (drawing A's values in LoRA's order), then replaces it.
        using (no_grad()) LoRAInit.LowRank(_a, lowRankB, config.InitWeights, allowVera: true, "MTL-LoRA");
        lowRankB.Dispose();
        _b = new Parameter(zeros([config.NUpProjection, outFeatures, config.R], dtype, device));
        if (config.InitWeights == "bert") using (no_grad()) nn.init.normal_(_b, 0.0, 0.02);
        _weights = new Parameter(ones([config.NUpProjection], dtype, device));
        _taskSpecific = new TaskSpecificMatrix(config.TaskSpecificMatrixType, config.R, device, dtype);
        register_parameter("lora_A", _a);
        register_parameter("lora_B", _b);
        register_parameter("weights", _weights);
        RegisterCommon();
        register_module("task_specific", _taskSpecific);
    }

    private static MTLLoRAConfig Checked(MTLLoRAConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.R <= 0) throw new AdapterConfigException($"MTL-LoRA r must be positive, got {config.R}.");
        if (config.NUpProjection <= 0) throw new AdapterConfigException($"MTL-LoRA n_up_projection must be positive, got {config.NUpProjection}.");
        if (config.CompositionMode != "add")
            throw new AdapterConfigException($"MTL-LoRA needs composition_mode \"add\", got \"{config.CompositionMode}\".");
        if (config.UseDora) throw new AdapterConfigException("use_dora is not supported with mtl_lora (Python's MTLLoRA has no DoRA rescale).");
        if (config.IsVera) throw new AdapterConfigException("vera_d / vera_b are not supported with mtl_lora.");
        if (!(config.WeightsSharpness > 0)) throw new AdapterConfigException($"MTL-LoRA weights_sharpness must be positive, got {config.WeightsSharpness}.");
        return config;
    }

    /// <inheritdoc />
    public override Tensor Contribution(Tensor? previous, Tensor layerInput)
    {
        ArgumentNullException.ThrowIfNull(layerInput);
        var x = InputDropout(previous ?? layerInput);
        var projected = matmul(matmul(x, _a.t()), _taskSpecific.Matrix());
        // Σ_k w_k (P·B_kᵀ) / Σ w = P·(Σ_k w_k B_k / Σ w)ᵀ: mixing the (out, r) factors first saves n full-size products.
        var w = (_weights / _sharpness).exp();
        var mixedB = ((w / w.sum()).view(-1, 1, 1) * _b).sum(0L);
        return ScaleOrGate(matmul(projected, mixedB.t()), layerInput);
    }

    /// <summary>MTL-LoRA has no single weight update (one per up-projection); Python's merge would fail, so it is refused.</summary>
    protected override Tensor UnscaledDelta() =>
        throw new InvalidOperationException("MTL-LoRA has one weight update per up-projection and cannot be merged.");

    /// <summary>The task-specific matrix between A and B (Python's <c>TaskSpecificSingularValue</c> / <c>TaskSpecificLinear</c>).</summary>
    private sealed class TaskSpecificMatrix : nn.Module
    {
        [ComponentName(Name = "values")]
        private Parameter _values;
        private readonly bool _diagonal;

        public TaskSpecificMatrix(string type, int rank, Device? device, ScalarType? dtype) : base(nameof(TaskSpecificMatrix))
        {
            _diagonal = type switch
            {
                "singular_values" => true,
                "linear" => false,
                _ => throw new AdapterConfigException($"Unknown task_specific_matrix_type \"{type}\"; expected \"singular_values\" or \"linear\"."),
            };
            _values = new Parameter(_diagonal ? ones([rank], dtype, device) : ones([rank, rank], dtype, device));
            register_parameter("values", _values);
        }

        public Tensor Matrix() => _diagonal ? diag(_values) : _values;

        protected override void RegisterComponents() { }
    }
}
