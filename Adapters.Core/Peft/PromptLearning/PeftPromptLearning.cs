using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// PEFT's prompt tuning, p-tuning, prefix tuning and Llama-Adapter on our models: creating them as
/// <c>get_peft_model</c> does, loading a PEFT folder's weights as <c>PeftModel.from_pretrained</c> does (the saved
/// <c>prompt_embeddings</c> is the encoder's output, so the loaded adapter is that output alone), and producing the
/// weights PEFT's <c>save_pretrained</c> writes.
/// </summary>
public static class PeftPromptLearning
{
    /// <summary>The one key PEFT saves for prompt tuning, p-tuning and prefix tuning.</summary>
    public const string PromptEmbeddingsKey = "prompt_embeddings";

    private const string AdaptionPromptSuffix = ".self_attn.adaption_prompt";
    private const string AdaptionGateSuffix = ".self_attn.adaption_gate";

    /// <summary>
    /// Adds a new PEFT prompt-learning adapter or Llama-Adapter in training mode, as PEFT's <c>get_peft_model</c>
    /// builds it: config fields left null are filled from the model (layers, hidden size, heads; key/value heads for
    /// prefix tuning), and the full encoder (prefix projection MLP, p-tuning MLP or LSTM) is created with torch's inits.
    /// </summary>
    /// <exception cref="AdapterConfigException">The method does not fit this model (PEFT's reason).</exception>
    public static PeftPromptLearningConfig AddPeftPromptLearningAdapter(this AdapterModel model, string name, PeftPromptLearningConfig config, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        var training = config.ToJson();
        training["inference_mode"] = false;
        var completed = Complete(model, PeftPromptLearningConfig.FromDocument(training, "config"), "config");
        model.AddAdapter(name, completed, setActive);
        return completed;
    }

    /// <summary>
    /// The module PEFT builds for <paramref name="config"/> on <paramref name="model"/>: in inference mode only an
    /// embedding of the saved output's shape (what <c>PeftModel.from_pretrained</c> builds), else the full encoder with
    /// torch's inits; Llama-Adapter's prompts for the last <c>adapter_layers</c> layers either way.
    /// </summary>
    /// <exception cref="AdapterConfigException">The method does not fit this model (PEFT's reason).</exception>
    internal static nn.Module CreateModule(AdapterModel model, PeftPromptLearningConfig config)
    {
        var completed = Complete(model, config, "config");
        var (device, dtype) = model.ParameterDeviceAndType();
        using var _ = no_grad();
        return completed.PeftType switch
        {
            PeftPromptLearningConfig.AdaptionPrompt => new AdaptionPromptAdapter(completed, AdaptedLayers(model, completed), model.Interface.HiddenSize, device, dtype),
            _ when completed.InferenceMode => new PeftPromptEmbedding(completed, SavedShape(completed)[0], SavedShape(completed)[1], device, dtype),
            PeftPromptLearningConfig.PrefixTuning when completed.PrefixProjection => new PeftPrefixEncoder(completed, device, dtype),
            PeftPromptLearningConfig.PrefixTuning => new PeftPromptEmbedding(completed, completed.NumVirtualTokens, PrefixWidth(completed), device, dtype),
            PeftPromptLearningConfig.PTuning => new PeftPTuningEncoder(completed, device, dtype),
            _ => CreatePromptEmbedding(model, completed, device, dtype),
        };
    }

