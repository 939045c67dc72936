namespace Adapters.Core.Models.Llama;

/// <summary>
/// transformers' <c>rope_scaling</c> for the types this port implements: <c>linear</c> (positions divided by
/// <see cref="Factor"/>), <c>dynamic</c> (NTK-aware base growth once the sequence passes the trained length) and
/// <c>llama3</c> (per-frequency interpolation between <see cref="LowFreqFactor"/> and <see cref="HighFreqFactor"/>).
/// </summary>
/// <param name="Type">The <c>rope_type</c> (older configs: <c>type</c>).</param>
/// <param name="Factor">The scaling factor.</param>
/// <param name="LowFreqFactor">llama3 <c>low_freq_factor</c>.</param>
/// <param name="HighFreqFactor">llama3 <c>high_freq_factor</c>.</param>
/// <param name="OriginalMaxPositionEmbeddings">llama3 <c>original_max_position_embeddings</c>.</param>
public sealed record RopeScaling(string Type, double Factor, double LowFreqFactor = 1.0, double HighFreqFactor = 4.0, int? OriginalMaxPositionEmbeddings = null);
