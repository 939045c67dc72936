using Adapters.Core.Generation;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>
/// A model built by <see cref="ModelFactory"/>: the module that owns every weight, the adapter-carrying model inside it
/// and, for decoders, the causal language model.
/// </summary>
public sealed class PretrainedModel : IDisposable
{
    internal PretrainedModel(nn.Module module, AdapterModel adapters, ICausalLM? causalLM, string source)
    {
        Module = module;
        Adapters = adapters;
        CausalLM = causalLM;
        Source = source;
    }

    /// <summary>The module that owns all weights (the encoder itself, or the <c>*ForCausalLM</c> of a decoder); dispose this one.</summary>
    public nn.Module Module { get; }

    /// <summary>
    /// Where adapters are added, loaded and activated: the encoder, or the base model (<c>transformer</c> / <c>model</c>)
    /// of a decoder, as Python's <c>adapters.init</c> sees it.
    /// </summary>
    public AdapterModel Adapters { get; }

    /// <summary>The causal language model for decoders (GPT-2, Llama, Mistral, Qwen2); null for encoders.</summary>
    public ICausalLM? CausalLM { get; }

    /// <summary>The config file or folder the model was built from, for messages.</summary>
    public string Source { get; }

    /// <summary>The config's <c>model_type</c>.</summary>
    public string ModelType => Adapters.Interface.ModelType;

    /// <summary>Whether this is a decoder (it has a <see cref="CausalLM"/>).</summary>
    public bool IsDecoder => CausalLM is not null;

    /// <summary>Disposes the owning module.</summary>
    public void Dispose() => Module.Dispose();
}
