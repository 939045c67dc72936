using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Operations;

/// <summary>
/// The name of the route a request matched (a <see cref="Adapters.Hub.Routing.HubRoute"/> name, <c>lfs-blobs</c>,
/// <c>healthz</c>...), set by the router and read by the metrics: a bounded label, never the raw path, so metrics
/// neither grow with repository names nor show them.
/// </summary>
internal static class RouteLabel
{
    private static readonly object s_key = new();

    /// <summary>What requests that matched no route are counted under.</summary>
    public const string Unmatched = "unmatched";

    public static void Set(HttpContext context, string name) => context.Items[s_key] = name;

    public static string Get(HttpContext context) => context.Items.TryGetValue(s_key, out var name) && name is string text ? text : Unmatched;
}
