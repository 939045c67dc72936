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
    /// Runs forward passes with adapter setup <paramref name="setup"/> and head setup <paramref name="heads"/> until the
    /// returned handle is disposed, as Python's <c>with AdapterSetup(setup, head_setup):</c>. Without
    /// <paramref name="heads"/> the heads are derived from the setup (<see cref="HeadSetup.FromComposition"/>) when all
    /// of them exist; when none are derived, the model's active heads apply. Holds only for the current thread / async
    /// flow; scopes nest.
    /// </summary>
    /// <exception cref="ArgumentException">An adapter or an explicitly given head does not exist.</exception>
    /// <exception cref="AdapterCompositionException">The setup breaks a nesting or depth rule.</exception>
    public IDisposable UseAdapterSetup(AdapterCompositionBlock? setup, HeadSetup? heads = null)
    {
        if (heads is not null)
        {
            foreach (var head in heads.Heads)
                if (!_heads.Contains(head)) throw new ArgumentException($"No head named \"{head}\" (given in the head setup).", nameof(heads));
        }
        else if (HeadSetup.FromComposition(setup) is { } derived && derived.Heads.All(_heads.Contains))
        {
            heads = derived;
        }
        var adapters = BaseModel.UseAdapterSetup(setup);
        var previous = _scopedHeads.Value;
        var scoped = new ScopedHeads(heads);
        _scopedHeads.Value = scoped;
        return new HeadScope(this, adapters, scoped, previous);
    }

    /// <summary>
    /// The heads a forward pass runs now: a <see cref="UseAdapterSetup"/> scope's heads, else <see cref="ActiveHead"/>,
    /// else <see cref="ActiveHeadSetup"/>, else the last adapter of the effective setup that has a head; null if none.
    /// </summary>
    public HeadSetup? CurrentHeadSetup()
    {
        if (_scopedHeads.Value is { Heads: { } scoped }) return scoped;
        if (ActiveHead is not null) return new HeadSetup([ActiveHead]);
        if (ActiveHeadSetup is not null) return ActiveHeadSetup;
        return BaseModel.Setup.Names.LastOrDefault(_heads.Contains) is { } byName ? new HeadSetup([byName]) : null;
    }

    /// <summary>
    /// Runs the encoder once and every head of the head setup on its rows, as Python's <c>forward_head</c>: a
    /// BatchSplit gives head i its batch rows; with a Parallel setup head i gets the i-th copy of the batch; several
    /// heads otherwise all see the whole output. Returns one logits tensor per head, in head order.
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch does not fit the batch sizes, or the heads do not match the parallel channels.</exception>
    public IReadOnlyList<Tensor> ForwardHeads(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        RunHeads(inputIds, attentionMask, tokenTypeIds, null).Logits;

    /// <summary>
    /// <see cref="ForwardHeads"/> with labels, as Python's <c>MultiHeadOutput</c>: each head's loss on its labels (a
    /// BatchSplit head gets its rows of <paramref name="labels"/>; every Parallel head gets all of them, since each
    /// copy of the batch has the original rows) and, for BatchSplit and Parallel setups, their sum as
    /// <see cref="MultiHeadOutput.Loss"/>. Several heads on the same rows report no combined loss, as in Python; a
    /// single head's loss is its own.
    /// </summary>
    /// <exception cref="InvalidOperationException">The batch does not fit the batch sizes, or the heads do not match the parallel channels.</exception>
    public MultiHeadOutput ForwardHeadsWithLabels(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return RunHeads(inputIds, attentionMask, tokenTypeIds, labels);
    }

    private MultiHeadOutput RunHeads(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds, Tensor? labels)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        var setup = CurrentHeadSetup() ?? throw new InvalidOperationException("No head active and no head is named like an active adapter.");
        var output = _backbone.EncodeForHeads(inputIds, attentionMask, tokenTypeIds);
        var rows = output.LastHiddenState.shape[0];
        var logits = new List<Tensor>();
        var losses = new List<Tensor?>();
        void Run(string head, EncoderOutput part, Tensor? headLabels)
        {
            var module = GetHead(head);
            var result = module.Forward(part, BaseModel);
            logits.Add(result);
            losses.Add(headLabels is null ? null : module.Loss(result, headLabels));
        }

        var combine = false;
        var channels = BaseModel.Setup.Effective?.ParallelChannels ?? 1;
        if (setup.BatchSizes is { } sizes)
        {
            if (sizes.Sum() != rows)
                throw new InvalidOperationException($"The head batch sizes [{string.Join(", ", sizes)}] do not match the batch of {rows} rows.");
            long start = 0;
            for (var i = 0; i < setup.Heads.Count; i++)
            {
                Run(setup.Heads[i], Rows(output, start, start + sizes[i]), labels?.slice(0, start, start + sizes[i], 1));
                start += sizes[i];
            }
            combine = true;
        }
        else if (channels > 1)
        {
            if (setup.Heads.Count != channels)
                throw new InvalidOperationException($"The {channels} parallel adapters need {channels} active heads, but {setup.Heads.Count} are active.");
            var original = rows / channels;
            for (var i = 0; i < channels; i++)
                Run(setup.Heads[i], Rows(output, i * original, (i + 1) * original), labels);
            combine = true;
        }
        else
        {
            foreach (var head in setup.Heads) Run(head, output, labels);
            combine = setup.Heads.Count == 1;
        }
        Tensor? loss = null;
        if (labels is not null && combine)
            loss = losses.Count == 1 ? losses[0] : stack(losses.Select(l => l!).ToArray()).sum();
        return new MultiHeadOutput(setup.Heads, logits, losses, loss);
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

    // A per-pass input, not a result: Python scopes the head setup the same way (AdapterSetup(setup, head_setup) sets the
    // context's head setup for the passes inside it), so it flows with the async context like the adapter setup.
    private readonly AsyncLocal<ScopedHeads?> _scopedHeads = new();

    private sealed record ScopedHeads(HeadSetup? Heads);

    private sealed class HeadScope(FlexHeadModel owner, IDisposable adapters, ScopedHeads scoped, ScopedHeads? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (ReferenceEquals(owner._scopedHeads.Value, scoped)) owner._scopedHeads.Value = previous;
            adapters.Dispose();
        }
    }

    private static EncoderOutput Rows(EncoderOutput output, long start, long end) =>
        new(output.LastHiddenState.slice(0, start, end, 1), output.PoolerOutput?.slice(0, start, end, 1), output.ClsOutput?.slice(0, start, end, 1));
}
