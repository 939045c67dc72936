using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Adapters.Core;
using Adapters.Core.Configuration;
using Adapters.Core.Generation;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;
using Adapters.Hub.Cli.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub generate --model DIR [--adapter DIR] --prompt TEXT [--max-new-tokens N] [--temperature T]
/// [--top-k K] [--top-p P] [--seed S] [--json]</c>: loads a GPT-2 / Llama / Mistral / Qwen2 folder, optionally an
/// adapter (active, or merged with <c>--merge</c>) of <c>adapters</c> or of PEFT, and continues the prompt.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A Hugging Face model folder: config.json, weights, and tokenizer.json, vocab.json+merges.txt or tokenizer.model.", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "A saved adapter folder to load and activate: adapters' (adapter_config.json plus adapter weights) or PEFT's (adapter_config.json with peft_type plus adapter_model.safetensors or .bin)." };
        var merge = new Option<bool>("--merge") { Description = "Merge the (LoRA-family) adapter into the weights before generating." };
        var prompt = new Option<string?>("--prompt") { Description = "The text to continue." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "Comma-separated token ids instead of --prompt (for folders without a readable tokenizer)." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "The most tokens to generate.", DefaultValueFactory = _ => 20 };
        var temperature = new Option<double?>("--temperature") { Description = "Sample with this temperature; greedy decoding when no sampling option is given." };
        var topK = new Option<int?>("--top-k") { Description = "Sample from the k most likely tokens." };
        var topP = new Option<double?>("--top-p") { Description = "Sample from the smallest set of tokens with this probability mass." };
        var penalty = new Option<double>("--repetition-penalty") { Description = "Penalise tokens already in the sequence (1 = off).", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for sampling, for reproducible output." };
        var stop = new Option<string[]>("--stop") { Description = "Stop once the continuation contains this text. Repeatable.", AllowMultipleArgumentsPerToken = false };
        var dtype = new Option<string?>("--dtype") { Description = "Load the weights as float32, bfloat16 or float16 (default: as stored)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var quantize = QuantizeOption.Create();
        var command = new Command("generate", """
            Continue a prompt with a decoder model (GPT-2, Llama, Mistral, Qwen2), optionally with an adapter.
            """)
        {
            model, adapter, merge, prompt, promptIds, maxNew, temperature, topK, topP, penalty, seed, stop, dtype, quantize, json,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var folder = parseResult.GetValue(model)!;
            if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Model folder {folder} does not exist.");
            var text = parseResult.GetValue(prompt);
            var ids = parseResult.GetValue(promptIds);
            if ((text is null) == (ids is null)) throw new ArgumentException("Give exactly one of --prompt and --prompt-ids.");
            TorchRuntime.Initialize();
            using var tokenizer = ModelTokenizer.Load(folder);
            if (text is not null && tokenizer is null)
                throw new InvalidDataException($"{folder} has no tokenizer.json, vocab.json+merges.txt, tokenizer.model or vocab.txt; pass --prompt-ids instead of --prompt.");
            var stops = parseResult.GetValue(stop) ?? [];
            if (stops.Length > 0 && tokenizer is null) throw new ArgumentException("--stop needs a tokenizer in the model folder.");
            var promptTokens = text is not null ? tokenizer!.Encode(text).Select(i => (long)i).ToArray() : ParseIds(ids!);
            if (promptTokens.Length == 0) throw new ArgumentException("The prompt has no tokens.");

            using var built = ModelFactory.Load(folder, ParseDtype(parseResult.GetValue(dtype)));
            var lm = built.CausalLM
                ?? throw new AdapterConfigException($"{folder}: model_type \"{built.ModelType}\" is not a decoder; generate needs one of {string.Join(", ", DecoderModels.ModelTypes)}.");
            string? adapterName = null;
            string? peftType = null;
            if (parseResult.GetValue(adapter) is { } adapterFolder)
            {
                if (PeftPretrainedModel.IsTunerFolder(adapterFolder))
                {
                    // A PEFT folder runs through PEFT's tuner on the causal LM, as PeftModelForCausalLM does.
                    var config = PeftConfig.Read(Path.Combine(adapterFolder, PeftConfig.FileName));
                    if (config.TaskType is PeftTaskTypes.SequenceClassification or PeftTaskTypes.TokenClassification)
                        throw new AdapterConfigException($"{config.Source}: task_type \"{config.TaskType}\" is a classification adapter; generate needs a causal-LM adapter (task_type CAUSAL_LM or none).");
                    var peft = new PeftTunerModel(built);
                    adapterName = peft.LoadAdapter(adapterFolder).Name;
                    peftType = config.PeftType;
                    if (parseResult.GetValue(merge)) peft.Merge(adapterName);
                }
                else
                {
                    adapterName = lm.BaseModel.LoadAdapter(adapterFolder, setActive: true).Name;
                    if (parseResult.GetValue(merge)) lm.BaseModel.MergeAdapter(adapterName);
                }
            }
            // After a merge, so that --merge --quantize bakes the adapter in and then quantizes (merging into 4 bits is refused).
            if (QuantizeOption.Parse(parseResult.GetValue(quantize)) is { } quantization) lm.BaseModel.QuantizeBaseWeights(quantization);
            var sampling = parseResult.GetValue(temperature) is not null || parseResult.GetValue(topK) is not null || parseResult.GetValue(topP) is not null;
            var options = new GenerationOptions
            {
                MaxNewTokens = parseResult.GetValue(maxNew),
                DoSample = sampling,
                Temperature = parseResult.GetValue(temperature) ?? 1.0,
                TopK = parseResult.GetValue(topK) ?? 0,
                TopP = parseResult.GetValue(topP) ?? 1.0,
                RepetitionPenalty = parseResult.GetValue(penalty),
                Seed = parseResult.GetValue(seed),
                StopStrings = stops,
                Decode = tokenizer is null ? null : tokenizer.Decode,
            };
            using var input = tensor(promptTokens, ScalarType.Int64).unsqueeze(0);
            var clock = Stopwatch.StartNew();
            var result = TextGenerator.Generate(lm, input, options);
            clock.Stop();
            using var sequences = result.Sequences;
            var generated = result.NewTokens[0];
            var completion = tokenizer?.Decode(generated);
            var tokensPerSecond = generated.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    modelType = lm.BaseModel.Interface.ModelType,
                    adapter = adapterName,
                    peftType,
                    promptTokens,
                    tokens = generated,
                    completion,
                    finishReason = result.FinishReasons[0].ToString(),
                    tokensPerSecond = Math.Round(tokensPerSecond, 2),
                }, CliJson.Options));
            }
            else
            {
                output.WriteLine(completion is null ? string.Join(",", generated) : (text ?? string.Empty) + completion);
                parseResult.InvocationConfiguration.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{generated.Count} tokens in {clock.Elapsed.TotalSeconds:F2} s ({tokensPerSecond:F1} tokens/s), stopped: {result.FinishReasons[0]}"));
            }
            return 0;
        }));
        command.WithExamples(
            "adapters-hub generate --model ./gpt2 --prompt \"Hello, my name is\"",
            "adapters-hub generate --model ./TinyLlama --adapter ./my-lora --merge --prompt \"Q: 2+2?\" --max-new-tokens 8",
            "adapters-hub generate --model ./gpt2 --prompt \"Once\" --temperature 0.8 --top-p 0.95 --seed 1 --json");
        return command;
    }

    private static long[] ParseIds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) && id >= 0
                ? id
                : throw new ArgumentException($"--prompt-ids: \"{part}\" is not a token id."))
            .ToArray();

    private static ScalarType? ParseDtype(string? name) => name switch
    {
        null => null,
        "float32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" => ScalarType.Float16,
        _ => throw new ArgumentException($"--dtype \"{name}\" is not float32, bfloat16 or float16."),
    };
}
