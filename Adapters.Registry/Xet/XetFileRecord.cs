using System.Text.Json.Serialization;

namespace Adapters.Registry.Xet;

/// <summary>
/// A file stored as Xet chunks: its Xet file hash, the SHA-256 and size of its bytes (both verified by reassembling it
/// when its shard arrived) and the terms that rebuild it, in order.
/// </summary>
internal sealed record XetFileRecord(string FileHash, string Sha256, long Size, IReadOnlyList<XetTermRecord> Terms);

/// <summary>One reconstruction term: chunks <see cref="Start"/> (inclusive) to <see cref="End"/> (exclusive) of a xorb, <see cref="UnpackedLength"/> bytes once decompressed.</summary>
internal sealed record XetTermRecord(
    [property: JsonPropertyName("xorb")] string XorbHash,
    [property: JsonPropertyName("start")] int Start,
    [property: JsonPropertyName("end")] int End,
    [property: JsonPropertyName("length")] long UnpackedLength);
