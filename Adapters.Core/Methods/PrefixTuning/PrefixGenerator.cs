using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// Produces the key/value prefixes of one adapter for every layer at one location, as Python's <c>PrefixTuning</c> and
/// <c>FlatPrefixTuning</c> do. The flat memory layout is <c>[P][layer][k/v][head][dim]</c>; <see cref="Generate"/>
/// returns it permuted to (layers·2, B, heads, P, dim), so layer <c>i</c> uses rows <c>2i</c> (keys) and <c>2i+1</c> (values).
/// </summary>
public abstract class PrefixGenerator : nn.Module
{
    /// <summary>Stores the geometry shared by both variants.</summary>
    protected PrefixGenerator(string name, PrefixTuningConfig config, int layers, int heads, int headDim) : base(name)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Layers = layers;
        Heads = heads;
        HeadDim = headDim;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The config the prefixes were built from.</summary>
    public PrefixTuningConfig Config { get; }

    /// <summary>Number of attention layers that use this generator (layers in <c>leave_out</c> do not count).</summary>
    public int Layers { get; }

    /// <summary>Attention heads per layer.</summary>
    public int Heads { get; }

    /// <summary>Width of one head.</summary>
    public int HeadDim { get; }

    /// <summary>Number of values in the flat layout: P · layers · 2 · heads · dim.</summary>
    public long FlatSize => (long)Config.PrefixLength * Layers * 2 * Heads * HeadDim;

    /// <summary>The prefixes in the flat layout, one row of <see cref="FlatSize"/> values, without dropout.</summary>
    public abstract Tensor FlatPrefixes();

    /// <summary>The prefixes for a batch of <paramref name="batch"/>: (layers·2, B, heads, P, dim), dropout applied in training.</summary>
    public Tensor Generate(long batch)
    {
        var flat = FlatPrefixes();
        var states = flat.unsqueeze(0).expand(batch, -1).view(batch, Config.PrefixLength, Layers * 2, Heads, HeadDim);
        if (Config.Dropout > 0) states = nn.functional.dropout(states, Config.Dropout, training);
        return states.permute(2, 0, 3, 1, 4);
    }
}
