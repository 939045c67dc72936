namespace Adapters.Core.Methods.Bottleneck;

/// <summary>Which projection of a Compacter adapter a <see cref="PhmLayer"/> is; it names the shared W it reads (<c>W_down*</c>, <c>W_up*</c>).</summary>
public enum PhmPosition
{
    /// <summary>The down-projection (hidden → bottleneck).</summary>
    Down,

    /// <summary>The up-projection (bottleneck → hidden).</summary>
    Up,
}
