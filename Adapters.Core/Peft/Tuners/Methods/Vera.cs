using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT 0.14's VeRA (<c>VERA</c>): frozen random projections <c>vera_A</c>, <c>vera_B</c> shared by every layer of the
/// model, and per-layer trainable scaling vectors: <c>y = base(x) + λ_b ⊙ B·(λ_d ⊙ A·x)</c>.
/// </summary>
internal sealed class VeraMethod : PeftTunerMethod
{
    private static readonly HashSet<PeftLayerKind> s_kinds = [PeftLayerKind.Linear, PeftLayerKind.Conv1D];

    /// <inheritdoc />
    public override string PeftType => "VERA";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "target_modules", "projection_prng_key", "save_projection", "vera_dropout", "d_initial", "fan_in_fan_out", "bias",
        "modules_to_save", "init_weights", "layers_to_transform", "layers_pattern");

    /// <inheritdoc />
    public override IReadOnlySet<PeftLayerKind> SupportedKinds => s_kinds;

    /// <inheritdoc />
    public override string SupportedText => "`torch.nn.Linear`, `transformers.pytorch_utils.Conv1D`";

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        if (config.String("bias") is { } bias && bias != "none")
            throw new AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen.");
    }

    /// <inheritdoc />
    public override void PrepareLayer(PeftConfig config, PeftBaseLayer layer) => ForceFanInFanOut(config, layer);

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new VeraLayer(layer, state);

    /// <inheritdoc />
    public override void AfterInject(PeftTunerModel model, string adapter, PeftConfig config, IReadOnlyList<PeftTunerLayer> layers)
    {
        var r = config.Int("r", 256);
        var maxIn = layers.Max(l => l.Base.InFeatures);
        var maxOut = layers.Max(l => l.Base.OutFeatures);
        // PEFT draws A then B from one CPU generator seeded with projection_prng_key (kaiming-uniform, gain √2).
        var generator = new Generator((ulong)config.Int("projection_prng_key", 0));
        var a = KaimingUniform([r, maxIn], generator);
        var b = KaimingUniform([maxOut, r], generator);
        var shared = model.SharedTensors(adapter);
        shared["vera_A"] = new Parameter(a, false);
        shared["vera_B"] = new Parameter(b, false);
        foreach (var layer in layers.Cast<VeraLayer>()) layer.SetProjections(adapter, shared["vera_A"], shared["vera_B"]);
    }

    /// <inheritdoc />
    public override IEnumerable<(string Key, Parameter Tensor)> ModelTensors(PeftTunerModel model, string adapter)
    {
        if (!model.Config(adapter).Bool("save_projection", true)) yield break;
        var shared = model.SharedTensors(adapter);
        yield return ("vera_A", shared["vera_A"]);
        yield return ("vera_B", shared["vera_B"]);
    }

    private static Tensor KaimingUniform(long[] shape, Generator generator)
    {
        var bound = Math.Sqrt(3) * Math.Sqrt(2) / Math.Sqrt(shape[1]);
        return empty(shape, ScalarType.Float32).uniform_(-bound, bound, generator);
    }
}

/// <summary>PEFT 0.14's <c>vera.Linear</c>.</summary>
internal sealed class VeraLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, (Tensor A, Tensor B, double Dropout)> _projections = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _dropout = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string PeftType => "VERA";

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var r = config.Int("r", 256);
        _dropout[adapter] = config.Double("vera_dropout", 0);
        Slot("vera_lambda_b").Add(adapter, zeros([Base.OutFeatures], dtype, device));
        Slot("vera_lambda_d").Add(adapter, full([r], config.Double("d_initial", 0.1), dtype, device));
    }

    internal void SetProjections(string adapter, Tensor a, Tensor b) => _projections[adapter] = (a, b, _dropout[adapter]);

    private (Tensor A, Tensor B) Sliced(string adapter, Device device)
    {
        var (a, b, _) = _projections[adapter];
        return (a[.., ..(int)Base.InFeatures].to(device), b[..(int)Base.OutFeatures, ..].to(device));
    }

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var result = baseOutput;
        foreach (var adapter in active)
        {
            var lambdaB = Slots[0][adapter];
            var lambdaD = Slots[1][adapter];
            var (a, b) = Sliced(adapter, lambdaD.device);
            var x = input.to(lambdaD.dtype);
            var p = _projections[adapter].Dropout;
            if (Base.Module.training && p > 0) x = nn.functional.dropout(x, p, true);
            result = result + lambdaB * nn.functional.linear(lambdaD * nn.functional.linear(x, a), b);
        }
        return result.to(input.dtype);
    }

    private Tensor Delta(string adapter)
    {
        var lambdaB = Slots[0][adapter];
        var lambdaD = Slots[1][adapter];
        var (a, b) = Sliced(adapter, lambdaD.device);
        return (lambdaB.unsqueeze(-1) * b).matmul(lambdaD.unsqueeze(-1) * a);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter) => AddToWeight(Delta(adapter));

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter) => AddToWeight(Delta(adapter), -1);
}
