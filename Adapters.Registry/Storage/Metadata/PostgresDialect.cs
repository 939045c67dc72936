using System.Data.Common;
using Npgsql;

namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// PostgreSQL through one pooled <see cref="NpgsqlDataSource"/>. Transactions run at READ COMMITTED: a
/// compare-and-set <c>UPDATE ... WHERE commit_id = expected</c> that races another waits for it and then matches
/// no row, which is exactly the loser's answer.
/// </summary>
internal sealed class PostgresDialect : SqlDialect
{
    /// <summary>The advisory lock key that serializes migrations across replicas (any constant the registry alone uses).</summary>
    private const long MigrationLockKey = 0x4164_6170_7465_7273;

    private readonly NpgsqlDataSource _source;

    public PostgresDialect(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database}";
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
    }

    public override string Description { get; }

    public override DbConnection Open() => _source.OpenConnection();

    public override DbTransaction BeginWrite(DbConnection connection) => connection.BeginTransaction();

    public override void LockForMigration(DbConnection connection, DbTransaction transaction)
    {
        using var command = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@p0)", MigrationLockKey);
        command.ExecuteNonQuery();
    }

    public override bool TableExists(DbConnection connection, DbTransaction transaction, string table)
    {
        using var command = Command(connection, transaction, "SELECT to_regclass(@p0) IS NOT NULL", table);
        return command.ExecuteScalar() is true;
    }

    public override void Dispose() => _source.Dispose();
}
