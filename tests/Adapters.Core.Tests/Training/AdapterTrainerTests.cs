using Adapters.Core.Models.Bert;
using Adapters.Core.Serialization;
using Adapters.Core.Tests.Models;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Training;

public sealed class AdapterTrainerTests
{
    private sealed record Batch(Tensor Ids, Tensor Target);

    private static BertModel Model(long seed = 1, double dropout = 0.1)
    {
        Core.TorchRuntime.Initialize();
        manual_seed(seed);
        var model = new BertModel(TinyModels.TinyBert() with { HiddenDropoutProb = dropout, AttentionProbsDropoutProb = dropout });
        model.AddAdapter("task", "lora[r=4, alpha=8, init_weights='bert']");
        model.TrainAdapter("task");
        return model;
    }

    private static List<Batch> Batches(int count, int size = 4)
    {
        var generator = new TorchSharp.torch.Generator(42);
        return Enumerable.Range(0, count)
            .Select(_ => new Batch(randint(2, 50, [size, 6], ScalarType.Int64, generator: generator), randn([size, 32], generator: generator)))
            .ToList();
    }

    private static Func<Batch, Tensor> Loss(BertModel model) => b => nn.functional.mse_loss(model.Forward(b.Ids).PoolerOutput!, b.Target);

    private static Dictionary<string, Tensor> Trainable(BertModel model) =>
        model.named_parameters().Where(p => p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.detach().clone());

    [Fact]
    public void Lowers_the_loss_and_checkpoints_adapters_in_pythons_format()
    {
        using var scope = NewDisposeScope();
        using var model = Model(dropout: 0.0);
        var output = Directory.CreateTempSubdirectory("trainer-").FullName;
        var reports = new List<TrainingProgress>();
        var options = new AdapterTrainerOptions
        {
            LearningRate = 1e-2, MaxSteps = 30, WarmupSteps = 3, SaveSteps = 15, OutputDirectory = output,
            Progress = new SyncProgress(reports.Add),
        };
        using var trainer = new AdapterTrainer<Batch>(model, ["task"], Loss(model), options);
        var baseBefore = model.named_parameters().Where(p => !p.parameter.requires_grad).ToDictionary(p => p.name, p => p.parameter.detach().clone());

        // One fixed batch whose targets lie inside tanh's range: the adapter can fit it.
        var batch = Batches(1)[0];
        var result = trainer.Train([batch with { Target = batch.Target * 0.3 }]);

        Assert.Equal(30, result.GlobalStep);
        Assert.True(result.Losses[^1] < result.Losses[0] * 0.95, string.Join(", ", result.Losses));
        Assert.Equal(30, reports.Count);
        Assert.Equal(0.0, reports[0].LearningRate);
        Assert.Equal(1e-2, reports[3].LearningRate, 12);
        Assert.Equal(2 * 2 * (4 * 32 + 32 * 4), trainer.TrainableParameterCount);
        foreach (var (name, value) in baseBefore) Assert.True(TinyModels.Same(value, model.state_dict()[name]), name);
        foreach (var step in new[] { 15, 30 })
        {
            var folder = Path.Combine(output, $"checkpoint-{step}");
            Assert.True(File.Exists(Path.Combine(folder, "task", "adapter_config.json")));
            Assert.True(File.Exists(Path.Combine(folder, "task", "pytorch_adapter.bin")));
            Assert.True(File.Exists(Path.Combine(folder, AdapterTrainer<Batch>.OptimizerFile)));
        }
        using var reloaded = TinyModels.Bert();
        reloaded.LoadAdapter(Path.Combine(output, "checkpoint-30", "task"));
        Assert.True(TinyModels.Same(model.GetAdapterStateDict("task")["bert.encoder.layer.1.attention.self.value.loras.task.lora_B"],
            reloaded.GetAdapterStateDict("task")["bert.encoder.layer.1.attention.self.value.loras.task.lora_B"]));
    }

