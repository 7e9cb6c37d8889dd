from tests.integration.reporting.support import fixtures

reporting, rbus = fixtures("r")
