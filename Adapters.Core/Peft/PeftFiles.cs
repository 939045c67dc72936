namespace Adapters.Core.Peft;

/// <summary>The file names of a PEFT adapter folder (<c>src/peft/utils/constants.py</c>) and its key layout.</summary>
public static class PeftFiles
{
    /// <summary>Weights as safetensors, PEFT's default.</summary>
    public const string SafetensorsWeights = "adapter_model.safetensors";

    /// <summary>Weights as a torch pickle, PEFT's legacy format.</summary>
    public const string TorchWeights = "adapter_model.bin";

    /// <summary>The prefix of every saved key: <c>PeftModel.base_model</c> (the tuner) and its wrapped <c>model</c>.</summary>
    public const string KeyPrefix = "base_model.model.";

    /// <summary>Whether <paramref name="directory"/> looks like a PEFT adapter folder (a config with <c>peft_type</c>).</summary>
    public static bool IsPeftFolder(string directory)
    {
        var config = Path.Combine(directory, PeftAdapterConfig.FileName);
        return File.Exists(config) && File.ReadAllText(config).Contains("\"peft_type\"", StringComparison.Ordinal);
    }
}
