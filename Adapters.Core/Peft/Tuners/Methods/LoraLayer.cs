using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>
/// PEFT 0.14's <c>lora.Linear</c> / <c>lora.Embedding</c> on one layer: <c>y = base(x) + B(A(dropout(x)))·s</c>, with
/// <c>s = alpha/r</c> (or <c>alpha/√r</c> with rsLoRA), and DoRA's magnitude rescaling when <c>use_dora</c> is set.
/// </summary>
internal sealed class LoraLayer(PeftBaseLayer baseLayer, PeftAdapterState state) : PeftTunerLayer(baseLayer, state)
{
    private readonly Dictionary<string, (double Scaling, double Dropout, bool Dora)> _settings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _doraMergeNorms = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override string PeftType => "LORA";

    private bool IsEmbedding => Base.Kind == PeftLayerKind.Embedding;

    private bool IsConv => Base.Kind == PeftLayerKind.Conv2d;

    /// <summary>The scaling PEFT uses for <paramref name="adapter"/> here.</summary>
    public double Scaling(string adapter) => _settings[adapter].Scaling;

    /// <summary>Whether this layer holds <paramref name="adapter"/>.</summary>
    public bool Holds(string adapter) => AdapterNames.Contains(adapter);

    /// <summary>
    /// The adapter's factors laid out so that <c>B·A</c> is the update in the (out, in) view of the weight
    /// (<c>lora_A</c>/<c>lora_B</c>, or <c>lora_embedding_A</c>/<c>lora_embedding_B</c> whose product is (dim, num)).
    /// </summary>
    public (Parameter A, Parameter B) Factors(string adapter) => IsEmbedding
        ? (Slots.First(s => s.Name == "lora_embedding_A")[adapter], Slots.First(s => s.Name == "lora_embedding_B")[adapter])
        : (Slots.First(s => s.Name == "lora_A")[adapter], Slots.First(s => s.Name == "lora_B")[adapter]);

    /// <summary>PEFT's <c>get_delta_weight</c> in the (out, in) view of the weight: <c>B·A·scaling</c>.</summary>
    public Tensor DeltaWeight(string adapter) => DeltaUnscaled(adapter) * _settings[adapter].Scaling;

