using Adapters.Core.Configuration;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Peft;

/// <summary>
/// Saves our LoRA and IA³ adapters as PEFT adapter folders (<c>adapter_config.json</c> + <c>adapter_model.safetensors</c>
/// keyed <c>base_model.model.PATH.lora_A.weight</c> / <c>.ia3_l</c>) that PEFT's <c>PeftModel.from_pretrained</c> loads
/// with default arguments. <c>target_modules</c> is the shortest list of name suffixes (plus
/// <c>layers_to_transform</c> when some layers are left out) that PEFT's own matching turns into exactly the adapted
/// modules; per-module ranks and scales become <c>rank_pattern</c> / <c>alpha_pattern</c>.
/// </summary>
public static class PeftExport
{
    private static readonly HashSet<string> s_tasksWithHeads = new(StringComparer.Ordinal) { "SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS", "CAUSAL_LM", "SEQ_2_SEQ_LM" };

    /// <summary>Writes adapter <paramref name="name"/> as a PEFT folder and returns the config written.</summary>
    /// <exception cref="AdapterConfigException">The adapter uses something PEFT cannot express; the message names the module.</exception>
    public static PeftAdapterConfig SavePeftAdapter(this AdapterModel model, string directory, string name, PeftExportOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var (config, weights) = model.CreatePeftAdapter(name, options);
        Directory.CreateDirectory(directory);
        config.Write(Path.Combine(directory, PeftAdapterConfig.FileName));
        TensorFiles.Save(Path.Combine(directory, PeftFiles.SafetensorsWeights), weights);
        if (options?.WriteTorchBin == true) TensorFiles.Save(Path.Combine(directory, PeftFiles.TorchWeights), weights);
        return config;
    }

