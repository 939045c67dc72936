using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Quantization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>
/// Loads and saves decoder language models as Hugging Face model folders: <c>config.json</c> plus
/// <c>model.safetensors</c>, a sharded <c>model.safetensors.index.json</c> or <c>pytorch_model.bin</c> (looked for in
/// that order, as transformers does). Weights load tensor by tensor in the stored dtype or converted to a requested
/// one (bf16/fp16/fp32).
/// </summary>
public static class PretrainedDecoders
{
    private static readonly string[] s_weightFiles = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"];

    // Non-persistent buffers older transformers versions saved; nothing here corresponds to them.
    private static readonly string[] s_ignoredSuffixes = [".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq"];

    /// <summary>
    /// Loads the causal LM in <paramref name="folder"/>, in eval mode. A bare model checkpoint (transformers'
    /// <c>GPT2Model</c>/<c>LlamaModel</c>/<c>MistralModel</c>: keys without the <c>transformer.</c>/<c>model.</c> prefix,
    /// no <c>lm_head</c>) loads too; an untied <c>lm_head</c> then keeps its random init, as transformers does.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="dtype">
    /// The parameter dtype. Null keeps the checkpoint's floating dtype (the first floating tensor's; the config's
    /// <c>torch_dtype</c> when there are no weights; else float32).
    /// </param>
    /// <param name="requireWeights">Fail instead of returning random weights when no weight file exists.</param>
    /// <param name="device">The device of the parameters; the CPU when null.</param>
    /// <exception cref="AdapterLoadException">The folder has no config.json, or weights are missing or misshapen.</exception>
    /// <exception cref="AdapterConfigException">config.json is invalid or not a supported decoder.</exception>
    public static ICausalLM Load(string folder, ScalarType? dtype = null, bool requireWeights = false, Device? device = null) =>
        Load(folder, dtype, requireWeights, device, onRead: null);

    /// <summary>
    /// Loads the causal LM in <paramref name="folder"/> with its adaptable projections quantized to 4 bits
    /// (transformers' <c>from_pretrained(…, quantization_config=BitsAndBytesConfig(load_in_4bit=True, …))</c>): the
    /// weights load as in <see cref="Load(string, ScalarType?, bool, Device?)"/>, then every
    /// <see cref="Methods.LoRA.AdaptableLinear"/> is quantized (see <see cref="AdapterModel.QuantizeBaseWeights"/>).
    /// Projections the checkpoint already stores in 4 bits keep their stored bytes. <paramref name="dtype"/> is the
    /// compute dtype of the 4-bit layers and the dtype of everything else.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no config.json, or weights are missing or misshapen.</exception>
    /// <exception cref="QuantizationException">A stored 4-bit weight is malformed.</exception>
    public static ICausalLM Load(string folder, FourBitOptions quantization, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(quantization);
        quantization.Validate();
        var model = Load(folder, dtype, requireWeights: true, device, onRead: null, DecoderModels.Create, lm => lm.BaseModel, quantization);
        model.BaseModel.QuantizeBaseWeights(quantization);
        return model;
    }

    /// <summary>
    /// <see cref="LoadBaseModel(string, ScalarType?, bool, Device?)"/> with the adaptable projections quantized to 4 bits,
    /// as <see cref="Load(string, FourBitOptions, ScalarType?, Device?)"/> does for the causal LM.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no config.json, or weights are missing or misshapen.</exception>
    /// <exception cref="QuantizationException">A stored 4-bit weight is malformed.</exception>
    public static AdapterModel LoadBaseModel(string folder, FourBitOptions quantization, ScalarType? dtype = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(quantization);
        quantization.Validate();
        var model = Load(folder, dtype, requireWeights: true, device, null, DecoderModels.CreateBaseModel, m => m, quantization);
        model.QuantizeBaseWeights(quantization);
        return model;
    }

    /// <summary><see cref="Load(string, ScalarType?, bool, Device?)"/> that shows <paramref name="onRead"/> every checkpoint tensor as read.</summary>
    internal static ICausalLM Load(string folder, ScalarType? dtype, bool requireWeights, Device? device, Action<string, Tensor>? onRead) =>
        Load(folder, dtype, requireWeights, device, onRead, DecoderModels.Create, lm => lm.BaseModel);

