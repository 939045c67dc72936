using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
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

    /// <summary>Loads the causal LM in <paramref name="folder"/>, in eval mode.</summary>
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

    /// <summary><see cref="Load(string, ScalarType?, bool, Device?)"/> that shows <paramref name="onRead"/> every checkpoint tensor as read.</summary>
    internal static ICausalLM Load(string folder, ScalarType? dtype, bool requireWeights, Device? device, Action<string, Tensor>? onRead)
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
            var random = DecoderModels.Create(configJson, configPath, device, dtype ?? ConfigDtype(configJson, configPath));
            ((nn.Module)random).eval();
            return random;
        }
        using var file = TensorFiles.Open(weightsPath);
        var stored = file.Tensors.Select(t => t.DType.ScalarType()).FirstOrDefault(t => t is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float64);
        var model = DecoderModels.Create(configJson, configPath, device, dtype ?? stored ?? ScalarType.Float32);
        try
        {
            LoadWeights(model, file, weightsPath, onRead);
            ((nn.Module)model).eval();
            return model;
        }
        catch
        {
            ((nn.Module)model).Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="model"/> as an HF folder: <c>config.json</c> and <c>model.safetensors</c> with the HF keys,
    /// adapters excluded (merge one first to bake it in), in <paramref name="dtype"/> or the model's dtype.
    /// </summary>
    public static void Save(ICausalLM model, string folder, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Directory.CreateDirectory(folder);
        var module = (nn.Module)model;
        var target = dtype ?? module.parameters().First().dtype;
        JsonObject config = model switch
        {
            Gpt2LMHeadModel gpt2 => (gpt2.Config with { TorchDtype = TensorDTypes.FromScalarType(target).TorchName() }).ToJson(),
            LlamaForCausalLM llama => (llama.Config with { TorchDtype = TensorDTypes.FromScalarType(target).TorchName() }).ToJson(),
            _ => throw new ArgumentException($"Saving {model.GetType().Name} is not supported.", nameof(model)),
        };
        using var scope = NewDisposeScope();
        var tensors = WeightKeys(model)
            .Select(kv => TensorPayload.FromTensor(kv.Key, kv.Value.detach().to(target).contiguous()))
            .ToList();
        TensorFiles.Save(Path.Combine(folder, "model.safetensors"), tensors);
        AtomicFile.Write(Path.Combine(folder, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n")));
    }

    /// <summary>The model's own weights under their HF keys (adapter tensors left out).</summary>
    public static IEnumerable<KeyValuePair<string, Tensor>> WeightKeys(ICausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var adapters = model.BaseModel.AdapterNames.ToArray();
        foreach (var (key, tensor) in ((nn.Module)model).state_dict())
        {
            if (adapters.Any(name => AdapterModel.MatchesAdapter(key, name))) continue;
            yield return new(key, tensor);
        }
    }

    private static void LoadWeights(ICausalLM model, TensorFile file, string path, Action<string, Tensor>? onRead)
    {
        var targets = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in WeightKeys(model)) targets[key] = tensor;
        var basePrefix = model.BaseModel.Interface.BaseModelPrefix + ".";
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        using var _ = no_grad();
        foreach (var spec in file.Tensors)
        {
            var key = spec.Name;
            if (!targets.ContainsKey(key) && targets.ContainsKey(basePrefix + key)) key = basePrefix + key;
            if (!targets.TryGetValue(key, out var target))
            {
                // A tied head's lm_head.weight and old non-persistent buffers have no counterpart; other extras are ignored too, as transformers warns and goes on.
                continue;
            }
            if (!target.shape.SequenceEqual(spec.Shape))
                throw new AdapterLoadException($"{path}: weight \"{spec.Name}\" has shape {TensorShapes.Format(spec.Shape)} but the model expects {TensorShapes.Format(target.shape)}.");
            // Read in the stored dtype; copy_ converts straight into the target's dtype and device.
            using var value = file.LoadTensor(spec.Name);
            onRead?.Invoke(spec.Name, value);
            target.copy_(value);
            loaded.Add(key);
        }
        var missing = targets.Keys.Where(k => !loaded.Contains(k)).ToArray();
        if (missing.Length > 0)
            throw new AdapterLoadException($"{path} is missing {missing.Length} weight(s) of the model, e.g. {string.Join(", ", missing.Take(5))}.");
    }

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
