using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// What the adapter sites of one forward pass report back to the caller when asked (Python's
/// <c>output_adapter_fusion_attentions</c> and <c>output_adapter_gating_scores</c>): the AdapterFusion attention
/// probabilities and the gate values of gated (UniPELT) modules. The pass's <see cref="AdapterForwardContext"/> collects
/// them and the model's forward returns them on its output (<c>EncoderOutput.AdapterOutputs</c>,
/// <c>CausalLMOutput.AdapterOutputs</c>). Every tensor is a detached copy that the caller owns.
/// </summary>
public sealed class AdapterForwardOutputs
{
    private readonly Dictionary<string, Dictionary<int, Dictionary<string, Tensor>>> _fusionAttentions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, Dictionary<string, Tensor>>> _gatingScores = new(StringComparer.Ordinal);

    internal AdapterForwardOutputs(bool fusionAttentions, bool gatingScores)
    {
        RecordsFusionAttentions = fusionAttentions;
        RecordsGatingScores = gatingScores;
    }

    /// <summary>Whether the pass recorded fusion attentions.</summary>
    public bool RecordsFusionAttentions { get; }

    /// <summary>Whether the pass recorded gating scores.</summary>
    public bool RecordsGatingScores { get; }

    /// <summary>
    /// Fusion attention probabilities: fusion name → layer → location (<c>mh_adapter</c> or <c>output_adapter</c>) →
    /// probabilities of shape (B, S, N).
    /// </summary>
    public IReadOnlyDictionary<string, Dictionary<int, Dictionary<string, Tensor>>> FusionAttentions => _fusionAttentions;

    /// <summary>
    /// Gate values keyed like Python's: adapter → layer → location (<c>"mh_adapter"</c>, <c>"output_adapter"</c>,
    /// <c>"selfattn"</c>, <c>"intermediate"</c>, <c>"output"</c>, <c>"self_prefix"</c>) → one value per example (two for
    /// unshared prefix gates). As in Python, q, k and v LoRA gates share <c>"selfattn"</c>, so the last one computed
    /// (v after k after q in call order) is kept.
    /// </summary>
    public IReadOnlyDictionary<string, Dictionary<int, Dictionary<string, Tensor>>> GatingScores => _gatingScores;

    /// <summary>Stores the attention probabilities of fusion <paramref name="fusion"/> at a layer and location.</summary>
    internal void RecordFusionAttention(string fusion, int layer, string location, Tensor probabilities)
    {
        if (!RecordsFusionAttentions) return;
        Store(_fusionAttentions, fusion, layer, location, probabilities.detach());
    }

    /// <summary>Stores a gate value of shape (B, 1, …) or (B, k) for an adapter at a layer and location, as one row per example.</summary>
    internal void RecordGatingScore(string adapter, int layer, string location, Tensor gate)
    {
        if (!RecordsGatingScores) return;
        var batch = gate.shape[0];
        var value = gate.detach().reshape(batch, -1);
        Store(_gatingScores, adapter, layer, location, value.shape[1] == 1 ? value.reshape(batch) : value);
    }

    private static void Store(Dictionary<string, Dictionary<int, Dictionary<string, Tensor>>> records, string key, int layer, string location, Tensor value)
    {
        if (!records.TryGetValue(key, out var byLayer)) records[key] = byLayer = [];
        if (!byLayer.TryGetValue(layer, out var byLocation)) byLayer[layer] = byLocation = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        if (byLocation.TryGetValue(location, out var previous)) previous.Dispose();
        // Decoder layers run in their own dispose scopes; the kept copy must outlive them and belongs to the caller.
        byLocation[location] = value.clone().DetachFromDisposeScope();
    }
}
