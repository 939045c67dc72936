using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Adapters.Core;

namespace Adapters.Hub.Cli.Commands;

/// <summary>What <c>adapters-hub doctor</c> reports, in the order it prints it.</summary>
internal sealed record DoctorReport
{
    public required string Tool { get; init; }
    public required string Version { get; init; }
    public required string Dotnet { get; init; }
    public required string Os { get; init; }
    public required string Architecture { get; init; }
    public string? TorchSharp { get; init; }
    [JsonPropertyName("libtorch")] public string? LibTorch { get; init; }
    public string? LibTorchPackage { get; init; }
    public bool? Cuda { get; init; }
    public int? TorchThreads { get; init; }
    public string? TorchError { get; init; }
    public required string Endpoint { get; init; }
    public required string HfHome { get; init; }
    public required string CacheDirectory { get; init; }
    public required string TokenSource { get; init; }
    public required bool Offline { get; init; }

    public static DoctorReport Collect(HubEnvironment environment)
    {
        TorchRuntimeInfo? torchInfo = null;
        string? torchError = null;
        try
        {
            torchInfo = TorchRuntime.Initialize();
        }
        catch (TorchRuntimeException ex)
        {
            torchError = ex.Message;
        }

        var version = typeof(DoctorReport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var plus = version.IndexOf('+', StringComparison.Ordinal);
        return new DoctorReport
        {
            Tool = "adapters-hub",
            Version = plus >= 0 ? version[..plus] : version,
            Dotnet = RuntimeInformation.FrameworkDescription,
            Os = RuntimeInformation.OSDescription,
            Architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            TorchSharp = torchInfo?.TorchSharpVersion,
            LibTorch = torchInfo?.LibTorchVersion,
            LibTorchPackage = torchInfo?.BackendPackage,
            Cuda = torchInfo?.CudaAvailable,
            TorchThreads = torchInfo?.IntraOpThreads,
            TorchError = torchError,
            Endpoint = environment.Endpoint,
            HfHome = environment.HfHome,
            CacheDirectory = environment.HubCacheDirectory,
            TokenSource = DescribeTokenSource(environment),
            Offline = environment.Offline,
        };
    }

    private static string DescribeTokenSource(HubEnvironment environment) => environment.TokenSource switch
    {
        Hub.TokenSource.HfTokenVariable => "HF_TOKEN",
        Hub.TokenSource.LegacyTokenVariable => "HUGGING_FACE_HUB_TOKEN",
        Hub.TokenSource.TokenFile => $"token file ({environment.TokenPath})",
        Hub.TokenSource.Explicit => "explicit",
        _ => "none",
    };
}
