using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Serialization;

namespace Adapters.Core.Peft;

/// <summary>
/// A PEFT <c>adapter_config.json</c> for the two tuners this port maps onto its own adapters: <c>LORA</c>
/// (<c>LoraConfig</c>) and <c>IA3</c> (<c>IA3Config</c>). Fields keep PEFT's names and defaults; the document read is
/// kept in <see cref="Document"/> so fields this port does not model are not lost.
/// </summary>
public sealed record PeftAdapterConfig
{
    /// <summary>PEFT's config file name.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary><c>peft_type</c>: "LORA" or "IA3".</summary>
    public string PeftType { get; init; } = "LORA";
    /// <summary><c>task_type</c>, e.g. "SEQ_CLS", or null.</summary>
    public string? TaskType { get; init; }
    /// <summary><c>base_model_name_or_path</c>.</summary>
    public string? BaseModelNameOrPath { get; init; }
    /// <summary><c>revision</c> of the base model.</summary>
    public string? Revision { get; init; }
    /// <summary><c>inference_mode</c>.</summary>
    public bool InferenceMode { get; init; } = true;
    /// <summary><c>r</c> (LoRA).</summary>
    public int R { get; init; } = 8;
    /// <summary><c>lora_alpha</c> (LoRA); a float in PEFT.</summary>
    public double LoraAlpha { get; init; } = 8;
    /// <summary><c>lora_dropout</c> (LoRA).</summary>
    public double LoraDropout { get; init; }
    /// <summary><c>fan_in_fan_out</c>: the base layer stores (in, out) weights (GPT-2's Conv1D).</summary>
    public bool FanInFanOut { get; init; }
    /// <summary><c>bias</c>: "none", "all" or "lora_only" (LoRA).</summary>
    public string Bias { get; init; } = "none";
    /// <summary><c>use_rslora</c>: scale by lora_alpha/√r instead of lora_alpha/r.</summary>
    public bool UseRslora { get; init; }
    /// <summary><c>use_dora</c>.</summary>
    public bool UseDora { get; init; }
    /// <summary><c>target_modules</c>.</summary>
    public PeftModuleSelector? TargetModules { get; init; }
    /// <summary><c>exclude_modules</c>.</summary>
    public PeftModuleSelector? ExcludeModules { get; init; }
    /// <summary><c>feedforward_modules</c> (IA³): these scale the layer input instead of its output.</summary>
    public PeftModuleSelector? FeedforwardModules { get; init; }
    /// <summary><c>modules_to_save</c>: modules trained and saved whole (heads).</summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }
    /// <summary><c>layers_to_transform</c>.</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }
    /// <summary><c>layers_pattern</c>.</summary>
    public IReadOnlyList<string>? LayersPattern { get; init; }
    /// <summary><c>rank_pattern</c>, in file order (PEFT takes the first matching key).</summary>
    public IReadOnlyList<KeyValuePair<string, int>> RankPattern { get; init; } = [];
    /// <summary><c>alpha_pattern</c>, in file order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> AlphaPattern { get; init; } = [];
    /// <summary>The document as read (null for a config built in code).</summary>
    public JsonObject? Document { get; init; }

    /// <summary>Whether this is a LoRA config.</summary>
    public bool IsLoRA => PeftType == "LORA";

    /// <summary>The rank PEFT gives the module at <paramref name="path"/> (<c>rank_pattern</c>, else <c>r</c>).</summary>
    public int RankFor(string path) =>
        PeftMatching.PatternKey(RankPattern.Select(p => p.Key), path) is { } key ? RankPattern.First(p => p.Key == key).Value : R;

    /// <summary>The alpha PEFT gives the module at <paramref name="path"/> (<c>alpha_pattern</c>, else <c>lora_alpha</c>).</summary>
    public double AlphaFor(string path) =>
        PeftMatching.PatternKey(AlphaPattern.Select(p => p.Key), path) is { } key ? AlphaPattern.First(p => p.Key == key).Value : LoraAlpha;

    /// <summary>PEFT's LoRA scaling for the module at <paramref name="path"/>: alpha/r, or alpha/√r with rsLoRA.</summary>
    public double ScalingFor(string path)
    {
        var r = RankFor(path);
        var alpha = AlphaFor(path);
        return UseRslora ? alpha / Math.Sqrt(r) : alpha / r;
    }

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="AdapterConfigException">The file is not JSON, or a field has the wrong type, or the tuner is not LORA or IA3.</exception>
    public static PeftAdapterConfig Read(string path) => Parse(File.ReadAllText(path, Encoding.UTF8), path);

