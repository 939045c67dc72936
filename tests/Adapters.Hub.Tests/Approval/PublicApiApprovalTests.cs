using Adapters.Testing;

namespace Adapters.Hub.Tests.Approval;

public sealed class PublicApiApprovalTests
{
    [Fact]
    public void Adapters_Hub_public_api_matches_the_approved_listing() =>
        Approvals.Verify(PublicApiDumper.Dump(typeof(HubClient).Assembly), "tests/Adapters.Hub.Tests/Approved/Adapters.Hub.PublicApi.approved.txt");
}
