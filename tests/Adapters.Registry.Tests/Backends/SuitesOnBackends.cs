namespace Adapters.Registry.Tests.Backends;

// The client suites (our client, the official JS client, Python's wire protocol) on each metadata backend.
// xunit discovers the inherited tests once per class below; PostgreSQL classes share one cluster.

public sealed class ServeRoundTripTestsOnSqlite() : ServeRoundTripTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class ServeRoundTripTestsOnPostgres(PostgresCluster cluster) : ServeRoundTripTests(RegistryBackend.Postgres(cluster));

[Collection(PostgresCollection.Name)]
public sealed class ServeRoundTripTestsOnPostgresAndS3(PostgresCluster cluster, S3Server s3) : ServeRoundTripTests(RegistryBackend.PostgresAndS3(cluster, s3));

public sealed class JsClientInteropTestsOnSqlite() : JsClientInteropTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class JsClientInteropTestsOnPostgres(PostgresCluster cluster) : JsClientInteropTests(RegistryBackend.Postgres(cluster));

[Collection(PostgresCollection.Name)]
public sealed class JsClientInteropTestsOnPostgresAndS3(PostgresCluster cluster, S3Server s3) : JsClientInteropTests(RegistryBackend.PostgresAndS3(cluster, s3));

public sealed class ServePythonProtocolTestsOnSqlite() : ServePythonProtocolTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class ServePythonProtocolTestsOnPostgres(PostgresCluster cluster) : ServePythonProtocolTests(RegistryBackend.Postgres(cluster));

[Collection(PostgresCollection.Name)]
public sealed class ServePythonProtocolTestsOnPostgresAndS3(PostgresCluster cluster, S3Server s3) : ServePythonProtocolTests(RegistryBackend.PostgresAndS3(cluster, s3));

public sealed class AccountTestsOnSqlite() : Adapters.Registry.Tests.Accounts.AccountTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class AccountTestsOnPostgres(PostgresCluster cluster) : Adapters.Registry.Tests.Accounts.AccountTests(RegistryBackend.Postgres(cluster));

[Collection(PostgresCollection.Name)]
public sealed class AccountTestsOnPostgresAndS3(PostgresCluster cluster, S3Server s3) : Adapters.Registry.Tests.Accounts.AccountTests(RegistryBackend.PostgresAndS3(cluster, s3));

public sealed class MirrorClientTestsOnSqlite() : Mirror.MirrorClientTests(RegistryBackend.Sqlite);

[Collection(PostgresCollection.Name)]
public sealed class MirrorClientTestsOnPostgres(PostgresCluster cluster) : Mirror.MirrorClientTests(RegistryBackend.Postgres(cluster));

[Collection(PostgresCollection.Name)]
public sealed class MirrorClientTestsOnPostgresAndS3(PostgresCluster cluster, S3Server s3) : Mirror.MirrorClientTests(RegistryBackend.PostgresAndS3(cluster, s3));

[Collection(PostgresCollection.Name)]
public sealed class ServePythonProtocolTestsOnTwoReplicas(PostgresCluster cluster, S3Server s3) : ServePythonProtocolTests(RegistryBackend.TwoReplicasOnPostgresAndS3(cluster, s3));

[Collection(PostgresCollection.Name)]
public sealed class JsClientInteropTestsOnTwoReplicas(PostgresCluster cluster, S3Server s3) : JsClientInteropTests(RegistryBackend.TwoReplicasOnPostgresAndS3(cluster, s3));

[Collection(PostgresCollection.Name)]
public sealed class ServeRoundTripTestsOnTwoReplicas(PostgresCluster cluster, S3Server s3) : ServeRoundTripTests(RegistryBackend.TwoReplicasOnPostgresAndS3(cluster, s3));
