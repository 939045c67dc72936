using Adapters.Core.Methods.Fusion;

namespace Adapters.Core.Methods;

/// <summary>
/// How adapter weights are keyed: every method family keeps its modules in containers named after the method, holding
/// one entry per adapter name, so a weight belongs to adapter <c>n</c> when its key holds <c>&lt;container&gt;.n.</c>
/// (Python's <c>AdapterLoader</c> filter and rename functions). Each <see cref="AdapterMethod"/> declares its containers;
/// filtering, renaming on load and renaming for averaging all read them from here.
/// </summary>
internal static class AdapterWeightKeys
{
    /// <summary>The container of parameters one adapter shares across layers (Compacter's phm_rule, VeRA's A and B).</summary>
    public const string SharedParametersContainer = "shared_parameters";

    /// <summary>The methods' containers, each with the character before it (<c>.loras.</c>), then the shared parameters.</summary>
    private static readonly string[] s_containers =
        [.. AdapterMethodRegistry.Methods.SelectMany(m => m.WeightContainers), "." + SharedParametersContainer + "."];

    /// <summary>Whether <paramref name="key"/> is a weight of adapter <paramref name="name"/>.</summary>
    public static bool BelongsTo(string key, string name)
    {
        foreach (var container in s_containers)
            if (IndexOf(key, container, name) >= 0) return true;
        return false;
    }

    /// <summary>Whether <paramref name="key"/> lies in an adapter's shared parameters (<c>.shared_parameters.name.</c>).</summary>
    public static bool IsSharedParameter(string key, string name) => IndexOf(key, "." + SharedParametersContainer + ".", name) >= 0;

    /// <summary>Whether <paramref name="key"/> (with or without the base prefix) is an AdapterFusion weight.</summary>
    public static bool IsFusion(string key) =>
        key.Contains("." + AdapterFusionMethod.Container + ".", StringComparison.Ordinal) || key.StartsWith(AdapterFusionMethod.Container + ".", StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="key"/> with adapter <paramref name="from"/> renamed to <paramref name="to"/> in every container it
    /// appears in (loading under another name).
    /// </summary>
    public static string RenameAll(string key, string from, string to)
    {
        if (from == to) return key;
        foreach (var container in s_containers)
            key = key.Replace(container + from + ".", container + to + ".", StringComparison.Ordinal);
        return key;
    }

    /// <summary><paramref name="key"/> with the first container entry of <paramref name="from"/> renamed to <paramref name="to"/> (averaging).</summary>
    public static string RenameFirst(string key, string from, string to)
    {
        foreach (var container in s_containers)
        {
            var index = IndexOf(key, container, from);
            if (index >= 0)
                return string.Concat(key[..index], container, to, key[(index + container.Length + from.Length)..]);
        }
        return key;
    }

    private static int IndexOf(string key, string container, string name)
    {
        for (var start = key.IndexOf(container, StringComparison.Ordinal); start >= 0; start = key.IndexOf(container, start + 1, StringComparison.Ordinal))
        {
            var after = start + container.Length;
            if (string.CompareOrdinal(key, after, name, 0, name.Length) == 0 && key.Length > after + name.Length && key[after + name.Length] == '.')
                return start;
        }
        return -1;
    }
}
