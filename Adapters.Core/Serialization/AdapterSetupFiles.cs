using Adapters.Core.Composition;
using Adapters.Core.Heads;
using Adapters.Core.Models;

namespace Adapters.Core.Serialization;

/// <summary>
/// Saves and loads a whole adapter setup as Python's <c>save_adapter_setup</c> / <c>load_adapter_setup</c> do:
/// <c>adapter_setup.json</c>, one folder per adapter of the setup (<c>&lt;dir&gt;/&lt;adapter&gt;/</c>), one per Fuse block at
/// the top level or directly below it (<c>&lt;dir&gt;/&lt;fusion name&gt;/</c>), and for head models one per head of the
/// head setup (<c>&lt;dir&gt;/&lt;head&gt;/</c>).
/// </summary>
public static class AdapterSetupFiles
{
    /// <summary>Writes <paramref name="setup"/> and its adapters and fusions into <paramref name="directory"/> (no heads).</summary>
    /// <exception cref="ArgumentException">An adapter of the setup does not exist.</exception>
    public static void SaveAdapterSetup(this AdapterModel model, string directory, AdapterCompositionBlock setup)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        new AdapterSetupFile(setup).Write(Path.Combine(directory, AdapterSetupFile.FileName));
        foreach (var name in setup.Flatten()) model.SaveAdapter(Path.Combine(directory, name), name);
        foreach (var fuse in Fusions(setup)) model.SaveAdapterFusion(Path.Combine(directory, fuse.Name), fuse.Name);
    }

    /// <summary>
    /// Writes <paramref name="setup"/> with head setup <paramref name="heads"/> (none: no heads): every adapter folder
    /// also gets the head of the same name if there is one (Python's flex <c>save_adapter</c>), and every head of
    /// <paramref name="heads"/> gets its own folder.
    /// </summary>
    public static void SaveAdapterSetup(this FlexHeadModel model, string directory, AdapterCompositionBlock setup, HeadSetup? heads = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(setup);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        new AdapterSetupFile(setup, AdapterSetupFile.HeadSetupToJson(heads)).Write(Path.Combine(directory, AdapterSetupFile.FileName));
        foreach (var name in setup.Flatten()) model.SaveAdapter(Path.Combine(directory, name), name);
        foreach (var fuse in Fusions(setup)) model.BaseModel.SaveAdapterFusion(Path.Combine(directory, fuse.Name), fuse.Name);
        foreach (var head in heads?.Heads ?? []) model.SaveHead(Path.Combine(directory, head), head);
    }

    /// <summary>
    /// Loads a setup folder written by Python or by <see cref="SaveAdapterSetup(AdapterModel, string, AdapterCompositionBlock)"/>:
    /// every adapter and fusion of the setup, which becomes active when <paramref name="setActive"/>. A head setup in the
    /// file is returned but not loaded (the model has no heads), as Python warns.
    /// </summary>
    /// <exception cref="AdapterLoadException">The folder has no <c>adapter_setup.json</c>, or an adapter or fusion folder is missing.</exception>
    public static AdapterSetupFile LoadAdapterSetup(this AdapterModel model, string directory, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = ReadSetup(directory);
        LoadAdapters(model, directory, file.AdapterSetup, (path, name) => model.LoadAdapter(path));
        if (setActive) model.SetActiveAdapters(file.AdapterSetup);
        return file;
    }

    /// <summary>
    /// Loads a setup folder with its heads: adapters, fusions, and every head of the head setup from its folder (the
    /// setup folder itself when the head setup is <c>true</c>). With <paramref name="setActive"/> the adapter setup and
    /// the head setup become active.
    /// </summary>
    public static AdapterSetupFile LoadAdapterSetup(this FlexHeadModel model, string directory, bool setActive = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = ReadSetup(directory);
        // Heads come from the head setup's folders, not from the adapter folders, so each is added once.
        LoadAdapters(model.BaseModel, directory, file.AdapterSetup, (path, name) => model.LoadAdapter(path, withHead: false));
        foreach (var head in file.HeadNames) LoadHead(model, Path.Combine(directory, head), head);
        if (file.HeadSetupIsOwnFolder) LoadHead(model, directory, null);
        if (setActive)
        {
            model.SetActiveAdapters(file.AdapterSetup);
            if (file.ToHeadSetup() is { } heads)
            {
                model.ActiveHead = null;
                model.ActiveHeadSetup = heads;
            }
        }
        return file;
    }

    private static AdapterSetupFile ReadSetup(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var path = Path.Combine(directory, AdapterSetupFile.FileName);
        if (!File.Exists(path)) throw new AdapterLoadException($"'{directory}' is not an adapter setup folder: {AdapterSetupFile.FileName} is missing.");
        return AdapterSetupFile.Read(path);
    }

    private static void LoadAdapters(AdapterModel model, string directory, AdapterCompositionBlock setup, Action<string, string> loadAdapter)
    {
        foreach (var name in setup.Flatten()) loadAdapter(Path.Combine(directory, name), name);
        foreach (var fuse in Fusions(setup)) model.LoadAdapterFusion(Path.Combine(directory, fuse.Name));
    }

    private static void LoadHead(FlexHeadModel model, string directory, string? name)
    {
        var config = Path.Combine(directory, HeadConfigFile.FileName);
        var weightsPath = new[] { AdapterFolderFiles.HeadSafetensorsFile, AdapterFolderFiles.HeadTorchFile }.Select(f => Path.Combine(directory, f)).FirstOrDefault(File.Exists)
            ?? throw new AdapterLoadException($"'{directory}' has no head weights: expected {AdapterFolderFiles.HeadSafetensorsFile} or {AdapterFolderFiles.HeadTorchFile}.");
        if (!File.Exists(config)) throw new AdapterLoadException($"'{directory}' has head weights but no {HeadConfigFile.FileName}.");
        using var weights = TensorFiles.Load(weightsPath);
        model.LoadHeadStateDict(HeadConfigFile.Read(config), weights, name);
    }

    /// <summary>The Fuse blocks Python saves with a setup: the setup itself or its direct children.</summary>
    private static IEnumerable<Fuse> Fusions(AdapterCompositionBlock setup)
    {
        if (setup is Fuse top) yield return top;
        foreach (var child in setup.Children)
            if (child.Block is Fuse fuse) yield return fuse;
    }
}
