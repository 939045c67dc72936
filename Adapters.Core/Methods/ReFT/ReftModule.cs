using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.ReFT;

/// <summary>
/// The ReFT intervention of one adapter at one layer (Python's <c>ReftModule</c>): <c>units.0</c> rewrites the first
/// <c>prefix_positions</c> real tokens and <c>units.1</c> the last <c>suffix_positions</c> (one unit for both when weights
/// are tied). Python always creates the second unit unless tied, even with no suffix positions, and so does this port.
/// Positions start at the first attended token of each row (left padding) and end after the last, read from the
/// forward's attention mask; without a mask they are <c>0..p-1</c> and <c>S-s..S-1</c>.
/// </summary>
public sealed class ReftModule : nn.Module
{
    private readonly ReftUnit[] _units;

    /// <summary>Creates the module for width <paramref name="hiddenSize"/>.</summary>
    public ReftModule(ReftConfig config, int hiddenSize, Device? device, ScalarType? dtype) : base(nameof(ReftModule))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        var count = config.TiedWeights ? 1 : 2;
        _units = Enumerable.Range(0, count)
            .Select(_ => new ReftUnit(hiddenSize, config.R, config.Orthogonality, config.SubtractProjection, config.NonLinearity, config.Dropout, device, dtype))
            .ToArray();
        register_module("units", AdapterModuleDict.Of(_units.Select((u, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), (nn.Module)u)).ToArray()));
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config.</summary>
    public ReftConfig Config { get; }

    /// <summary>The units (one when tied, else two).</summary>
    public IReadOnlyList<ReftUnit> Units => _units;

    /// <summary>
    /// Rewrites the selected positions of a layer output (B, S, H). On a cached decoder step, <paramref name="past"/>
    /// tokens precede <paramref name="hidden"/>: positions count from the start of the whole sequence (the forward
    /// context's mask covers it), and only those that fall in this step are rewritten, so that a cached generation
    /// intervenes where a full recompute would for prefix positions.
    /// </summary>
    public Tensor Forward(Tensor hidden, long past = 0)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        var batch = hidden.shape[0];
        var length = hidden.shape[1];
        var width = hidden.shape[2];
        var prefixCount = Config.PrefixPositions;
        var suffixCount = Config.SuffixPositions;
        if (prefixCount == 0 && suffixCount == 0) return hidden;

        Tensor first;
        Tensor end;
        if (AdapterForwardContext.Current?.AttentionMask is { } mask && mask.shape[0] == batch)
        {
            var attended = mask.to(ScalarType.Int64, hidden.device);
            first = attended.argmax(1);
            end = first + attended.sum(new long[] { 1 });
        }
        else
        {
            first = zeros([batch], ScalarType.Int64, hidden.device);
            end = full([batch], past + length, ScalarType.Int64, hidden.device);
        }
        if (past > 0) return ForwardInWindow(hidden, past, first, end);
        Tensor Indices(Tensor start, long from, int count) =>
            (start.view(-1, 1, 1) + arange(from, from + count, ScalarType.Int64, hidden.device).view(1, -1, 1)).expand(batch, count, width);
        var prefixIndex = prefixCount > 0 ? Indices(first, 0, prefixCount) : null;
        var suffixIndex = suffixCount > 0 ? Indices(end, -suffixCount, suffixCount) : null;
        CheckRange(prefixIndex, length);
        CheckRange(suffixIndex, length);

        var prefix = prefixIndex is not null ? hidden.gather(1, prefixIndex) : hidden.narrow(1, 0, 0);
        var suffix = suffixIndex is not null ? hidden.gather(1, suffixIndex) : hidden.narrow(1, 0, 0);
        Tensor adapted;
        if (Config.TiedWeights)
        {
            adapted = _units[0].Forward(cat([prefix, suffix], 1));
        }
        else
        {
            adapted = cat([_units[0].Forward(prefix), _units[1].Forward(suffix)], 1);
        }
        if (prefixIndex is not null) hidden = hidden.scatter(1, prefixIndex, adapted.narrow(1, 0, prefixCount));
        if (suffixIndex is not null) hidden = hidden.scatter(1, suffixIndex, adapted.narrow(1, adapted.shape[1] - suffixCount, suffixCount));
        return hidden;
    }

    /// <summary>
    /// A cached step holds positions <c>past … past+S−1</c>; each selected one among them is rewritten by its unit
    /// (the suffix unit wins where both select a position, as the scatter order does on a full pass).
    /// </summary>
    private Tensor ForwardInWindow(Tensor hidden, long past, Tensor first, Tensor end)
    {
        var positions = arange(past, past + hidden.shape[1], ScalarType.Int64, hidden.device).view(1, -1);
        Tensor Between(Tensor from, Tensor to) => positions.ge(from.view(-1, 1)).logical_and(positions.lt(to.view(-1, 1))).unsqueeze(-1);
        var prefix = Between(first, first + Config.PrefixPositions);
        var suffix = Between(end - Config.SuffixPositions, end);
        if (!prefix.logical_or(suffix).any().item<bool>()) return hidden;
        if (Config.TiedWeights) return where(prefix.logical_or(suffix), _units[0].Forward(hidden), hidden);
        return where(suffix, _units[1].Forward(hidden), where(prefix, _units[0].Forward(hidden), hidden));
    }

    private static void CheckRange(Tensor? index, long length)
    {
        if (index is null) return;
        if (index.min().item<long>() < 0 || index.max().item<long>() >= length)
            throw new ArgumentException($"ReFT positions fall outside a sequence of {length} tokens; use sequences with at least prefix_positions + suffix_positions real tokens.");
    }
}
