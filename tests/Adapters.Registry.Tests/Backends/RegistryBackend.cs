namespace Adapters.Registry.Tests.Backends;

/// <summary>Which metadata store a registry under test uses; the client suites run once per backend.</summary>
public abstract class RegistryBackend
{
    /// <summary>The embedded default: <c>registry.db</c> under the registry's root.</summary>
    public static RegistryBackend Sqlite { get; } = new SqliteBackend();

    /// <summary>A fresh database on <paramref name="cluster"/> for each registry started.</summary>
    public static RegistryBackend Postgres(PostgresCluster cluster) => new PostgresBackend(cluster);

    /// <summary>A fresh database on <paramref name="cluster"/> and a fresh key prefix on <paramref name="s3"/> for each registry started.</summary>
    public static RegistryBackend PostgresAndS3(PostgresCluster cluster, S3Server s3) => new PostgresS3Backend(cluster, s3);

    /// <summary>Prepares the store of one registry and returns how its options select it.</summary>
    public abstract Task<Func<RegistryServerOptions, RegistryServerOptions>> PrepareAsync();

    private sealed class SqliteBackend : RegistryBackend
    {
        public override Task<Func<RegistryServerOptions, RegistryServerOptions>> PrepareAsync() =>
            Task.FromResult<Func<RegistryServerOptions, RegistryServerOptions>>(options => options);

        public override string ToString() => "SQLite";
    }

    private sealed class PostgresBackend(PostgresCluster cluster) : RegistryBackend
    {
        public override async Task<Func<RegistryServerOptions, RegistryServerOptions>> PrepareAsync()
        {
            var database = await cluster.CreateDatabaseAsync();
            return options => options with { PostgresConnectionString = database };
        }

        public override string ToString() => "PostgreSQL";
    }

    private sealed class PostgresS3Backend(PostgresCluster cluster, S3Server s3) : RegistryBackend
    {
        public override async Task<Func<RegistryServerOptions, RegistryServerOptions>> PrepareAsync()
        {
            var database = await cluster.CreateDatabaseAsync();
            var blobs = s3.NewRegistryStorage();
            return options => options with { PostgresConnectionString = database, S3Blobs = blobs };
        }

        public override string ToString() => "PostgreSQL + S3";
    }
}
