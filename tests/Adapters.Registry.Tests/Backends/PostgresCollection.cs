namespace Adapters.Registry.Tests.Backends;

/// <summary>
/// The test classes that share one <see cref="PostgresCluster"/> and one <see cref="S3Server"/> (started once for
/// the collection; each registry gets its own database and key prefix).
/// </summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>, ICollectionFixture<S3Server>
{
    public const string Name = "PostgreSQL cluster";
}
