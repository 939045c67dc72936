using System.Diagnostics;
using System.Globalization;
using Adapters.Core;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Serialization;
using Adapters.Core.Training;
using Adapters.Hub.Cache;
using Adapters.Registry;
using Adapters.Hub.Loading;
using Adapters.Hub.Upload;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Hub.Cli.Quickstart;

/// <summary>
/// The offline demo behind <c>adapters-hub quickstart</c>: an embedded registry, a tiny BERT trained with a LoRA
/// adapter on the bundled sentences through <see cref="AdapterTrainer{TBatch}"/>, pushed with a card, pulled into a fresh verified cache, loaded into a fresh
/// model with the same base weights, and used to classify two sentences.
/// </summary>
internal sealed class QuickstartRunner
{
    private readonly QuickstartOptions _options;
    private readonly QuickstartView _view;
    private readonly List<QuickstartStep> _steps = [];

    public QuickstartRunner(QuickstartOptions options, QuickstartView view)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _view = view ?? throw new ArgumentNullException(nameof(view));
    }

    /// <summary>The run's temporary folder, once created (deleted at the end unless the registry is kept).</summary>
    public string? WorkDirectory { get; private set; }

    /// <summary>
    /// Runs every step. With <paramref name="keepRunning"/> the registry stays up after the report is handed to
    /// <paramref name="onReport"/> until <paramref name="cancellationToken"/> fires; everything temporary is deleted at the end.
    /// </summary>
    /// <exception cref="QuickstartException">A step failed its check (e.g. accuracy below the threshold).</exception>
    public async Task<QuickstartReport> RunAsync(bool keepRunning, Func<QuickstartReport, Task> onReport, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(onReport);
        TorchRuntime.Initialize();
        var data = QuickstartData.Load(_options.DataDirectory);
        var work = _options.TempRoot is null
            ? Directory.CreateTempSubdirectory("adapters-quickstart-")
            : Directory.CreateDirectory(Path.Combine(_options.TempRoot, "adapters-quickstart-" + Guid.NewGuid().ToString("N")[..12]));
        WorkDirectory = work.FullName;
        RegistryServer? server = null;
        try
        {
            server = await StepAsync("start registry", "Starting an embedded registry on a free loopback port", async () =>
            {
                var started = await RegistryServer.StartAsync(new RegistryServerOptions
                {
                    RootDirectory = Path.Combine(work.FullName, "registry"),
                    Host = "127.0.0.1",
                    Port = 0,
                }, cancellationToken).ConfigureAwait(false);
                return (started, $"serving {started.RootDirectory} at {Endpoint(started)}");
            }).ConfigureAwait(false);

            var config = EncoderConfig.Read(data.ConfigPath);
            var basePath = Path.Combine(work.FullName, "base", "model.safetensors");
            using var model = await StepAsync("build model", "Building the tiny BERT from the bundled config and vocabulary", () =>
            {
                if (config.VocabSize != data.VocabularySize)
                    throw new QuickstartException($"{data.ConfigPath} says vocab_size {config.VocabSize} but {data.VocabPath} has {data.VocabularySize} tokens.");
                torch.manual_seed(_options.Seed);
                var encoder = new BertModel(config);
                // The base weights are saved once so the model that loads the adapter back is the same network, as a
                // user's base checkpoint would be; only the adapter and head travel through the registry.
                Directory.CreateDirectory(Path.GetDirectoryName(basePath)!);
                TensorFiles.Save(basePath, encoder.state_dict());
                var parameters = encoder.parameters().Sum(p => p.numel());
                return Task.FromResult((new FlexHeadModel(encoder), string.Create(CultureInfo.InvariantCulture,
                    $"{config.NumHiddenLayers} layers, hidden {config.HiddenSize}, {config.NumAttentionHeads} heads, {parameters:N0} parameters, vocabulary of {config.VocabSize}; base weights in {basePath}")));
            }).ConfigureAwait(false);

            var (accuracy, epochs) = await TrainAsync(model, data, cancellationToken).ConfigureAwait(false);

            var pushCache = Path.Combine(work.FullName, "cache-push");
            using var pushHub = new HubClient(new HubClientOptions { Endpoint = server.Endpoint, CacheDirectory = pushCache });
            var commit = await StepAsync("push", $"Pushing the adapter and head to {_options.RepoId}", async () =>
            {
                var info = await pushHub.PushAdapterToHubAsync(model, _options.RepoId, _options.AdapterName, new AdapterPushOptions
                {
                    CommitMessage = "Add the quickstart sentiment adapter",
                    Card = new AdapterCardFields
                    {
                        Language = ["en"],
                        Tags = ["adapters-net-quickstart", "sentiment"],
                        Metrics = ["accuracy"],
                        ArchitectureTraining = string.Create(CultureInfo.InvariantCulture,
                            $"`{_options.AdapterConfig}` on a randomly initialised tiny BERT (seed {_options.Seed}), trained with AdamW (lr {_options.LearningRate}) for {epochs} epochs on {data.Train.Count} bundled toy sentences."),
                        Results = string.Create(CultureInfo.InvariantCulture, $"Accuracy on the {data.Test.Count} held-out toy sentences: {accuracy:0.000}."),
                    },
                }, cancellationToken).ConfigureAwait(false);
                return (info, $"commit {info.CommitOid}");
            }).ConfigureAwait(false);

            var pullCache = Path.Combine(work.FullName, "cache-pull");
            using var pullHub = new HubClient(new HubClientOptions { Endpoint = server.Endpoint, CacheDirectory = pullCache });
            var snapshot = await StepAsync("pull", "Pulling the repository into a fresh cache and verifying it", async () =>
            {
                var pulled = await pullHub.Files.SnapshotDownloadAsync(_options.RepoId, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (pulled.CommitHash != commit.CommitOid)
                    throw new QuickstartException($"The pull got commit {pulled.CommitHash} of {_options.RepoId}, but the push created {commit.CommitOid}.");
                var verification = await CacheVerifier.VerifyAsync(pullCache, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (!verification.IsHealthy || verification.BlobsChecked < pulled.Files.Count)
                    throw new QuickstartException($"The fresh cache {pullCache} did not verify: {verification.BlobsChecked} blobs checked for {pulled.Files.Count} files, {verification.Corrupted.Count} corrupted, {verification.DanglingEntries.Count} dangling.");
                return (pulled, $"{pulled.Files.Count} files at {pulled.CommitHash[..12]}, {verification.BlobsChecked} blobs re-hashed and matching");
            }).ConfigureAwait(false);

            var (predictions, reloadedAccuracy) = await StepAsync("load and predict", "Loading the adapter into a fresh model and predicting", async () =>
            {
                using var fresh = new FlexHeadModel(new BertModel(config));
                using (var weights = TensorFiles.Load(basePath))
                {
                    var (missing, unexpected) = fresh.BaseModel.LoadModelStateDict(weights);
                    if (missing.Count > 0 || unexpected.Count > 0)
                        throw new QuickstartException($"{basePath} did not fit the fresh model: missing {string.Join(", ", missing)}; unexpected {string.Join(", ", unexpected)}.");
                }
                await fresh.LoadAdapterAsync(pullHub, _options.RepoId, setActive: true, cancellationToken: cancellationToken).ConfigureAwait(false);
                fresh.eval();
                var again = Accuracy(fresh, data, data.Test);
                if (Math.Abs(again - accuracy) > 1e-9)
                    throw new QuickstartException(string.Create(CultureInfo.InvariantCulture,
                        $"The adapter loaded back from {_options.RepoId} scores {again:0.000} on the held-out split, but the trained one scored {accuracy:0.000}."));
                var result = Predict(fresh, data, _options.DemoSentences);
                var detail = string.Join("; ", result.Select(p => string.Create(CultureInfo.InvariantCulture, $"\"{p.Text}\" → {p.Label} ({p.Probability:0.000})")));
                return ((result, again), detail);
            }).ConfigureAwait(false);

            var summary = model.BaseModel.AdapterSummary();
            var report = new QuickstartReport
            {
                Endpoint = Endpoint(server),
                RepoId = _options.RepoId,
                CommitId = commit.CommitOid,
                AdapterConfig = _options.AdapterConfig,
                TestAccuracy = reloadedAccuracy,
                AccuracyThreshold = _options.AccuracyThreshold,
                Epochs = epochs,
                PulledFiles = snapshot.Files,
                Predictions = predictions,
                AdapterSummary = summary,
                Steps = [.. _steps],
                WorkDirectory = work.FullName,
                Kept = keepRunning,
            };
            _view.Text("");
            _view.Text(summary);
            _view.StepTable(_steps);
            await onReport(report).ConfigureAwait(false);
            if (keepRunning)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _view.Text("Stopping the registry and deleting its temporary folder.");
                }
            }
            return report;
        }
        finally
        {
            if (server is not null) await server.DisposeAsync().ConfigureAwait(false);
            DeleteQuietly(work);
        }
    }

    private async Task<(double Accuracy, int Epochs)> TrainAsync(FlexHeadModel model, QuickstartData data, CancellationToken cancellationToken)
    {
        var name = _options.AdapterName;
        var watch = Stopwatch.StartNew();
        model.BaseModel.AddAdapter(name, _options.AdapterConfig);
        model.AddClassificationHead(name, QuickstartData.Labels.Count,
            id2label: QuickstartData.Labels.Select((label, id) => (label, id)).ToDictionary(p => p.id, p => p.label));
        model.BaseModel.TrainAdapter(name);
        model.GetHead(name).train(true);
        var (accuracy, epochs) = await _view.TrainAsync(_options.MaxEpochs, progress =>
        {
            // Every epoch reshuffles the sentences with the run's seed; the trainer walks the epochs' batches in order.
            var shuffle = new Random(_options.Seed);
            var order = Enumerable.Range(0, data.Train.Count).ToArray();
            var batches = new List<IReadOnlyList<SentimentExample>>();
            for (var epoch = 0; epoch < _options.MaxEpochs; epoch++)
            {
                shuffle.Shuffle(order);
                for (var start = 0; start < order.Length; start += _options.BatchSize)
                    batches.Add(order.Skip(start).Take(_options.BatchSize).Select(i => data.Train[i]).ToArray());
            }
            var batchesPerEpoch = (data.Train.Count + _options.BatchSize - 1) / _options.BatchSize;
            var epochs = new EpochReporter(progress, batchesPerEpoch, _options.MaxEpochs);
            var options = new AdapterTrainerOptions
            {
                // Plain AdamW at a constant rate, no clipping, as the demo has always trained.
                LearningRate = _options.LearningRate,
                Beta2 = 0.999,
                Schedule = LearningRateSchedule.Constant,
                MaxGradNorm = null,
                MaxSteps = batches.Count,
                EvalSteps = batchesPerEpoch,
                GreaterIsBetter = true,
                StopAtMetric = _options.TargetAccuracy,
                Progress = epochs,
            };
            using var trainer = new AdapterTrainer<IReadOnlyList<SentimentExample>>(model.BaseModel, [name], batch =>
            {
                var (ids, mask) = data.Encode(batch.Select(e => e.Text).ToList());
                var labels = tensor(batch.Select(e => (long)e.Label).ToArray());
                return model.GetHead(name).Loss(model.Forward(ids, mask, head: name), labels);
            }, options, model);
            var result = trainer.Train(batches, () => Accuracy(model, data, data.Test), cancellationToken: cancellationToken);
            model.eval();
            return Task.FromResult((epochs.LastAccuracy, (int)(result.GlobalStep / batchesPerEpoch)));
        }).ConfigureAwait(false);
        if (accuracy < _options.AccuracyThreshold)
            throw new QuickstartException(string.Create(CultureInfo.InvariantCulture,
                $"training: held-out accuracy {accuracy:0.000} after {epochs} epochs is below the required {_options.AccuracyThreshold:0.00}."));
        Record(new QuickstartStep("train", string.Create(CultureInfo.InvariantCulture,
            $"{_options.AdapterConfig} + classification head, {model.BaseModel.AdapterParameters(name).Sum(p => p.Parameter.numel()):N0} adapter parameters, {epochs} epochs on {data.Train.Count} sentences, held-out accuracy {accuracy:0.000} on {data.Test.Count}"),
            watch.Elapsed.TotalSeconds));
        return (accuracy, epochs);
    }

    private static double Accuracy(FlexHeadModel model, QuickstartData data, IReadOnlyList<SentimentExample> examples)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (ids, mask) = data.Encode(examples.Select(e => e.Text).ToList());
        var predicted = model.Forward(ids, mask).argmax(-1).data<long>().ToArray();
        return examples.Where((e, i) => predicted[i] == e.Label).Count() / (double)examples.Count;
    }

    private static List<QuickstartPrediction> Predict(FlexHeadModel model, QuickstartData data, IReadOnlyList<string> sentences)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (ids, mask) = data.Encode(sentences);
        var probabilities = nn.functional.softmax(model.Forward(ids, mask), -1).data<float>().ToArray();
        var labels = QuickstartData.Labels.Count;
        return sentences.Select((text, row) =>
        {
            var scores = probabilities.Skip(row * labels).Take(labels).ToArray();
            var best = Array.IndexOf(scores, scores.Max());
            return new QuickstartPrediction(text, QuickstartData.Labels[best], Math.Round(scores[best], 4));
        }).ToList();
    }

    private async Task<T> StepAsync<T>(string name, string title, Func<Task<(T Result, string Detail)>> work)
    {
        var watch = Stopwatch.StartNew();
        var (result, detail) = await _view.StepAsync(title, work).ConfigureAwait(false);
        Record(new QuickstartStep(name, detail, watch.Elapsed.TotalSeconds));
        return result;
    }

    private void Record(QuickstartStep step)
    {
        _steps.Add(step);
        _view.StepDone(step);
    }

    private static string Endpoint(RegistryServer server) => server.Endpoint.ToString().TrimEnd('/');

    private static void DeleteQuietly(DirectoryInfo directory)
    {
        try
        {
            if (directory.Exists) directory.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A file still held open (e.g. by a virus scanner) must not turn a successful run into a failure.
        }
    }
}
