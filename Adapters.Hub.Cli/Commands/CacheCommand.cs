using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Globalization;
using System.Text.Json;
using Adapters.Hub.Cache;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub cache scan|verify|prune</c>: inspect, check and clean the Hugging Face cache (also one Python wrote).</summary>
internal static class CacheCommand
{
    public static Command Create()
    {
        var command = new Command("cache", "Inspect, verify and prune the Hugging Face Hub cache.");
        command.Subcommands.Add(CreateScan());
        command.Subcommands.Add(CreateVerify());
        command.Subcommands.Add(CreatePrune());
        command.WithExamples("adapters-hub cache scan", "adapters-hub cache verify --fast", "adapters-hub cache prune --dry-run --json");
        return command;
    }

    private static Option<string> CacheDirOption() => new("--cache-dir") { Description = "Cache folder (default: HF_HUB_CACHE, $HF_HOME/hub, ~/.cache/huggingface/hub)." };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of text." };

    private static string CacheDirectory(ParseResult parseResult, Option<string> cacheDir) =>
        parseResult.GetValue(cacheDir) is { Length: > 0 } dir ? Path.GetFullPath(dir) : HubEnvironment.FromProcess().HubCacheDirectory;

    private static Command CreateScan()
    {
        var cacheDir = CacheDirOption();
        var json = JsonOption();
        var command = new Command("scan", "List cached repositories, revisions, refs, files and sizes.") { cacheDir, json };
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var report = CacheScanner.Scan(CacheDirectory(parseResult, cacheDir));
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(report, CliJson.Options)).ConfigureAwait(false);
                return 0;
            }
            await output.WriteLineAsync($"{"REPO ID",-40} {"TYPE",-8} {"SIZE",10} {"FILES",6} {"REVISIONS",9}  REFS").ConfigureAwait(false);
            foreach (var repo in report.Repos)
            {
                await output.WriteLineAsync($"{repo.RepoId,-40} {repo.RepoType.Singular(),-8} {FormatSize(repo.SizeOnDisk),10} {repo.BlobCount,6} {repo.Revisions.Count,9}  {string.Join(", ", repo.Refs.Keys)}").ConfigureAwait(false);
            }
            await output.WriteLineAsync($"{report.Repos.Count} repo(s), {FormatSize(report.SizeOnDisk)} in {report.CacheDirectory}").ConfigureAwait(false);
            foreach (var warning in report.Warnings) await parseResult.InvocationConfiguration.Error.WriteLineAsync("warning: " + warning).ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub cache scan", "adapters-hub cache scan --cache-dir ~/.cache/huggingface/hub --json");
        return command;
    }

    private static Command CreateVerify()
    {
        var cacheDir = CacheDirOption();
        var json = JsonOption();
        var fast = new Option<bool>("--fast") { Description = "Re-check blobs that verified before with XxHash128 instead of SHA (records fingerprints)." };
        var command = new Command("verify", "Recompute every blob's hash (SHA-256 for LFS, git SHA-1 otherwise) against its name; exit 3 on any mismatch.") { cacheDir, fast, json };
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var result = await CacheVerifier.VerifyAsync(CacheDirectory(parseResult, cacheDir), parseResult.GetValue(fast), cancellationToken).ConfigureAwait(false);
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(result, CliJson.Options)).ConfigureAwait(false);
            }
            else
            {
                foreach (var blob in result.Corrupted) await output.WriteLineAsync($"CORRUPT  {blob.RepoId}  {blob.BlobPath}  expected {blob.Expected}, got {blob.Actual}").ConfigureAwait(false);
                foreach (var entry in result.DanglingEntries) await output.WriteLineAsync($"MISSING  {entry}").ConfigureAwait(false);
                foreach (var blob in result.Unverifiable) await output.WriteLineAsync($"UNVERIFIED  {blob}  (its name is not a content hash and no cached listing gives one; size not checked)").ConfigureAwait(false);
                await output.WriteLineAsync($"{result.BlobsChecked} blob(s) checked ({result.FingerprintHits} by fingerprint): {result.Corrupted.Count} corrupt, {result.DanglingEntries.Count} missing, {result.Unverifiable.Count} could not be verified.").ConfigureAwait(false);
            }
            if (!result.IsHealthy)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"error: {result.Corrupted.Count} corrupt blob(s) and {result.DanglingEntries.Count} missing blob(s) in the cache.").ConfigureAwait(false);
                return ExitCodes.Integrity;
            }
            return 0;
        }));
        command.WithExamples("adapters-hub cache verify", "adapters-hub cache verify --fast --json");
        return command;
    }

    private static Command CreatePrune()
    {
        var cacheDir = CacheDirOption();
        var json = JsonOption();
        var dryRun = new Option<bool>("--dry-run") { Description = "Only report what would be deleted." };
        var command = new Command("prune", "Delete revisions no ref points to, the blobs only they use, and repositories without refs.") { cacheDir, dryRun, json };
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var result = CachePruner.Prune(CacheDirectory(parseResult, cacheDir), parseResult.GetValue(dryRun));
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(result, CliJson.Options)).ConfigureAwait(false);
                return 0;
            }
            var verb = result.DryRun ? "would delete" : "deleted";
            foreach (var repo in result.DeletedRepos) await output.WriteLineAsync($"{verb} repo {repo}").ConfigureAwait(false);
            foreach (var revision in result.DeletedRevisions) await output.WriteLineAsync($"{verb} revision {revision}").ConfigureAwait(false);
            foreach (var partial in result.DeletedPartials) await output.WriteLineAsync($"{verb} partial download {partial}").ConfigureAwait(false);
            await output.WriteLineAsync($"{verb} {result.DeletedBlobs.Count} blob(s) and {result.DeletedPartials.Count} partial download(s), {FormatSize(result.FreedBytes)}.").ConfigureAwait(false);
            return 0;
        }));
        command.WithExamples("adapters-hub cache prune --dry-run", "adapters-hub cache prune --json");
        return command;
    }

    private static string FormatSize(long bytes)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
