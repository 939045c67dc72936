using Adapters.Core.Conversion;
using System.Globalization;
using Adapters.Core.Generation;
using Adapters.Core.Heads;
using Adapters.Core.Methods;
using Adapters.Core.Peft;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// The Llama / Mistral / Qwen2 decoder stack (transformers' <c>LlamaModel</c>, base prefix <c>model</c>) with HF
/// state-dict names (<c>embed_tokens.weight</c>, <c>layers.0.self_attn.q_proj.weight</c>, <c>norm.weight</c>) and
/// Python adapters' attachment points: LoRA/IA³ on q/k/v and the MLP, bottleneck adapters after attention and MLP.
/// </summary>
/// <remarks>
/// Gradient checkpointing is not offered: TorchSharp 0.107 has no <c>torch.utils.checkpoint</c> and no autograd
/// function hooks to recompute a layer during backward, so activations are always kept.
/// </remarks>
public sealed class LlamaModel : AdapterModel, IHeadBackbone, IDecoderStack
{
    private readonly Embedding _embeddings;
    private readonly LlamaDecoderLayer[] _layers;
    private readonly RmsNorm _norm;
    private readonly RotaryEmbedding _rotary;

    /// <summary>Builds a randomly initialised model as transformers' <c>_init_weights</c> does (normal(0, initializer_range), zero biases).</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="device">Where to allocate (e.g. meta to count parameters without memory).</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    public LlamaModel(LlamaConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(LlamaModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        register_module("embed_tokens", _embeddings);
        var layers = new AdapterModuleDict();
        _layers = new LlamaDecoderLayer[config.NumHiddenLayers];
        for (var i = 0; i < _layers.Length; i++)
        {
            _layers[i] = new LlamaDecoderLayer(config, i, Setup, device, dtype);
            layers.Add(i.ToString(CultureInfo.InvariantCulture), _layers[i]);
        }
        register_module("layers", layers);
        _norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device, dtype);
        register_module("norm", _norm);
        _rotary = new RotaryEmbedding(config, device);
        RegisterAdapterContainers();
        InitWeights();
        DeviceRecord.Align(this, device);
    }

    /// <summary>The architecture.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The token embedding matrix (vocab, hidden); a tied LM head reuses it.</summary>
    public Parameter EmbedTokens => _embeddings.weight!;

    /// <summary>
    /// Learned keys and values put in front of every layer's attention: the extension point for prefix tuning
    /// (see <see cref="IAttentionPrefix"/>). Null for none.
    /// </summary>
    public IAttentionPrefix? AttentionPrefix { get; set; }

    /// <inheritdoc />
    public override string ModelClassName => Config.AdapterModelClass;

    /// <inheritdoc />
    public override string? ModelName => Config.NameOrPath;

    /// <summary>
    /// Prompt tuning runs on the token embeddings (Python's Llama has <c>support_prompt_tuning=False</c>; this follows
    /// PEFT's prompt tuning, which prepends to <c>inputs_embeds</c>), once per generation, before the cache fills.
    /// </summary>
    protected override bool SupportsPromptTuning => true;

    /// <inheritdoc />
    protected internal override bool SupportsPeftPromptLearning => true;

    /// <inheritdoc />
    protected override Tensor? PromptWordEmbeddings => _embeddings.weight;

    /// <inheritdoc />
    protected override AdapterModelInterface CreateInterface() =>
        new(Config.ModelType, "model", Config.HiddenSize, _layers.Select(l => l.Describe()).ToArray());

    /// <summary>
    /// <c>layers.N.self_attn.q_proj/k_proj/v_proj</c> and <c>layers.N.mlp.up_proj/down_proj</c>: the projections Python
    /// adapters can hold. <c>o_proj</c> and <c>gate_proj</c> are not listed, so PEFT adapters that target them fail
    /// naming the module.
    /// </summary>
    public override IReadOnlyList<PeftModuleTarget> GetPeftModuleTargets() =>
        _layers.SelectMany(l => new[]
        {
            new PeftModuleTarget($"layers.{l.Index}.self_attn.q_proj", l.Attention.Query),
            new PeftModuleTarget($"layers.{l.Index}.self_attn.k_proj", l.Attention.Key),
            new PeftModuleTarget($"layers.{l.Index}.self_attn.v_proj", l.Attention.Value),
            new PeftModuleTarget($"layers.{l.Index}.mlp.up_proj", l.Up),
            new PeftModuleTarget($"layers.{l.Index}.mlp.down_proj", l.Down),
        }).ToArray();

    /// <summary>PEFT is applied to <c>LlamaForCausalLM</c>, whose paths start with <c>model.</c>.</summary>
    public override bool PeftPathsIncludeBasePrefix => true;

    /// <inheritdoc />
    public int LayerCount => Config.NumHiddenLayers;

    /// <inheritdoc />
    public IReadOnlyList<long> EosTokenIds => Config.EosTokenIds;

    /// <inheritdoc />
    public long? PadTokenId => Config.PadTokenId;

    /// <summary>
    /// Runs the decoder and returns the final-norm hidden states (batch, sequence, hidden). See
    /// <see cref="ICausalLM.Forward"/> for the arguments; <paramref name="inputsEmbeds"/> is where prompt tuning
    /// would put its learned embeddings in front of the token embeddings.
    /// </summary>
    public Tensor Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? inputsEmbeds = null) =>
        Decode(inputIds, cache, attentionMask, positionIds, inputsEmbeds).HiddenStates;

    /// <inheritdoc />
    public DecoderStackOutput Decode(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? inputsEmbeds = null)
    {
        using var scope = NewDisposeScope();
        using var adapterForward = BeginAdapterForward(attentionMask);
        var hidden = inputsEmbeds ?? _embeddings.call(inputIds ?? throw new ArgumentException("Give inputIds or inputsEmbeds."));
        var peft = ActivePeftVirtualTokens(hidden.shape[0], hidden.dtype);
        var prefix = AttentionPrefix ?? peft?.Prefix;
        (hidden, attentionMask, positionIds) = ApplyDecoderPromptTuning(hidden, cache, attentionMask, positionIds);
        (hidden, attentionMask, positionIds) = ApplyPeftVirtualTokens(peft, hidden, cache, attentionMask, positionIds);
        (hidden, attentionMask, positionIds) = ReplicateForParallel(hidden, attentionMask, positionIds);
        hidden = ApplyInvertibleAdapter(hidden);
        var batch = hidden.shape[0];
        var length = hidden.shape[1];
        var past = cache?.Length ?? 0;
        positionIds ??= arange(past, past + length, ScalarType.Int64, hidden.device).unsqueeze(0).expand(batch, length);
        var (cos, sin) = _rotary.Compute(positionIds, hidden.dtype);
        var prefixLength = prefix?.Length ?? 0;
        // One mask per distinct window, built here so that it lives as long as this forward's scope.
        var masks = new Dictionary<int, Tensor?>();
        for (var i = 0; i < _layers.Length; i++)
        {
            var window = Config.SlidingWindowFor(i) ?? -1;
            if (!masks.ContainsKey(window))
                masks[window] = AttentionMasks.Causal(length, past, attentionMask, window < 0 ? null : window, prefixLength, hidden.dtype, hidden.device);
        }
        Tensor? MaskFor(int layer) => masks[Config.SlidingWindowFor(layer) ?? -1];
        var step = new DecoderStep(cache, prefix, MaskFor, cos, sin) { AdaptionPrompt = ActiveAdaptionPrompt() };
        foreach (var layer in _layers) hidden = layer.Forward(hidden, step);
        return new DecoderStackOutput(_norm.call(hidden).MoveToOuterDisposeScope(), adapterForward.Outputs);
    }

    /// <summary>Disposes the rotary tables too.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) _rotary.Dispose();
        base.Dispose(disposing);
    }

    private void InitWeights()
    {
        using var _ = no_grad();
        var std = Config.InitializerRange;
        void Init(Tensor weight, Tensor? bias)
        {
            nn.init.normal_(weight, 0.0, std);
            if (bias is not null) nn.init.zeros_(bias);
        }
        foreach (var layer in _layers)
        {
            var attention = layer.Attention;
            Init(attention.Query.weight, attention.Query.bias);
            Init(attention.Key.weight, attention.Key.bias);
            Init(attention.Value.weight, attention.Value.bias);
            Init(attention.Output.weight, attention.Output.bias);
            Init(layer.Gate.weight, layer.Gate.bias);
            Init(layer.Up.weight, layer.Up.bias);
            Init(layer.Down.weight, layer.Down.bias);
        }
        nn.init.normal_(_embeddings.weight!, 0.0, std);
        if (Config.PadTokenId is { } pad && pad >= 0 && pad < Config.VocabSize) _embeddings.weight![pad].zero_();
    }

    /// <summary>
    /// LlamaAdapterModel's heads (also Mistral's and Qwen2's): no dropout (the config has no hidden dropout), LM
    /// decoders tied to <c>embed_tokens</c> only when <c>tie_word_embeddings</c>, and an LM head's layer norm at
    /// Python's fallback epsilon 1e-12 (the config has no <c>layer_norm_eps</c>).
    /// </summary>
    HeadBackboneFacts IHeadBackbone.HeadFacts => new(Config.HiddenSize, Config.VocabSize, Config.InitializerRange,
        LayerNormEps: 1e-12, HiddenDropoutProb: 0.0, Config.TieWordEmbeddings, HeadBackboneFacts.DecoderHeadTypes);

    /// <inheritdoc />
    Parameter IHeadBackbone.WordEmbeddings => _embeddings.weight!;

    /// <summary>Runs <see cref="Forward"/>; classification reads the last non-padding token, as LlamaAdapterModel does.</summary>
    EncoderOutput IHeadBackbone.EncodeForHeads(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        var (hidden, adapterOutputs) = Decode(inputIds, attentionMask: attentionMask);
        return new EncoderOutput(hidden, null, LastTokenPooling.Select(hidden, inputIds, Config.PadTokenId)) { AdapterOutputs = adapterOutputs };
    }
}
