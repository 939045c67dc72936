using System.Reflection;
using System.Text.Json;
using TorchSharp;

namespace Adapters.Core;

/// <summary>
/// Loads TorchSharp's native backend once per process and reports which versions are in use.
/// </summary>
public static class TorchRuntime
{
    private static readonly Lazy<TorchRuntimeInfo> s_info = new(LoadInfo, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// Initialises the native libtorch backend for the CPU and returns the versions in use.
    /// </summary>
    /// <exception cref="TorchRuntimeException">The native backend could not be loaded.</exception>
    public static TorchRuntimeInfo Initialize() => s_info.Value;

    private static TorchRuntimeInfo LoadInfo()
    {
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception ex) when (ex is NotSupportedException or DllNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            throw new TorchRuntimeException(
                "TorchSharp could not load its native backend (libtorch). Reference exactly one backend package " +
                "(for example libtorch-cpu-linux-x64) from the application, and on Linux with a libstdc++ older than " +
                "GCC 13 build through this repository's Directory.Build.targets, which patches libLibTorchSharp.so. " +
                $"Loader said: {Innermost(ex).Message}", ex);
        }

        var torchSharpVersion = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? typeof(torch).Assembly.GetName().Version?.ToString()
            ?? "unknown";
        var plus = torchSharpVersion.IndexOf('+', StringComparison.Ordinal);
        if (plus >= 0) torchSharpVersion = torchSharpVersion[..plus];

        var (backendPackage, backendVersion) = FindBackendPackage();
        return new TorchRuntimeInfo(
            torchSharpVersion,
            backendVersion ?? torch.__version__,
            backendPackage,
            torch.cuda.is_available(),
            torch.get_num_threads());
    }

    /// <summary>
    /// libtorch exposes no version call through TorchSharp, so the version comes from the native
    /// package the application was built with, as recorded in its deps.json.
    /// </summary>
    private static (string? Package, string? Version) FindBackendPackage()
    {
        var entry = Assembly.GetEntryAssembly();
        var candidates = new List<string>();
        if (AppContext.GetData("APP_CONTEXT_DEPS_FILES") is string depsFiles)
            candidates.AddRange(depsFiles.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        if (entry is not null)
            candidates.Add(Path.Combine(AppContext.BaseDirectory, entry.GetName().Name + ".deps.json"));
        candidates.AddRange(Directory.EnumerateFiles(AppContext.BaseDirectory, "*.deps.json"));

        foreach (var file in candidates.Distinct(StringComparer.Ordinal))
        {
            if (!File.Exists(file)) continue;
            using var stream = File.OpenRead(file);
            using var doc = JsonDocument.Parse(stream);
            if (!doc.RootElement.TryGetProperty("libraries", out var libraries)) continue;
            foreach (var library in libraries.EnumerateObject())
            {
                var slash = library.Name.IndexOf('/', StringComparison.Ordinal);
                if (slash <= 0) continue;
                var id = library.Name[..slash];
                if (id.StartsWith("libtorch-", StringComparison.OrdinalIgnoreCase) && id.Contains('-', StringComparison.Ordinal))
                {
                    // The meta packages (libtorch-cpu, libtorch-cuda-12.x) carry the same version as the per-RID ones.
                    return (id, library.Name[(slash + 1)..]);
                }
            }
        }
        return (null, null);
    }

    private static Exception Innermost(Exception ex)
    {
        while (ex.InnerException is not null) ex = ex.InnerException;
        return ex;
    }
}
