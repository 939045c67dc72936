using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.SequenceClassification;

/// <summary>
/// A transformers <c>*ForSequenceClassification</c> model: a backbone under its Hugging Face name (<c>bert</c>,
/// <c>transformer</c>, <c>model</c>) and a linear head (<c>classifier</c> or <c>score</c>) on top, so that
/// <c>named_modules()</c> and <c>state_dict()</c> show the paths PEFT sees on the Python model
/// (<c>bert.encoder.layer.0.attention.self.query</c>, <c>classifier</c>). The head is called through <c>call</c>, so
/// PEFT's <c>modules_to_save</c> copy of it replaces its output.
/// </summary>
public abstract class SequenceClassificationModel : nn.Module
{
    /// <summary>Registers nothing itself: subclasses register their children under Python's names.</summary>
    private protected SequenceClassificationModel(string name) : base(name) { }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The backbone, which carries <c>adapters</c> adapters as well.</summary>
    public abstract AdapterModel Backbone { get; }

    /// <summary>The head's module name: <c>classifier</c> (BERT) or <c>score</c> (decoders).</summary>
    public abstract string HeadName { get; }

    /// <summary>The head.</summary>
    public abstract Linear Head { get; }

    /// <summary>The number of labels (the head's output size).</summary>
    public long NumLabels => Head.weight.shape[0];

    /// <summary>The config's <c>model_type</c>.</summary>
    public string ModelType => Backbone.Interface.ModelType;

    /// <summary>Computes the logits (batch, labels) as transformers does; the mask is 1 for tokens to attend to.</summary>
    public abstract Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);
}
