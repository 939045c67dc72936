using Adapters.Hub.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Adapters.Hub.Http;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// Carries out a migration plan: for each version, fetch the legacy zip, verify its SHA-256 (else SHA-1), extract it
/// safely, normalise it, add the model card, and push it to every branch it belongs on. Entries run with bounded
/// concurrency; each version's result is saved to the state file as soon as it is known; one failure never stops the others.
/// </summary>
public sealed class MigrationRunner
{
    private readonly LegacyRegistry _registry;
    private readonly ILegacyArchiveFetcher _fetcher;
    private readonly IMigrationPublisher _publisher;
    private readonly MigrationRunnerOptions _options;

    /// <summary>Creates the runner.</summary>
    public MigrationRunner(LegacyRegistry registry, ILegacyArchiveFetcher fetcher, IMigrationPublisher publisher, MigrationRunnerOptions? options = null)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
        _fetcher = fetcher ?? throw new ArgumentNullException(nameof(fetcher));
        _publisher = publisher ?? throw new ArgumentNullException(nameof(publisher));
        _options = options ?? new MigrationRunnerOptions();
        if (_options.MaxConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxConcurrency must be at least 1.");
        if (_options.MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(options), "MaxAttempts must be at least 1.");
    }

    /// <summary>Runs <paramref name="plan"/> and reports every version's outcome. Cancelling stops between steps; finished versions stay recorded.</summary>
    public async Task<MigrationReport> RunAsync(IReadOnlyList<MigrationPlanItem> plan, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var state = await MigrationState.LoadAsync(_options.StateFile, cancellationToken).ConfigureAwait(false);
        var workRoot = _options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), "adapters-net-migration");
        var outcomes = new ConcurrentDictionary<(int, int), MigrationOutcome>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = cancellationToken };

        await Parallel.ForEachAsync(plan.Select((item, index) => (item, index)), parallel, async (pair, ct) =>
        {
            var (item, itemIndex) = pair;
            for (var v = 0; v < item.Versions.Count; v++)
            {
                outcomes[(itemIndex, v)] = await MigrateVersionAsync(item, item.Versions[v], state, workRoot, ct).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);

        return new MigrationReport(outcomes.OrderBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).Select(p => p.Value).ToList());
    }

    private async Task<MigrationOutcome> MigrateVersionAsync(MigrationPlanItem item, MigrationVersionPlan version, MigrationState state, string workRoot, CancellationToken cancellationToken)
    {
        MigrationOutcome Outcome(MigrationOutcomeKind kind, string? reason, Exception? error = null) => new()
        {
            LegacyId = item.LegacyId,
            Version = version.Version,
            TargetRepo = item.TargetRepo,
            Branches = version.Branches,
            Kind = kind,
            Reason = reason,
            Error = error,
        };

        var key = MigrationState.Key(item.TargetRepo, version.Version);
        if (state.IsDone(key)) return Outcome(MigrationOutcomeKind.Skipped, "already migrated (recorded in the state file)");

        var work = Path.Combine(workRoot, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var zip = Path.Combine(work, "legacy.zip");
            await RetryAsync(async () =>
            {
                var file = File.Create(zip);
                await using (file.ConfigureAwait(false))
                {
                    await _fetcher.FetchAsync(version.Url, file, cancellationToken).ConfigureAwait(false);
                }
            }, cancellationToken).ConfigureAwait(false);
            await VerifyChecksumAsync(zip, version, cancellationToken).ConfigureAwait(false);

            var extracted = Path.Combine(work, "extracted");
            await LegacyArchiveExtractor.ExtractAsync(zip, extracted, _options.ArchiveLimits, cancellationToken).ConfigureAwait(false);
            var output = Path.Combine(work, "normalized");
            await LegacyAdapterNormalizer.NormalizeFolderAsync(extracted, output, cancellationToken).ConfigureAwait(false);
            await ConvertWeightsAsync(output, cancellationToken).ConfigureAwait(false);

            var subtask = await _registry.FindSubtaskCardAsync(item.Card.Type, item.Card.Task, item.Card.Subtask, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(output, "README.md"), LegacyModelCard.Render(item, subtask), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);

            var files = Directory.EnumerateFiles(output).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f), f => f, StringComparer.Ordinal);
            var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, path) in files) hashes[name] = await Sha256Async(path, cancellationToken).ConfigureAwait(false);

            var pushed = false;
            foreach (var branch in version.Branches)
            {
                var existing = await RetryAsync(() => _publisher.GetFileHashesAsync(item.TargetRepo, branch, cancellationToken), cancellationToken).ConfigureAwait(false);
                if (existing is not null && hashes.All(h => existing.TryGetValue(h.Key, out var there) && there == h.Value)) continue;
                var commit = new MigrationCommit
                {
                    RepoId = item.TargetRepo,
                    Branch = branch,
                    Files = files,
                    Sha256 = hashes,
                    Message = $"Migrate {item.LegacyId} version {version.Version} from the legacy AdapterHub registry",
                };
                await RetryAsync(async () => { await _publisher.PublishAsync(commit, cancellationToken).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);
                pushed = true;
            }
            // Once pushed, the record is written even if the run is being cancelled, so the push is never repeated.
            await state.MarkDoneAsync(key, version.Branches, hashes, CancellationToken.None).ConfigureAwait(false);
            return pushed
                ? Outcome(MigrationOutcomeKind.Migrated, null)
                : Outcome(MigrationOutcomeKind.Skipped, "already present with the same files");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            var reason = SafeText.OneLine(ex.Message);
            await state.MarkFailedAsync(key, reason, CancellationToken.None).ConfigureAwait(false);
            return Outcome(MigrationOutcomeKind.Failed, reason, ex);
        }
        finally
        {
            try
            {
                Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
                // Scratch space only; a leftover folder does not affect correctness.
            }
        }
    }

    private static async Task VerifyChecksumAsync(string zip, MigrationVersionPlan version, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(zip);
        await using (stream.ConfigureAwait(false))
        {
            if (version.Sha256 is { Length: > 0 } expected256)
            {
                var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
                if (!string.Equals(actual, expected256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new LegacyArchiveException(version.Url, $"checksum mismatch: expected sha256 {expected256.ToLowerInvariant()}, got {actual}");
                }
            }
            else if (version.Sha1 is { Length: > 0 } expected1)
            {
                var actual = Convert.ToHexStringLower(await SHA1.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
                if (!string.Equals(actual, expected1, StringComparison.OrdinalIgnoreCase))
                {
                    throw new LegacyArchiveException(version.Url, $"checksum mismatch: expected sha1 {expected1.ToLowerInvariant()}, got {actual}");
                }
            }
            else
            {
                throw new LegacyArchiveException(version.Url, "the registry gives no sha256 or sha1 to verify the zip against");
            }
        }
    }

    private async Task ConvertWeightsAsync(string folder, CancellationToken cancellationToken)
    {
        if (_options.WeightConverter is not { } converter) return;
        foreach (var (pickle, safe) in new[]
        {
            (LegacyAdapterNormalizer.AdapterWeightsName, LegacyAdapterNormalizer.SafeAdapterWeightsName),
            (LegacyAdapterNormalizer.HeadWeightsName, LegacyAdapterNormalizer.SafeHeadWeightsName),
        })
        {
            var from = Path.Combine(folder, pickle);
            var to = Path.Combine(folder, safe);
            if (File.Exists(from) && !File.Exists(to)) await converter.ConvertAsync(from, to, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        }
    }

    private async Task<T> RetryAsync<T>(Func<Task<T>> step, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await step().ConfigureAwait(false);
            }
            catch (Exception ex) when (attempt < _options.MaxAttempts && IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_options.RetryDelay * Math.Pow(2, attempt - 1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task RetryAsync(Func<Task> step, CancellationToken cancellationToken) =>
        RetryAsync(async () => { await step().ConfigureAwait(false); return true; }, cancellationToken);

    // One rule (TransientFailures) decides what is transient. A HubException comes from the Hub client,
    // whose pipeline already retried it: retrying it here again would stack attempts. Only the archive
    // fetch, which runs on a plain HttpClient, is retried at this level.
    private static bool IsTransient(Exception ex) => ex is not HubException && TransientFailures.IsTransientTransport(ex);
}
