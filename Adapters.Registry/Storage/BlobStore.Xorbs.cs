using Adapters.Hub.Xet;

namespace Adapters.Registry.Storage;

/// <summary>
/// Xet xorbs beside the LFS and git blobs: <c>objects/xorbs/&lt;hash&gt;</c> (fanned out like the others), keyed by
/// the xorb hash in the protocol's text form, written through to the object storage as <c>xorbs/&lt;hash&gt;</c>.
/// A xorb is adopted only after its chunks were parsed and hashed to its name, here and when fetched back.
/// </summary>
internal sealed partial class BlobStore
{
    private string XorbRoot => Path.Combine(Path.GetDirectoryName(_lfsRoot)!, "xorbs");

    private string LocalXorbPath(string xorbHash) => Path.Combine(XorbRoot, xorbHash[..2], xorbHash[2..4], xorbHash);

    /// <summary>The local file of a stored xorb, fetched (and verified) from the object storage first when it is only there.</summary>
    public string XorbPath(string xorbHash)
    {
        var local = LocalXorbPath(xorbHash);
        if (_remote is not null && !File.Exists(local))
        {
            Fetch("xorbs/" + xorbHash, local, path =>
            {
                XorbReader.ReadVerified(File.ReadAllBytes(path), XetHash.Parse(xorbHash));
                return true;
            });
        }
        return local;
    }

    /// <summary>Adopts a flushed temporary file whose bytes were verified as the xorb <paramref name="xorbHash"/>, and writes it through.</summary>
    public async Task AdoptXorbAsync(string verifiedTemp, string xorbHash, long size, CancellationToken cancellationToken)
    {
        var target = LocalXorbPath(xorbHash);
        ContentAddressedFile.Adopt(verifiedTemp, target);
        if (_remote is not null) await _remote.PutAsync("xorbs/" + xorbHash, target, size, cancellationToken).ConfigureAwait(false);
    }
}
