namespace Adapters.Registry.Tests.Backends;

/// <summary>The test classes that share one <see cref="PostgresCluster"/> (started once, each test with its own database).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresCluster>
{
    public const string Name = "PostgreSQL cluster";
}
