using Adapters.Core.Models.Bert;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.SequenceClassification;

/// <summary>
/// transformers' <c>BertForSequenceClassification</c>: <see cref="BertModel"/> under <c>bert</c>, <c>dropout</c>
/// (<c>classifier_dropout</c>, else <c>hidden_dropout_prob</c>) and <c>classifier</c> (hidden → labels, with bias)
/// on the pooled output.
/// </summary>
public sealed class BertForSequenceClassification : SequenceClassificationModel
{
    private readonly BertModel _bert;
    private readonly Dropout _dropout;
    private readonly Linear _classifier;

    /// <summary>Wraps <paramref name="bert"/> (which must have its pooler) with a new head initialised as transformers does (normal(0, initializer_range), zero bias).</summary>
    /// <exception cref="ArgumentException">The model has no pooler.</exception>
    public BertForSequenceClassification(BertModel bert, int numLabels, double? classifierDropout = null) : base(nameof(BertForSequenceClassification))
    {
        _bert = bert ?? throw new ArgumentNullException(nameof(bert));
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        if (!bert.named_modules().Any(m => m.name == "pooler.dense"))
            throw new ArgumentException("BertForSequenceClassification reads the pooled output; build the BertModel with its pooler.", nameof(bert));
        var weight = bert.named_parameters().First().parameter;
        _dropout = nn.Dropout(classifierDropout ?? bert.Config.HiddenDropoutProb);
        _classifier = nn.Linear(bert.Config.HiddenSize, numLabels, true, weight.device, weight.dtype);
        using (no_grad())
        {
            nn.init.normal_(_classifier.weight, 0.0, bert.Config.InitializerRange);
            nn.init.zeros_(_classifier.bias!);
        }
        register_module("bert", _bert);
        register_module("dropout", _dropout);
        register_module("classifier", _classifier);
        train(bert.training);
    }

    /// <inheritdoc />
    public override AdapterModel Backbone => _bert;

    /// <inheritdoc />
    public override string HeadName => "classifier";

    /// <inheritdoc />
    public override Linear Head => _classifier;

    /// <inheritdoc />
    public override Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var pooled = _bert.Forward(inputIds, attentionMask, tokenTypeIds).PoolerOutput!;
        return _classifier.call(_dropout.call(pooled));
    }
}
