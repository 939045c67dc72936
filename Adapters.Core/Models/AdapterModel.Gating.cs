using Adapters.Core.Methods.Gating;

namespace Adapters.Core.Models;

/// <summary>Gate values of gated adapters (UniPELT), Python's <c>output_adapter_gating_scores=True</c>.</summary>
public abstract partial class AdapterModel
{
    /// <summary>
    /// Starts collecting the gate values of every gated bottleneck, LoRA and prefix module that runs in the forward passes
    /// made on this thread (or async flow) until the returned recorder is disposed; read them from
    /// <see cref="GatingScoreRecorder.Scores"/> as adapter → layer → location → one value per example.
    /// </summary>
    /// <example><code>
    /// using var gates = model.RecordGatingScores();
    /// model.Forward(inputIds, mask);
    /// var outputGate = gates.Scores["unipelt"][0]["output_adapter"];
    /// </code></example>
    public GatingScoreRecorder RecordGatingScores() => GatingScoreRecorder.Start();
}
