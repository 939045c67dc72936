using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Adapters.Hub.Xet;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Adapters.Hub.Tests.Stubs;

/// <summary>A file as the stub CAS stores it: xorbs of its chunks and the reconstruction that rebuilds it.</summary>
internal sealed class XetStubFile
{
    public required byte[] Content { get; init; }
    public required XetHash FileHash { get; init; }
    public required List<XetStubXorb> Xorbs { get; init; }

    /// <summary>(xorb index, first chunk, end chunk) per term, in file order.</summary>
    public required List<(int Xorb, int Start, int End)> Terms { get; init; }
}

/// <summary>A serialised xorb and where each of its chunks starts in it.</summary>
internal sealed record XetStubXorb(XetHash Hash, byte[] Bytes, List<long> ChunkOffsets, List<int> ChunkLengths);

/// <summary>
/// A CAS on a raw loopback server (so bodies can break off on purpose), plus the Hub's read-token route on the
/// <see cref="HubStub"/>: reconstructions, then xorb byte ranges at "presigned" URLs.
/// </summary>
internal sealed class XetCasStub : IDisposable
{
    public const string CasToken = "xet_cas_token_for_tests";

    private readonly ConcurrentDictionary<XetHash, XetStubFile> _files = new();
    private readonly ConcurrentDictionary<XetHash, XetStubXorb> _xorbs = new();
    private readonly ConcurrentDictionary<XetHash, ConcurrentQueue<Func<RawResponse, RawResponse>>> _faults = new();

