namespace Adapters.Registry.Xet;

/// <summary>
/// The answer to a reconstruction query for a byte range of a file: the terms that cover it, how many bytes of the
/// first term to skip, and for each xorb the byte ranges to fetch. A xorb's chunk ranges that touch or overlap are
/// fetched as one range; each fetch gets a URL of its own (clients key their fetch plans by URL).
/// </summary>
internal sealed record XetReconstructionPlan(long OffsetIntoFirstRange, IReadOnlyList<XetTermRecord> Terms, IReadOnlyList<XetReconstructionPlan.Fetch> Fetches)
{
    /// <summary>Chunks <see cref="ChunkStart"/> to <see cref="ChunkEnd"/> (exclusive) of a xorb, bytes <see cref="ByteStart"/> to <see cref="ByteEnd"/> (inclusive) of its stored form.</summary>
    internal sealed record Fetch(string XorbHash, int ChunkStart, int ChunkEnd, long ByteStart, long ByteEnd);

    /// <summary>
    /// Plans bytes <paramref name="first"/> to <paramref name="last"/> (inclusive) of <paramref name="file"/>;
    /// <paramref name="layoutOf"/> gives each xorb's chunk offsets.
    /// </summary>
    public static XetReconstructionPlan For(XetFileRecord file, long first, long last, Func<string, XorbLayout> layoutOf)
    {
        var terms = new List<XetTermRecord>();
        long position = 0;
        long skip = 0;
        foreach (var term in file.Terms)
        {
            var end = position + term.UnpackedLength;
            if (end > first && position <= last)
            {
                if (terms.Count == 0) skip = first - position;
                terms.Add(term);
            }
            position = end;
            if (position > last) break;
        }
        var fetches = new List<Fetch>();
        foreach (var group in terms.GroupBy(t => t.XorbHash, StringComparer.Ordinal))
        {
            var layout = layoutOf(group.Key);
            var ranges = group.Select(t => (t.Start, t.End)).OrderBy(r => r.Start).ToList();
            var (start, stop) = ranges[0];
            foreach (var (s, e) in ranges.Skip(1))
            {
                if (s <= stop)
                {
                    stop = Math.Max(stop, e);
                    continue;
                }
                fetches.Add(Make(group.Key, start, stop, layout));
                (start, stop) = (s, e);
            }
            fetches.Add(Make(group.Key, start, stop, layout));
        }
        return new XetReconstructionPlan(skip, terms, fetches);
    }

    private static Fetch Make(string xorbHash, int start, int end, XorbLayout layout)
    {
        var (from, to) = layout.Bytes(start, end);
        return new Fetch(xorbHash, start, end, from, to - 1);
    }
}
