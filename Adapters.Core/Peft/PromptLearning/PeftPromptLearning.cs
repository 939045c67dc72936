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
        var completed = Complete(model, config with { InferenceMode = false }, "config");
        var (device, dtype) = model.ParameterDeviceAndType();
        nn.Module module;
        using (no_grad())
        {
            module = completed.PeftType switch
            {
                PeftPromptLearningConfig.AdaptionPrompt => CreateAdaptionPrompt(model, completed, device, dtype, "config"),
                PeftPromptLearningConfig.PrefixTuning when completed.PrefixProjection => new PeftPrefixEncoder(completed, device, dtype),
                PeftPromptLearningConfig.PrefixTuning => new PeftPromptEmbedding(completed, completed.NumVirtualTokens, PrefixWidth(completed), device, dtype),
                PeftPromptLearningConfig.PTuning => new PeftPTuningEncoder(completed, device, dtype),
                _ => CreatePromptEmbedding(model, completed, device, dtype),
            };
        }
        model.AddPeftPromptLearning(name, completed, module);
        if (setActive) model.SetActiveAdapters(name);
        return completed;
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
        var completed = Complete(model, config, source);
        var (device, dtype) = model.ParameterDeviceAndType();
        nn.Module module;
        using (no_grad())
        {
            module = completed.PeftType == PeftPromptLearningConfig.AdaptionPrompt
                ? LoadAdaptionPrompt(model, completed, weights, device, dtype, source)
                : LoadPromptEmbeddings(completed, weights, device, dtype, source);
        }
        model.AddPeftPromptLearning(name, completed, module);
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
        var document = config.ToJson();
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

    private static PeftPromptEmbedding LoadPromptEmbeddings(PeftPromptLearningConfig config, IReadOnlyDictionary<string, Tensor> weights, Device? device, ScalarType? dtype, string source)
    {
        foreach (var key in weights.Keys)
        {
            if (key != PromptEmbeddingsKey)
                throw new AdapterLoadException($"{source}: '{key}' is not part of a PEFT {config.PeftType} adapter (it saves only '{PromptEmbeddingsKey}'); modules_to_save heads are not loaded.");
        }
        if (!weights.TryGetValue(PromptEmbeddingsKey, out var saved))
            throw new AdapterLoadException($"{source}: '{PromptEmbeddingsKey}' is missing; a PEFT {config.PeftType} adapter saves its prompt there.");
        long[] shape = config.PeftType == PeftPromptLearningConfig.PrefixTuning
            ? [config.NumVirtualTokens, PrefixWidth(config)]
            : [config.TotalVirtualTokens, config.TokenDim];
        if (!saved.shape.SequenceEqual(shape))
            throw new AdapterLoadException($"{source}: '{PromptEmbeddingsKey}' has shape [{string.Join(", ", saved.shape)}] but the config needs [{string.Join(", ", shape)}].");
        var embedding = new PeftPromptEmbedding(config, shape[0], shape[1], device, dtype);
        embedding.Weight.copy_(saved);
        return embedding;
    }

    private static AdaptionPromptAdapter CreateAdaptionPrompt(AdapterModel model, PeftPromptLearningConfig config, Device? device, ScalarType? dtype, string source)
    {
        _ = source;
        var layers = AdaptedLayers(model, config);
        return new AdaptionPromptAdapter(config, layers, model.Interface.HiddenSize, device, dtype);
    }

    // PEFT adapts the last adapter_layers attention modules in model order.
    private static int[] AdaptedLayers(AdapterModel model, PeftPromptLearningConfig config)
    {
        var all = model.Interface.Layers.Select(l => l.Index).Distinct().Order().ToArray();
        return all[^config.AdapterLayers..];
    }

    private static AdaptionPromptAdapter LoadAdaptionPrompt(AdapterModel model, PeftPromptLearningConfig config, IReadOnlyDictionary<string, Tensor> weights,
        Device? device, ScalarType? dtype, string source)
    {
        var adapter = CreateAdaptionPrompt(model, config, device, dtype, source);
        var layers = adapter.LayerIndices.ToHashSet();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, tensor) in weights)
        {
            if (!key.StartsWith(PeftFiles.KeyPrefix, StringComparison.Ordinal))
                throw new AdapterLoadException($"{source}: key '{key}' is not a PEFT key (expected it to start with '{PeftFiles.KeyPrefix}').");
            var path = key[PeftFiles.KeyPrefix.Length..];
            if (path.StartsWith(model.Interface.BaseModelPrefix + ".", StringComparison.Ordinal)) path = path[(model.Interface.BaseModelPrefix.Length + 1)..];
            var isPrompt = path.EndsWith(AdaptionPromptSuffix, StringComparison.Ordinal);
            var isGate = path.EndsWith(AdaptionGateSuffix, StringComparison.Ordinal);
            var layerText = isPrompt || isGate ? path[..path.LastIndexOf(".self_attn.", StringComparison.Ordinal)] : null;
            if (layerText is null || !layerText.StartsWith("layers.", StringComparison.Ordinal)
                || !int.TryParse(layerText["layers.".Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
                throw new AdapterLoadException($"{source}: '{key}' is not a Llama-Adapter tensor (expected layers.N{AdaptionPromptSuffix} or {AdaptionGateSuffix}).");
            if (!layers.Contains(index))
                throw new AdapterLoadException($"{source}: '{key}' adapts layer {index}, but adapter_layers {config.AdapterLayers} selects layers {string.Join(", ", layers)}.");
            var layer = adapter.ForLayer(index)!;
            var target = isPrompt ? layer.Prompt : layer.Gate;
            if (!tensor.shape.SequenceEqual(target.shape))
                throw new AdapterLoadException($"{source}: '{key}' has shape [{string.Join(", ", tensor.shape)}] but the model needs [{string.Join(", ", target.shape)}].");
            target.copy_(tensor);
            seen.Add((isPrompt ? "p" : "g") + index);
        }
        foreach (var index in layers)
        {
            foreach (var (tag, suffix) in new[] { ("p", AdaptionPromptSuffix), ("g", AdaptionGateSuffix) })
            {
                if (!seen.Contains(tag + index))
                {
                    adapter.Dispose();
                    throw new AdapterLoadException($"{source}: '{PeftFiles.KeyPrefix}{model.Interface.BaseModelPrefix}.layers.{index}{suffix}' is missing although adapter_layers selects layer {index}.");
                }
            }
        }
        return adapter;
    }
}
