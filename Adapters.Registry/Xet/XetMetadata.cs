using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Adapters.Registry.Storage;
using Adapters.Registry.Storage.Metadata;

namespace Adapters.Registry.Xet;

/// <summary>
/// Xet storage's records in the registry's database (tables of <see cref="SchemaMigrations"/> step 3): which xorbs
/// are stored and verified, the global chunk index that answers dedupe queries, each file's reconstruction (keyed by
/// its Xet file hash and findable by its SHA-256), and which repositories may read which files. Every insert is
/// idempotent: content-addressed records are the same whoever writes them first.
/// </summary>
internal sealed class XetMetadata(SqlDialect dialect)
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };

    /// <summary>Whether the xorb is stored (its bytes were verified against its hash first).</summary>
    public bool HasXorb(string xorbHash)
    {
        using var connection = dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT 1 FROM xet_xorbs WHERE xorb_hash = @p0", xorbHash);
        return command.ExecuteScalar() is not null;
    }

    /// <summary>The stored xorb's chunk count, or null when it is not stored.</summary>
    public int? XorbChunkCount(string xorbHash)
    {
        using var connection = dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT chunk_count FROM xet_xorbs WHERE xorb_hash = @p0", xorbHash);
        return command.ExecuteScalar() is { } value and not DBNull ? Convert.ToInt32(value, CultureInfo.InvariantCulture) : null;
    }

    /// <summary>Records a verified xorb and indexes its chunks (the first xorb to hold a chunk keeps it); false when it was recorded already.</summary>
    public bool AddXorb(string xorbHash, long serializedSize, IReadOnlyList<string> chunkHashes) =>
        InTransaction((connection, transaction) =>
        {
            if (Execute(connection, transaction, "INSERT INTO xet_xorbs (xorb_hash, serialized_size, chunk_count) VALUES (@p0, @p1, @p2) ON CONFLICT DO NOTHING",
                    xorbHash, serializedSize, chunkHashes.Count) != 1)
            {
                return false;
            }
            for (var i = 0; i < chunkHashes.Count; i++)
            {
                Execute(connection, transaction, "INSERT INTO xet_chunks (chunk_hash, xorb_hash, chunk_index) VALUES (@p0, @p1, @p2) ON CONFLICT DO NOTHING", chunkHashes[i], xorbHash, i);
            }
            return true;
        });

    /// <summary>The xorb and index where the chunk is stored, or null when no stored xorb holds it.</summary>
    public (string XorbHash, int ChunkIndex)? FindChunk(string chunkHash)
    {
        using var connection = dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT xorb_hash, chunk_index FROM xet_chunks WHERE chunk_hash = @p0", chunkHash);
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetString(0), Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture)) : null;
    }

    /// <summary>Records a verified file reconstruction (idempotent) and lets <paramref name="repo"/> read it.</summary>
    public void AddFile(XetFileRecord file, RepoKey repo) =>
        InTransaction((connection, transaction) =>
        {
            Execute(connection, transaction, "INSERT INTO xet_files (file_hash, sha256, size, terms) VALUES (@p0, @p1, @p2, @p3) ON CONFLICT DO NOTHING",
                file.FileHash, file.Sha256, file.Size, JsonSerializer.Serialize(file.Terms, s_json));
            Execute(connection, transaction, "INSERT INTO xet_repo_files (repo_type, repo_id, file_hash) VALUES (@p0, @p1, @p2) ON CONFLICT DO NOTHING",
                repo.Type.ApiSegment(), repo.Id, file.FileHash);
            return true;
        });

    /// <summary>The file with this Xet file hash, or null.</summary>
    public XetFileRecord? FindFile(string fileHash) => ReadFile("SELECT file_hash, sha256, size, terms FROM xet_files WHERE file_hash = @p0", fileHash);

    /// <summary>A file with this content SHA-256 that <paramref name="repo"/> may read (uploaded through it), or null.</summary>
    public XetFileRecord? FindFileForRepo(string sha256, RepoKey repo) => ReadFile(
        "SELECT f.file_hash, f.sha256, f.size, f.terms FROM xet_files f JOIN xet_repo_files r ON r.file_hash = f.file_hash " +
        "WHERE f.sha256 = @p0 AND r.repo_type = @p1 AND r.repo_id = @p2", sha256, repo.Type.ApiSegment(), repo.Id);

    /// <summary>Any file with this content SHA-256 (for serving bytes a commit already names), or null.</summary>
    public XetFileRecord? FindFileBySha256(string sha256) => ReadFile("SELECT file_hash, sha256, size, terms FROM xet_files WHERE sha256 = @p0", sha256);

    /// <summary>Whether <paramref name="repo"/> may read the file (a shard uploaded for it named the file).</summary>
    public bool RepoMayRead(RepoKey repo, string fileHash)
    {
        using var connection = dialect.Open();
        using var command = SqlDialect.Command(connection, null, "SELECT 1 FROM xet_repo_files WHERE repo_type = @p0 AND repo_id = @p1 AND file_hash = @p2",
            repo.Type.ApiSegment(), repo.Id, fileHash);
        return command.ExecuteScalar() is not null;
    }

    private XetFileRecord? ReadFile(string sql, params object?[] values)
    {
        using var connection = dialect.Open();
        using var command = SqlDialect.Command(connection, null, sql, values);
        using var reader = command.ExecuteReader();
        if (!reader.Read()) return null;
        var terms = JsonSerializer.Deserialize<List<XetTermRecord>>(reader.GetString(3), s_json)
            ?? throw new InvalidDataException($"{dialect.Description}: the terms of Xet file {reader.GetString(0)} are not a list.");
        return new XetFileRecord(reader.GetString(0), reader.GetString(1), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture), terms);
    }

    private bool InTransaction(Func<DbConnection, DbTransaction, bool> work)
    {
        using var connection = dialect.Open();
        using var transaction = dialect.BeginWrite(connection);
        if (!work(connection, transaction))
        {
            transaction.Rollback();
            return false;
        }
        transaction.Commit();
        return true;
    }

    private static int Execute(DbConnection connection, DbTransaction transaction, string sql, params object?[] values)
    {
        using var command = SqlDialect.Command(connection, transaction, sql, values);
        return command.ExecuteNonQuery();
    }
}
