using System.Globalization;

namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// The metadata schema as an ordered list of migrations, applied on start in one transaction under the dialect's
/// migration lock, each recorded in <c>schema_migrations</c>. A database migrated by a newer registry (a version
/// this one does not know) is refused rather than written with an older idea of the schema.
/// </summary>
internal static class SchemaMigrations
{
    /// <summary>Version, name and statements; append only, never edit a released step.</summary>
    public static IReadOnlyList<(int Version, string Name, string[] Statements)> Steps { get; } =
    [
        (1, "repositories, refs, commits and discussions",
        [
            "CREATE TABLE repos (repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, metadata TEXT NOT NULL, PRIMARY KEY (repo_type, repo_id))",
            "CREATE TABLE refs (repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, name TEXT NOT NULL, commit_id TEXT NOT NULL, PRIMARY KEY (repo_type, repo_id, name))",
            "CREATE TABLE commits (repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, commit_id TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (repo_type, repo_id, commit_id))",
            "CREATE TABLE discussions (repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, number INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (repo_type, repo_id, number))",
        ]),
        (2, "settings every replica shares (the key of presigned blob URLs)",
        [
            "CREATE TABLE settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)",
        ]),
        (3, "Xet storage: verified xorbs, the chunk index, file reconstructions and which repository may read them",
        [
            "CREATE TABLE xet_xorbs (xorb_hash TEXT NOT NULL PRIMARY KEY, serialized_size BIGINT NOT NULL, chunk_count INTEGER NOT NULL)",
            "CREATE TABLE xet_chunks (chunk_hash TEXT NOT NULL PRIMARY KEY, xorb_hash TEXT NOT NULL, chunk_index INTEGER NOT NULL)",
            "CREATE TABLE xet_files (file_hash TEXT NOT NULL PRIMARY KEY, sha256 TEXT NOT NULL, size BIGINT NOT NULL, terms TEXT NOT NULL)",
            "CREATE INDEX xet_files_by_sha256 ON xet_files (sha256)",
            "CREATE TABLE xet_repo_files (repo_type TEXT NOT NULL, repo_id TEXT NOT NULL, file_hash TEXT NOT NULL, PRIMARY KEY (repo_type, repo_id, file_hash))",
        ]),
    ];

    /// <summary>The newest version this registry knows.</summary>
    public static int LatestVersion => Steps[^1].Version;

    /// <summary>Brings the database to <see cref="LatestVersion"/>; returns the versions applied now (none when it was current).</summary>
    public static IReadOnlyList<int> Apply(SqlDialect dialect)
    {
        using var connection = dialect.Open();
        using var transaction = dialect.BeginWrite(connection);
        dialect.LockForMigration(connection, transaction);
        if (!dialect.TableExists(connection, transaction, "schema_migrations"))
        {
            using var create = SqlDialect.Command(connection, transaction, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
            create.ExecuteNonQuery();
        }
        int current;
        using (var query = SqlDialect.Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        {
            current = Convert.ToInt32(query.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        if (current > LatestVersion)
        {
            throw new InvalidOperationException($"The metadata in {dialect.Description} has schema version {current}; this registry knows versions up to {LatestVersion}. Run the newer registry that migrated it.");
        }
        var applied = new List<int>();
        foreach (var (version, name, statements) in Steps.Where(s => s.Version > current))
        {
            foreach (var statement in statements)
            {
                using var step = SqlDialect.Command(connection, transaction, statement);
                step.ExecuteNonQuery();
            }
            using var record = SqlDialect.Command(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@p0, @p1, @p2)",
                version, name, DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            record.ExecuteNonQuery();
            applied.Add(version);
        }
        transaction.Commit();
        return applied;
    }
}
