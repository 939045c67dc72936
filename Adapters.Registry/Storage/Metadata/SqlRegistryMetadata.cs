using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// The registry's metadata in SQL tables (see <see cref="SchemaMigrations"/>): repositories, refs, commits and
/// discussions keyed by repository, records stored as the same JSON the folder layout used. The same statements
/// run on SQLite and PostgreSQL; <see cref="SqlDialect"/> holds what differs.
/// </summary>
internal sealed class SqlRegistryMetadata : IRegistryMetadata
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };
    private readonly SqlDialect _dialect;

    private SqlRegistryMetadata(SqlDialect dialect) => _dialect = dialect;

    /// <summary>The metadata in the SQLite file <paramref name="path"/> (created when missing), migrated to the current schema.</summary>
    public static SqlRegistryMetadata OpenSqlite(string path) => Open(new SqliteDialect(path));

    /// <summary>The metadata in the PostgreSQL database of <paramref name="connectionString"/>, migrated to the current schema.</summary>
    public static SqlRegistryMetadata OpenPostgres(string connectionString) => Open(new PostgresDialect(connectionString));

    private static SqlRegistryMetadata Open(SqlDialect dialect)
    {
        try
        {
            SchemaMigrations.Apply(dialect);
            return new SqlRegistryMetadata(dialect);
        }
        catch (DbException ex)
        {
            dialect.Dispose();
            throw new InvalidOperationException($"The registry's metadata in {dialect.Description} cannot be opened: {ex.Message}", ex);
        }
        catch
        {
            dialect.Dispose();
            throw;
        }
    }

    public string Description => _dialect.Description;

    /// <summary>The Xet storage tables of the same database.</summary>
    public global::Adapters.Registry.Xet.XetMetadata Xet => _xet ??= new global::Adapters.Registry.Xet.XetMetadata(_dialect);

    private global::Adapters.Registry.Xet.XetMetadata? _xet;

    public void Dispose() => _dialect.Dispose();

    private static string TypeOf(RepoKey key) => key.Type.ApiSegment();

    public RepoMetadata? FindRepo(RepoKey key)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT metadata FROM repos WHERE repo_type = @p0 AND repo_id = @p1", TypeOf(key), key.Id);
        return command.ExecuteScalar() is string json ? Deserialize<RepoMetadata>(json, $"repository {key}") : null;
    }

    public IReadOnlyList<RepoMetadata> ListRepos(RepoType type)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT metadata FROM repos WHERE repo_type = @p0", type.ApiSegment());
        return ReadAll(command, json => Deserialize<RepoMetadata>(json, $"a {type.Singular()} repository"));
    }

    public bool TryCreateRepo(RepoKey key, RepoMetadata metadata, CommitRecord initialCommit, string branch) =>
        InTransaction((connection, transaction) =>
            Execute(connection, transaction, "INSERT INTO repos (repo_type, repo_id, metadata) VALUES (@p0, @p1, @p2) ON CONFLICT DO NOTHING", TypeOf(key), key.Id, JsonSerializer.Serialize(metadata, s_json)) == 1
            && Execute(connection, transaction, "INSERT INTO commits (repo_type, repo_id, commit_id, record) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING", TypeOf(key), key.Id, initialCommit.Id, JsonSerializer.Serialize(initialCommit, s_json)) >= 0
            && Execute(connection, transaction, "INSERT INTO refs (repo_type, repo_id, name, commit_id) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING", TypeOf(key), key.Id, branch, initialCommit.Id) == 1);

    public bool TryImportRepo(RepoKey key, RepoMetadata metadata, IReadOnlyList<CommitRecord> commits, IReadOnlyDictionary<string, string> refs, IReadOnlyList<DiscussionRecord> discussions) =>
        InTransaction((connection, transaction) =>
        {
            var type = TypeOf(key);
            if (Execute(connection, transaction, "INSERT INTO repos (repo_type, repo_id, metadata) VALUES (@p0, @p1, @p2) ON CONFLICT DO NOTHING", type, key.Id, JsonSerializer.Serialize(metadata, s_json)) != 1) return false;
            foreach (var commit in commits)
            {
                Execute(connection, transaction, "INSERT INTO commits (repo_type, repo_id, commit_id, record) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING", type, key.Id, commit.Id, JsonSerializer.Serialize(commit, s_json));
            }
            foreach (var (name, commitId) in refs)
            {
                Execute(connection, transaction, "INSERT INTO refs (repo_type, repo_id, name, commit_id) VALUES (@p0, @p1, @p2, @p3)", type, key.Id, name, commitId);
            }
            foreach (var discussion in discussions)
            {
                Execute(connection, transaction, "INSERT INTO discussions (repo_type, repo_id, number, record) VALUES (@p0, @p1, @p2, @p3)", type, key.Id, discussion.Number, JsonSerializer.Serialize(discussion, s_json));
            }
            return true;
        });

    public bool DeleteRepo(RepoKey key) =>
        InTransaction((connection, transaction) =>
        {
            if (Execute(connection, transaction, "DELETE FROM repos WHERE repo_type = @p0 AND repo_id = @p1", TypeOf(key), key.Id) != 1) return false;
            foreach (var table in new[] { "refs", "commits", "discussions", "xet_repo_files" })
            {
                Execute(connection, transaction, $"DELETE FROM {table} WHERE repo_type = @p0 AND repo_id = @p1", TypeOf(key), key.Id);
            }
            return true;
        });

    public IReadOnlyDictionary<string, string> ReadRefs(RepoKey key)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT name, commit_id FROM refs WHERE repo_type = @p0 AND repo_id = @p1", TypeOf(key), key.Id);
        using var reader = command.ExecuteReader();
        var refs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read()) refs[reader.GetString(0)] = reader.GetString(1);
        return refs;
    }

    public string? ReadRef(RepoKey key, string name)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT commit_id FROM refs WHERE repo_type = @p0 AND repo_id = @p1 AND name = @p2", TypeOf(key), key.Id, name);
        return command.ExecuteScalar() as string;
    }

    public CommitRecord? FindCommit(RepoKey key, string id)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT record FROM commits WHERE repo_type = @p0 AND repo_id = @p1 AND commit_id = @p2", TypeOf(key), key.Id, id);
        return command.ExecuteScalar() is string json ? Deserialize<CommitRecord>(json, $"commit {id} of {key}") : null;
    }

    public IReadOnlyList<string> CommitIdsStartingWith(RepoKey key, string prefix, int limit)
    {
        using var connection = _dialect.Open();
        // substr, not LIKE: a prefix is compared as it is, with no wildcard to escape.
        using var command = SqlDialect.Command(connection, null,
            $"SELECT commit_id FROM commits WHERE repo_type = @p0 AND repo_id = @p1 AND substr(commit_id, 1, @p2) = @p3 LIMIT {limit.ToString(CultureInfo.InvariantCulture)}",
            TypeOf(key), key.Id, prefix.Length, prefix);
        return ReadAll(command, id => id);
    }

    public IReadOnlyList<DiscussionRecord> ListDiscussions(RepoKey key)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT record FROM discussions WHERE repo_type = @p0 AND repo_id = @p1", TypeOf(key), key.Id);
        return ReadAll(command, json => Deserialize<DiscussionRecord>(json, $"a discussion of {key}"));
    }

    public DiscussionRecord? FindDiscussion(RepoKey key, int number)
    {
        using var connection = _dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT record FROM discussions WHERE repo_type = @p0 AND repo_id = @p1 AND number = @p2", TypeOf(key), key.Id, number);
        return command.ExecuteScalar() is string json ? Deserialize<DiscussionRecord>(json, $"discussion #{number} of {key}") : null;
    }

    public string GetOrAddSetting(string name, string valueIfMissing)
    {
        using var connection = _dialect.Open();
        using (var insert = SqlDialect.Command(connection, null, "INSERT INTO settings (name, value) VALUES (@p0, @p1) ON CONFLICT DO NOTHING", name, valueIfMissing))
        {
            insert.ExecuteNonQuery();
        }
        using var query = SqlDialect.Command(connection, null, "SELECT value FROM settings WHERE name = @p0", name);
        return query.ExecuteScalar() as string ?? throw new InvalidDataException($"{Description}: setting '{name}' vanished right after it was stored.");
    }

    public bool TryApply(RepoKey key, MetadataChange change) =>
        InTransaction((connection, transaction) =>
        {
            var type = TypeOf(key);
            if (change.NewCommit is { } commit)
            {
                Execute(connection, transaction, "INSERT INTO commits (repo_type, repo_id, commit_id, record) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING",
                    type, key.Id, commit.Id, JsonSerializer.Serialize(commit, s_json));
            }
            foreach (var update in change.Refs)
            {
                var changed = (update.Expected, update.Target) switch
                {
                    (null, { } target) => Execute(connection, transaction, "INSERT INTO refs (repo_type, repo_id, name, commit_id) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING", type, key.Id, update.Name, target),
                    ({ } expected, { } target) => Execute(connection, transaction, "UPDATE refs SET commit_id = @p3 WHERE repo_type = @p0 AND repo_id = @p1 AND name = @p2 AND commit_id = @p4", type, key.Id, update.Name, target, expected),
                    ({ } expected, null) => Execute(connection, transaction, "DELETE FROM refs WHERE repo_type = @p0 AND repo_id = @p1 AND name = @p2 AND commit_id = @p3", type, key.Id, update.Name, expected),
                    (null, null) => throw new ArgumentException($"Ref update of {update.Name} names neither an expected nor a target commit.", nameof(change)),
                };
                if (changed != 1) return false;
            }
            foreach (var (record, isNew) in change.Discussions)
            {
                var json = JsonSerializer.Serialize(record, s_json);
                var written = isNew
                    ? Execute(connection, transaction, "INSERT INTO discussions (repo_type, repo_id, number, record) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING", type, key.Id, record.Number, json)
                    : Execute(connection, transaction, "UPDATE discussions SET record = @p3 WHERE repo_type = @p0 AND repo_id = @p1 AND number = @p2", type, key.Id, record.Number, json);
                if (written != 1) return false;
            }
            return true;
        });

    /// <summary>Runs <paramref name="work"/> in a write transaction, committed when it returns true and rolled back otherwise.</summary>
    private bool InTransaction(Func<DbConnection, DbTransaction, bool> work)
    {
        using var connection = _dialect.Open();
        using var transaction = _dialect.BeginWrite(connection);
        if (!work(connection, transaction))
        {
            transaction.Rollback();
            return false;
        }
        transaction.Commit();
        return true;
    }

    private static int Execute(DbConnection connection, DbTransaction transaction, string sql, params object?[] values)
    {
        using var command = SqlDialect.Command(connection, transaction, sql, values);
        return command.ExecuteNonQuery();
    }

    private static List<T> ReadAll<T>(DbCommand command, Func<string, T> map)
    {
        using var reader = command.ExecuteReader();
        var items = new List<T>();
        while (reader.Read()) items.Add(map(reader.GetString(0)));
        return items;
    }

    private T Deserialize<T>(string json, string what) =>
        JsonSerializer.Deserialize<T>(json, s_json) ?? throw new InvalidDataException($"{Description}: {what} is stored as '{json[..Math.Min(json.Length, 40)]}', not a record.");
}
