using System.Globalization;
using Adapters.Core.Configuration;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models;
using Adapters.Core.Peft.PromptLearning;
using Adapters.Core.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft;

/// <summary>
/// Loads PEFT LoRA and IA³ adapters onto our models as our own LoRA / IA³ adapters with the same outputs: each PEFT
/// module path (PEFT's <c>target_modules</c>, <c>exclude_modules</c>, <c>layers_to_transform</c> rules) is found
/// among <see cref="AdapterModel.GetPeftModuleTargets"/>, with PEFT's per-module rank and scale
/// (<c>rank_pattern</c>, <c>alpha_pattern</c>, <c>use_rslora</c>). What has no adapters equivalent fails naming the
/// module or field.
/// </summary>
public static class PeftImport
{
    private static readonly string[] s_unsupportedFields = ["layer_replication", "trainable_token_indices", "target_parameters", "alora_invocation_tokens"];

    /// <summary>Loads the PEFT folder <paramref name="directory"/> as adapter <paramref name="name"/>.</summary>
    /// <exception cref="AdapterLoadException">The folder or its weights do not fit the model, or a module has no adapters equivalent.</exception>
    /// <exception cref="AdapterConfigException">The config is not a valid PEFT LORA/IA3 config, or uses a feature adapters cannot express.</exception>
    public static AdapterLoadResult LoadPeftAdapter(this AdapterModel model, string directory, string name, PeftImportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var configPath = Path.Combine(directory, PeftAdapterConfig.FileName);
        if (!File.Exists(configPath)) throw new AdapterLoadException($"'{directory}' is not a PEFT adapter folder: {PeftAdapterConfig.FileName} is missing.");
        var weightsPath = new[] { PeftFiles.SafetensorsWeights, PeftFiles.TorchWeights }.Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists)
            ?? throw new AdapterLoadException($"'{directory}' has no PEFT weights: expected {PeftFiles.SafetensorsWeights} or {PeftFiles.TorchWeights}.");
        if (PeftPromptLearningFiles.TryReadConfig(configPath) is { } promptLearning)
        {
            using var promptWeights = TensorFiles.Load(weightsPath);
            return model.LoadPeftPromptLearningStateDict(promptLearning, promptWeights, name, options?.SetActive ?? false, weightsPath);
        }
        var config = PeftAdapterConfig.Read(configPath);
        using var weights = TensorFiles.Load(weightsPath);
        return model.LoadPeftAdapterStateDict(config, weights, name, options, weightsPath);
    }

    /// <summary>Loads PEFT weights keyed <c>base_model.model.PATH.lora_A.weight</c> / <c>.ia3_l</c> as adapter <paramref name="name"/>.</summary>
    /// <exception cref="AdapterLoadException">See <see cref="LoadPeftAdapter"/>.</exception>
    /// <exception cref="AdapterConfigException">See <see cref="LoadPeftAdapter"/>.</exception>
    public static AdapterLoadResult LoadPeftAdapterStateDict(this AdapterModel model, PeftAdapterConfig config, IReadOnlyDictionary<string, Tensor> weights,
        string name, PeftImportOptions? options = null, string source = PeftFiles.SafetensorsWeights)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        options ??= new PeftImportOptions();
        RejectUnsupported(config);

        var basePrefix = model.Interface.BaseModelPrefix + ".";
        // A PEFT model built on a task model (BertForSequenceClassification) sees "bert.encoder…", one built on the bare
        // encoder sees "encoder…"; the keys tell which, and target regexes must be matched against the same form.
        var withBasePrefix = weights.Keys.Any(k => k.StartsWith(PeftFiles.KeyPrefix + basePrefix, StringComparison.Ordinal));
        string PeftPath(string path) => withBasePrefix ? basePrefix + path : path;

        var targets = model.GetPeftModuleTargets().ToDictionary(t => t.Path, StringComparer.Ordinal);
        var fusedTargets = model.GetPeftFusedQkvTargets().ToDictionary(t => t.Path, StringComparer.Ordinal);
        var selected = new List<PeftModuleTarget>();
        var selectedFused = new List<PeftFusedQkvTarget>();
        foreach (var path in model.GetPeftModuleNames())
        {
            if (!PeftMatching.IsTargeted(config, PeftPath(path))) continue;
            if (fusedTargets.TryGetValue(path, out var fusedTarget))
            {
                if (!config.IsLoRA)
                    throw new AdapterLoadException($"{source}: PEFT IA3 selects the fused q/k/v projection '{PeftPath(path)}'; only LoRA on a fused projection is mapped onto adapters.");
                selectedFused.Add(fusedTarget);
                continue;
            }
            if (!targets.TryGetValue(path, out var target))
                throw new AdapterLoadException($"{source}: PEFT target_modules selects '{PeftPath(path)}', which has no adapters slot in {model.ModelClassName} (adapters adapts only {SlotList(targets.Values)}).");
            selected.Add(target);
        }
        if (selected.Count == 0 && selectedFused.Count == 0)
            throw new AdapterLoadException($"{source}: target_modules {config.TargetModules?.ToJson().ToJsonString() ?? "null"} selects no module of {model.ModelClassName}.");

        var byModule = new Dictionary<string, Dictionary<string, Tensor>>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var biases = new List<(string Key, string Path, Tensor Tensor)>();
        foreach (var (key, tensor) in weights)
        {
            if (!key.StartsWith(PeftFiles.KeyPrefix, StringComparison.Ordinal))
                throw new AdapterLoadException($"{source}: key '{key}' is not a PEFT key (expected it to start with '{PeftFiles.KeyPrefix}').");
            var rest = key[PeftFiles.KeyPrefix.Length..];
            if (withBasePrefix)
            {
                if (!rest.StartsWith(basePrefix, StringComparison.Ordinal))
                {
                    throw new AdapterLoadException(config.ModulesToSave is { Count: > 0 } save && save.Any(m => rest.StartsWith(m + ".", StringComparison.Ordinal) || rest.Contains("." + m + ".", StringComparison.Ordinal))
                        ? $"{source}: '{key}' belongs to modules_to_save [{string.Join(", ", save)}], a head trained whole; PEFT heads are not mapped onto adapters heads yet, so this adapter cannot be loaded."
                        : $"{source}: '{key}' lies outside the base model '{model.Interface.BaseModelPrefix}' and has no adapters equivalent.");
                }
                rest = rest[basePrefix.Length..];
            }
            var (path, suffix) = SplitKey(rest, config.IsLoRA);
            if (suffix is "lora_embedding_A" or "lora_embedding_B")
                throw new AdapterLoadException($"{source}: '{key}' is a LoRA on the embedding '{PeftPath(path)}', which has no adapters slot (adapters' LoRA adapts attention and feed-forward projections only).");
            if (suffix == "bias")
            {
                biases.Add((key, rest[..^".bias".Length], tensor));
                continue;
            }
            if (suffix is null)
            {
                if (config.ModulesToSave is { Count: > 0 } save && save.Any(m => rest == m || rest.StartsWith(m + ".", StringComparison.Ordinal) || rest.Contains("." + m + ".", StringComparison.Ordinal)))
                    throw new AdapterLoadException($"{source}: '{key}' belongs to modules_to_save [{string.Join(", ", save)}], a module trained whole, which adapters cannot hold.");
                throw new AdapterLoadException($"{source}: '{key}' is not a {(config.IsLoRA ? "lora_A/lora_B" : "ia3_l")} tensor; it has no adapters equivalent.");
            }
            if (!targets.ContainsKey(path) && !fusedTargets.ContainsKey(path))
                throw new AdapterLoadException($"{source}: '{key}' adapts '{PeftPath(path)}', which has no adapters slot in {model.ModelClassName} (adapters adapts only {SlotList(targets.Values)}).");
            if (!selected.Any(t => t.Path == path) && !selectedFused.Any(t => t.Path == path))
            {
                unexpected.Add(key);
                continue;
            }
            if (!byModule.TryGetValue(path, out var tensors)) byModule[path] = tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            tensors[suffix] = tensor;
        }
        if (biases.Count > 0 && !options.ApplyBiasToBaseModel)
            throw new AdapterLoadException($"{source}: bias=\"{config.Bias}\" saved trained base-layer biases (e.g. '{biases[0].Key}'), which an adapters adapter cannot hold; set {nameof(PeftImportOptions.ApplyBiasToBaseModel)} to write them into the base model as PEFT does.");

        var (device, dtype) = model.ParameterDeviceAndType();
        var modules = new List<(AdaptableLinear, LoRALayer)>();
        var fusedModules = new List<(FusedQkvLinear, FusedQkvLoRA)>();
        try
        {
            using (no_grad())
            {
                foreach (var target in selected)
                {
                    byModule.TryGetValue(target.Path, out var tensors);
                    modules.Add((target.Linear, config.IsLoRA
                        ? CreateLoRA(config, target, PeftPath(target.Path), tensors, device, dtype, source)
                        : CreateIA3(config, target, PeftPath(target.Path), tensors, device, dtype, source)));
                }
                foreach (var target in selectedFused)
                {
                    byModule.TryGetValue(target.Path, out var tensors);
                    fusedModules.Add((target.Linear, CreateFusedLoRA(config, target, PeftPath(target.Path), tensors, device, dtype, source)));
                }
            }
        }
        catch
        {
            foreach (var (_, module) in modules) module.Dispose();
            foreach (var (_, module) in fusedModules) module.Dispose();
            throw;
        }
        try
        {
            model.AddAdapterModules(name, DescribeSelection(model, config, selected, selectedFused, fusedModules.Select(m => m.Item2).ToArray()), modules);
        }
        catch
        {
            foreach (var (_, module) in modules) module.Dispose();
            foreach (var (_, module) in fusedModules) module.Dispose();
            throw;
        }
        model.AddFusedAdapterModules(name, fusedModules);
        if (biases.Count > 0) ApplyBiases(model, biases, source);
        if (options.SetActive) model.SetActiveAdapters(name);
        return new AdapterLoadResult(name, [], unexpected);
    }

    /// <summary>
    /// Checks that adapter <paramref name="name"/> can be saved in Python adapters' format and read back with the same
    /// outputs: one rank and one integer alpha for all modules, no input-scaling IA³, and exactly the modules its
    /// config selects.
    /// </summary>
    /// <exception cref="AdapterConfigException">The first module that adapters' config cannot describe, named.</exception>
    public static void EnsureAdaptersExpressible(this AdapterModel model, string name)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.GetAdapterConfig(name) is not LoRAConfig config) return;
        var expectedFused = model.SelectFusedLoRATargets(config).ToHashSet();
        foreach (var target in model.GetPeftFusedQkvTargets())
        {
            var module = target.Linear.Loras.Get<FusedQkvLoRA>(name);
            if (module is null)
            {
                if (expectedFused.Contains(target.Linear))
                    throw new AdapterConfigException($"Adapter \"{name}\" leaves the fused '{target.Path}' unadapted, but adapters' config would adapt it; the PEFT selection cannot be expressed.");
                continue;
            }
            if (!expectedFused.Contains(target.Linear))
                throw new AdapterConfigException($"Adapter \"{name}\" adapts the fused '{target.Path}', which its adapters config does not select; it can be saved in PEFT's format only.");
            if (!module.Config.AttnMatrices.Order(StringComparer.Ordinal).SequenceEqual(config.AttnMatrices.Where(m => m is "q" or "k" or "v").Order(StringComparer.Ordinal)))
                throw new AdapterConfigException($"Adapter \"{name}\" adapts [{string.Join(", ", module.Config.AttnMatrices)}] of the fused '{target.Path}' but [{string.Join(", ", config.AttnMatrices)}] elsewhere; adapters has one attn_matrices per adapter.");
            if (module.Config.R != config.R || module.Config.Alpha != config.Alpha)
                throw new AdapterConfigException($"Adapter \"{name}\" has r={module.Config.R}, alpha={module.Config.Alpha} at the fused '{target.Path}' but r={config.R}, alpha={config.Alpha} in its config; adapters has one rank and alpha per adapter.");
        }
        var expected = model.SelectLoRATargets(config).ToHashSet();
        foreach (var target in model.GetPeftModuleTargets())
        {
            var module = target.Linear.Loras.Get<LoRALayer>(name);
            if (module is null)
            {
                if (expected.Contains(target.Linear))
                    throw new AdapterConfigException($"Adapter \"{name}\" leaves '{target.Path}' unadapted, but adapters' config (selfattn/intermediate/output + attn_matrices + leave_out) would adapt it; the PEFT selection cannot be expressed.");
                continue;
            }
            if (!expected.Contains(target.Linear))
                throw new AdapterConfigException($"Adapter \"{name}\" adapts '{target.Path}' ({target.Linear.Location}), which no adapters LoRA config selects; it can be saved in PEFT's format only.");
            if (module is InputScaledIA3Module)
                throw new AdapterConfigException($"Adapter \"{name}\" scales the input of '{target.Path}' (PEFT feedforward IA3); adapters' IA3 scales outputs only, so it can be saved in PEFT's format only.");
            if (module.ScalingOverride is { } scale)
                throw new AdapterConfigException(string.Create(CultureInfo.InvariantCulture, $"Adapter \"{name}\" scales '{target.Path}' by {scale} (rsLoRA or a fractional lora_alpha), which adapters' integer alpha/r cannot express."));
            if (module.Config.R != config.R || module.Config.Alpha != config.Alpha)
                throw new AdapterConfigException($"Adapter \"{name}\" has r={module.Config.R}, alpha={module.Config.Alpha} at '{target.Path}' but r={config.R}, alpha={config.Alpha} elsewhere (PEFT rank_pattern/alpha_pattern); adapters has one rank and alpha per adapter.");
        }
    }

    private static void RejectUnsupported(PeftAdapterConfig config)
    {
        if (config.UseDora)
            throw new AdapterConfigException("use_dora: PEFT's DoRA differs from adapters' (PEFT puts scaling·BA inside a detached norm and keeps the bias outside the rescale; adapters uses the unscaled BA and rescales the bias), so it cannot be loaded as an adapters DoRA adapter.");
        if (config.Document?["lora_bias"] is { } loraBias && PythonJsonTruthy(loraBias))
            throw new AdapterConfigException("lora_bias: PEFT's bias on lora_B has no adapters equivalent.");
        foreach (var field in s_unsupportedFields)
        {
            if (config.Document?[field] is { } value && PythonJsonTruthy(value))
                throw new AdapterConfigException($"{field}: this PEFT feature has no adapters equivalent.");
        }
        if (config.TargetModules?.Names is { } names && names.Contains("all-linear"))
            throw new AdapterConfigException("target_modules \"all-linear\" also adapts layers adapters cannot (e.g. the attention output projection); list the modules instead.");
    }

    private static bool PythonJsonTruthy(System.Text.Json.Nodes.JsonNode node) => PythonJson.IsTruthy(node);

    private static (string Path, string? Suffix) SplitKey(string rest, bool lora)
    {
        string[] suffixes = lora
            ? ["lora_A.weight", "lora_B.weight", "lora_magnitude_vector", "lora_embedding_A", "lora_embedding_B", "bias"]
            : ["ia3_l", "bias"];
        foreach (var suffix in suffixes)
        {
            if (rest.EndsWith("." + suffix, StringComparison.Ordinal)) return (rest[..^(suffix.Length + 1)], suffix);
        }
        return (rest, null);
    }

    private static LoRALayer CreateLoRA(PeftAdapterConfig config, PeftModuleTarget target, string peftPath, Dictionary<string, Tensor>? tensors,
        Device? device, ScalarType? dtype, string source)
    {
        var linear = target.Linear;
        var r = config.RankFor(peftPath);
        var alpha = config.AlphaFor(peftPath);
        var scaling = config.ScalingFor(peftPath);
        var integralAlpha = alpha == Math.Floor(alpha) && Math.Abs(alpha) <= int.MaxValue ? (int)alpha : r;
        var moduleConfig = new LoRAConfig { R = r, Alpha = integralAlpha, Dropout = config.LoraDropout, InitWeights = "lora" };
        var module = new LoRAModule(moduleConfig, linear.InFeatures, linear.OutFeatures, linear.weight, device, dtype)
        {
            // Bitwise comparison on purpose: any difference from alpha/r must come from PEFT's own value.
            ScalingOverride = scaling.Equals((double)integralAlpha / r) ? null : scaling,
        };
        Fill(module, "lora_A", Required(tensors, "lora_A.weight", peftPath, source), [r, linear.InFeatures], peftPath + ".lora_A.weight", source);
        Fill(module, "lora_B", Required(tensors, "lora_B.weight", peftPath, source), [linear.OutFeatures, r], peftPath + ".lora_B.weight", source);
        return module;
    }

    /// <summary>
    /// PEFT's single A (r, in) and dense B (3·part, r) on a fused q/k/v layer: adapters' block-diagonal module with q, k
    /// and v enabled, each part pairing its rows of B with its own copy of A, gives B·A exactly (one dropout of x feeds
    /// all three copies, as PEFT's one dropout feeds its one A).
    /// </summary>
    private static FusedQkvLoRA CreateFusedLoRA(PeftAdapterConfig config, PeftFusedQkvTarget target, string peftPath, Dictionary<string, Tensor>? tensors,
        Device? device, ScalarType? dtype, string source)
    {
        var linear = target.Linear;
        var r = config.RankFor(peftPath);
        var alpha = config.AlphaFor(peftPath);
        var scaling = config.ScalingFor(peftPath);
        var integralAlpha = alpha == Math.Floor(alpha) && Math.Abs(alpha) <= int.MaxValue ? (int)alpha : 0;
        if (integralAlpha == 0 || !scaling.Equals((double)integralAlpha / r))
            throw new AdapterLoadException(string.Create(CultureInfo.InvariantCulture,
                $"{source}: the fused q/k/v projection '{peftPath}' is scaled by {scaling} (rsLoRA or a fractional lora_alpha); adapters' fused LoRA (LoRAMergedLinear) scales by an integer alpha over r only."));
        var a = Required(tensors, "lora_A.weight", peftPath, source);
        var b = Required(tensors, "lora_B.weight", peftPath, source);
        CheckShape(a, [r, linear.InFeatures], peftPath + ".lora_A.weight", source);
        CheckShape(b, [linear.OutFeatures, r], peftPath + ".lora_B.weight", source);
        var part = linear.OutFeatures / 3;
        if (BlockDiagonalParts(b, r, part) is { } enabled && integralAlpha % enabled.Length == 0)
        {
            // What we export for n enabled parts: rank n·r', B zero outside each part's own r' columns. Taking it back
            // apart restores the original module (same shapes, same bits).
            var n = enabled.Length;
            var partRank = r / n;
            var names = enabled.Select(i => "qkv"[i].ToString()).ToArray();
            var blockConfig = new LoRAConfig { R = partRank, Alpha = integralAlpha / n, Dropout = config.LoraDropout, AttnMatrices = names, InitWeights = "lora" };
            var block = new FusedQkvLoRA(blockConfig, linear.InFeatures, linear.OutFeatures, device, dtype);
            var blockParameters = block.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
            blockParameters["lora_A"].copy_(a);
            blockParameters["lora_B"].copy_(cat(enabled.Select((index, group) => b.narrow(0, index * part, part).narrow(1, group * partRank, partRank)).ToArray(), 0));
            return block;
        }
        var moduleConfig = new LoRAConfig { R = r, Alpha = integralAlpha, Dropout = config.LoraDropout, AttnMatrices = ["q", "k", "v"], InitWeights = "lora" };
        var module = new FusedQkvLoRA(moduleConfig, linear.InFeatures, linear.OutFeatures, device, dtype);
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        parameters["lora_A"].copy_(cat([a, a, a], 0));
        parameters["lora_B"].copy_(b);
        return module;
    }

    /// <summary>
    /// The q/k/v parts (0, 1, 2) of a fused PEFT B (3·part, r) when it is block-diagonal: n parts have non-zero rows, r
    /// splits into n equal column groups, and each non-zero part uses only its own group, in order. Null otherwise
    /// (including an all-zero B, which the dense mapping handles as well).
    /// </summary>
    private static int[]? BlockDiagonalParts(Tensor b, int r, long part)
    {
        var enabled = Enumerable.Range(0, 3).Where(i => b.narrow(0, i * part, part).abs().max().item<float>() != 0f).ToArray();
        if (enabled.Length == 0 || r % enabled.Length != 0) return null;
        var partRank = r / enabled.Length;
        for (var group = 0; group < enabled.Length; group++)
        {
            var rows = b.narrow(0, enabled[group] * part, part);
            var outside = cat([rows.narrow(1, 0, group * partRank), rows.narrow(1, (group + 1) * partRank, r - (group + 1) * partRank)], 1);
            if (outside.numel() > 0 && outside.abs().max().item<float>() != 0f) return null;
        }
        return enabled;
    }

    private static void CheckShape(Tensor value, long[] shape, string key, string source)
    {
        if (!value.shape.SequenceEqual(shape))
            throw new AdapterLoadException($"{source}: '{PeftFiles.KeyPrefix}{key}' has shape [{string.Join(", ", value.shape)}] but the model needs [{string.Join(", ", shape)}].");
    }

    private static LoRALayer CreateIA3(PeftAdapterConfig config, PeftModuleTarget target, string peftPath, Dictionary<string, Tensor>? tensors,
        Device? device, ScalarType? dtype, string source)
    {
        var linear = target.Linear;
        var vector = Required(tensors, "ia3_l", peftPath, source);
        var moduleConfig = new IA3Config { SelfattnLora = false, IntermediateLora = false };
        if (PeftMatching.IsFeedForward(config, peftPath))
        {
            var module = new InputScaledIA3Module(moduleConfig, linear.InFeatures, linear.OutFeatures, linear.weight, () => linear.bias, device, dtype);
            Fill(module, "ia3_l", vector, [1, linear.InFeatures], peftPath + ".ia3_l", source);
            return module;
        }
        var scaled = new IA3Module(moduleConfig, linear.InFeatures, linear.OutFeatures, linear.weight, device, dtype);
        Fill(scaled, "lora_B", vector, [linear.OutFeatures, 1], peftPath + ".ia3_l", source);
        return scaled;
    }

    private static Tensor Required(Dictionary<string, Tensor>? tensors, string suffix, string peftPath, string source) =>
        tensors is not null && tensors.TryGetValue(suffix, out var tensor)
            ? tensor
            : throw new AdapterLoadException($"{source}: '{PeftFiles.KeyPrefix}{peftPath}.{suffix}' is missing although target_modules selects '{peftPath}'.");

    private static void Fill(LoRALayer module, string parameter, Tensor value, long[] shape, string key, string source)
    {
        if (!value.shape.SequenceEqual(shape))
            throw new AdapterLoadException($"{source}: '{PeftFiles.KeyPrefix}{key}' has shape [{string.Join(", ", value.shape)}] but the model needs [{string.Join(", ", shape)}].");
        var target = module.named_parameters().First(p => p.name == parameter).parameter;
        target.copy_(value);
    }

    private static LoRAConfig DescribeSelection(AdapterModel model, PeftAdapterConfig config, IReadOnlyList<PeftModuleTarget> selected, IReadOnlyList<PeftFusedQkvTarget> selectedFused,
        IReadOnlyList<FusedQkvLoRA> fusedModules)
    {
        var fusedQkv = selectedFused.Count > 0;
        var locations = selected.Select(t => t.Linear.Location).ToHashSet();
        var matrices = fusedQkv
            ? fusedModules[0].Config.AttnMatrices.ToArray()
            : new[] { (LoRALocation.Query, "q"), (LoRALocation.Key, "k"), (LoRALocation.Value, "v") }
                .Where(m => locations.Contains(m.Item1)).Select(m => m.Item2).ToArray();
        var usedLayers = selected.Select(t => t.Linear.LayerIndex).Concat(selectedFused.Select(t => t.Linear.LayerIndex)).ToHashSet();
        var leaveOut = model.Interface.Layers.Select(l => l.Index).Distinct().Where(i => !usedLayers.Contains(i)).Order().ToArray();
        LoRAConfig baseConfig = config.IsLoRA
            ? new LoRAConfig
            {
                // A fused pair exported from n parts has rank n·r in PEFT; the module taken back apart has adapters' r.
                R = fusedQkv ? fusedModules[0].Config.R : config.R,
                Alpha = fusedQkv ? fusedModules[0].Config.Alpha : config.LoraAlpha == Math.Floor(config.LoraAlpha) ? (int)config.LoraAlpha : config.R,
                Dropout = config.LoraDropout,
            }
            : new IA3Config();
        return baseConfig with
        {
            SelfattnLora = matrices.Length > 0,
            AttnMatrices = matrices.Length > 0 ? matrices : baseConfig.AttnMatrices,
            IntermediateLora = locations.Contains(LoRALocation.Intermediate),
            OutputLora = locations.Contains(LoRALocation.Output),
            LeaveOut = leaveOut,
        };
    }

    private static void ApplyBiases(AdapterModel model, List<(string Key, string Path, Tensor Tensor)> biases, string source)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        using var _ = no_grad();
        foreach (var (key, path, tensor) in biases)
        {
            if (!parameters.TryGetValue(path + ".bias", out var bias) || !bias.shape.SequenceEqual(tensor.shape))
                throw new AdapterLoadException($"{source}: '{key}' has no matching bias in {model.ModelClassName}.");
            bias.copy_(tensor);
        }
    }

    private static string SlotList(IEnumerable<PeftModuleTarget> targets)
    {
        var suffixes = targets.Select(t => t.Path.Split('.')[^1]).Distinct(StringComparer.Ordinal).ToArray();
        return string.Join(", ", suffixes.Take(8)) + (suffixes.Length > 8 ? ", …" : "");
    }
}
