using Adapters.Core.Conversion;
using System.Globalization;
using Adapters.Core.Generation;
using Adapters.Core.Heads;
using Adapters.Core.Methods;
using Adapters.Core.Peft;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Gpt2;

/// <summary>
/// transformers' <c>GPT2Model</c> (base prefix <c>transformer</c>) with HF state-dict names (<c>wte</c>, <c>wpe</c>,
/// <c>h.0.attn.c_attn.weight</c> stored (in, out) as <c>Conv1D</c>, <c>ln_f</c>), learned positions, a causal plus
/// padding mask and Python adapters' attachment points. Python's limits for GPT-2 hold: no
/// <c>lora_delta_w_svd</c>; LoRA on <c>c_attn</c> runs one adapter at a time.
/// </summary>
/// <remarks>
/// Gradient checkpointing is not offered: TorchSharp 0.107 has no <c>torch.utils.checkpoint</c> and no autograd
/// function hooks to recompute a block during backward, so activations are always kept.
/// </remarks>
public sealed class Gpt2Model : AdapterModel, IHeadBackbone, IDecoderStack
{
    private readonly Embedding _tokens;
    private readonly Embedding _positions;
    private readonly Gpt2Block[] _blocks;
    private readonly LayerNorm _finalNorm;

    /// <summary>Builds a randomly initialised GPT-2 as transformers' <c>_init_weights</c> does.</summary>
    /// <param name="config">The architecture.</param>
    /// <param name="device">Where to allocate.</param>
    /// <param name="dtype">The parameter dtype; float32 when null.</param>
    public Gpt2Model(Gpt2Config config, Device? device = null, ScalarType? dtype = null) : base(nameof(Gpt2Model))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        _tokens = nn.Embedding(config.VocabSize, config.NEmbd, device: device, dtype: dtype);
        _positions = nn.Embedding(config.NPositions, config.NEmbd, device: device, dtype: dtype);
        register_module("wte", _tokens);
        register_module("wpe", _positions);
        var blocks = new AdapterModuleDict();
        _blocks = new Gpt2Block[config.NLayer];
        for (var i = 0; i < _blocks.Length; i++)
        {
            _blocks[i] = new Gpt2Block(config, i, Setup, device, dtype);
            blocks.Add(i.ToString(CultureInfo.InvariantCulture), _blocks[i]);
        }
        register_module("h", blocks);
        _finalNorm = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon, device: device, dtype: dtype);
        register_module("ln_f", _finalNorm);
        RegisterAdapterContainers();
        using (no_grad())
        {
            nn.init.normal_(_tokens.weight!, 0.0, config.InitializerRange);
            nn.init.normal_(_positions.weight!, 0.0, config.InitializerRange);
        }
        foreach (var block in _blocks) block.InitWeights(config.InitializerRange, config.NLayer);
        DeviceRecord.Align(this, device);
    }

    /// <summary>The architecture.</summary>
    public Gpt2Config Config { get; }

    /// <summary>The token embedding matrix (vocab, hidden), which GPT-2's LM head reuses.</summary>
    public Parameter TokenEmbeddings => _tokens.weight!;

    /// <summary>Learned keys and values put in front of every block's attention: the prefix-tuning extension point.</summary>
    public IAttentionPrefix? AttentionPrefix { get; set; }

    /// <inheritdoc />
    public override string ModelClassName => "GPT2AdapterModel";

    /// <summary>
    /// Prompt tuning runs on the token embeddings (Python's GPT-2 has <c>support_prompt_tuning=False</c>; this follows
    /// PEFT's prompt tuning, which prepends to <c>inputs_embeds</c>), once per generation, before the cache fills.
    /// </summary>
    protected override bool SupportsPromptTuning => true;

    /// <inheritdoc />
    protected internal override bool SupportsPeftPromptLearning => true;

    /// <inheritdoc />
    protected override Tensor? PromptWordEmbeddings => _tokens.weight;

    /// <inheritdoc />
    public override string? ModelName => Config.NameOrPath;

    /// <inheritdoc />
    protected override AdapterModelInterface CreateInterface() =>
        new("gpt2", "transformer", Config.NEmbd, _blocks.Select(b => b.Describe()).ToArray());

    /// <summary>
    /// <c>h.N.mlp.c_fc</c> and <c>h.N.mlp.c_proj</c>, both <c>Conv1D</c> in transformers, so PEFT adapts them with
    /// <c>fan_in_fan_out=True</c>. The fused <c>h.N.attn.c_attn</c> comes from <see cref="GetPeftFusedQkvTargets"/>.
    /// </summary>
    public override IReadOnlyList<PeftModuleTarget> GetPeftModuleTargets() =>
        _blocks.SelectMany(b => new[]
        {
            new PeftModuleTarget($"h.{b.Index}.mlp.c_fc", b.FeedForwardIn, FanInFanOut: true),
            new PeftModuleTarget($"h.{b.Index}.mlp.c_proj", b.FeedForwardOut, FanInFanOut: true),
        }).ToArray();

    /// <summary>Every block's <c>h.N.attn.c_attn</c> (a <c>Conv1D</c>).</summary>
    public override IReadOnlyList<PeftFusedQkvTarget> GetPeftFusedQkvTargets() =>
        _blocks.Select(b => new PeftFusedQkvTarget($"h.{b.Index}.attn.c_attn", b.Attention)).ToArray();

    /// <summary>PEFT is applied to <c>GPT2LMHeadModel</c>, whose paths start with <c>transformer.</c>.</summary>
    public override bool PeftPathsIncludeBasePrefix => true;

    /// <inheritdoc />
    public int LayerCount => Config.NLayer;

    /// <inheritdoc />
    public IReadOnlyList<long> EosTokenIds => [Config.EosTokenId];

    /// <inheritdoc />
    public long? PadTokenId => Config.PadTokenId;

    /// <summary>Runs the blocks and returns the <c>ln_f</c> output (batch, sequence, hidden); arguments as in <see cref="ICausalLM.Forward"/>.</summary>
    public Tensor Forward(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? inputsEmbeds = null) =>
        Decode(inputIds, cache, attentionMask, positionIds, inputsEmbeds).HiddenStates;

    /// <inheritdoc />
    public DecoderStackOutput Decode(Tensor? inputIds, KeyValueCache? cache = null, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? inputsEmbeds = null)
    {
        using var scope = NewDisposeScope();
        using var adapterForward = BeginAdapterForward(attentionMask);
        var embeds = inputsEmbeds ?? _tokens.call(inputIds ?? throw new ArgumentException("Give inputIds or inputsEmbeds."));
        // The prompt joins the token embeddings, so its positions get learned position embeddings like tokens.
        var peft = ActivePeftVirtualTokens(embeds.shape[0], embeds.dtype);
        var prefix = AttentionPrefix ?? peft?.Prefix;
        (embeds, attentionMask, positionIds) = ApplyDecoderPromptTuning(embeds, cache, attentionMask, positionIds);
        (embeds, attentionMask, positionIds) = ApplyPeftVirtualTokens(peft, embeds, cache, attentionMask, positionIds);
        (embeds, attentionMask, positionIds) = ReplicateForParallel(embeds, attentionMask, positionIds);
        var batch = embeds.shape[0];
        var length = embeds.shape[1];
        var past = cache?.Length ?? 0;
        if (past + length > Config.NPositions)
            throw new ArgumentException($"GPT-2 has {Config.NPositions} positions (n_positions); this step reaches position {past + length}.");
        positionIds ??= arange(past, past + length, ScalarType.Int64, embeds.device).unsqueeze(0).expand(batch, length);
        var hidden = embeds + _positions.call(positionIds);
        hidden = nn.functional.dropout(hidden, Config.EmbdPdrop, training);
        // Python applies the invertible adapter on the output of GPT-2's embedding dropout.
        hidden = ApplyInvertibleAdapter(hidden);
        var mask = AttentionMasks.Causal(length, past, attentionMask, null, prefix?.Length ?? 0, hidden.dtype, hidden.device);
        var step = new DecoderStep(cache, prefix, _ => mask);
        foreach (var block in _blocks) hidden = block.Forward(hidden, step);
        return new DecoderStackOutput(_finalNorm.call(hidden).MoveToOuterDisposeScope(), adapterForward.Outputs);
    }

    /// <summary>
    /// GPT2AdapterModel's heads: dropout <c>resid_pdrop</c> (adapters maps <c>hidden_dropout_prob</c> onto it), LM
    /// decoders tied to <c>wte</c>, and an LM head's layer norm at Python's fallback epsilon 1e-12 (GPT-2's config has
    /// <c>layer_norm_epsilon</c>, not the <c>layer_norm_eps</c> the head reads; Python's logits match only with 1e-12).
    /// </summary>
    HeadBackboneFacts IHeadBackbone.HeadFacts => new(Config.NEmbd, Config.VocabSize, Config.InitializerRange,
        LayerNormEps: 1e-12, Config.ResidPdrop, TieWordEmbeddings: true, HeadBackboneFacts.DecoderHeadTypes);

    /// <inheritdoc />
    Parameter IHeadBackbone.WordEmbeddings => _tokens.weight!;

    /// <summary>Runs <see cref="Forward"/>; classification reads the last non-padding token, as GPT2AdapterModel does.</summary>
    EncoderOutput IHeadBackbone.EncodeForHeads(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds)
    {
        var (hidden, adapterOutputs) = Decode(inputIds, attentionMask: attentionMask);
        return new EncoderOutput(hidden, null, LastTokenPooling.Select(hidden, inputIds, Config.PadTokenId)) { AdapterOutputs = adapterOutputs };
    }
}
