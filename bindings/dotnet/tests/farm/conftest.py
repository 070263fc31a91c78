"""The two-region farm (test_farm_regions.farm) is started once for the modules that use it:
test_farm_flow.py (FlowCookieModule) and test_farm_regions.py (the provider's token cookie)."""

import pytest


@pytest.fixture(scope="session")
def regions_farm():
    import test_farm_regions

    url = test_farm_regions.farm("start")
    try:
        yield url
    finally:
        test_farm_regions.farm("stop")  # by PID, whatever happened
