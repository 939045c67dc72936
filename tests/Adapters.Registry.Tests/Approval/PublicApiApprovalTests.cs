using Adapters.Testing;

namespace Adapters.Registry.Tests.Approval;

public sealed class PublicApiApprovalTests
{
    [Fact]
    public void Adapters_Registry_public_api_matches_the_approved_listing() =>
        Approvals.Verify(PublicApiDumper.Dump(typeof(RegistryServer).Assembly), "tests/Adapters.Registry.Tests/Approved/Adapters.Registry.PublicApi.approved.txt");
}
