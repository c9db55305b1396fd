"""Deprecated alias of ``course_utils.inputs`` (renamed in issue 17; removed in the next release).

Every name still works, with a DeprecationWarning that names ``course_utils.inputs``.
"""

import warnings


def __getattr__(name: str):
    from course_utils import inputs

    value = getattr(inputs, name)  # an unknown name raises AttributeError, as for any module
    warnings.warn(
        f"course_utils.checks is now course_utils.inputs: import {name} from course_utils.inputs",
        DeprecationWarning,
        stacklevel=2,
    )
    return value
