"""A fake multi-org Salesforce server that behaves like Salesforce on the wire, faults included.

Start one in-process with `FakeSalesforceServer(orgs).start()` (or as a context manager), build orgs with
`new_org` or the company-group generator, and connect simple-salesforce with `connect_simple_salesforce`.
"""

from simulators.salesforce.client import FakeSalesforceAdapter, connect_simple_salesforce, salesforce_session
from simulators.salesforce.org import FakeOrg, new_org
from simulators.salesforce.server import FakeSalesforceServer, ServerStartError
from simulators.salesforce.settings import ServerSettings

__all__ = [
    "FakeOrg",
    "FakeSalesforceAdapter",
    "FakeSalesforceServer",
    "ServerSettings",
    "ServerStartError",
    "connect_simple_salesforce",
    "new_org",
    "salesforce_session",
]
