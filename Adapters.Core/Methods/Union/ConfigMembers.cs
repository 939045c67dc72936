using Adapters.Core.Configuration;

namespace Adapters.Core.Methods.Union;

/// <summary>A config seen as its members: a <see cref="ConfigUnion"/>'s configs, or the config itself.</summary>
internal static class ConfigMembers
{
    /// <summary>The member configs of <paramref name="config"/>.</summary>
    public static IReadOnlyList<AdapterConfig> Of(AdapterConfig config) => config is ConfigUnion union ? union.Configs : [config];

    /// <summary><paramref name="config"/> with <paramref name="map"/> applied to every member (a union stays a union).</summary>
    public static AdapterConfig Map(AdapterConfig config, Func<AdapterConfig, AdapterConfig> map) =>
        config is ConfigUnion union ? new ConfigUnion(union.Configs.Select(map).ToArray()) : map(config);
}