    [Fact]
    public void Refuses_a_model_whose_base_is_not_frozen()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Bert();
        model.AddAdapter("task", "lora");
        var error = Assert.Throws<InvalidOperationException>(() => new AdapterTrainer<Batch>(model, ["task"], Loss(model), new AdapterTrainerOptions()));
        Assert.Contains("not frozen", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resume_from_a_checkpoint_reaches_bit_identical_parameters()
    {
        using var scope = NewDisposeScope();
        var output = Directory.CreateTempSubdirectory("trainer-resume-").FullName;
        var options = new AdapterTrainerOptions
        {
            LearningRate = 5e-3, MaxSteps = 8, WarmupSteps = 2, GradientAccumulationSteps = 2, MaxGradNorm = 0.5,
            Schedule = LearningRateSchedule.Cosine, SaveSteps = 4, OutputDirectory = output, WeightDecay = 0.01,
        };
        var batches = Batches(5);
        Dictionary<string, Tensor> uninterrupted;
        using (var model = Model(seed: 9))
        using (var trainer = new AdapterTrainer<Batch>(model, ["task"], Loss(model), options))
        {
            trainer.Train(batches);
            uninterrupted = Trainable(model);
        }

        // A fresh process would rebuild the same base model; its random adapter init is overwritten by the checkpoint.
        using var resumedModel = Model(seed: 9);
        using var resumed = new AdapterTrainer<Batch>(resumedModel, ["task"], Loss(resumedModel), options with { OutputDirectory = Path.Combine(output, "again") });
        var result = resumed.Train(batches, resumeFrom: Path.Combine(output, "checkpoint-4"));

        Assert.Equal(8, result.GlobalStep);
        Assert.Equal(4, result.Losses.Count);
        var after = Trainable(resumedModel);
        Assert.Equal(uninterrupted.Keys.Order(), after.Keys.Order());
        foreach (var (name, value) in uninterrupted) Assert.True(TinyModels.Same(value, after[name]), name);
    }

    [Fact]
    public void Early_stopping_triggers_after_patience_evaluations_without_improvement()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var metrics = new Queue<double>([1.0, 0.5, 0.6, 0.55, 0.7, 0.1]);
        var options = new AdapterTrainerOptions { LearningRate = 1e-3, MaxSteps = 100, EvalSteps = 2, EarlyStoppingPatience = 3 };
        using var trainer = new AdapterTrainer<Batch>(model, ["task"], Loss(model), options);

        var result = trainer.Train(Batches(2), evaluate: metrics.Dequeue);

        Assert.True(result.StoppedEarly);
        Assert.Equal(10, result.GlobalStep);
        Assert.Equal(0.5, result.BestMetric);
    }

    [Fact]
    public void Two_accumulated_batches_of_four_equal_one_batch_of_eight()
    {
        using var scope = NewDisposeScope();
        var halves = Batches(2, size: 4);
        var whole = new List<Batch> { new(cat([halves[0].Ids, halves[1].Ids]), cat([halves[0].Target, halves[1].Target])) };
        Dictionary<string, Tensor> Run(List<Batch> batches, int accumulation)
        {
            using var model = Model(seed: 3, dropout: 0.0);
            using var trainer = new AdapterTrainer<Batch>(model, ["task"], Loss(model),
                new AdapterTrainerOptions { LearningRate = 1e-2, MaxSteps = 3, GradientAccumulationSteps = accumulation, MaxGradNorm = 0.1 });
            trainer.Train(batches);
            return Trainable(model);
        }

        var accumulated = Run(halves, 2);
        var single = Run(whole, 1);

        foreach (var (name, value) in single)
            Assert.True(allclose(value, accumulated[name], rtol: 1e-5, atol: 1e-6), $"{name}: max diff {(value - accumulated[name]).abs().max().item<float>()}");
    }

    [Fact]
    public void Regularization_hook_is_backpropagated_once_per_optimizer_step()
    {
        using var scope = NewDisposeScope();
        using var model = Model(dropout: 0.0);
        var calls = 0;
        var lora = model.AdapterParameters("task").First().Parameter;
        var options = new AdapterTrainerOptions
        {
            LearningRate = 1e-2, MaxSteps = 3, GradientAccumulationSteps = 2,
            RegularizationLoss = () => { calls++; return lora.pow(2).sum() * 100; },
        };
        var before = lora.detach().abs().sum().item<float>();
        using var trainer = new AdapterTrainer<Batch>(model, ["task"], Loss(model), options);

        trainer.Train(Batches(2));

        Assert.Equal(3, calls);
        Assert.True(lora.detach().abs().sum().item<float>() < before);
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
