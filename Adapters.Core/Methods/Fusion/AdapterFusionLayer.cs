using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Fusion;

/// <summary>
/// One AdapterFusion attention layer (Python's <c>BertFusion</c>) with Python's state-dict names: <c>query</c> and
/// <c>key</c> (H×H with bias), <c>value</c> (H×H, no bias) and, when all three are off, an unused <c>dense</c> (H→1)
/// that Python also creates. The query attends over the N adapter outputs at every position.
/// </summary>
public sealed class AdapterFusionLayer : nn.Module
{
    private readonly Linear? _query;
    private readonly Linear? _key;
    private readonly Linear? _value;
    private readonly double _dropout;
    private readonly double _temperatureStep;

    /// <summary>Creates the layer for hidden size <paramref name="hiddenSize"/> with Python's initialisation.</summary>
    /// <param name="config">The fusion architecture.</param>
    /// <param name="hiddenSize">The hidden width H.</param>
    /// <param name="dropout">Dropout on the attention scores (the config's, else the model's attention dropout).</param>
    /// <param name="device">Parameter device.</param>
    /// <param name="dtype">Parameter type.</param>
    public AdapterFusionLayer(AdapterFusionConfig config, int hiddenSize, double dropout, Device? device = null, ScalarType? dtype = null)
        : base(nameof(AdapterFusionLayer))
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        _dropout = dropout;
        if (!config.Query && !config.Key && !config.Value)
            register_module("dense", nn.Linear(hiddenSize, 1, true, device, dtype));
        using (no_grad())
        {
            if (config.Query)
            {
                _query = nn.Linear(hiddenSize, hiddenSize, true, device, dtype);
                WeightInit.Bert(_query);
                register_module("query", _query);
            }
            if (config.Key)
            {
                _key = nn.Linear(hiddenSize, hiddenSize, true, device, dtype);
                WeightInit.Bert(_key);
                register_module("key", _key);
            }
            if (config.Value)
            {
                _value = nn.Linear(hiddenSize, hiddenSize, false, device, dtype);
                if (config.ValueInitialized)
                {
                    _value.weight.fill_(1e-6);
                    _value.weight.diagonal().fill_(1.0);
                }
                else
                {
                    nn.init.normal_(_value.weight, 0.0, 0.02);
                }
                register_module("value", _value);
            }
        }
        Temperature = config.Temperature ? 50.0 : 1.0;
        _temperatureStep = Temperature / 1000.0;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The architecture.</summary>
    public AdapterFusionConfig Config { get; }

    /// <summary>
    /// The current softmax temperature: 50 with <c>temperature</c>, else 1; each forward pass lowers it by a
    /// thousandth of its start value, never below 1. Like Python's, it is not saved.
    /// </summary>
    public double Temperature { get; private set; }

    /// <summary>The value matrix, or null for static fusion.</summary>
    public Linear? ValueProjection => _value;

    /// <summary>
    /// Mixes the adapter outputs: <paramref name="query"/> (B, S, H) attends over <paramref name="adapterOutputs"/>
    /// (B, S, N, H), the scaled up-projections of the fused adapters; <paramref name="residual"/> (B, S, H) is added
    /// to the result (or to the values with <c>residual_before</c>). Returns the output and the attention
    /// probabilities (B, S, N).
    /// </summary>
    public (Tensor Output, Tensor Probabilities) Forward(Tensor query, Tensor adapterOutputs, Tensor residual)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(adapterOutputs);
        ArgumentNullException.ThrowIfNull(residual);
        var values = adapterOutputs;
        // Python adds in place to the tensor that is both key and value, so the keys carry the residual too.
        if (Config.ResidualBefore) values = values + residual.unsqueeze(2);
        var keys = values;
        var q = _query is not null ? _query.call(query) : query;
        var k = _key is not null ? _key.call(keys) : keys;
        var v = _value is not null && Config.ValueBeforeSoftmax ? _value.call(values) : values;

        var scores = matmul(q.unsqueeze(2), k.transpose(-2, -1)).squeeze(2);
        scores = nn.functional.dropout(scores, _dropout, training);
        var probabilities = softmax(scores / Temperature, -1);
        Temperature = Math.Max(Temperature - _temperatureStep, 1.0);

        var context = matmul(probabilities.unsqueeze(2), v).squeeze(2);
        if (_value is not null && !Config.ValueBeforeSoftmax) context = _value.call(context);
        if (!Config.ResidualBefore) context = context + residual;
        return (context, probabilities);
    }
}
