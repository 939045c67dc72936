using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// One SQLite file in write-ahead-log mode: readers never wait for the writer, and a commit is on disk when
/// <c>COMMIT</c> returns (<c>synchronous=FULL</c>), so a killed process loses nothing it acknowledged.
/// </summary>
internal sealed class SqliteDialect : SqlDialect
{
    private readonly string _connectionString;

    public SqliteDialect(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 30 }.ToString();
        using var connection = new SqliteConnection(_connectionString);
        connection.Open();
        // The journal mode is a property of the file: set once, it holds for every later connection.
        using var wal = Command(connection, null, "PRAGMA journal_mode=WAL;");
        var mode = wal.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"SQLite metadata {Path}: write-ahead logging could not be enabled (journal_mode is '{mode}').");
        }
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Description => $"SQLite {Path}";

    public override DbConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragmas = Command(connection, null, "PRAGMA busy_timeout=30000; PRAGMA synchronous=FULL;");
        pragmas.ExecuteNonQuery();
        return connection;
    }

    public override DbTransaction BeginWrite(DbConnection connection) => ((SqliteConnection)connection).BeginTransaction(deferred: false);

    // BEGIN IMMEDIATE already holds the database's only write lock.
    public override void LockForMigration(DbConnection connection, DbTransaction transaction)
    {
    }

    public override bool TableExists(DbConnection connection, DbTransaction transaction, string table)
    {
        using var command = Command(connection, transaction, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @p0", table);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    public override void Dispose() => SqliteConnection.ClearAllPools();
}