    /// <summary>
    /// Loads the bare decoder in <paramref name="folder"/> (<see cref="Gpt2Model"/> or <see cref="LlamaModel"/>, no LM
    /// head), in eval mode, as Python's decoder AdapterModels hold it: from a bare checkpoint or from a causal-LM one
    /// (its <c>transformer.</c>/<c>model.</c> prefix is stripped and <c>lm_head</c> is left out). Arguments as in
    /// <see cref="Load(string, ScalarType?, bool, Device?)"/>.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no config.json, or weights are missing or misshapen.</exception>
    /// <exception cref="AdapterConfigException">config.json is invalid or not a supported decoder.</exception>
    public static AdapterModel LoadBaseModel(string folder, ScalarType? dtype = null, bool requireWeights = false, Device? device = null) =>
        Load(folder, dtype, requireWeights, device, null, DecoderModels.CreateBaseModel, model => model);

    private static T Load<T>(string folder, ScalarType? dtype, bool requireWeights, Device? device, Action<string, Tensor>? onRead,
        Func<string, string, Device?, ScalarType?, T> create, Func<T, AdapterModel> adapterModel, FourBitOptions? quantization = null) where T : class
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var configPath = Path.Combine(folder, "config.json");
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{folder}' is not a model folder: config.json is missing.");
        var configJson = File.ReadAllText(configPath);
        var weightsPath = s_weightFiles.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
        if (weightsPath is null && requireWeights)
            throw new AdapterLoadException($"'{folder}' has no weights: expected {string.Join(", ", s_weightFiles)}.");
        if (weightsPath is null)
        {
            var random = create(configJson, configPath, device, dtype ?? ConfigDtype(configJson, configPath));
            ((nn.Module)(object)random).eval();
            return random;
        }
        using var file = TensorFiles.Open(weightsPath);
        // bitsandbytes' float32 absmax values say nothing about the model's dtype.
        var stored = file.Tensors.Where(t => !BitsAndBytesFormat.IsStateKey(t.Name)).Select(t => t.DType.ScalarType()).FirstOrDefault(t => t is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64);
        T model;
        // With quantization, the 4-bit layers are built without dense weights and quantized per stored tensor.
        using (quantization is not null ? new FourBitLoadScope(quantization) : null)
            model = create(configJson, configPath, device, dtype ?? stored ?? ScalarType.Float32);
        var module = (nn.Module)(object)model;
        try
        {
            LoadWeights(module, adapterModel(model), file, weightsPath, onRead);
            module.eval();
            return model;
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> as an HF folder: <c>config.json</c> and <c>model.safetensors</c> with the HF keys,
    /// adapters excluded (merge one first to bake it in), in <paramref name="dtype"/> or the model's dtype. 4-bit
    /// projections are written as bitsandbytes writes them (packed <c>weight</c> plus its state keys, unchanged bytes)
    /// and config.json gets transformers' <c>quantization_config</c>.
    /// </summary>
    public static void Save(ICausalLM model, string folder, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(folder);
        var module = (nn.Module)model;
        var target = dtype ?? module.parameters().First(p => p.is_floating_point()).dtype;
        JsonObject config = model switch
        {
            Gpt2LMHeadModel gpt2 => (gpt2.Config with { TorchDtype = TensorDTypes.FromScalarType(target).TorchName() }).ToJson(),
            LlamaForCausalLM llama => (llama.Config with { TorchDtype = TensorDTypes.FromScalarType(target).TorchName() }).ToJson(),
            _ => throw new ArgumentException($"Saving {model.GetType().Name} is not supported.", nameof(model)),
        };
        var quantized = model.BaseModel.BaseLinears().Select(l => l.Linear.QuantState).OfType<FourBitQuantState>().FirstOrDefault();
        if (quantized is not null) config["quantization_config"] = QuantizationConfig(quantized, target);
        using var scope = NewDisposeScope();
        var tensors = WeightKeys(model)
            .Select(kv => TensorPayload.FromTensor(kv.Key, (kv.Value.is_floating_point() ? kv.Value.detach().to(target) : kv.Value.detach()).cpu().contiguous()))
            .Concat(FourBitCheckpoint.StateTensors(module, key => key).Select(kv => TensorPayload.FromTensor(kv.Key, kv.Value.cpu().contiguous())))
            .ToList();
        TensorFiles.Save(Path.Combine(folder, "model.safetensors"), tensors);
        AtomicFile.Write(Path.Combine(folder, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n")));
    }

    // transformers' BitsAndBytesConfig.to_dict() fields that say how the 4-bit weights were made.
    private static JsonObject QuantizationConfig(FourBitQuantState state, ScalarType computeDtype) => new()
    {
        ["quant_method"] = "bitsandbytes",
        ["load_in_4bit"] = true,
        ["load_in_8bit"] = false,
        ["bnb_4bit_quant_type"] = state.Type.Name(),
        ["bnb_4bit_use_double_quant"] = state.Nested is not null,
        ["bnb_4bit_compute_dtype"] = TensorDTypes.FromScalarType(computeDtype).TorchName(),
        ["bnb_4bit_quant_storage"] = "uint8",
    };

    /// <summary>The model's own weights under their HF keys (adapter tensors left out).</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> WeightKeys(ICausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return WeightKeys((nn.Module)model, model.BaseModel);
    }

    private static IEnumerable<KeyValuePair<string, Tensor>> WeightKeys(nn.Module module, AdapterModel adapters)
    {
        var names = adapters.AdapterNames.ToArray();
        foreach (var (key, tensor) in module.state_dict())
        {
            if (names.Any(name => AdapterModel.MatchesAdapter(key, name))) continue;
            yield return new(key, tensor);
        }
    }

    /// <summary>
    /// Copies the file's tensors into <paramref name="module"/>, whose keys are either the causal LM's
    /// (<c>transformer.h.0…</c>, <c>lm_head.weight</c>) or the bare model's (<c>h.0…</c>): a stored key is matched as
    /// written, with the base prefix added, or with it stripped. Keys with no counterpart (a tied or absent LM head,
    /// old non-persistent buffers) are skipped, as transformers warns and goes on.
    /// </summary>
    private static void LoadWeights(nn.Module module, AdapterModel baseModel, TensorFile file, string path, Action<string, Tensor>? onRead)
    {
        var keys = WeightKeys(module, baseModel).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        var basePrefix = baseModel.Interface.BaseModelPrefix + ".";
        string ModelKey(string key)
        {
            if (keys.Contains(key)) return key;
            if (keys.Contains(basePrefix + key)) return basePrefix + key;
            return key.StartsWith(basePrefix, StringComparison.Ordinal) ? key[basePrefix.Length..] : key;
        }
        // bitsandbytes 4-bit weights first: they replace the dense weights of their layers.
        var quantized = FourBitCheckpoint.Load(module, file, path, key => keys.Contains(ModelKey(key)) ? ModelKey(key) : null);
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in WeightKeys(module, baseModel)) targets[key] = tensor;
        var bare = file.Tensors.All(t => !t.Name.StartsWith(basePrefix, StringComparison.Ordinal) && !t.Name.StartsWith(LmHeadPrefix, StringComparison.Ordinal));
        var loaded = new HashSet<string>(quantized.ModelKeys, StringComparer.Ordinal);
        // Layers built for streaming quantize-at-load take their stored weight quantized, one tensor at a time.
        var deferred = FourBitCheckpoint.DeferredWeights(module);
        using var _ = no_grad();
        foreach (var spec in file.Tensors)
        {
            if (quantized.FileKeys.Contains(spec.Name)) continue;
            var key = ModelKey(spec.Name);
            if (!targets.TryGetValue(key, out var target)) continue;
            if (!target.shape.SequenceEqual(spec.Shape))
                throw new AdapterLoadException($"{path}: weight \"{spec.Name}\" has shape {TensorShapes.Format(spec.Shape)} but the model expects {TensorShapes.Format(target.shape)}.");
            // Read in the stored dtype; copy_ converts straight into the target's dtype and device.
            using var value = file.LoadTensor(spec.Name);
            onRead?.Invoke(spec.Name, value);
            if (deferred.Remove(key, out var layer)) layer.QuantizeLoadedWeight(value);
            else target.copy_(value);
            loaded.Add(key);
        }
        // A bare checkpoint has no LM head; transformers initialises an untied one and goes on.
        var missing = targets.Keys.Where(k => !loaded.Contains(k) && !(bare && k.StartsWith(LmHeadPrefix, StringComparison.Ordinal))).ToArray();
        if (missing.Length > 0)
            throw new AdapterLoadException($"{path} is missing {missing.Length} weight(s) of the model, e.g. {string.Join(", ", missing.Take(5))}.");
    }

    private const string LmHeadPrefix = "lm_head.";

    private static ScalarType ConfigDtype(string configJson, string source)
    {
        var name = new HfConfigReader(configJson, source) is var r ? r.Str("torch_dtype") ?? r.Str("dtype") : null;
        return name switch
        {
            "bfloat16" => ScalarType.BFloat16,
            "float16" => ScalarType.Float16,
            _ => ScalarType.Float32,
        };
    }

    /// <summary>Names of keys the loader skips on purpose.</summary>
    internal static bool IsIgnoredKey(string key) => s_ignoredSuffixes.Any(s => key.EndsWith(s, StringComparison.Ordinal));
}
