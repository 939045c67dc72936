using Adapters.Core.Models;
using Adapters.Testing;

namespace Adapters.Core.Tests.Approval;

public sealed class PublicApiApprovalTests
{
    [Fact]
    public void Adapters_Core_public_api_matches_the_approved_listing() =>
        Approvals.Verify(PublicApiDumper.Dump(typeof(AdapterModel).Assembly), "tests/Adapters.Core.Tests/Approved/Adapters.Core.PublicApi.approved.txt");
}