    /// <summary>
    /// Loads PEFT weights of a prompt-learning method or Llama-Adapter as adapter <paramref name="name"/>: a single
    /// <c>prompt_embeddings</c> tensor, or <c>base_model.model.model.layers.N.self_attn.adaption_prompt</c> /
    /// <c>adaption_gate</c> pairs.
    /// </summary>
    /// <exception cref="AdapterLoadException">The weights do not fit the config or the model.</exception>
    /// <exception cref="AdapterConfigException">The method does not fit this model (PEFT's reason).</exception>
    public static AdapterLoadResult LoadPeftPromptLearningStateDict(this AdapterModel model, PeftPromptLearningConfig config,
        IReadOnlyDictionary<string, Tensor> weights, string name, bool setActive = false, string source = PeftFiles.SafetensorsWeights)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        var inference = config.ToJson();
        inference["inference_mode"] = true;
        var completed = Complete(model, PeftPromptLearningConfig.FromDocument(inference, source), source);
        CheckWeights(model, completed, weights, source);
        model.AddAdapter(name, completed);
        try
        {
            using var _ = no_grad();
            if (model.PeftPromptModule(name) is AdaptionPromptAdapter adaption) FillAdaptionPrompt(model, adaption, weights);
            else ((PeftPromptEmbedding)model.PeftPromptModule(name)!).Weight.copy_(weights[PromptEmbeddingsKey]);
        }
        catch
        {
            model.DeleteAdapter(name);
            throw;
        }
        if (setActive) model.SetActiveAdapters(name);
        return new AdapterLoadResult(name, [], []);
    }

    /// <summary>
    /// The config and weights PEFT's <c>save_pretrained</c> writes for adapter <paramref name="name"/>: the config with
    /// <c>inference_mode</c> true, and the encoder's output as <c>prompt_embeddings</c> (prompt learning) or each
    /// adapted layer's <c>adaption_prompt</c> and <c>adaption_gate</c> (Llama-Adapter). Tensors are copies.
    /// </summary>
    /// <exception cref="ArgumentException">The adapter is not a PEFT prompt-learning adapter.</exception>
    public static (PeftPromptLearningConfig Config, Dictionary<string, Tensor> Weights) CreatePeftPromptLearningState(this AdapterModel model, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.GetAdapterConfig(name) is not PeftPromptLearningConfig config || model.PeftPromptModule(name) is not { } module)
            throw new ArgumentException($"Adapter \"{name}\" is not a PEFT prompt-learning adapter or Llama-Adapter.", nameof(name));
        var document = Complete(model, config, name).ToJson();
        document["inference_mode"] = true;
        var saved = PeftPromptLearningConfig.FromDocument(document, name);
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using (no_grad())
        {
            if (module is AdaptionPromptAdapter adaption)
            {
                var prefix = PeftFiles.KeyPrefix + (model.PeftPathsIncludeBasePrefix ? model.Interface.BaseModelPrefix + "." : string.Empty);
                foreach (var index in adaption.LayerIndices)
                {
                    var layer = adaption.ForLayer(index)!;
                    weights[$"{prefix}layers.{index}{AdaptionPromptSuffix}"] = layer.Prompt.detach().clone();
                    weights[$"{prefix}layers.{index}{AdaptionGateSuffix}"] = layer.Gate.detach().clone();
                }
            }
            else
            {
                weights[PromptEmbeddingsKey] = ((PeftPromptEncoder)module).Output().detach().clone();
            }
        }
        return (saved, weights);
    }

    /// <summary>
    /// Replaces the encoder of adapter <paramref name="name"/> by its output, as PEFT does when it saves and reloads
    /// (the projection MLP, p-tuning MLP or LSTM are never saved): outputs stay the same, with fewer parameters.
    /// Trainability follows the encoder's.
    /// </summary>
    public static void BakePeftPromptEncoder(this AdapterModel model, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.PeftPromptModule(name) is not PeftPromptEncoder encoder)
            throw new ArgumentException($"Adapter \"{name}\" has no PEFT prompt encoder to bake.", nameof(name));
        if (encoder is PeftPromptEmbedding) return;
        var trainable = encoder.parameters().All(p => p.requires_grad);
        Tensor output;
        using (no_grad()) output = encoder.Output().detach().clone();
        var baked = new PeftPromptEmbedding(encoder.Config, output.shape[0], output.shape[1], output.device, output.dtype);
        using (no_grad()) baked.Weight.copy_(output);
        baked.Weight.requires_grad = trainable;
        baked.train(encoder.training);
        model.ReplacePeftPromptModule(name, baked);
    }

    /// <summary>
    /// Fills the fields PEFT fills from the model config (<c>_prepare_prompt_learning_config</c>) and checks that the
    /// rest fit this model, refusing what PEFT cannot run with its own reason.
    /// </summary>
    private static PeftPromptLearningConfig Complete(AdapterModel model, PeftPromptLearningConfig config, string source)
    {
        var facts = ModelFacts(model);
        if (config.PeftType == PeftPromptLearningConfig.AdaptionPrompt)
        {
            // AdaptionPromptConfig supports llama and mistral only (TRANSFORMERS_MODEL_CONFIG in v0.14).
            if (model.Interface.ModelType is not ("llama" or "mistral"))
                throw new AdapterConfigException($"{source}: Unsupported model type for adaption prompt: '{model.Interface.ModelType}'.");
            var target = config.Document["target_modules"] is { } t ? ConfigValues.ReadString(t, "target_modules") : null;
            if (target is not (null or "self_attn"))
                throw new AdapterConfigException($"{source}: target_modules \"{target}\" names no attention module of {model.ModelClassName}; Llama-Adapter adapts \"self_attn\".");
            if (config.AdapterLayers > facts.Layers)
                throw new AdapterConfigException($"{source}: Config specifies more adapter layers '{config.AdapterLayers}' than the model has '{facts.Layers}'.");
            var adaptionDoc = config.ToJson();
            adaptionDoc["target_modules"] = "self_attn";
            return PeftPromptLearningConfig.FromDocument(adaptionDoc, source) with { InferenceMode = config.InferenceMode };
        }
        if (!model.SupportsPeftPromptLearning)
            throw new AdapterConfigException($"{source}: {model.ModelClassName} does not run PEFT prompt learning (its forward has no virtual-token input).");
        if (config.NumTransformerSubmodules != 1)
            throw new AdapterConfigException($"{source}: num_transformer_submodules {config.NumTransformerSubmodules} is for encoder-decoder models (SEQ_2_SEQ_LM); {model.ModelClassName} has one transformer.");
        var doc = config.ToJson();
        void Fill(string field, long value)
        {
            if (doc[field] is null) doc[field] = value;
        }
        Fill("num_layers", facts.Layers);
        Fill("token_dim", facts.Hidden);
        Fill("num_attention_heads", facts.Heads);
        if (config.PeftType == PeftPromptLearningConfig.PrefixTuning && model is LlamaModel)
        {
            // Models whose config has num_key_value_heads: the prefix holds key/value heads only (idempotent on reload).
            var heads = ConfigValues.ReadInt(doc["num_attention_heads"], "num_attention_heads");
            var tokenDim = ConfigValues.ReadInt(doc["token_dim"], "token_dim");
            if (heads <= 0) throw new AdapterConfigException($"{source}: num_attention_heads must be positive, found {heads}.");
            doc["token_dim"] = tokenDim / heads * facts.KeyValueHeads;
            doc["num_attention_heads"] = facts.KeyValueHeads;
        }
        if (config.PeftType is PeftPromptLearningConfig.PrefixTuning or PeftPromptLearningConfig.PTuning && doc["encoder_hidden_size"] is null)
            doc["encoder_hidden_size"] = doc["token_dim"]!.DeepClone();
        var completed = PeftPromptLearningConfig.FromDocument(doc, source) with { InferenceMode = config.InferenceMode };
        if (completed.NumLayers != facts.Layers)
            throw new AdapterConfigException($"{source}: num_layers {completed.NumLayers} does not match the {facts.Layers} layers of {model.ModelClassName}.");
        if (completed.IsPrompt && completed.TokenDim != facts.Hidden)
            throw new AdapterConfigException($"{source}: token_dim {completed.TokenDim} does not match the hidden size {facts.Hidden} of {model.ModelClassName}; the prompt cannot join its embeddings.");
        if (completed.PeftType == PeftPromptLearningConfig.PrefixTuning
            && (completed.NumAttentionHeads != facts.KeyValueHeads || completed.TokenDim / Math.Max(1, completed.NumAttentionHeads) != facts.HeadDim || completed.TokenDim % Math.Max(1, completed.NumAttentionHeads) != 0))
            throw new AdapterConfigException($"{source}: a prefix of {completed.NumAttentionHeads} heads over token_dim {completed.TokenDim} does not fit the attention of {model.ModelClassName} ({facts.KeyValueHeads} key/value heads of width {facts.HeadDim}).");
        return completed;
    }

    private static (int Layers, int Hidden, int Heads, int KeyValueHeads, int HeadDim) ModelFacts(AdapterModel model) => model switch
    {
        BertModel bert => (bert.Config.NumHiddenLayers, bert.Config.HiddenSize, bert.Config.NumAttentionHeads, bert.Config.NumAttentionHeads, bert.Config.HiddenSize / bert.Config.NumAttentionHeads),
        Gpt2Model gpt2 => (gpt2.Config.NLayer, gpt2.Config.NEmbd, gpt2.Config.NHead, gpt2.Config.NHead, gpt2.Config.NEmbd / gpt2.Config.NHead),
        LlamaModel llama => (llama.Config.NumHiddenLayers, llama.Config.HiddenSize, llama.Config.NumAttentionHeads, llama.Config.KeyValueHeads, llama.Config.HeadDim),
        _ => (model.Interface.Layers.Count, model.Interface.HiddenSize, 0, 0, 0),
    };

    private static long PrefixWidth(PeftPromptLearningConfig config) => (long)config.NumLayers * 2 * config.TokenDim;

    private static PeftPromptEmbedding CreatePromptEmbedding(AdapterModel model, PeftPromptLearningConfig config, Device? device, ScalarType? dtype)
    {
        var embedding = new PeftPromptEmbedding(config, config.TotalVirtualTokens, config.TokenDim, device, dtype);
        if (config.PromptTuningInit != "TEXT") return embedding;
        // TEXT: the word embeddings of the tokenized text, cycled or cut to T rows, in float32. PEFT loads the tokenizer
        // named by tokenizer_name_or_path; here the model's PromptTokenizer stands for it.
        var text = config.Document["prompt_tuning_init_text"] is { } t ? ConfigValues.ReadString(t, "prompt_tuning_init_text") : null;
        if (string.IsNullOrEmpty(text)) throw new AdapterConfigException("prompt_tuning_init \"TEXT\" needs prompt_tuning_init_text.");
        var tokenizer = model.PromptTokenizer ?? throw new AdapterConfigException($"prompt_tuning_init \"TEXT\" needs the model's tokenizer: set {nameof(AdapterModel.PromptTokenizer)}.");
        var words = model.PeftWordEmbeddings ?? throw new AdapterConfigException($"{model.ModelClassName} has no word embeddings for prompt_tuning_init \"TEXT\".");
        var ids = tokenizer(text);
        if (ids.Count == 0) throw new AdapterConfigException("prompt_tuning_init_text tokenizes to no ids.");
        var rows = Enumerable.Range(0, config.TotalVirtualTokens).Select(i => ids[i % ids.Count]).ToArray();
        using var index = tensor(rows, ScalarType.Int64, words.device);
        embedding.Weight.copy_(words.index_select(0, index).to(ScalarType.Float32));
        return embedding;
    }

    // What PEFT saves: prompt/p-tuning (T, token_dim), prefix (nvt, layers·2·token_dim).
    private static long[] SavedShape(PeftPromptLearningConfig config) => config.PeftType == PeftPromptLearningConfig.PrefixTuning
        ? [config.NumVirtualTokens, PrefixWidth(config)]
        : [config.TotalVirtualTokens, config.TokenDim];

    /// <summary>Checks every key and shape before anything is added, so a bad file leaves the model as it was.</summary>
    private static void CheckWeights(AdapterModel model, PeftPromptLearningConfig config, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        if (config.PeftType == PeftPromptLearningConfig.AdaptionPrompt)
        {
            CheckAdaptionPrompt(model, config, weights, source);
            return;
        }
        foreach (var key in weights.Keys)
        {
            if (key != PromptEmbeddingsKey)
                throw new AdapterLoadException($"{source}: '{key}' is not part of a PEFT {config.PeftType} adapter (it saves only '{PromptEmbeddingsKey}'); modules_to_save heads are not loaded.");
        }
        if (!weights.TryGetValue(PromptEmbeddingsKey, out var saved))
            throw new AdapterLoadException($"{source}: '{PromptEmbeddingsKey}' is missing; a PEFT {config.PeftType} adapter saves its prompt there.");
        var shape = SavedShape(config);
        if (!saved.shape.SequenceEqual(shape))
            throw new AdapterLoadException($"{source}: '{PromptEmbeddingsKey}' has shape [{string.Join(", ", saved.shape)}] but the config needs [{string.Join(", ", shape)}].");
    }

    // PEFT adapts the last adapter_layers attention modules in model order.
    private static int[] AdaptedLayers(AdapterModel model, PeftPromptLearningConfig config)
    {
        var all = model.Interface.Layers.Select(l => l.Index).Distinct().Order().ToArray();
        return all[^config.AdapterLayers..];
    }

    // Llama-Adapter keys: base_model.model.[model.]layers.N.self_attn.adaption_prompt / adaption_gate.
    private static (int Layer, bool IsPrompt)? ParseAdaptionKey(AdapterModel model, string key)
    {
        if (!key.StartsWith(PeftFiles.KeyPrefix, StringComparison.Ordinal)) return null;
        var path = key[PeftFiles.KeyPrefix.Length..];
        if (path.StartsWith(model.Interface.BaseModelPrefix + ".", StringComparison.Ordinal)) path = path[(model.Interface.BaseModelPrefix.Length + 1)..];
        var isPrompt = path.EndsWith(AdaptionPromptSuffix, StringComparison.Ordinal);
        if (!isPrompt && !path.EndsWith(AdaptionGateSuffix, StringComparison.Ordinal)) return null;
        var layerText = path[..path.LastIndexOf(".self_attn.", StringComparison.Ordinal)];
        return layerText.StartsWith("layers.", StringComparison.Ordinal)
            && int.TryParse(layerText["layers.".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index)
            ? (index, isPrompt)
            : null;
    }

    private static void CheckAdaptionPrompt(AdapterModel model, PeftPromptLearningConfig config, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var layers = AdaptedLayers(model, config).ToHashSet();
        var seen = new HashSet<(int, bool)>();
        foreach (var (key, tensor) in weights)
        {
            var parsed = ParseAdaptionKey(model, key)
                ?? throw new AdapterLoadException($"{source}: '{key}' is not a Llama-Adapter tensor (expected {PeftFiles.KeyPrefix}{model.Interface.BaseModelPrefix}.layers.N{AdaptionPromptSuffix} or {AdaptionGateSuffix}).");
            if (!layers.Contains(parsed.Layer))
                throw new AdapterLoadException($"{source}: '{key}' adapts layer {parsed.Layer}, but adapter_layers {config.AdapterLayers} selects layers {string.Join(", ", layers.Order())}.");
            long[] shape = parsed.IsPrompt ? [1, config.AdapterLen, model.Interface.HiddenSize] : [1];
            if (!tensor.shape.SequenceEqual(shape))
                throw new AdapterLoadException($"{source}: '{key}' has shape [{string.Join(", ", tensor.shape)}] but the model needs [{string.Join(", ", shape)}].");
            seen.Add(parsed);
        }
        foreach (var index in layers.Order())
        {
            foreach (var (isPrompt, suffix) in new[] { (true, AdaptionPromptSuffix), (false, AdaptionGateSuffix) })
            {
                if (!seen.Contains((index, isPrompt)))
                    throw new AdapterLoadException($"{source}: '{PeftFiles.KeyPrefix}{model.Interface.BaseModelPrefix}.layers.{index}{suffix}' is missing although adapter_layers selects layer {index}.");
            }
        }
    }

    private static void FillAdaptionPrompt(AdapterModel model, AdaptionPromptAdapter adapter, IReadOnlyDictionary<string, Tensor> weights)
    {
        foreach (var (key, tensor) in weights)
        {
            var (index, isPrompt) = ParseAdaptionKey(model, key)!.Value;
            var layer = adapter.ForLayer(index)!;
            (isPrompt ? layer.Prompt : layer.Gate).copy_(tensor);
        }
    }
}
