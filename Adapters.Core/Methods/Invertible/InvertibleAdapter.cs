using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Invertible;

/// <summary>
/// An invertible adapter on the embedding output (<c>invertible_adapters.&lt;name&gt;</c>): the forward direction runs
/// after the embeddings, the inverse before an LM head's vocabulary projection.
/// </summary>
public abstract class InvertibleAdapter : nn.Module
{
    /// <summary>Names the module.</summary>
    protected InvertibleAdapter(string name) : base(name) { }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The forward direction, applied after the embeddings.</summary>
    public abstract Tensor Forward(Tensor x);

    /// <summary>The inverse direction, applied before an LM head's vocabulary projection.</summary>
    public abstract Tensor Inverse(Tensor y);
}
