using Adapters.Core.Configuration;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.DistilBert;

namespace Adapters.Core.Models;

/// <summary>Builds the encoder class that matches a config's <c>model_type</c>.</summary>
public static class EncoderModels
{
    /// <summary>A randomly initialised BERT, RoBERTa, XLM-R or DistilBERT for <paramref name="config"/>.</summary>
    /// <exception cref="AdapterConfigException">The model type is not one of those.</exception>
    public static AdapterModel Create(EncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.ModelType switch
        {
            "bert" => new BertModel(config),
            "roberta" or "xlm-roberta" => new RobertaModel(config),
            "distilbert" => new DistilBertModel(config),
            var other => throw new AdapterConfigException($"model_type \"{other}\" is not supported; expected bert, roberta, xlm-roberta or distilbert."),
        };
    }
}
