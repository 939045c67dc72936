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

    /// <summary>
    /// Two replicas on one fresh PostgreSQL database and S3 key prefix, each with its own local folder, behind a
    /// balancer that alternates every request between them (<see cref="RoundRobinBalancer"/>).
    /// </summary>
    public static RegistryBackend TwoReplicasOnPostgresAndS3(PostgresCluster cluster, S3Server s3) => new TwoReplicasBackend(cluster, s3);

    /// <summary>How many <c>serve</c> replicas a registry on this backend runs (1, or 2 behind a balancer).</summary>
    public virtual int Replicas => 1;

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

    private sealed class TwoReplicasBackend(PostgresCluster cluster, S3Server s3) : RegistryBackend
    {
        private readonly PostgresS3Backend _store = new(cluster, s3);

        public override int Replicas => 2;

        public override Task<Func<RegistryServerOptions, RegistryServerOptions>> PrepareAsync() => _store.PrepareAsync();

        public override string ToString() => "two replicas on PostgreSQL + S3";
    }
}
