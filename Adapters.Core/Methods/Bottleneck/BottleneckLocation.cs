namespace Adapters.Core.Methods.Bottleneck;

/// <summary>Where in a transformer layer a bottleneck adapter sits (Python's location keys).</summary>
public enum BottleneckLocation
{
    /// <summary><c>mh_adapter</c>: after the multi-head attention block.</summary>
    Attention,

    /// <summary><c>output_adapter</c>: after the feed-forward block.</summary>
    Output,
}
