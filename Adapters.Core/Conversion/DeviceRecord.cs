using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Conversion;

/// <summary>
/// Keeps TorchSharp's per-module device record true. <c>Module.to(device)</c> skips every module whose recorded device
/// already equals the target, and a module built with a <c>device</c> argument records the CPU whatever its tensors'
/// device; such a module would stay behind when the model later moves. Moving a freshly built tree to the device
/// its tensors are on copies nothing and fixes the record of every module in it.
/// </summary>
internal static class DeviceRecord
{
    /// <summary>Records <paramref name="device"/> on <paramref name="module"/> and its descendants (nothing to do for the CPU or null).</summary>
    public static void Align(nn.Module module, Device? device)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (device is null || device.type == DeviceType.CPU) return;
        module.to(device);
    }
}
