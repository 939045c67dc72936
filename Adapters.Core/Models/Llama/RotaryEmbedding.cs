using Adapters.Core.Configuration;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// Rotary position embeddings as transformers computes them: inverse frequencies
/// <c>1 / rope_theta^(2i/d)</c> in float32, adjusted by <see cref="RopeScaling"/>, turned into cos/sin of
/// <c>position · inv_freq</c> duplicated over both halves of the head. Positions come from the caller, so cached
/// generation and full recomputation rotate every token identically.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly int _dim;
    private readonly double _theta;
    private readonly RopeScaling? _scaling;
    private readonly int _maxPositions;
    private readonly Tensor _invFreq;

    /// <summary>Creates the embedding for a config.</summary>
    /// <exception cref="AdapterConfigException">rope_scaling has an unsupported type.</exception>
    public RotaryEmbedding(LlamaConfig config, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        _dim = config.HeadDim;
        _theta = config.RopeTheta;
        _scaling = config.RopeScaling;
        _maxPositions = config.MaxPositionEmbeddings;
        _invFreq = _scaling?.Type switch
        {
            null or "dynamic" => InverseFrequencies(_theta, device),
            "linear" => InverseFrequencies(_theta, device) / _scaling.Factor,
            "llama3" => Llama3(InverseFrequencies(_theta, device), _scaling),
            var other => throw new AdapterConfigException($"rope_scaling type \"{other}\" is not supported; this port implements linear, dynamic and llama3."),
        };
    }

    /// <summary>The inverse frequencies in use for sequences within the trained length, (head_dim/2) float32.</summary>
    public Tensor InverseFrequency => _invFreq;

    /// <summary>cos and sin, each (batch, sequence, head_dim) in <paramref name="dtype"/>, for <paramref name="positionIds"/> (batch, sequence).</summary>
    public (Tensor Cos, Tensor Sin) Compute(Tensor positionIds, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(positionIds);
        using var scope = NewDisposeScope();
        var invFreq = _invFreq;
        if (_scaling?.Type == "dynamic")
        {
            // transformers grows the base once the sequence passes the trained length (NTK-aware scaling).
            var sequenceLength = positionIds.max().item<long>() + 1;
            if (sequenceLength > _maxPositions)
            {
                var factor = _scaling.Factor;
                var theta = _theta * Math.Pow(factor * sequenceLength / _maxPositions - (factor - 1), _dim / (_dim - 2.0));
                invFreq = InverseFrequencies(theta, positionIds.device);
            }
        }
        var freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1) * invFreq.to(positionIds.device);
        var emb = cat([freqs, freqs], -1);
        var cos = emb.cos().to(dtype).MoveToOuterDisposeScope();
        var sin = emb.sin().to(dtype).MoveToOuterDisposeScope();
        return (cos, sin);
    }

    /// <summary>Rotates q or k (batch, heads, sequence, head_dim) by cos/sin from <see cref="Compute"/>.</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        ArgumentNullException.ThrowIfNull(x);
        var half = x.shape[^1] / 2;
        var rotated = cat([-x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
    }

    /// <inheritdoc />
    public void Dispose() => _invFreq.Dispose();

    private Tensor InverseFrequencies(double theta, Device? device)
    {
        using var scope = NewDisposeScope();
        var exponents = arange(0, _dim, 2, ScalarType.Int64, device).to(ScalarType.Float32) / _dim;
        return (1.0 / full_like(exponents, theta).pow(exponents)).MoveToOuterDisposeScope();
    }

    private static Tensor Llama3(Tensor invFreq, RopeScaling scaling)
    {
        using var scope = NewDisposeScope();
        var original = scaling.OriginalMaxPositionEmbeddings ?? 8192;
        var lowFreqWavelen = original / scaling.LowFreqFactor;
        var highFreqWavelen = original / scaling.HighFreqFactor;
        var wavelen = 2 * Math.PI / invFreq;
        var scaled = where(wavelen > lowFreqWavelen, invFreq / scaling.Factor, invFreq);
        var smooth = (original / wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
        var smoothed = (1 - smooth) * scaled / scaling.Factor + smooth * scaled;
        var medium = (wavelen >= highFreqWavelen).logical_and(wavelen <= lowFreqWavelen);
        return where(medium, smoothed, scaled).MoveToOuterDisposeScope();
    }
}
