using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Training;

/// <summary>
/// Trains adapters (and heads) the way Python's <c>AdapterTrainer</c> does: AdamW over the trainable parameters only,
/// a warmup + linear/cosine/constant schedule, gradient accumulation, gradient-norm clipping, evaluation with early
/// stopping, and checkpoints holding only the adapters (+ heads) in Python's folder format plus the optimizer, schedule
/// and RNG state, so that a resumed run reaches bit-identical parameters. It refuses a model whose base is not frozen.
/// </summary>
/// <remarks>
/// Batches are taken in order, micro-batch <c>i</c> of the run being <c>batches[i % Count]</c>; shuffle them beforehand
/// if needed. Two things of Python's trainer are not available in TorchSharp 0.107 and are therefore not offered:
/// mixed precision (it has no autocast; bf16 weights would change results rather than only speed them up) and gradient
/// checkpointing (it has no <c>torch.utils.checkpoint</c> recomputation).
/// </remarks>
/// <typeparam name="TBatch">The batch type the loss function reads.</typeparam>
public sealed class AdapterTrainer<TBatch> : IDisposable
{
    /// <summary>The trainer state file in a checkpoint.</summary>
    public const string StateFile = "trainer_state.json";
    /// <summary>The optimizer state file in a checkpoint (TorchSharp's optimizer format).</summary>
    public const string OptimizerFile = "optimizer.torchsharp";
    /// <summary>The CPU generator state in a checkpoint.</summary>
    public const string RngFile = "rng_state.safetensors";

    private readonly AdapterModel _model;
    private readonly FlexHeadModel? _heads;
    private readonly nn.Module _root;
    private readonly IReadOnlyList<string> _adapters;
    private readonly Func<TBatch, Tensor> _loss;
    private readonly AdapterTrainerOptions _options;
    private readonly Parameter[] _parameters;
    private readonly AdamW _optimizer;
    private double? _bestMetric;
    private int _evalsWithoutImprovement;

