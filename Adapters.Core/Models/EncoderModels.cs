using Adapters.Core.Configuration;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.DistilBert;
using static TorchSharp.torch;

namespace Adapters.Core.Models;

/// <summary>Builds the encoder class that matches a config's <c>model_type</c>.</summary>
public static class EncoderModels
{
    /// <summary>A randomly initialised BERT, RoBERTa, XLM-R or DistilBERT for <paramref name="config"/>.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="device">The device of the parameters; the CPU when null.</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    /// <exception cref="AdapterConfigException">The model type is not one of those.</exception>
    public static AdapterModel Create(EncoderConfig config, Device? device = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.ModelType switch
        {
            "bert" => new BertModel(config, device: device, dtype: dtype),
            "roberta" or "xlm-roberta" => new RobertaModel(config, device: device, dtype: dtype),
            "distilbert" => new DistilBertModel(config, device, dtype),
            var other => throw new AdapterConfigException($"model_type \"{other}\" is not supported; expected bert, roberta, xlm-roberta or distilbert."),
        };
    }
}
