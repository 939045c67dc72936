using Adapters.Core.Composition;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Heads;

/// <summary>Heads under composition: activation from the adapter setup, routing rows to heads, and averaging heads.</summary>
public sealed partial class FlexHeadModel
{
    /// <summary>
    /// The heads chosen from the adapter setup by <see cref="SetActiveAdapters"/> (Python's <c>active_head</c> list or
    /// BatchSplit); null when the setup named no complete set of heads. <see cref="ActiveHead"/>, when set, wins.
    /// </summary>
    public HeadSetup? ActiveHeadSetup { get; set; }

    /// <summary>
    /// Activates an adapter setup on the encoder and, as Python's flex-head models do, the heads named after it
    /// (<see cref="HeadSetup.FromComposition"/>) when all of them exist.
    /// </summary>
    public void SetActiveAdapters(AdapterCompositionBlock? setup, IEnumerable<int>? skipLayers = null)
    {
        BaseModel.SetActiveAdapters(setup, skipLayers);
        var heads = HeadSetup.FromComposition(setup);
        ActiveHeadSetup = heads is not null && heads.Heads.All(_heads.Contains) ? heads : null;
        if (ActiveHeadSetup is not null) ActiveHead = null;
    }

    /// <summary>
    /// Runs the encoder once and every head of the head setup on its rows, as Python's <c>forward_head</c>: a
    /// BatchSplit gives head i its batch rows; with a Parallel setup head i gets the i-th copy of the batch; several
    /// heads otherwise all see the whole output. Returns one logits tensor per head, in head order.
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch does not fit the batch sizes, or the heads do not match the parallel channels.</exception>
    public IReadOnlyList<Tensor> ForwardHeads(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var setup = ActiveHead is not null ? new HeadSetup([ActiveHead]) : ActiveHeadSetup
            ?? (BaseModel.Setup.Names.LastOrDefault(_heads.Contains) is { } byName ? new HeadSetup([byName]) : null)
            ?? throw new InvalidOperationException("No head active and no head is named like an active adapter.");
        var output = _encoder.Encode(inputIds, attentionMask, tokenTypeIds);
        var rows = output.LastHiddenState.shape[0];
        var results = new List<Tensor>();
        if (setup.BatchSizes is { } sizes)
        {
            if (sizes.Sum() != rows)
                throw new InvalidOperationException($"The head batch sizes [{string.Join(", ", sizes)}] do not match the batch of {rows} rows.");
            long start = 0;
            for (var i = 0; i < setup.Heads.Count; i++)
            {
                results.Add(GetHead(setup.Heads[i]).Forward(Rows(output, start, start + sizes[i]), BaseModel));
                start += sizes[i];
            }
        }
        else if (BaseModel.HasParallelAdapters)
        {
            var channels = BaseModel.ActiveAdapters!.ParallelChannels;
            if (setup.Heads.Count != channels)
                throw new InvalidOperationException($"The {channels} parallel adapters need {channels} active heads, but {setup.Heads.Count} are active.");
            var original = rows / channels;
            for (var i = 0; i < channels; i++)
                results.Add(GetHead(setup.Heads[i]).Forward(Rows(output, i * original, (i + 1) * original), BaseModel));
        }
        else
        {
            foreach (var head in setup.Heads) results.Add(GetHead(head).Forward(output, BaseModel));
        }
        return results;
    }

    /// <summary>
    /// Adds head <paramref name="name"/> as the weighted average of <paramref name="heads"/>, as Python's
    /// <c>average_head</c>: all heads must have the same type and config up to <c>dropout_prob</c>; every tensor is
    /// <c>Σ λᵢ·tensorᵢ</c> with λ = 1/N or the weights (divided by their sum when <paramref name="normalizeWeights"/>).
    /// A decoder tied to the input embeddings stays tied.
    /// </summary>
    /// <exception cref="ArgumentException">A head is missing, the heads differ, or the name is taken.</exception>
    public PredictionHead AverageHead(string name, IReadOnlyList<string> heads, IReadOnlyList<double>? weights = null,
        bool normalizeWeights = true, bool overwriteOk = false, bool setActive = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(heads);
        if (heads.Count == 0) throw new ArgumentException("No heads to average; give at least one.", nameof(heads));
        if (weights is not null && weights.Count != heads.Count)
            throw new ArgumentException($"{heads.Count} heads but {weights.Count} weights; give one weight per head.", nameof(weights));
        var modules = heads.Select(GetHead).ToArray();
        var identity = AveragingConfigIdentity.Of(modules[0].Config, "dropout_prob");
        for (var i = 1; i < modules.Length; i++)
            if (AveragingConfigIdentity.Of(modules[i].Config, "dropout_prob") != identity)
                throw new ArgumentException($"Cannot average heads with different configurations: \"{heads[i]}\" differs from \"{heads[0]}\" beyond dropout_prob.", nameof(heads));
        var sum = weights is null ? 1.0 : normalizeWeights ? weights.Sum() : 1.0;
        if (sum == 0) throw new ArgumentException("The weights sum to 0 and cannot be normalised.", nameof(weights));
        var lambdas = weights is null ? Enumerable.Repeat(1.0 / heads.Count, heads.Count).ToArray() : weights.Select(w => w / sum).ToArray();
        if (heads.Contains(name)) throw new ArgumentException($"The averaged head \"{name}\" cannot also be an input.", nameof(name));
        if (overwriteOk && _heads.Contains(name)) DeleteHead(name);

        var averaged = AddHead(name, modules[0].Config);
        var inputs = modules.Select(m => m.state_dict()).ToArray();
        using (no_grad())
        {
            foreach (var (key, target) in averaged.state_dict())
            {
                if (key == averaged.TiedDecoderKey) continue;
                using var scope = NewDisposeScope();
                Tensor total = inputs[0][key] * lambdas[0];
                for (var i = 1; i < inputs.Length; i++) total = total + inputs[i][key] * lambdas[i];
                target.copy_(total);
            }
        }
        if (setActive) ActiveHead = name;
        return averaged;
    }

    private static EncoderOutput Rows(EncoderOutput output, long start, long end) =>
        new(output.LastHiddenState.slice(0, start, end, 1), output.PoolerOutput?.slice(0, start, end, 1));
}