    /// <summary>Creates the trainer for <paramref name="adapters"/> of <paramref name="model"/> (with their heads, when <paramref name="heads"/> wraps the model).</summary>
    /// <param name="model">The model whose adapters train; <see cref="AdapterModel.TrainAdapter(string[])"/> must have frozen its base.</param>
    /// <param name="adapters">The adapters saved in checkpoints.</param>
    /// <param name="loss">Computes the scalar loss of one batch (running the forward pass).</param>
    /// <param name="options">Settings.</param>
    /// <param name="heads">The head model around <paramref name="model"/>, whose heads then train and are saved too.</param>
    /// <exception cref="InvalidOperationException">The base model is not frozen, or nothing is trainable.</exception>
    public AdapterTrainer(AdapterModel model, IReadOnlyList<string> adapters, Func<TBatch, Tensor> loss, AdapterTrainerOptions options, FlexHeadModel? heads = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _adapters = adapters ?? throw new ArgumentNullException(nameof(adapters));
        _loss = loss ?? throw new ArgumentNullException(nameof(loss));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (heads is not null && !ReferenceEquals(heads.BaseModel, model)) throw new ArgumentException("The head model must wrap the trained model.", nameof(heads));
        _heads = heads;
        _root = (nn.Module?)heads ?? model;
        if (!model.IsFrozen)
            throw new InvalidOperationException("The base model is not frozen; call TrainAdapter(...) (or FreezeModel()) first. Python's AdapterTrainer refuses to train it too.");
        if (options.GradientAccumulationSteps < 1) throw new ArgumentException("GradientAccumulationSteps must be at least 1.", nameof(options));
        _parameters = _root.parameters().Where(p => p.requires_grad).ToArray();
        if (_parameters.Length == 0) throw new InvalidOperationException("No parameter is trainable; activate training of an adapter with TrainAdapter(...).");
        _optimizer = optim.AdamW(_parameters, options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    /// <summary>Optimizer steps done so far (restored by a resume).</summary>
    public long GlobalStep { get; private set; }

    /// <summary>The number of trainable parameters the optimizer updates.</summary>
    public long TrainableParameterCount => _parameters.Sum(p => p.numel());

    /// <summary>The parameters the optimizer updates and keeps state for.</summary>
    internal IReadOnlyList<Parameter> OptimizedParameters => _parameters;

    /// <summary>
    /// Trains over <paramref name="batches"/>; with <paramref name="resumeFrom"/> (a <c>checkpoint-STEP</c> folder) the
    /// adapters, optimizer, schedule and RNG are restored first and training continues from that step.
    /// </summary>
    /// <param name="batches">The training batches, in order.</param>
    /// <param name="evaluate">Returns the evaluation metric (called in eval mode); drives early stopping.</param>
    /// <param name="resumeFrom">A checkpoint folder written by this trainer.</param>
    /// <param name="cancellationToken">Stops between optimizer steps.</param>
    public TrainingResult Train(IReadOnlyList<TBatch> batches, Func<double>? evaluate = null, string? resumeFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batches);
        if (batches.Count == 0) throw new ArgumentException("No training batches.", nameof(batches));
        var accumulation = _options.GradientAccumulationSteps;
        var total = _options.MaxSteps ?? (long)_options.Epochs * ((batches.Count + accumulation - 1) / accumulation);
        var warmup = _options.WarmupSteps ?? (long)Math.Ceiling(total * _options.WarmupRatio);
        if (resumeFrom is not null) LoadCheckpoint(resumeFrom);
        var losses = new List<double>();
        var stoppedEarly = false;
        _root.train();
        while (GlobalStep < total && !stoppedEarly)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lr = _options.LearningRate * LearningRateScheduleFactor.At(_options.Schedule, GlobalStep, warmup, total);
            var stepLoss = 0.0;
            _optimizer.zero_grad();
            for (var micro = 0; micro < accumulation; micro++)
            {
                using var scope = NewDisposeScope();
                var batch = batches[(int)((GlobalStep * accumulation + micro) % batches.Count)];
                var loss = _loss(batch);
                (loss / accumulation).backward();
                stepLoss += loss.item<float>() / accumulation;
            }
            using (var scope = NewDisposeScope())
            {
                (_options.RegularizationLoss?.Invoke())?.backward();
                ((_model as ITrainingRegularizer)?.RegularizationLoss())?.backward();
            }
            if (_options.MaxGradNorm is > 0 and var maxNorm) nn.utils.clip_grad_norm_(_parameters, maxNorm);
            foreach (var group in _optimizer.ParamGroups) group.LearningRate = lr;
            _optimizer.step();
            if (_options.AfterOptimizerStep is { } afterStep)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                afterStep(GlobalStep);
            }
            GlobalStep++;
            losses.Add(stepLoss);

            double? metric = null;
            var evalDue = evaluate is not null && ((_options.EvalSteps > 0 && GlobalStep % _options.EvalSteps == 0) || GlobalStep == total);
            if (evalDue)
            {
                metric = Evaluate(evaluate!);
                stoppedEarly = (_options.EarlyStoppingPatience is { } patience && _evalsWithoutImprovement >= patience)
                    || (_options.StopAtMetric is { } target && (_options.GreaterIsBetter ? metric >= target : metric <= target));
            }
            _options.Progress?.Report(new TrainingProgress(GlobalStep, total, (double)GlobalStep * accumulation / batches.Count, stepLoss, lr, metric));
            if (_options.SaveSteps > 0 && GlobalStep % _options.SaveSteps == 0)
            {
                var output = _options.OutputDirectory ?? throw new InvalidOperationException("SaveSteps is set but OutputDirectory is not.");
                SaveCheckpoint(Path.Combine(output, string.Create(CultureInfo.InvariantCulture, $"checkpoint-{GlobalStep}")));
            }
        }
        return new TrainingResult(GlobalStep, stoppedEarly, _bestMetric, losses);
    }

    /// <summary>
    /// Writes a checkpoint: one Python-format folder per adapter (<c>NAME/adapter_config.json</c>, weights, and the
    /// head of the same name when training with heads), the optimizer state, the trainer state and the RNG state.
    /// </summary>
    public void SaveCheckpoint(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        foreach (var name in _adapters)
        {
            if (_heads is not null) _heads.SaveAdapter(Path.Combine(directory, name), name);
            else _model.SaveAdapter(Path.Combine(directory, name), name);
        }
        AtomicFile.WriteThroughPath(Path.Combine(directory, OptimizerFile), temp => _optimizer.save_state_dict(temp));
        TensorFiles.Save(Path.Combine(directory, RngFile), new Dictionary<string, Tensor> { ["cpu"] = torch.get_rng_state() });
        var state = new JsonObject
        {
            ["global_step"] = GlobalStep,
            ["best_metric"] = _bestMetric,
            ["evals_without_improvement"] = _evalsWithoutImprovement,
            ["adapters"] = new JsonArray(_adapters.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
        };
        AtomicFile.Write(Path.Combine(directory, StateFile), s => s.Write(new UTF8Encoding(false).GetBytes(PythonJson.Serialize(state))));
    }

    /// <summary>Restores adapters (+ heads), optimizer, trainer state and RNG from a checkpoint folder.</summary>
    /// <exception cref="AdapterLoadException">The folder is not a checkpoint of these adapters.</exception>
    public void LoadCheckpoint(string directory)
    {
        var statePath = Path.Combine(directory, StateFile);
        if (!File.Exists(statePath)) throw new AdapterLoadException($"'{directory}' is not a trainer checkpoint: {StateFile} is missing.");
        var state = JsonNode.Parse(File.ReadAllText(statePath)) as JsonObject
            ?? throw new AdapterLoadException($"{statePath}: expected a JSON object.");
        var trainable = _root.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var prefix = _heads is null ? _model.Interface.BaseModelPrefix + "." : string.Empty;
        using (no_grad())
        {
            foreach (var name in _adapters)
            {
                var folder = Path.Combine(directory, name);
                foreach (var file in new[] { AdapterFolderFiles.AdapterSafetensorsFile, AdapterFolderFiles.HeadSafetensorsFile })
                {
                    var path = Path.Combine(folder, file);
                    if (!File.Exists(path))
                    {
                        if (file == AdapterFolderFiles.AdapterSafetensorsFile) throw new AdapterLoadException($"{path} is missing from the checkpoint.");
                        continue;
                    }
                    using var weights = TensorFiles.Load(path);
                    foreach (var (key, tensor) in weights)
                    {
                        var local = prefix.Length > 0 && key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;
                        if (!trainable.TryGetValue(local, out var parameter))
                            throw new AdapterLoadException($"{path}: '{key}' is not a parameter of the trained model.");
                        parameter.copy_(tensor);
                    }
                }
            }
        }
        _optimizer.load_state_dict(Path.Combine(directory, OptimizerFile));
        using (var rng = TensorFiles.Load(Path.Combine(directory, RngFile))) torch.set_rng_state(rng["cpu"]);
        GlobalStep = state["global_step"]!.GetValue<long>();
        _bestMetric = state["best_metric"]?.GetValue<double>();
        _evalsWithoutImprovement = state["evals_without_improvement"]!.GetValue<int>();
    }

    /// <inheritdoc />
    public void Dispose() => _optimizer.Dispose();

    private double Evaluate(Func<double> evaluate)
    {
        _root.eval();
        double metric;
        try
        {
            using var _ = no_grad();
            metric = evaluate();
        }
        finally
        {
            _root.train();
        }
        var improved = _bestMetric is not { } best
            || (_options.GreaterIsBetter ? metric > best + _options.EarlyStoppingThreshold : metric < best - _options.EarlyStoppingThreshold);
        if (improved)
        {
            _bestMetric = metric;
            _evalsWithoutImprovement = 0;
        }
        else
        {
            _evalsWithoutImprovement++;
        }
        return metric;
    }
}
