namespace Adapters.Core;

/// <summary>Versions and capabilities of the loaded TorchSharp runtime.</summary>
/// <param name="TorchSharpVersion">Version of the managed TorchSharp package.</param>
/// <param name="LibTorchVersion">Version of the native libtorch backend.</param>
/// <param name="BackendPackage">NuGet package that supplied libtorch, when it could be determined.</param>
/// <param name="CudaAvailable">Whether a CUDA device can be used.</param>
/// <param name="IntraOpThreads">Threads libtorch uses for intra-op parallelism.</param>
public sealed record TorchRuntimeInfo(
    string TorchSharpVersion,
    string LibTorchVersion,
    string? BackendPackage,
    bool CudaAvailable,
    int IntraOpThreads);