    public XetCasStub(HubStub hub)
    {
        Cas = new RawHttpServer(Serve);
        hub.Hub.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("/xet-read-token/")).UsingGet())
            .AtPriority(1)
            .RespondWith(Response.Create().WithCallback(request =>
            {
                TokenRequests.Enqueue(request.Headers?.TryGetValue("Authorization", out var auth) == true ? auth.ToString() : null);
                return new WireMock.ResponseMessage
                {
                    StatusCode = 200,
                    Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
                    BodyData = new WireMock.Util.BodyData
                    {
                        DetectedBodyType = WireMock.Types.BodyType.String,
                        BodyAsString = JsonSerializer.Serialize(new
                        {
                            accessToken = CasToken,
                            casUrl = Cas.BaseUri.ToString().TrimEnd('/'),
                            exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
                        }),
                    },
                };
            }));
    }

    public RawHttpServer Cas { get; }

    /// <summary>The Authorization header of each read-token request the Hub got.</summary>
    public ConcurrentQueue<string?> TokenRequests { get; } = new();

    /// <summary>
    /// Chunks <paramref name="content"/>, packs the chunks into xorbs of <paramref name="chunksPerXorb"/>, and
    /// describes the file with <paramref name="termsPerXorb"/> terms per xorb (all served by one range per xorb).
    /// </summary>
    public XetStubFile AddFile(byte[] content, int chunksPerXorb, int termsPerXorb = 1, XetCompressionScheme scheme = XetCompressionScheme.Lz4)
    {
        var lengths = XetChunker.ChunkLengths(content);
        var chunks = new List<(ReadOnlyMemory<byte> Data, XetChunkInfo Info)>();
        var offset = 0;
        foreach (var length in lengths)
        {
            var data = content.AsMemory(offset, length);
            chunks.Add((data, new XetChunkInfo(XetHashing.ChunkHash(data.Span), length)));
            offset += length;
        }
        var xorbs = new List<XetStubXorb>();
        var terms = new List<(int, int, int)>();
        for (var first = 0; first < chunks.Count; first += chunksPerXorb)
        {
            var group = chunks.Skip(first).Take(chunksPerXorb).ToList();
            var offsets = new List<long>();
            var bytes = new List<byte>();
            foreach (var (data, _) in group)
            {
                offsets.Add(bytes.Count);
                bytes.AddRange(XorbWriter.Serialize([data], scheme));
            }
            var xorb = new XetStubXorb(XetHashing.XorbHash(group.Select(c => c.Info).ToList()), [.. bytes], offsets, group.Select(c => (int)c.Info.Length).ToList());
            xorbs.Add(xorb);
            _xorbs[xorb.Hash] = xorb;
            var per = (int)Math.Ceiling(group.Count / (double)termsPerXorb);
            for (var start = 0; start < group.Count; start += per) terms.Add((xorbs.Count - 1, start, Math.Min(group.Count, start + per)));
        }
        var file = new XetStubFile
        {
            Content = content,
            FileHash = XetHashing.FileHash(chunks.Select(c => c.Info).ToList()),
            Xorbs = xorbs,
            Terms = terms,
        };
        _files[file.FileHash] = file;
        return file;
    }

    /// <summary>The next fetches of the xorb's ranges are transformed by these functions, in order.</summary>
    public void FailXorb(XetHash xorb, params Func<RawResponse, RawResponse>[] faults)
    {
        var queue = _faults.GetOrAdd(xorb, _ => new ConcurrentQueue<Func<RawResponse, RawResponse>>());
        foreach (var fault in faults) queue.Enqueue(fault);
    }

    /// <summary>Overwrites a stored xorb's bytes (a CAS that serves corrupt data).</summary>
    public void Corrupt(XetHash xorb, Func<byte[], byte[]> change) =>
        _xorbs[xorb] = _xorbs[xorb] with { Bytes = change(_xorbs[xorb].Bytes) };

    public IEnumerable<RawRequest> XorbRequests(XetHash xorb) =>
        Cas.Requests.Where(r => r.Target.StartsWith($"/xorbs/{xorb}", StringComparison.Ordinal));

    private RawResponse Serve(RawRequest request)
    {
        var path = request.Target.Split('?')[0];
        if (path.StartsWith("/v1/reconstructions/", StringComparison.Ordinal))
        {
            if (request.Header("Authorization") != "Bearer " + CasToken) return new RawResponse(401, "bad token"u8.ToArray());
            if (!XetHash.TryParse(path["/v1/reconstructions/".Length..], out var hash) || !_files.TryGetValue(hash, out var file))
                return new RawResponse(404, "no such file"u8.ToArray());
            return new RawResponse(200, Encoding.UTF8.GetBytes(ReconstructionJson(file)), new Dictionary<string, string> { ["Content-Type"] = "application/json" });
        }
        if (path.StartsWith("/xorbs/", StringComparison.Ordinal) && XetHash.TryParse(path["/xorbs/".Length..], out var xorbHash)
            && _xorbs.TryGetValue(xorbHash, out var xorb))
        {
            var range = request.Header("Range");
            if (range is null || !range.StartsWith("bytes=", StringComparison.Ordinal)) return new RawResponse(400, "range required"u8.ToArray());
            var parts = range["bytes=".Length..].Split('-');
            var from = int.Parse(parts[0], CultureInfo.InvariantCulture);
            var to = int.Parse(parts[1], CultureInfo.InvariantCulture);
            var response = new RawResponse(206, xorb.Bytes[from..(to + 1)], new Dictionary<string, string>
            {
                ["Content-Range"] = $"bytes {from}-{to}/{xorb.Bytes.Length}",
            });
            if (_faults.TryGetValue(xorbHash, out var queue) && queue.TryDequeue(out var fault)) response = fault(response);
            return response;
        }
        return new RawResponse(404, "not found"u8.ToArray());
    }

    private string ReconstructionJson(XetStubFile file)
    {
        var terms = file.Terms.Select(t => new
        {
            hash = file.Xorbs[t.Xorb].Hash.ToString(),
            unpacked_length = file.Xorbs[t.Xorb].ChunkLengths.Skip(t.Start).Take(t.End - t.Start).Sum(),
            range = new { start = t.Start, end = t.End },
        });
        var fetch = file.Xorbs.Distinct().ToDictionary(x => x.Hash.ToString(), x => new[]
        {
            new
            {
                range = new { start = 0, end = x.ChunkLengths.Count },
                url = $"{Cas.BaseUri}xorbs/{x.Hash}?X-Xet-Signature=stub",
                url_range = new { start = 0, end = _xorbs[x.Hash].Bytes.Length - 1 },
            },
        });
        return JsonSerializer.Serialize(new { offset_into_first_range = 0, terms, fetch_info = fetch });
    }

    public void Dispose() => Cas.Dispose();
}
