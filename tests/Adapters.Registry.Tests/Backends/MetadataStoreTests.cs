using Adapters.Hub;
using Adapters.Registry.Storage;
using Adapters.Registry.Storage.Metadata;

namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// The metadata stores themselves, on SQLite and on PostgreSQL: migrations run once and refuse a newer schema,
/// and a ref update whose expected commit is stale changes nothing at all (not even the commit it carried).
/// </summary>
public abstract class MetadataStoreTests : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("adapters-metadata-");

    private protected DirectoryInfo Scratch => _scratch;

    /// <summary>Opens the store under test; the same arguments give the same database again.</summary>
    private protected abstract Task<Func<SqlRegistryMetadata>> DatabaseAsync();

    /// <summary>Runs one SQL statement on the store's database (to plant a newer schema version).</summary>
    private protected abstract SqlDialect DialectOf(Func<SqlRegistryMetadata> open);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _scratch.Delete(recursive: true);
    }

    private static readonly RepoKey Repo = new(RepoType.Model, "team/meta");

    private static CommitRecord Commit(string id, params string[] parents) => new() { Id = id, Parents = parents, Title = id, Date = DateTimeOffset.UnixEpoch };

    [Fact]
    public async Task Migrations_run_once_and_a_schema_from_a_newer_registry_is_refused()
    {
        var open = await DatabaseAsync();
        using (open())
        {
        }
        using var dialect = DialectOf(open);
        Assert.Empty(SchemaMigrations.Apply(dialect));
        using (var connection = dialect.Open())
        using (var plant = SqlDialect.Command(connection, null, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@p0, 'from the future', 'now')", SchemaMigrations.LatestVersion + 1))
        {
            plant.ExecuteNonQuery();
        }
        var refused = Assert.Throws<InvalidOperationException>(() => open());
        Assert.Contains($"schema version {SchemaMigrations.LatestVersion + 1}", refused.Message);
    }

    [Fact]
    public async Task A_stale_compare_and_set_changes_nothing_and_a_current_one_moves_the_ref_with_its_commit()
    {
        using var store = (await DatabaseAsync())();
        var root = Commit(new string('1', 40));
        Assert.True(store.TryCreateRepo(Repo, new RepoMetadata { Id = Repo.Id, ObjectId = "0", CreatedAt = DateTimeOffset.UnixEpoch }, root, "main"));
        Assert.False(store.TryCreateRepo(Repo, new RepoMetadata { Id = Repo.Id }, root, "main"));

        var mine = Commit(new string('2', 40), root.Id);
        var theirs = Commit(new string('3', 40), root.Id);
        Assert.True(store.TryApply(Repo, new MetadataChange { NewCommit = mine, Refs = [new RefUpdate("main", root.Id, mine.Id)] }));
        // Same parent, second writer: refused, and its commit is not stored either.
        Assert.False(store.TryApply(Repo, new MetadataChange { NewCommit = theirs, Refs = [new RefUpdate("main", root.Id, theirs.Id)] }));
        Assert.Equal(mine.Id, store.ReadRef(Repo, "main"));
        Assert.Null(store.FindCommit(Repo, theirs.Id));
        Assert.Equal([mine.Id], store.CommitIdsStartingWith(Repo, "2222", limit: 2));

        // Creating an existing ref and deleting one from a stale commit both fail as a whole.
        Assert.False(store.TryApply(Repo, new MetadataChange { Refs = [new RefUpdate("refs/tags/v1", null, mine.Id), new RefUpdate("main", null, root.Id)] }));
        Assert.Null(store.ReadRef(Repo, "refs/tags/v1"));
        Assert.False(store.TryApply(Repo, new MetadataChange { Refs = [new RefUpdate("main", root.Id, null)] }));
        Assert.True(store.TryApply(Repo, new MetadataChange { Refs = [new RefUpdate("main", mine.Id, null)] }));
        Assert.Empty(store.ReadRefs(Repo));

        Assert.True(store.DeleteRepo(Repo));
        Assert.Null(store.FindRepo(Repo));
        Assert.Null(store.FindCommit(Repo, mine.Id));
        Assert.False(store.DeleteRepo(Repo));
    }

    [Fact]
    public async Task Of_many_writers_racing_on_one_parent_exactly_one_moves_the_ref()
    {
        var open = await DatabaseAsync();
        using var setup = open();
        var root = Commit(new string('a', 40));
        Assert.True(setup.TryCreateRepo(Repo, new RepoMetadata { Id = Repo.Id }, root, "main"));
        // Separate store instances, as separate replicas would have.
        var writers = Enumerable.Range(0, 8).Select(_ => open()).ToList();
        try
        {
            var results = await Task.WhenAll(writers.Select((writer, i) => Task.Run(() =>
            {
                var commit = Commit(Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData([(byte)i])), root.Id);
                return writer.TryApply(Repo, new MetadataChange { NewCommit = commit, Refs = [new RefUpdate("main", root.Id, commit.Id)] }) ? commit.Id : null;
            })));
            var winner = Assert.Single(results, r => r is not null);
            Assert.Equal(winner, setup.ReadRef(Repo, "main"));
        }
        finally
        {
            foreach (var writer in writers) writer.Dispose();
        }
    }
}

public sealed class MetadataStoreTestsOnSqlite : MetadataStoreTests
{
    private string Path => System.IO.Path.Combine(Scratch.FullName, "registry.db");

    private protected override Task<Func<SqlRegistryMetadata>> DatabaseAsync() => Task.FromResult<Func<SqlRegistryMetadata>>(() => SqlRegistryMetadata.OpenSqlite(Path));

    private protected override SqlDialect DialectOf(Func<SqlRegistryMetadata> open) => new SqliteDialect(Path);
}

[Collection(PostgresCollection.Name)]
public sealed class MetadataStoreTestsOnPostgres(PostgresCluster cluster) : MetadataStoreTests
{
    private string? _database;

    private protected override async Task<Func<SqlRegistryMetadata>> DatabaseAsync()
    {
        _database = await cluster.CreateDatabaseAsync();
        var database = _database;
        return () => SqlRegistryMetadata.OpenPostgres(database);
    }

    private protected override SqlDialect DialectOf(Func<SqlRegistryMetadata> open) => new PostgresDialect(_database!);
}
