using Adapters.Core.Configuration;
using Adapters.Core.Models;

namespace Adapters.Core.Methods.Union;

/// <summary>
/// Several methods under one adapter name (<see cref="ConfigUnion"/>, MAM, UniPELT): every operation is its members'
/// methods' operation, so a union needs no modules or key rules of its own.
/// </summary>
internal sealed class UnionMethod() : AdapterMethod<ConfigUnion>("Union", [], [])
{
    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, ConfigUnion config)
    {
        foreach (var member in config.Configs) AdapterMethodRegistry.For(member).Add(model, name, member);
    }

    /// <summary>Nothing of its own: <see cref="AdapterModel"/> asks every method to remove an adapter's modules.</summary>
    public override void Remove(AdapterModel model, string name) { }

    /// <inheritdoc />
    public override bool StaysFrozen(AdapterConfig config, string key, string name) =>
        ConfigMembers.Of(config).Any(m => AdapterMethodRegistry.For(m).StaysFrozen(m, key, name));

    /// <summary>A union merges when one of its members does; merging folds in those members.</summary>
    public override bool CanMerge(AdapterConfig config) => ConfigMembers.Of(config).Any(m => AdapterMethodRegistry.For(m).CanMerge(m));

    /// <inheritdoc />
    public override void Merge(AdapterModel model, string name, AdapterConfig config)
    {
        foreach (var member in ConfigMembers.Of(config))
        {
            var method = AdapterMethodRegistry.For(member);
            if (method.CanMerge(member)) method.Merge(model, name, member);
        }
    }
}
