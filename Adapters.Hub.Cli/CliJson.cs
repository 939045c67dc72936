using System.Text.Encodings.Web;
using System.Text.Json;

namespace Adapters.Hub.Cli;

/// <summary>JSON settings shared by every <c>--json</c> output.</summary>
internal static class CliJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
