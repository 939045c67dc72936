using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Bert;

/// <summary>
/// Word + position + token-type embeddings, LayerNorm and dropout (<c>embeddings.*</c>). RoBERTa-layout models count
/// positions from <c>padding_idx + 1</c> over non-padding tokens, as transformers' <c>create_position_ids_from_input_ids</c>.
/// </summary>
internal sealed class BertEmbeddings : nn.Module
{
    private readonly Embedding _word;
    private readonly Embedding _position;
    private readonly Embedding? _tokenType;
    private readonly LayerNorm _norm;
    private readonly double _dropout;
    private readonly bool _robertaPositions;
    private readonly long _paddingIdx;

    public BertEmbeddings(EncoderConfig config, bool robertaPositions, Device? device, ScalarType? dtype) : base(nameof(BertEmbeddings))
    {
        _robertaPositions = robertaPositions;
        _paddingIdx = config.PadTokenId;
        _word = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId, device: device, dtype: dtype);
        _position = robertaPositions
            ? nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId, device: device, dtype: dtype)
            : nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype);
        if (config.TypeVocabSize > 0) _tokenType = nn.Embedding(config.TypeVocabSize, config.HiddenSize, device: device, dtype: dtype);
        _norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device, dtype: dtype);
        _dropout = config.HiddenDropoutProb;
        register_module("word_embeddings", _word);
        register_module("position_embeddings", _position);
        if (_tokenType is not null) register_module("token_type_embeddings", _tokenType);
        register_module("LayerNorm", _norm);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>transformers zeroes the padding row of every embedding that has a padding index.</summary>
    public void ZeroPaddingRows()
    {
        using var _ = no_grad();
        _word.weight![_paddingIdx].zero_();
        if (_robertaPositions) _position.weight![_paddingIdx].zero_();
    }

    public Parameter WordEmbeddings => _word.weight!;

    public IEnumerable<Embedding> Embeddings => new[] { _word, _position, _tokenType }.OfType<Embedding>();

    /// <summary>
    /// Embeds <paramref name="inputIds"/>. With a PEFT prompt (<paramref name="peft"/>) the prompt joins the word
    /// embeddings in front and positions count it (transformers' <c>inputs_embeds</c> path); with a PEFT prefix the
    /// positions start after it (transformers' <c>past_key_values_length</c>).
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? tokenTypeIds, Peft.PromptLearning.PeftVirtualTokens? peft = null)
    {
        var words = _word.call(inputIds);
        if (peft?.Prompt is not null) words = peft.Prepend(words);
        var seqLength = words.shape[1];
        var offset = peft?.PositionOffset ?? 0;
        Tensor positions;
        if (_robertaPositions && peft?.Prompt is not null)
        {
            // create_position_ids_from_inputs_embeds: sequential after the padding index, padding unknown.
            positions = arange(_paddingIdx + 1, _paddingIdx + 1 + seqLength, ScalarType.Int64, inputIds.device).unsqueeze(0);
        }
        else if (_robertaPositions)
        {
            var mask = inputIds.ne(_paddingIdx).to(ScalarType.Int64);
            positions = (cumsum(mask, 1) + offset) * mask + _paddingIdx;
        }
        else
        {
            positions = arange(offset, offset + seqLength, ScalarType.Int64, inputIds.device).unsqueeze(0);
        }
        var embeddings = words + _position.call(positions);
        if (_tokenType is not null)
        {
            var types = tokenTypeIds ?? zeros([words.shape[0], seqLength], ScalarType.Int64, inputIds.device);
            embeddings = embeddings + _tokenType.call(types);
        }
        embeddings = _norm.call(embeddings);
        return nn.functional.dropout(embeddings, _dropout, training);
    }
}
