using Adapters.Hub;

// Downloads a repository snapshot into the Hugging Face cache and prints its folder, as Python's
// `huggingface_hub.snapshot_download(repo_id, revision=...)` does. The endpoint, token, cache folder and
// offline mode come from HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE and HF_HUB_OFFLINE, as in Python.
if (args.Length is < 1 or > 2)
{
    Console.Error.WriteLine("usage: HubSnapshot REPO_ID [REVISION]");
    return 1;
}

try
{
    using var hub = new HubClient();
    var snapshot = await hub.Files.SnapshotDownloadAsync(args[0], args.Length > 1 ? args[1] : null).ConfigureAwait(false);
    Console.WriteLine(snapshot.Path);
    foreach (var file in snapshot.Files) Console.WriteLine("  " + file);
    return 0;
}
catch (HubException ex)
{
    Console.Error.WriteLine("error: " + ex.Message);
    return 1;
}
