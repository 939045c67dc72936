using System.Text.Json.Nodes;
using Adapters.Core.Composition;
using Adapters.Core.Configuration;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Gpt2;
using Adapters.Core.Models.Llama;
using Adapters.Core.Peft;
using Adapters.Core.Peft.PromptLearning;
using Adapters.Core.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Goldens;

/// <summary>
/// Does what fixtures/python-goldens/README.md says Python did for a case, with this library: load the model from
/// <c>models/&lt;m&gt;</c>, load the saved folders as Python's <c>load_adapter</c> / <c>load_adapter_fusion</c> /
/// <c>PeftModel.from_pretrained</c> would, activate, run an eval forward on the README's inputs, and compare.
/// </summary>
internal static class GoldenRunner
{
    public static GoldenOutcome Run(GoldenCase c)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        try
        {
            if (c.PythonRefused)
            {
                TryWhatPythonRefused(c);
                return new GoldenOutcome(OutcomeKind.Passed, "accepted what Python refused");
            }
            var checks = new GoldenChecks();
            switch (c.Kind)
            {
                case "model": Model(c, checks); break;
                case "adapter": Adapter(c, checks); break;
                case "composition": Composition(c, checks); break;
                case "head": Head(c, checks); break;
                case "summary": Summary(c, checks); break;
                case "peft": Peft(c, checks); break;
                default: throw new InvalidDataException($"unknown case kind {c.Kind}");
            }
            return checks.Outcome();
        }
        catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
        {
            return GoldenOutcome.FromException(ex);
        }
    }

    // models/<m> through the library's folder loader (HF save_pretrained of the bare model), or peft/models/<m>.
    private static void Model(GoldenCase c, GoldenChecks checks)
    {
        var golden = GoldenFile.Read(c.PathOf("golden.json"));
        using var model = ModelFactory.Load(c.PathOf());
        model.Module.eval();
        checks.Outputs("forward", Forward(model, golden, bare: c.Generator != "peft"), golden.Outputs("outputs")!);
        if (golden["num_parameters"] is { } count)
            checks.Equal("parameters", model.Adapters.parameters().Sum(p => p.numel()), (long)count);
    }

    private static void Adapter(GoldenCase c, GoldenChecks checks)
    {
        var golden = GoldenFile.Read(c.PathOf("golden.json"));
        var name = (string)golden["adapter_name"]!;
        // Where save/load does not reproduce the in-memory adapter (Compacter's unsaved phm_rule, DiReFT), Python's
        // load_adapter gives reload_outputs: that is what loading the folder must give.
        // Compacter folders from adapters 1.1 lack the shared phm_rule (the case keeps it in shared_parameters.safetensors):
        // Python's reload draws a fresh rule, which no other RNG reproduces. So the folder alone must report exactly that
        // rule missing (Python warns and keeps the fresh one), and the folder plus the saved rule must give Python's outputs.
        var sharedRule = c.PathOf("shared_parameters.safetensors");
        var withSharedRule = File.Exists(sharedRule);
        var expected = withSharedRule ? golden.Outputs("outputs")! : golden.Outputs("reload_outputs") ?? golden.Outputs("outputs")!;
        foreach (var variant in Existing(c, "adapter", "adapter_st"))
        {
            using var model = BareModel(c.Model, checks);
            var result = model.Adapters.LoadAdapter(c.PathOf(variant), setActive: true);
            if (withSharedRule)
            {
                using var shared = TensorFiles.Load(sharedRule);
                checks.Equal($"{variant} missing keys", string.Join(", ", result.MissingKeys.Select(k => k[(k.IndexOf("shared_parameters.", StringComparison.Ordinal) is var i and >= 0 ? i : 0)..]).Order(StringComparer.Ordinal)),
                    string.Join(", ", shared.Keys.Order(StringComparer.Ordinal)));
                checks.Keys($"{variant} unexpected", [], result.UnexpectedKeys);
                model.Adapters.DeleteAdapter(name);
                var file = Path.Combine(c.PathOf(variant), variant == "adapter" ? AdapterFolderFiles.AdapterTorchFile : AdapterFolderFiles.AdapterSafetensorsFile);
                using var weights = TensorFiles.Load(file);
                var all = weights.Concat(shared).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                result = model.Adapters.LoadAdapterStateDict(AdapterConfigFile.Read(Path.Combine(c.PathOf(variant), AdapterConfigFile.FileName)), all, setActive: true);
            }
            checks.Keys(variant, result.MissingKeys, result.UnexpectedKeys);
            checks.Equal($"{variant} name", result.Name, name);
            model.Module.eval();
            checks.Outputs(variant, Forward(model, golden, bare: true), expected);

            model.Adapters.TrainAdapter(name);
            checks.Equal($"{variant} trainable parameters", Trainable(model.Adapters), (long)golden["trainable_parameters"]!);
            SummaryRows(variant, model.Adapters, golden["adapter_summary_rows"]!.AsArray(), checks);

            if (golden.Outputs("merged_outputs") is { } merged)
            {
                model.Module.eval();
                model.Adapters.MergeAdapter(name);
                checks.Outputs($"{variant} merged", Forward(model, golden, bare: true), merged);
            }
        }
    }

    private static void Composition(GoldenCase c, GoldenChecks checks)
    {
        var golden = GoldenFile.Read(c.PathOf("golden.json"));
        var letters = golden["adapters"]!.AsObject().Select(kv => kv.Key).ToArray();
        var fusion = (string?)golden["fusion"];
        var setup = AdapterCompositionBlock.FromJson(golden["setup_dict"], golden.Path);
        // One run preferring the .bin folders and one preferring the safetensors ones, where the copy kept both.
        var names = fusion is null ? letters : [.. letters, "fusion"];
        var binFirst = names.Select(n => Prefer(c, n, n + "_st")).ToArray();
        var safetensorsFirst = names.Select(n => Prefer(c, n + "_st", n)).ToArray();
        foreach (var folders in binFirst.SequenceEqual(safetensorsFirst) ? [binFirst] : new[] { binFirst, safetensorsFirst })
        {
            var label = string.Join("+", folders);
            using var model = BareModel(c.Model, checks);
            foreach (var folder in folders.Take(letters.Length))
            {
                var result = model.Adapters.LoadAdapter(c.PathOf(folder));
                checks.Keys($"{label}: {folder}", result.MissingKeys, result.UnexpectedKeys);
            }
            if (fusion is not null)
            {
                var result = model.Adapters.LoadAdapterFusion(c.PathOf(folders[^1]));
                checks.Keys($"{label}: {folders[^1]}", result.MissingKeys, result.UnexpectedKeys);
            }
            model.Adapters.SetActiveAdapters(setup);
            model.Module.eval();
            checks.Outputs($"{label} {setup}", Forward(model, golden, bare: true), golden.Outputs("outputs")!);
        }
    }

    private static void Head(GoldenCase c, GoldenChecks checks)
    {
        var golden = GoldenFile.Read(c.PathOf("golden.json"));
        foreach (var variant in Existing(c, "adapter", "adapter_st"))
        {
            using var model = BareModel(c.Model, checks);
            var flex = new FlexHeadModel(model.Adapters);
            var result = flex.LoadAdapter(c.PathOf(variant), setActive: true);
            checks.Keys(variant, result.MissingKeys, result.UnexpectedKeys);
            flex.eval();
            using var ids = golden.InputIds();
            using var mask = golden.AttentionMask();
            checks.Outputs(variant, new Dictionary<string, Tensor> { ["logits"] = flex.Forward(ids, mask) }, golden.Outputs("outputs")!);
        }
    }

    // adapter_summary() on roberta-base-sized models: every alias's #param, %param and architecture, and the full model.
    private static void Summary(GoldenCase c, GoldenChecks checks)
    {
        var file = GoldenCase.ParsePythonJson(c.PathOf("roberta-base.json"));
        var entry = file["configs"]![c.Name]!;
        var config = c.Name.StartsWith("RobertaConfig()", StringComparison.Ordinal)
            ? """{"model_type": "roberta"}"""
            : file["config_json"]!.ToJsonString();
        var (built, last) = SharedSummaryModel(config, c.Name);
        try
        {
            SummaryRows(c, built, entry, checks);
        }
        finally
        {
            if (last) built.Dispose();
        }
    }

    private static void SummaryRows(GoldenCase c, PretrainedModel built, JsonNode entry, GoldenChecks checks)
    {
        // Python's RobertaAdapterModel adds a heads container, which adapter_summary() does not count: its rows are
        // the bare model's, as ours are for the encoder inside a FlexHeadModel.
        var model = built.Adapters;
        var basePython = (long)entry["base_model_parameters"]!;
        checks.Equal("base parameters", model.AdapterSummaryRows().Single().ParameterCount, basePython);
        foreach (var (alias, row) in entry["rows"]!.AsObject())
        {
            model.AddAdapter("x", alias);
            IReadOnlyList<AdapterSummaryRow> rows;
            try
            {
                rows = model.AdapterSummaryRows();
            }
            finally
            {
                model.DeleteAdapter("x");
            }
            checks.Equal($"{alias} #param", rows[0].ParameterCount, (long)row!["#param"]!);
            checks.Close($"{alias} %param", rows[0].ParameterPercent, (double)row["%param"]!, 1e-9);
            checks.Equal($"{alias} architecture", rows[0].Architecture, (string?)row["architecture"]);
            checks.Equal($"{alias} full model", rows[^1].ParameterCount, (long)row["full_model"]!);
        }
    }

    // roberta-base is 125M parameters: build it once for the two cases on roberta-base.json and free it after the
    // second. (The meta device would be cheaper, but LoReFT's orthogonal init has no meta kernel.)
    private static readonly Dictionary<string, (PretrainedModel Model, int Uses)> s_summaryModels = new(StringComparer.Ordinal);

    private static (PretrainedModel Model, bool Last) SharedSummaryModel(string config, string caseName)
    {
        lock (s_summaryModels)
        {
            var uses = GoldenCase.All.Values.Count(c => c.Kind == "summary" && c.Name.Split('/')[0] == caseName.Split('/')[0]);
            if (!s_summaryModels.TryGetValue(config, out var entry))
            {
                entry = (ModelFactory.FromConfig(config, $"summaries/roberta-base.json {caseName}"), uses);
                // It outlives this case's dispose scope.
                foreach (var parameter in entry.Model.Module.parameters()) parameter.DetachFromDisposeScope();
                foreach (var buffer in entry.Model.Module.buffers()) buffer.DetachFromDisposeScope();
            }
            entry.Uses--;
            if (entry.Uses == 0) s_summaryModels.Remove(config);
            else s_summaryModels[config] = entry;
            return (entry.Model, entry.Uses == 0);
        }
    }

    private static void Peft(GoldenCase c, GoldenChecks checks)
    {
        var golden = GoldenFile.Read(c.PathOf("golden.json"));
        if (PeftMethodRegistry.Find((string)golden["peft_config"]!["peft_type"]!) is Adapters.Core.Peft.Tuners.PeftTunerMethod)
        {
            PeftTuner(c, golden, checks);
            return;
        }
        foreach (var variant in Existing(c, "adapter", "adapter_bin"))
        {
            using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", c.Model));
            var result = model.Adapters.LoadPeftAdapter(c.PathOf(variant), "peft", new PeftImportOptions { SetActive = true });
            checks.Keys(variant, result.MissingKeys, result.UnexpectedKeys);
            if (model.Adapters.GetAdapterConfig(result.Name) is PeftPromptLearningConfig promptLearning)
            {
                // Python counted the model get_peft_model built. A saved prompt-learning folder holds the encoder's output
                // only (the prefix projection is baked in), so count a new adapter of the same config in training mode.
                using var fresh = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", c.Model));
                fresh.Adapters.AddPeftPromptLearningAdapter("fresh", promptLearning);
                fresh.Adapters.TrainAdapter("fresh");
                checks.Equal($"{variant} trainable parameters", Trainable(fresh.Adapters), (long)golden["trainable_parameters"]!);
            }
            else
            {
                model.Adapters.TrainAdapter(result.Name);
                checks.Equal($"{variant} trainable parameters", Trainable(model.Adapters), (long)golden["trainable_parameters"]!);
            }
            model.Module.eval();
            checks.Outputs(variant, Forward(model, golden, bare: false), golden.Outputs("outputs")!);
            if (golden.Outputs("merged_outputs") is { } merged)
            {
                model.Adapters.MergeAdapter(result.Name);
                checks.Outputs($"{variant} merged", Forward(model, golden, bare: false), merged);
            }
        }
    }

    // PeftModel.from_pretrained on the transformers model, as Python did: the tuner wraps its layers in place.
    private static void PeftTuner(GoldenCase c, GoldenFile golden, GoldenChecks checks)
    {
        foreach (var variant in Existing(c, "adapter", "adapter_bin"))
        {
            using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", c.Model));
            var peft = new Adapters.Core.Peft.Tuners.PeftTunerModel(model);
            var result = peft.LoadAdapter(c.PathOf(variant), "default");
            checks.Keys(variant, result.MissingKeys, result.UnexpectedKeys);
            peft.MarkOnlyAdapterTrainable(result.Name);
            checks.Equal($"{variant} trainable parameters", peft.TrainableParameterCount(), (long)golden["trainable_parameters"]!);
            model.Module.eval();
            checks.Outputs(variant, Forward(model, golden, bare: false), golden.Outputs("outputs")!);
            if (golden.Outputs("merged_outputs") is { } merged)
            {
                peft.Merge(result.Name);
                checks.Outputs($"{variant} merged", Forward(model, golden, bare: false), merged);
            }
        }
    }

    /// <summary>Repeats what Python refused; returns only when we accept it.</summary>
    private static void TryWhatPythonRefused(GoldenCase c)
    {
        switch (c.Kind)
        {
            case "adapter":
            {
                // compacter / compacter++ defaults at hidden 64, prompt_tuning on decoders.
                using var model = BareModel(c.Model, new GoldenChecks());
                model.Adapters.AddAdapter("x", c.Name, setActive: true);
                model.Module.eval();
                Forward(model, GoldenFile.Read(Path.Combine(GoldenCase.Root, "models", c.Model, "golden.json")), bare: true);
                break;
            }
            case "composition":
            {
                // The same case ran on Llama; take its adapters and setup.
                var golden = GoldenFile.Read(Path.Combine(GoldenCase.Root, "compositions", "llama", c.Name, "golden.json"));
                using var model = BareModel(c.Model, new GoldenChecks());
                foreach (var (letter, alias) in golden["adapters"]!.AsObject()) model.Adapters.AddAdapter(letter, (string)alias!);
                model.Adapters.SetActiveAdapters(AdapterCompositionBlock.FromJson(golden["setup_dict"], golden.Path));
                model.Module.eval();
                Forward(model, golden, bare: true);
                break;
            }
            case "peft":
            {
                // Python would not create the method on this model; load the Llama folder of the same method here.
                using var model = ModelFactory.Load(Path.Combine(GoldenCase.Root, "peft", "models", c.Model));
                model.Adapters.LoadPeftAdapter(Path.Combine(GoldenCase.Root, "peft", "llama", c.Name, "adapter"), "peft", new PeftImportOptions { SetActive = true });
                break;
            }
            default:
                throw new InvalidDataException($"{c.Id}: Python refused a {c.Kind} case, which the runner cannot repeat.");
        }
    }

    /// <summary>
    /// The bare model class Python used (BertModel, RobertaModel, GPT2Model, LlamaModel) with models/&lt;m&gt;'s weights,
    /// loaded as <c>from_pretrained</c> does; the decoder's own <c>*ForCausalLM</c> wrapper is built but not run.
    /// </summary>
    private static PretrainedModel BareModel(string model, GoldenChecks checks)
    {
        var folder = Path.Combine(GoldenCase.Root, "models", model);
        var built = ModelFactory.FromConfigFile(Path.Combine(folder, "config.json"));
        using var weights = TensorFiles.Load(Path.Combine(folder, "model.safetensors"));
        var (missing, unexpected) = built.Adapters.LoadModelStateDict(weights);
        checks.Keys("base model", missing, unexpected);
        built.Module.eval();
        return built;
    }

    private static Dictionary<string, Tensor> Forward(PretrainedModel model, GoldenFile golden, bool bare)
    {
        using var ids = golden.InputIds();
        using var mask = golden.AttentionMask();
        if (!bare && model.CausalLM is { } lm) return new() { ["logits"] = lm.Forward(ids, attentionMask: mask).Logits };
        return model.Adapters switch
        {
            ITextEncoder encoder => Encoded(encoder.Encode(ids, mask)),
            Gpt2Model gpt2 => new() { ["last_hidden_state"] = gpt2.Forward(ids, attentionMask: mask) },
            LlamaModel llama => new() { ["last_hidden_state"] = llama.Forward(ids, attentionMask: mask) },
            var other => throw new NotSupportedException($"{other.GetType().Name} has no forward in the golden runner."),
        };
    }

    private static Dictionary<string, Tensor> Encoded(EncoderOutput output)
    {
        var outputs = new Dictionary<string, Tensor> { ["last_hidden_state"] = output.LastHiddenState };
        if (output.PoolerOutput is { } pooled) outputs["pooler_output"] = pooled;
        return outputs;
    }

    private static long Trainable(AdapterModel model) => model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

    private static void SummaryRows(string label, AdapterModel model, JsonArray python, GoldenChecks checks)
    {
        var ours = model.AdapterSummaryRows();
        checks.Equal($"{label} summary rows", ours.Count, python.Count);
        foreach (var (row, expected) in ours.Zip(python))
        {
            checks.Equal($"{label} summary name", row.Name, (string)expected!["name"]!);
            checks.Equal($"{label} {row.Name} #param", row.ParameterCount, (long)expected["#param"]!);
            checks.Close($"{label} {row.Name} %param", row.ParameterPercent, (double)expected["%param"]!, 1e-9);
            checks.Equal($"{label} {row.Name} train", row.Train, (bool)expected["train"]!);
            if (expected["architecture"] is { } architecture) checks.Equal($"{label} {row.Name} architecture", row.Architecture, (string)architecture!);
            if (expected["active"] is { } active) checks.Equal($"{label} {row.Name} active", row.Active, (bool?)active);
        }
    }

    private static IEnumerable<string> Existing(GoldenCase c, params string[] variants) =>
        variants.Where(v => Directory.Exists(c.PathOf(v)));

    private static string Prefer(GoldenCase c, string preferred, string fallback) =>
        Directory.Exists(c.PathOf(preferred)) ? preferred : fallback;
}