    /// <summary>The PEFT config and state dict for adapter <paramref name="name"/> (tensors are copies).</summary>
    /// <exception cref="AdapterConfigException">See <see cref="SavePeftAdapter"/>.</exception>
    public static (PeftAdapterConfig Config, Dictionary<string, Tensor> Weights) CreatePeftAdapter(this AdapterModel model, string name, PeftExportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new PeftExportOptions();
        model.GetAdapterConfig(name);

        var includePrefix = options.IncludeBasePrefix ?? ((options.TaskType is { } task && s_tasksWithHeads.Contains(task)) || model.PeftPathsIncludeBasePrefix);
        var basePrefix = includePrefix ? model.Interface.BaseModelPrefix + "." : string.Empty;
        var modules = model.GetPeftModuleTargets()
            .Select(t => (Target: t, Module: t.Linear.Loras.Get<LoRALayer>(name)))
            .Where(m => m.Module is not null)
            .Select(m => (m.Target, Module: m.Module!, PeftPath: basePrefix + m.Target.Path))
            .ToArray();
        var fused = model.GetPeftFusedQkvTargets()
            .Select(t => (Target: t, Module: t.Linear.Loras.Get<FusedQkvLoRA>(name)))
            .Where(m => m.Module is not null)
            .Select(m => (m.Target, Module: m.Module!, PeftPath: basePrefix + m.Target.Path))
            .ToArray();
        if (modules.Length == 0 && fused.Length == 0) throw new AdapterConfigException($"Adapter \"{name}\" has no LoRA or IA3 modules to export.");
        var fanInFanOut = modules.Select(m => m.Target.FanInFanOut).Concat(fused.Select(m => m.Target.FanInFanOut)).Distinct().ToArray();
        if (fanInFanOut.Length > 1)
            throw new AdapterConfigException($"Adapter \"{name}\" adapts both Conv1D and Linear layers (e.g. '{(modules.Length > 0 ? modules[0].Target.Path : fused[0].Target.Path)}'); PEFT has one fan_in_fan_out flag per adapter.");

        var isLoRA = modules.Length == 0 || modules[0].Module is LoRAModule;
        foreach (var (target, module, _) in fused)
        {
            if (module.IsScale || !isLoRA)
                throw new AdapterConfigException($"Adapter \"{name}\" has IA3 on the fused q/k/v projection '{target.Path}'; only LoRA on a fused projection is exported to PEFT.");
        }
        foreach (var (target, module, _) in modules)
        {
            var supported = isLoRA ? module is LoRAModule : module is IA3Module or InputScaledIA3Module;
            if (!supported)
                throw new AdapterConfigException($"Adapter \"{name}\" has a {module.GetType().Name} at '{target.Path}'{(module is VeraModule ? " (VeRA: adapters stores full vera_B/vera_D matrices, PEFT diagonal vectors)" : string.Empty)}; PEFT can take LoRA or IA3 modules only, not mixed.");
            if (module.Config.UseGating) throw new AdapterConfigException($"Adapter \"{name}\" is gated at '{target.Path}'; PEFT has no gated LoRA.");
            if (module.Config.UseDora)
                throw new AdapterConfigException($"Adapter \"{name}\" uses DoRA at '{target.Path}'; adapters' DoRA (unscaled BA in the norm, bias inside the rescale) differs from PEFT's, so it cannot be exported.");
        }

        if (model.AdapterParameters(name).FirstOrDefault(p => !p.Key.Contains(".loras.", StringComparison.Ordinal)) is { Key: { } other })
            throw new AdapterConfigException($"Adapter \"{name}\" has '{other}', which is not LoRA/IA3; PEFT cannot express it (only LoRA and IA3 modules can be exported).");

        var allNames = model.GetPeftModuleNames().Select(n => basePrefix + n).ToArray();
        var adapted = modules.Select(m => m.PeftPath).Concat(fused.Select(m => m.PeftPath)).ToArray();
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var config = new PeftAdapterConfig
        {
            PeftType = isLoRA ? "LORA" : "IA3",
            TaskType = options.TaskType,
            BaseModelNameOrPath = options.BaseModelNameOrPath ?? model.ModelName,
            FanInFanOut = fanInFanOut[0],
            InferenceMode = true,
        };
        var (targets, layers) = MinimalTargets(config, allNames, adapted);
        config = config with { TargetModules = targets, LayersToTransform = layers };

        using (no_grad())
        {
            if (isLoRA)
            {
                // A fused module with n of q/k/v enabled is one PEFT LoRA of rank n·r; alpha grows by n to keep alpha/r.
                var ranks = modules.Select(m => (m.PeftPath, R: (int)Parameter(m.Module, "lora_A").shape[0], Alpha: AlphaOf(m.Module)))
                    .Concat(fused.Select(m => (m.PeftPath, R: m.Module.Groups * m.Module.Config.R, Alpha: (double)m.Module.Groups * m.Module.Config.Alpha)))
                    .ToArray();
                var dropout = modules.Select(m => m.Module.Config.Dropout).Concat(fused.Select(m => m.Module.Config.Dropout)).Distinct().ToArray();
                if (dropout.Length > 1)
                    throw new AdapterConfigException($"Adapter \"{name}\" uses several dropout rates ({string.Join(", ", dropout)}); PEFT has one lora_dropout.");
                var r = ranks.GroupBy(x => x.R).OrderByDescending(g => g.Count()).First().Key;
                var alpha = ranks.GroupBy(x => x.Alpha).OrderByDescending(g => g.Count()).First().Key;
                config = config with
                {
                    R = r,
                    LoraAlpha = alpha,
                    LoraDropout = dropout[0],
                    RankPattern = ranks.Where(x => x.R != r).Select(x => new KeyValuePair<string, int>(x.PeftPath, x.R)).ToArray(),
                    AlphaPattern = ranks.Where(x => !x.Alpha.Equals(alpha)).Select(x => new KeyValuePair<string, double>(x.PeftPath, x.Alpha)).ToArray(),
                };
                foreach (var (_, module, peftPath) in modules)
                {
                    weights[$"{PeftFiles.KeyPrefix}{peftPath}.lora_A.weight"] = Parameter(module, "lora_A").detach().clone();
                    weights[$"{PeftFiles.KeyPrefix}{peftPath}.lora_B.weight"] = Parameter(module, "lora_B").detach().clone();
                }
                foreach (var (_, module, peftPath) in fused)
                {
                    var (a, b) = DenseFusedLoRA(module);
                    weights[$"{PeftFiles.KeyPrefix}{peftPath}.lora_A.weight"] = a;
                    weights[$"{PeftFiles.KeyPrefix}{peftPath}.lora_B.weight"] = b;
                }
            }
            else
            {
                var feedForward = modules.Where(m => m.Module is InputScaledIA3Module).Select(m => m.PeftPath).ToArray();
                config = config with { FeedforwardModules = MinimalFeedForward(config, adapted, feedForward) };
                foreach (var (_, module, peftPath) in modules)
                {
                    var vector = module is InputScaledIA3Module input
                        ? input.Vector.detach().clone()
                        // PEFT has no alpha: fold adapters' IA3 alpha into the vector (×1 keeps the bits).
                        : module.Scaling == 1.0 ? Parameter(module, "lora_B").detach().clone() : (Parameter(module, "lora_B") * module.Scaling).detach();
                    weights[$"{PeftFiles.KeyPrefix}{peftPath}.ia3_l"] = vector;
                }
            }
        }
        return (config, weights);
    }

