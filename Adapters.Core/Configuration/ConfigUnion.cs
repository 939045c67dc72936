using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// Several adapter methods added under one name (Python's <c>ConfigUnion</c>, architecture <c>"union"</c>), written as
/// <c>{"architecture": "union", "configs": [...]}</c>. Validation follows Python: no nested unions, and no two configs
/// of the same architecture unless they are bottlenecks at different locations or either has a <c>leave_out</c>.
/// </summary>
public record ConfigUnion : AdapterConfig
{
    /// <summary>Creates a validated union.</summary>
    /// <exception cref="AdapterConfigException">The combination is one Python rejects.</exception>
    public ConfigUnion(params AdapterConfig[] configs)
    {
        ArgumentNullException.ThrowIfNull(configs);
        Validate(configs);
        Configs = configs;
    }

    /// <inheritdoc />
    public override string? Architecture => "union";

    /// <summary>The member configs in order.</summary>
    public IReadOnlyList<AdapterConfig> Configs { get; }

    /// <inheritdoc />
    public override JsonObject ToJson() => new()
    {
        ["architecture"] = "union",
        ["configs"] = new JsonArray(Configs.Select(c => (JsonNode?)c.ToJson()).ToArray()),
    };

    /// <summary>Python's union <c>replace</c> applies keys of the form <c>"0.r"</c> to the member at that index.</summary>
    public override AdapterConfig Replace(JsonObject changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var members = Configs.ToArray();
        foreach (var (key, value) in changes)
        {
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || !int.TryParse(key[..dot], out var index) || index < 0 || index >= members.Length)
                throw new AdapterConfigException($"Union config keys must look like '<index>.<field>' with an index below {members.Length}; got '{key}'.");
            members[index] = members[index].Replace(new JsonObject { [key[(dot + 1)..]] = value?.DeepClone() });
        }
        return new ConfigUnion(members);
    }

    /// <summary>Reads <c>{"architecture": "union", "configs": [...]}</c>.</summary>
    public static ConfigUnion FromDictionary(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json["configs"] is not JsonArray configs)
            throw new AdapterConfigException("Union config needs a \"configs\" list.");
        return new ConfigUnion(configs.Select((c, i) => c is JsonObject o
            ? AdapterConfig.FromJson(o)
            : throw new AdapterConfigException($"Union config entry {i} must be an object.")).ToArray());
    }

    private static void Validate(IReadOnlyList<AdapterConfig> configs)
    {
        if (configs.Count == 0) throw new AdapterConfigException("A union needs at least one config.");
        for (var i = 0; i < configs.Count; i++)
        {
            if (configs[i] is ConfigUnion) throw new AdapterConfigException("Unions cannot be nested.");
            for (var j = i + 1; j < configs.Count; j++)
            {
                var a = configs[i];
                var b = configs[j];
                if (a.Architecture != b.Architecture) continue;
                if (HasLeaveOut(a) || HasLeaveOut(b)) continue;
                if (a is BnConfig bnA && b is BnConfig bnB && bnA.MhAdapter != bnB.MhAdapter && bnA.OutputAdapter != bnB.OutputAdapter) continue;
                throw new AdapterConfigException(
                    $"Union members {i} and {j} are both \"{a.DisplayArchitecture}\" adapters at the same locations.");
            }
        }
    }

    private static bool HasLeaveOut(AdapterConfig config) => config switch
    {
        BnConfig bn => bn.LeaveOut.Count > 0,
        LoRAConfig lora => lora.LeaveOut.Count > 0,
        PrefixTuningConfig prefix => prefix.LeaveOut.Count > 0,
        _ => false,
    };
}
