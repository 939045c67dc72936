using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Tests.Legacy;

/// <summary>Writes a small registry (cards plus dist entries) whose zips are generated here and served by a test server.</summary>
internal sealed class TestRegistryBuilder
{
    public string Root { get; } = LegacyFixtures.CopyRegistrySubset("subtasks/text_task/sentiment_sst-2.yaml", "subtasks/text_lang/no_cc100.yaml");

    /// <summary>Served path → zip bytes.</summary>
    public Dictionary<string, byte[]> Zips { get; } = new(StringComparer.Ordinal);

    public void AddEntry(string baseUrl, string org, string stem, string type, string task, string subtask, string defaultVersion,
        params (string Version, byte[] Zip, bool CorruptChecksum)[] versions)
    {
        var card = new StringBuilder();
        card.Append($"type: {type}\ntask: \"{task}\"\nsubtask: {subtask}\nmodel_type: bert\nmodel_name: bert-base-uncased\n");
        card.Append("author: Test Author\ndescription: A generated test adapter.\ncitation: |\n  @misc{test, title={Test}}\n");
        card.Append($"config:\n  using: pfeiffer\n  non_linearity: gelu\n  reduction_factor: 2\ndefault_version: '{defaultVersion}'\nprediction_head: false\nfiles:\n");
        var files = new JsonObject();
        foreach (var (version, zip, corrupt) in versions)
        {
            var servedPath = $"/zips/{org}/{stem}_{version}.zip";
            Zips[servedPath] = zip;
            var sha256 = Convert.ToHexStringLower(SHA256.HashData(zip));
            var sha1 = Convert.ToHexStringLower(SHA1.HashData(zip));
            if (corrupt) sha256 = new string('0', 64);
            card.Append($"- version: '{version}'\n  url: {baseUrl}{servedPath}\n  sha1: {sha1}\n  sha256: {sha256}\n");
            files[version] = new JsonObject { ["sha1"] = sha1, ["sha256"] = sha256, ["url"] = baseUrl + servedPath };
        }
        Write($"adapters/{org}/{stem}.yaml", card.ToString());
        var entry = new JsonObject
        {
            ["config_id"] = "d345095bcb01e325",
            ["default_version"] = defaultVersion,
            ["files"] = files,
            ["info"] = new JsonObject
            {
                ["adapter_config"] = new JsonObject { ["non_linearity"] = "gelu", ["reduction_factor"] = 2 },
                ["adapter_id"] = $"@{org}/{stem}",
                ["model_name"] = "bert-base-uncased",
                ["subtask"] = subtask,
                ["task"] = task,
                ["username"] = org,
            },
        };
        Write($"dist/v2/adapters/{org}/{stem}.json", entry.ToJsonString());
    }

    private void Write(string relative, string text)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    /// <summary>A legacy adapter-transformers v2 zip: a config without version (gelu), pickled weights, optionally a head.</summary>
    public static byte[] LegacyZip(string name, bool withHead = false, string? folder = null, IEnumerable<(string Name, byte[] Data)>? extra = null)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var prefix = folder is null ? "" : folder + "/";
            Add(zip, prefix + "adapter_config.json", Encoding.UTF8.GetBytes($$"""
                {"config": {"adapter_residual_before_ln": false, "ln_after": false, "ln_before": false, "mh_adapter": false, "non_linearity": "gelu", "original_ln_after": true, "original_ln_before": true, "output_adapter": true, "reduction_factor": 2, "residual_before_ln": true}, "hidden_size": 768, "model_name": "bert-base-uncased", "model_type": "bert", "name": "{{name}}", "type": "text_task"}
                """));
            Add(zip, prefix + "pytorch_adapter.bin", Encoding.ASCII.GetBytes("weights of " + name));
            if (withHead)
            {
                Add(zip, prefix + "head_config.json", """{"config": {"head_type": "classification", "num_labels": 2}, "model_class": "BertModelWithHeads", "name": "x"}"""u8.ToArray());
                Add(zip, prefix + "pytorch_model_head.bin", Encoding.ASCII.GetBytes("head of " + name));
            }
            foreach (var (entryName, data) in extra ?? []) Add(zip, entryName, data);
        }
        return buffer.ToArray();
    }

    private static void Add(ZipArchive zip, string name, byte[] data)
    {
        using var stream = zip.CreateEntry(name).Open();
        stream.Write(data);
    }
}
