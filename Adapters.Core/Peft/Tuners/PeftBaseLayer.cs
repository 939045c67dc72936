using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners;

/// <summary>What kind of layer a PEFT tuner wraps (PEFT dispatches its layer classes on this).</summary>
public enum PeftLayerKind
{
    /// <summary><c>nn.Linear</c>: weight (out, in).</summary>
    Linear,

    /// <summary>transformers' <c>Conv1D</c>: a linear layer with its weight stored (in, out) (<c>fan_in_fan_out</c>).</summary>
    Conv1D,

    /// <summary><c>nn.Embedding</c>: weight (num, dim).</summary>
    Embedding,

    /// <summary><c>nn.Conv2d</c>: weight (out, in / groups, kh, kw).</summary>
    Conv2d,
}

/// <summary>The geometry of a wrapped <c>nn.Conv2d</c>, which PEFT's conv adapters repeat.</summary>
/// <param name="KernelSize">(kh, kw).</param>
/// <param name="Stride">(sh, sw).</param>
/// <param name="Padding">(ph, pw).</param>
/// <param name="Dilation">(dh, dw).</param>
/// <param name="Groups">The number of groups.</param>
public sealed record PeftConvGeometry(long[] KernelSize, long[] Stride, long[] Padding, long[] Dilation, long Groups);

/// <summary>
/// The module a PEFT tuner adapts (PEFT's <c>base_layer</c>), seen uniformly: its path in the model, kind, sizes,
/// weight and bias. The module itself stays in the tree; tuner parameters are registered on it and its output is
/// changed through a forward hook, because built-in models call their layers through fields that a replacement in
/// the module tree would not reach.
/// </summary>
public sealed class PeftBaseLayer
{
    private readonly Parameter _weight;
    private readonly IFourBitLinear? _fourBit;

    private PeftBaseLayer(string path, nn.Module<Tensor, Tensor> module, PeftLayerKind kind, Parameter weight, Parameter? bias, long inFeatures, long outFeatures, PeftConvGeometry? conv = null)
    {
        Conv = conv;
        Path = path;
        Module = module;
        Kind = kind;
        _weight = weight;
        _fourBit = module as IFourBitLinear;
        Bias = bias;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
    }

    /// <summary>The module path as <c>named_modules()</c> shows it.</summary>
    public string Path { get; }

    /// <summary>The module.</summary>
    public nn.Module<Tensor, Tensor> Module { get; }

    /// <summary>The convolution geometry of a <see cref="PeftLayerKind.Conv2d"/> layer, else null.</summary>
    public PeftConvGeometry? Conv { get; }

    /// <summary>The layer kind.</summary>
    public PeftLayerKind Kind { get; }

    /// <summary>
    /// The weight as stored: (out, in) for Linear, (in, out) for Conv1D, (num, dim) for Embedding; the packed bytes of
    /// a 4-bit layer (see <see cref="IsFourBit"/>), read at each call since quantizing replaces the parameter.
    /// </summary>
    public Parameter Weight => _fourBit?.weight ?? _weight;

    /// <summary>Whether the layer's weight is held in 4 bits (PEFT's <c>Linear4bit</c> layers): merging into it is refused.</summary>
    public bool IsFourBit => _fourBit?.QuantState is not null;

    /// <summary>The dtype the layer computes in: the weight's, or a 4-bit layer's compute dtype.</summary>
    public ScalarType ComputeDtype => _fourBit?.ComputeDtype ?? Weight.dtype;

    /// <summary>The bias, or null.</summary>
    public Parameter? Bias { get; }

    /// <summary>Input features (Embedding: number of embeddings).</summary>
    public long InFeatures { get; }

    /// <summary>Output features (Embedding: embedding dim).</summary>
    public long OutFeatures { get; }

    /// <summary>Whether the weight is stored (in, out) (PEFT's <c>fan_in_fan_out</c>).</summary>
    public bool FanInFanOut => Kind == PeftLayerKind.Conv1D;

    /// <summary>The weight as an (out, in) matrix (a view, or a dequantized copy of a 4-bit weight); for Embedding, (num, dim) as stored.</summary>
    public Tensor OutInWeight => _fourBit is { QuantState: not null } fourBit ? fourBit.OutInWeight : FanInFanOut ? Weight.t() : Weight;

    /// <summary>The weight in the layout LoRA's B·A has: (out, in), or (dim, num) for embeddings.</summary>
    public Tensor OutInWeightFor(bool embedding) => embedding ? Weight.t() : OutInWeight;

    /// <summary>PEFT's name for the layer type in refusals.</summary>
    public string TypeName => Kind switch
    {
        PeftLayerKind.Linear => "torch.nn.Linear",
        PeftLayerKind.Conv1D => "transformers.pytorch_utils.Conv1D",
        PeftLayerKind.Conv2d => "torch.nn.Conv2d",
        _ => "torch.nn.Embedding",
    };

    /// <summary>The base layer's own computation with <paramref name="outInWeight"/> instead of its weight.</summary>
    public Tensor Linear(Tensor input, Tensor outInWeight, bool withBias = true) =>
        nn.functional.linear(input, outInWeight, withBias ? Bias : null);

    /// <summary>Describes <paramref name="module"/> when it is a layer PEFT tuners can wrap, else null.</summary>
    public static PeftBaseLayer? Describe(string path, nn.Module module) => module switch
    {
        Linear linear => new PeftBaseLayer(path, linear, PeftLayerKind.Linear, linear.weight!, linear.bias, linear.in_features, linear.out_features),
        AdaptableLinear a => new PeftBaseLayer(path, a, a.FanInFanOut ? PeftLayerKind.Conv1D : PeftLayerKind.Linear, a.weight, a.bias, a.InFeatures, a.OutFeatures),
        FusedQkvLinear f => new PeftBaseLayer(path, f, PeftLayerKind.Conv1D, f.weight, f.bias, f.weight.shape[0], f.weight.shape[1]),
        Conv1D c => new PeftBaseLayer(path, c, PeftLayerKind.Conv1D, c.weight, c.bias, c.InFeatures, c.OutFeatures),
        Embedding e => new PeftBaseLayer(path, e, PeftLayerKind.Embedding, e.weight!, null, e.weight!.shape[0], e.weight!.shape[1]),
        Conv2d c => new PeftBaseLayer(path, c, PeftLayerKind.Conv2d, c.weight!, c.bias, c.in_channels, c.out_channels,
            new PeftConvGeometry(c.kernel_size, c.stride, c.padding ?? [0, 0], c.dilation, c.groups)),
        _ => null,
    };
}
