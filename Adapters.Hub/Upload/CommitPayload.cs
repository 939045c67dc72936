using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Adapters.Hub.Upload;

/// <summary>
/// The NDJSON body of <c>POST /api/{type}/{repo}/commit/{revision}</c>: a header line, then one line per
/// change, with the keys in the order Python's <c>huggingface_hub</c> writes them.
/// </summary>
internal static class CommitPayload
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<byte[]> BuildAsync(
        string summary,
        string description,
        string? parentCommit,
        IEnumerable<(CommitOperationAdd File, bool IsLfs)> additions,
        IEnumerable<CommitOperationDelete> deletions,
        CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        void Line(Action<Utf8JsonWriter> write)
        {
            using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
            {
                write(writer);
            }
            buffer.WriteByte((byte)'\n');
        }

        Line(w =>
        {
            w.WriteStartObject();
            w.WriteString("key", "header");
            w.WriteStartObject("value");
            w.WriteString("summary", summary);
            w.WriteString("description", description);
            if (parentCommit is not null) w.WriteString("parentCommit", parentCommit);
            w.WriteEndObject();
            w.WriteEndObject();
        });

        foreach (var (file, isLfs) in additions)
        {
            if (isLfs)
            {
                Line(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("key", "lfsFile");
                    w.WriteStartObject("value");
                    w.WriteString("path", file.PathInRepo);
                    w.WriteString("algo", "sha256");
                    w.WriteString("oid", file.Fingerprint.Sha256);
                    w.WriteNumber("size", file.Fingerprint.Size);
                    w.WriteEndObject();
                    w.WriteEndObject();
                });
                continue;
            }

            byte[] content;
            await using (var stream = file.OpenRead())
            using (var copy = new MemoryStream())
            {
                await stream.CopyToAsync(copy, cancellationToken).ConfigureAwait(false);
                content = copy.ToArray();
            }
            Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("key", "file");
                w.WriteStartObject("value");
                w.WriteString("content", Convert.ToBase64String(content));
                w.WriteString("path", file.PathInRepo);
                w.WriteString("encoding", "base64");
                w.WriteEndObject();
                w.WriteEndObject();
            });
        }

        foreach (var deletion in deletions)
        {
            Line(w =>
            {
                w.WriteStartObject();
                w.WriteString("key", deletion.IsFolder ? "deletedFolder" : "deletedFile");
                w.WriteStartObject("value");
                w.WriteString("path", deletion.PathInRepo);
                w.WriteEndObject();
                w.WriteEndObject();
            });
        }
        return buffer.ToArray();
    }

    /// <summary>The payload as text, for tests and logs (it can be large).</summary>
    public static string ToText(byte[] payload) => Encoding.UTF8.GetString(payload);
}
