using static TorchSharp.torch;

namespace Adapters.Core.Methods.Gating;

/// <summary>
/// Collects the gate values of gated adapters (UniPELT-style <c>use_gating</c> on bottleneck, LoRA and prefix tuning)
/// during the forward passes that run while it is open — Python's <c>output_adapter_gating_scores=True</c>. Scores are
/// keyed like Python's: adapter name → layer index → location (<c>"mh_adapter"</c>, <c>"output_adapter"</c>,
/// <c>"selfattn"</c>, <c>"intermediate"</c>, <c>"output"</c>, <c>"self_prefix"</c>), each a detached tensor of one value
/// per example (two for unshared prefix gates). As in Python, q, k and v LoRA gates share the location
/// <c>"selfattn"</c>, so the last one computed (v before k before q in call order) is kept.
/// </summary>
public sealed class GatingScoreRecorder : IDisposable
{
    private static readonly AsyncLocal<GatingScoreRecorder?> s_current = new();
    private readonly GatingScoreRecorder? _outer;
    private readonly Dictionary<string, Dictionary<int, Dictionary<string, Tensor>>> _scores = new(StringComparer.Ordinal);
    private bool _disposed;

    private GatingScoreRecorder(GatingScoreRecorder? outer) => _outer = outer;

    /// <summary>Starts recording on the current async flow until the recorder is disposed.</summary>
    public static GatingScoreRecorder Start()
    {
        var recorder = new GatingScoreRecorder(s_current.Value);
        s_current.Value = recorder;
        return recorder;
    }

    /// <summary>Whether a recorder is open on this flow (gated modules only keep their gate values then).</summary>
    internal static bool IsRecording => s_current.Value is not null;

    /// <summary>The recorded scores: adapter → layer → location → gate values (one per example).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<int, IReadOnlyDictionary<string, Tensor>>> Scores =>
        _scores.ToDictionary(
            a => a.Key,
            a => (IReadOnlyDictionary<int, IReadOnlyDictionary<string, Tensor>>)a.Value.ToDictionary(
                l => l.Key, l => (IReadOnlyDictionary<string, Tensor>)l.Value),
            StringComparer.Ordinal);

    /// <summary>Records a gate value of shape (B, 1, …) or (B, k) for an adapter at a layer and location.</summary>
    internal static void Record(string adapter, int layer, string location, Tensor gate)
    {
        var recorder = s_current.Value;
        if (recorder is null) return;
        if (!recorder._scores.TryGetValue(adapter, out var layers)) recorder._scores[adapter] = layers = [];
        if (!layers.TryGetValue(layer, out var locations)) layers[layer] = locations = new(StringComparer.Ordinal);
        var batch = gate.shape[0];
        var value = gate.detach().reshape(batch, -1);
        value = value.shape[1] == 1 ? value.reshape(batch) : value;
        // Decoder layers run in their own dispose scopes; the kept copy must outlive them.
        var kept = value.clone().DetachFromDisposeScope();
        if (locations.TryGetValue(location, out var previous)) previous.Dispose();
        locations[location] = kept;
    }

    /// <summary>Stops recording; the scores stay readable.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (ReferenceEquals(s_current.Value, this)) s_current.Value = _outer;
    }
}
