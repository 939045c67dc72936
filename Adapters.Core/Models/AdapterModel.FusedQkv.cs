using Adapters.Core.Methods.LoRA;

namespace Adapters.Core.Models;

public abstract partial class AdapterModel
{
    private IEnumerable<FusedQkvLinear> FusedQkvLinears() =>
        Interface.Layers.Select(l => l.FusedQkv).OfType<FusedQkvLinear>().Distinct();
}
