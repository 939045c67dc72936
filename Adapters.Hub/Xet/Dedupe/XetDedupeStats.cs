namespace Adapters.Hub.Xet.Dedupe;

/// <summary>What an upload had to send and what it could skip.</summary>
public sealed record XetDedupeStats
{
    /// <summary>Bytes of all files processed.</summary>
    public long FileBytes { get; init; }

    /// <summary>Chunks of all files processed.</summary>
    public long Chunks { get; init; }

    /// <summary>Bytes of chunks that were new (went into xorbs).</summary>
    public long NewChunkBytes { get; init; }

    /// <summary>Chunks that were new.</summary>
    public long NewChunks { get; init; }

    /// <summary>Bytes of the serialised xorbs (what is POSTed).</summary>
    public long XorbBytes { get; init; }

    /// <summary>Xorbs built.</summary>
    public int Xorbs { get; init; }

    /// <summary>Global-dedupe queries sent.</summary>
    public int Queries { get; init; }

    /// <summary>Chunks found through those queries' answers (not in a xorb of this upload).</summary>
    public long ChunksFoundGlobally { get; init; }
}
