import pytest

from sessions import content


@pytest.fixture(autouse=True)
def preparation_content(db):
    """The modules and consents a clinic starts with. The migration installs
    them, but a transactional test before this one may have flushed them."""
    content.install()