    /// <summary>Parses a PEFT config document; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="AdapterConfigException">See <see cref="Read"/>.</exception>
    public static PeftAdapterConfig Parse(string json, string source = FileName)
    {
        if (ConfigJson.Parse(json, source) is not JsonObject doc) throw new AdapterConfigException($"{source}: expected a JSON object.");
        var peftType = OptionalString(doc, "peft_type", source)
            ?? throw new AdapterConfigException($"{source}: \"peft_type\" is missing; this is not a PEFT adapter config (an adapters config has \"config\" and \"version\").");
        if (peftType is not ("LORA" or "IA3"))
            throw new AdapterConfigException($"{source}: peft_type \"{peftType}\" cannot be mapped onto adapters; only LORA and IA3 can.");
        var config = new PeftAdapterConfig
        {
            PeftType = peftType,
            TaskType = OptionalString(doc, "task_type", source),
            BaseModelNameOrPath = OptionalString(doc, "base_model_name_or_path", source),
            Revision = OptionalString(doc, "revision", source),
            InferenceMode = doc["inference_mode"] is { } im ? ConfigValues.ReadBool(im, "inference_mode") : true,
            R = doc["r"] is { } r ? ConfigValues.ReadInt(r, "r") : 8,
            LoraAlpha = doc["lora_alpha"] is { } a ? ConfigValues.ReadFloat(a, "lora_alpha") : 8,
            LoraDropout = doc["lora_dropout"] is { } d ? ConfigValues.ReadFloat(d, "lora_dropout") : 0,
            FanInFanOut = doc["fan_in_fan_out"] is { } f && ConfigValues.ReadBool(f, "fan_in_fan_out"),
            Bias = OptionalString(doc, "bias", source) ?? "none",
            UseRslora = doc["use_rslora"] is { } rs && ConfigValues.ReadBool(rs, "use_rslora"),
            UseDora = doc["use_dora"] is { } dora && ConfigValues.ReadBool(dora, "use_dora"),
            TargetModules = PeftModuleSelector.Read(doc["target_modules"], "target_modules", source),
            ExcludeModules = PeftModuleSelector.Read(doc["exclude_modules"], "exclude_modules", source),
            FeedforwardModules = PeftModuleSelector.Read(doc["feedforward_modules"], "feedforward_modules", source),
            ModulesToSave = doc["modules_to_save"] is { } m ? ConfigValues.ReadStringList(m, "modules_to_save") : null,
            LayersToTransform = doc["layers_to_transform"] switch
            {
                null => null,
                JsonValue single => [ConfigValues.ReadInt(single, "layers_to_transform")],
                var list => ConfigValues.ReadIntList(list, "layers_to_transform"),
            },
            LayersPattern = doc["layers_pattern"] switch
            {
                null => null,
                JsonValue single => [ConfigValues.ReadString(single, "layers_pattern")],
                var list => ConfigValues.ReadStringList(list, "layers_pattern"),
            },
            RankPattern = Pattern(doc, "rank_pattern", source, (n, f) => ConfigValues.ReadInt(n, f)),
            AlphaPattern = Pattern(doc, "alpha_pattern", source, (n, f) => ConfigValues.ReadFloat(n, f)),
            Document = doc,
        };
        if (config.Bias is not ("none" or "all" or "lora_only"))
            throw new AdapterConfigException($"{source}: bias \"{config.Bias}\" is not one of none, all, lora_only.");
        return config;
    }

    /// <summary>
    /// The document PEFT's <c>save_pretrained</c> writes for this config, limited to fields every PEFT release since
    /// 0.9 accepts (older releases reject unknown keys), so PEFT loads it with default arguments.
    /// </summary>
    public JsonObject ToJson()
    {
        var doc = new JsonObject
        {
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["fan_in_fan_out"] = FanInFanOut,
            ["inference_mode"] = InferenceMode,
            ["modules_to_save"] = ModulesToSave is null ? null : ConfigValues.StringList(ModulesToSave),
            ["peft_type"] = PeftType,
            ["revision"] = Revision,
            ["target_modules"] = TargetModules?.ToJson(),
            ["task_type"] = TaskType,
        };
        if (IsLoRA)
        {
            var alpha = new JsonObject();
            foreach (var (key, value) in AlphaPattern) alpha[key] = Number(value);
            var rank = new JsonObject();
            foreach (var (key, value) in RankPattern) rank[key] = value;
            doc["alpha_pattern"] = alpha;
            doc["bias"] = Bias;
            doc["init_lora_weights"] = true;
            doc["layers_pattern"] = LayersPattern is null ? null : ConfigValues.StringList(LayersPattern);
            doc["layers_to_transform"] = LayersToTransform is null ? null : ConfigValues.IntList(LayersToTransform);
            doc["loftq_config"] = new JsonObject();
            doc["lora_alpha"] = Number(LoraAlpha);
            doc["lora_dropout"] = LoraDropout;
            doc["megatron_config"] = null;
            doc["megatron_core"] = "megatron.core";
            doc["r"] = R;
            doc["rank_pattern"] = rank;
            doc["use_dora"] = UseDora;
            doc["use_rslora"] = UseRslora;
        }
        else
        {
            doc["feedforward_modules"] = FeedforwardModules?.ToJson() ?? new JsonArray();
            doc["init_ia3_weights"] = true;
        }
        return doc;
    }

    /// <summary>Writes the config as PEFT does (<c>json.dumps(indent=2, sort_keys=True)</c>), atomically.</summary>
    public void Write(string path)
    {
        var text = PythonJson.Serialize(ToJson());
        AtomicFile.Write(path, stream => stream.Write(new UTF8Encoding(false).GetBytes(text)));
    }

    // PEFT writes lora_alpha as the int the user gave; keep whole numbers ints so the file reads as Python's.
    private static JsonNode Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);

    private static string? OptionalString(JsonObject doc, string field, string source)
    {
        var node = doc[field];
        if (node is null) return null;
        return node is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw new AdapterConfigException($"{source}: \"{field}\" must be a string or null, found {ConfigValues.Describe(node)}.");
    }

    private static IReadOnlyList<KeyValuePair<string, T>> Pattern<T>(JsonObject doc, string field, string source, Func<JsonNode, string, T> read)
    {
        switch (doc[field])
        {
            case null: return [];
            case JsonObject map:
                return map.Select(p => new KeyValuePair<string, T>(p.Key,
                    read(p.Value ?? throw new AdapterConfigException($"{source}: \"{field}\" entry \"{p.Key}\" is null."), string.Create(CultureInfo.InvariantCulture, $"{field}.{p.Key}")))).ToArray();
            case var other:
                throw new AdapterConfigException($"{source}: \"{field}\" must be an object mapping module patterns to values, found {ConfigValues.Describe(other)}.");
        }
    }
}
