namespace Adapters.Registry.Tests.Backends;

// The client suites (our client, the official JS client, Python's wire protocol) on each metadata backend.
// xunit discovers the inherited tests once per class below; PostgreSQL classes share one cluster.

public sealed class ServeRoundTripTestsOnSqlite() : ServeRoundTripTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class ServeRoundTripTestsOnPostgres(PostgresCluster cluster) : ServeRoundTripTests(RegistryBackend.Postgres(cluster));

public sealed class JsClientInteropTestsOnSqlite() : JsClientInteropTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class JsClientInteropTestsOnPostgres(PostgresCluster cluster) : JsClientInteropTests(RegistryBackend.Postgres(cluster));

public sealed class ServePythonProtocolTestsOnSqlite() : ServePythonProtocolTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class ServePythonProtocolTestsOnPostgres(PostgresCluster cluster) : ServePythonProtocolTests(RegistryBackend.Postgres(cluster));
