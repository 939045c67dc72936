using System.Data;
using System.Data.Common;

namespace Adapters.Registry.Storage.Metadata;

/// <summary>
/// What differs between the SQL databases the registry runs on. The statements themselves are shared: both speak
/// <c>@name</c> parameters, <c>INSERT ... ON CONFLICT</c> and <c>substr</c>.
/// </summary>
internal abstract class SqlDialect : IDisposable
{
    /// <summary>The store for messages, without secrets.</summary>
    public abstract string Description { get; }

    /// <summary>An open connection, configured for the registry (timeouts, durability).</summary>
    public abstract DbConnection Open();

    /// <summary>
    /// A transaction that takes the write lock at once where the database needs it (SQLite's <c>BEGIN IMMEDIATE</c>),
    /// so two writers queue instead of failing when one upgrades a read lock.
    /// </summary>
    public abstract DbTransaction BeginWrite(DbConnection connection);

    /// <summary>Serializes schema migrations between processes that start at once (inside the migration transaction).</summary>
    public abstract void LockForMigration(DbConnection connection, DbTransaction transaction);

    /// <summary>Whether <paramref name="table"/> exists.</summary>
    public abstract bool TableExists(DbConnection connection, DbTransaction transaction, string table);

    public virtual void Dispose()
    {
    }

    /// <summary>A command with <c>@p0</c>, <c>@p1</c>, ... bound to <paramref name="values"/> in order.</summary>
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params object?[] values)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@p" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            parameter.Value = values[i] ?? DBNull.Value;
            parameter.DbType = values[i] switch
            {
                int => DbType.Int32,
                long => DbType.Int64,
                _ => DbType.String,
            };
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
