"""pytest (nbval) on the solution notebooks: every check must pass, so checks run in strict mode.

In strict mode (COURSE_CHECKS_STRICT=1) a failed check raises instead of only printing, which
makes nbval fail the cell. The variable is set only while pytest sets up an item of this
folder, which is when nbval starts the notebook's kernel (the kernel inherits it); tests in
other folders, which call the checks as plain functions, never see it.
"""

import os

import pytest

STRICT_ENV = "COURSE_CHECKS_STRICT"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    previous = os.environ.get(STRICT_ENV)
    os.environ[STRICT_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[STRICT_ENV]
        else:
            os.environ[STRICT_ENV] = previous