    /// <inheritdoc />
    protected override void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype)
    {
        var (r, alpha) = PeftPatterns.LoraRankAndAlpha(config, path, config.Int("r", 8), config.Double("lora_alpha", 8));
        if (r <= 0) throw Refuse(path, $"`r` should be a positive integer value but the value passed is {r}");
        var scaling = config.Bool("use_rslora", false) ? alpha / Math.Sqrt(r) : alpha / r;
        var dora = config.Bool("use_dora", false);
        var init = config.BoolOrString("init_lora_weights", true);
        _settings[adapter] = (scaling, config.Double("lora_dropout", 0), dora);
        if (IsEmbedding)
        {
            // PEFT: A zeros, B normal (gaussian or not); bare parameters.
            var a = init == "false" ? randn([r, Base.InFeatures], dtype, device) : zeros([r, Base.InFeatures], dtype, device);
            Slot("lora_embedding_A").Add(adapter, a);
            Slot("lora_embedding_B").Add(adapter, randn([Base.OutFeatures, r], dtype, device));
        }
        else if (IsConv)
        {
            // PEFT: lora_A repeats the base kernel, stride and padding (not its dilation or groups); lora_B is 1×1.
            if (dora) throw Refuse(path, "DoRA on Conv2d layers is not implemented by this port yet.");
            var conv = Base.Conv!;
            if (conv.Groups != 1 || conv.Dilation.Any(d => d != 1))
                throw Refuse(path, $"a Conv2d with groups={conv.Groups} and dilation=({string.Join(", ", conv.Dilation)}): PEFT 0.14's lora_A repeats neither, so its output would not match the layer's; this port refuses it.");
            var a = KaimingUniform([r, Base.InFeatures, .. conv.KernelSize], device, dtype);
            var b = init == "false" ? KaimingUniform([Base.OutFeatures, r, 1, 1], device, dtype) : zeros([Base.OutFeatures, r, 1, 1], dtype, device);
            Slot("lora_A", "weight").Add(adapter, a);
            Slot("lora_B", "weight").Add(adapter, b);
        }
        else
        {
            Tensor a = init switch
            {
                "gaussian" => normal(0, 1.0 / r, [r, Base.InFeatures], dtype, device),
                _ => KaimingUniform([r, Base.InFeatures], device, dtype),
            };
            var b = init == "false" ? KaimingUniform([Base.OutFeatures, r], device, dtype) : zeros([Base.OutFeatures, r], dtype, device);
            Slot("lora_A", "weight").Add(adapter, a);
            Slot("lora_B", "weight").Add(adapter, b);
        }
        if (dora)
        {
            var norm = WeightNorm(Base.OutInWeightFor(IsEmbedding), scaling * DeltaUnscaled(adapter));
            Slot("lora_magnitude_vector", "weight", fileKey: "lora_magnitude_vector").Add(adapter, norm);
        }
    }

    // B·A laid out like the (out, in) weight view ((dim, num) for embeddings, (out, in, kh, kw) for Conv2d).
    private Tensor DeltaUnscaled(string adapter)
    {
        if (IsEmbedding) return Slots.First(s => s.Name == "lora_embedding_B")[adapter].matmul(Slots.First(s => s.Name == "lora_embedding_A")[adapter]);
        var a = Slots.First(s => s.Name == "lora_A")[adapter];
        var b = Slots.First(s => s.Name == "lora_B")[adapter];
        if (!IsConv) return b.matmul(a);
        // PEFT: a 1×1 kernel multiplies the squeezed matrices; a larger one composes the two convolutions.
        if (a.shape[2] == 1 && a.shape[3] == 1) return b.flatten(1).matmul(a.flatten(1)).unsqueeze(2).unsqueeze(3);
        return nn.functional.conv2d(a.permute(1, 0, 2, 3), b).permute(1, 0, 2, 3);
    }

    private static Tensor WeightNorm(Tensor weight, Tensor scaledDelta) => linalg.norm(weight + scaledDelta, dims: [1]);

    /// <inheritdoc />
    protected override Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active)
    {
        var result = baseOutput;
        var dtype = baseOutput.dtype;
        foreach (var adapter in active)
        {
            var (scaling, dropout, dora) = _settings[adapter];
            if (IsEmbedding)
            {
                var afterA = Embed(input, Slots.First(s => s.Name == "lora_embedding_A")[adapter].t());
                var lora = afterA.matmul(Slots.First(s => s.Name == "lora_embedding_B")[adapter].t()) * scaling;
                if (!dora)
                {
                    result = result + lora;
                    continue;
                }
                var g = MagnitudeScale(adapter, scaling);
                result = g * result + g * lora;
                continue;
            }
            var a = Slots.First(s => s.Name == "lora_A")[adapter];
            var b = Slots.First(s => s.Name == "lora_B")[adapter];
            var x = input.to(a.dtype);
            var training = Base.Module.training && dropout > 0;
            var dropped = training ? nn.functional.dropout(x, dropout, true) : x;
            if (IsConv)
            {
                var conv = Base.Conv!;
                result = result + nn.functional.conv2d(nn.functional.conv2d(dropped, a, strides: conv.Stride, padding: conv.Padding), b) * scaling;
                continue;
            }
            var loraOut = nn.functional.linear(nn.functional.linear(dropped, a), b) * scaling;
            if (!dora)
            {
                result = result + loraOut;
                continue;
            }
            var scale = MagnitudeScale(adapter, scaling);
            // PEFT reuses the base output minus its bias when dropout is inactive, else recomputes W·dropout(x).
            var basePart = training
                ? nn.functional.linear(dropped, Base.OutInWeight)
                : Base.Bias is { } bias ? result - bias : result;
            result = result + (scale - 1) * basePart + scale * loraOut;
        }
        return result.to(dtype);
    }

    // m / ‖W + s·BA‖ (the norm detached), shaped to broadcast over the output features.
    private Tensor MagnitudeScale(string adapter, double scaling)
    {
        var magnitude = Slots.First(s => s.Name == "lora_magnitude_vector")[adapter];
        Tensor norm;
        using (no_grad()) norm = WeightNorm(Base.OutInWeightFor(IsEmbedding), scaling * DeltaUnscaled(adapter)).detach();
        return (magnitude / norm).view(1, -1);
    }

    /// <inheritdoc />
    protected override void MergeInto(string adapter)
    {
        var (scaling, _, dora) = _settings[adapter];
        var delta = DeltaUnscaled(adapter) * scaling;
        if (IsEmbedding)
        {
            if (!dora)
            {
                Base.Weight.add_(delta.t());
                return;
            }
            var wt = Base.Weight.t() + delta;
            var normE = linalg.norm(wt, dims: [1]).detach();
            _doraMergeNorms[adapter] = normE;
            var gE = (Slots.First(s => s.Name == "lora_magnitude_vector")[adapter] / normE).view(-1, 1);
            Base.Weight.copy_((gE * wt).t());
            return;
        }
        if (IsConv)
        {
            Base.Weight.add_(delta.to(Base.Weight.dtype));
            return;
        }
        if (!dora)
        {
            AddToWeight(delta);
            return;
        }
        var merged = Base.OutInWeight + delta;
        var norm = linalg.norm(merged, dims: [1]).detach();
        _doraMergeNorms[adapter] = norm;
        var g = (Slots.First(s => s.Name == "lora_magnitude_vector")[adapter] / norm).view(-1, 1);
        SetWeight(g * merged);
    }

    /// <inheritdoc />
    protected override void UnmergeFrom(string adapter)
    {
        var (scaling, _, dora) = _settings[adapter];
        var delta = DeltaUnscaled(adapter) * scaling;
        if (!dora)
        {
            if (IsEmbedding) Base.Weight.sub_(delta.t());
            else if (IsConv) Base.Weight.sub_(delta.to(Base.Weight.dtype));
            else AddToWeight(delta, -1);
            return;
        }
        var g = (Slots.First(s => s.Name == "lora_magnitude_vector")[adapter] / _doraMergeNorms[adapter]).view(-1, 1);
        if (IsEmbedding) Base.Weight.copy_((Base.Weight.t() / g - delta).t());
        else SetWeight(Base.OutInWeight / g - delta);
    }
}
