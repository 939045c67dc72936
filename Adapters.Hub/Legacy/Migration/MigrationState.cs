using Adapters.Hub.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// The resumable record of a migration: one entry per (target repo, version), saved to disk (temp file, then rename)
/// after every change, so a crash or kill loses at most the version in flight and a re-run skips what is done.
/// </summary>
public sealed class MigrationState
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly string? _path;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly StateDocument _document;

    private MigrationState(string? path, StateDocument document)
    {
        _path = path;
        _document = document;
    }

    /// <summary>Loads the state at <paramref name="path"/> (a missing file is an empty state); null keeps the state in memory only.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a migration state.</exception>
    public static async Task<MigrationState> LoadAsync(string? path, CancellationToken cancellationToken = default)
    {
        if (path is null || !File.Exists(path)) return new MigrationState(path, new StateDocument());
        try
        {
            var stream = File.OpenRead(path);
            await using (stream.ConfigureAwait(false))
            {
                var document = await JsonSerializer.DeserializeAsync<StateDocument>(stream, s_json, cancellationToken).ConfigureAwait(false);
                if (document is null || document.FormatVersion != 1)
                {
                    throw new InvalidDataException($"{path}: not a migration state file (expected format_version 1).");
                }
                return new MigrationState(path, document);
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: the migration state file is not valid JSON ({ex.Message}).", ex);
        }
    }

    /// <summary>The key of one version of one target repo.</summary>
    public static string Key(string targetRepo, string version) => $"{targetRepo}@{version}";

    /// <summary>Whether the version was completed by an earlier run.</summary>
    public bool IsDone(string key) => _document.Entries.TryGetValue(key, out var record) && record.Status == "done";

    /// <summary>The reason an earlier run recorded for a failure, or null.</summary>
    public string? FailureReason(string key) =>
        _document.Entries.TryGetValue(key, out var record) && record.Status == "failed" ? record.Reason : null;

    /// <summary>Records a completed version with the files pushed and saves the file.</summary>
    public Task MarkDoneAsync(string key, IReadOnlyList<string> branches, IReadOnlyDictionary<string, string> files, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, new StateRecord { Status = "done", Branches = [.. branches], Files = new(files.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal), StringComparer.Ordinal), UpdatedAt = DateTimeOffset.UtcNow }, cancellationToken);

    /// <summary>Records a failed version with its reason and saves the file; a later run retries it.</summary>
    public Task MarkFailedAsync(string key, string reason, CancellationToken cancellationToken = default) =>
        UpdateAsync(key, new StateRecord { Status = "failed", Reason = reason, UpdatedAt = DateTimeOffset.UtcNow }, cancellationToken);

    private async Task UpdateAsync(string key, StateRecord record, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _document.Entries[key] = record;
            if (_path is null) return;
            // Saving must not be cut short by the run's cancellation, or a kill right here would lose a finished version.
            var bytes = JsonSerializer.SerializeToUtf8Bytes(_document, s_json);
            await AtomicFile.WriteAllBytesAsync(_path, bytes, WriteDurability.FileOnDisk, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed class StateDocument
    {
        public int FormatVersion { get; set; } = 1;

        public SortedDictionary<string, StateRecord> Entries { get; set; } = new(StringComparer.Ordinal);
    }

    private sealed class StateRecord
    {
        public string Status { get; set; } = "";

        public string? Reason { get; set; }

        public List<string>? Branches { get; set; }

        public SortedDictionary<string, string>? Files { get; set; }

        public DateTimeOffset UpdatedAt { get; set; }
    }
}