    /// <summary>
    /// The block-diagonal fused update as one PEFT pair: A = our A (n·r, in) as is, B (3·part, n·r) with each enabled
    /// part's block of our B in its own rows and rank columns and zeros elsewhere, so that B·A equals our update exactly.
    /// </summary>
    private static (Tensor A, Tensor B) DenseFusedLoRA(FusedQkvLoRA module)
    {
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var a = parameters["lora_A"];
        var b = parameters["lora_B"];
        var r = module.Config.R;
        var part = module.PartWidth;
        var dense = zeros([3 * part, module.Groups * r], b.dtype, b.device);
        var group = 0;
        for (var index = 0; index < 3; index++)
        {
            if (!module.Enabled[index]) continue;
            dense.narrow(0, index * part, part).narrow(1, group * r, r).copy_(b.narrow(0, group * part, part));
            group++;
        }
        return (a.detach().clone(), dense);
    }

    private static double AlphaOf(LoRALayer module) =>
        module.ScalingOverride is { } scale ? scale * module.Config.R : module.Config.Alpha;

    private static Tensor Parameter(LoRALayer module, string name) => module.named_parameters().First(p => p.name == name).parameter;

    /// <summary>
    /// The shortest suffix per adapted module (and a <c>layers_to_transform</c> filter when that shortens them) that
    /// PEFT's matching turns into exactly <paramref name="adapted"/>; full paths when nothing shorter is exact.
    /// </summary>
    private static (PeftModuleSelector Targets, IReadOnlyList<int>? Layers) MinimalTargets(PeftAdapterConfig config, string[] allNames, string[] adapted)
    {
        var wanted = adapted.ToHashSet(StringComparer.Ordinal);
        var layers = adapted.Select(p => PeftMatching.LayerIndex(p, null)).ToArray();
        IReadOnlyList<int>? layerFilter = layers.All(l => l is not null) ? layers.Select(l => l!.Value).Distinct().Order().ToArray() : null;
        (PeftModuleSelector, IReadOnlyList<int>?, int, int)? best = null;
        foreach (var filter in layerFilter is null ? new IReadOnlyList<int>?[] { null } : [null, layerFilter])
        {
            var suffixes = adapted.Select(p => ShortestSuffix(p, allNames, wanted, filter)).Distinct(StringComparer.Ordinal).ToArray();
            var selector = PeftModuleSelector.Of(suffixes);
            if (!Selects(config with { TargetModules = selector, LayersToTransform = filter }, allNames, wanted)) continue;
            var score = (suffixes.Length, suffixes.Sum(s => s.Split('.').Length));
            if (best is null || score.Item1 < best.Value.Item3 || (score.Item1 == best.Value.Item3 && score.Item2 < best.Value.Item4))
                best = (selector, filter, score.Item1, score.Item2);
        }
        return best is { } b ? (b.Item1, b.Item2) : (PeftModuleSelector.Of(adapted), null);
    }

    private static string ShortestSuffix(string path, string[] allNames, HashSet<string> wanted, IReadOnlyList<int>? filter)
    {
        var segments = path.Split('.');
        for (var k = 1; k < segments.Length; k++)
        {
            var suffix = string.Join('.', segments.TakeLast(k));
            var clean = allNames.All(n =>
                !(n == suffix || n.EndsWith("." + suffix, StringComparison.Ordinal))
                || (filter is not null && !(PeftMatching.LayerIndex(n, null) is { } i && filter.Contains(i)))
                || wanted.Contains(n));
            if (clean) return suffix;
        }
        return path;
    }

    private static PeftModuleSelector MinimalFeedForward(PeftAdapterConfig config, string[] adapted, string[] feedForward)
    {
        if (feedForward.Length == 0) return PeftModuleSelector.Of();
        var wanted = feedForward.ToHashSet(StringComparer.Ordinal);
        var depth = feedForward.Max(p => p.Split('.').Length);
        for (var k = 1; k <= depth; k++)
        {
            var selector = PeftModuleSelector.Of(feedForward.Select(p => string.Join('.', p.Split('.').TakeLast(k))).Distinct(StringComparer.Ordinal).ToArray());
            var probe = config with { FeedforwardModules = selector };
            if (adapted.All(p => PeftMatching.IsFeedForward(probe, p) == wanted.Contains(p))) return selector;
        }
        return PeftModuleSelector.Of(feedForward);
    }

    private static bool Selects(PeftAdapterConfig config, string[] allNames, HashSet<string> wanted)
    {
        var count = 0;
        foreach (var path in allNames)
        {
            if (!PeftMatching.IsTargeted(config, path)) continue;
            if (!wanted.Contains(path)) return false;
            count++;
        }
        return count == wanted.Count;
    }
}
