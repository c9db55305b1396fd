"""An nbclient client for the tools (``runtimes``, ``grading_runner``) whose Output-widget echo
cannot hide a cell's reply (docs/PERFORMANCE.md, "The headless stall").

nbclient mimics a front end's Output widget: each output captured by one (``with out: ...``) is
sent back to the kernel as a ``comm_msg`` on the shell socket, from the task that reads iopub,
while another task waits on that socket for the cell's ``execute_reply``. jupyter_client's
``Session.send`` writes through a plain shadow of the asyncio socket, so pyzmq never looks at the
socket again after the write. If the reply arrived just before, the write consumed its wake-up:
the reply sits in the socket until the wait times out, and nbclient then takes it as the reply and
goes on WITHOUT an error, a whole per-cell timeout late. Reading ZMQ_EVENTS through the asyncio
socket after the write makes pyzmq look again and wake the waiting poll.

The course's own views no longer capture (``FigureView``), but a student's ``interact`` or
``with out:`` in a graded submission still does: the tools use ``HeadlessClient`` everywhere.
"""

from __future__ import annotations

import zmq
from nbclient import NotebookClient
from nbclient.output_widget import OutputWidget


class ReplySafeOutputWidget(OutputWidget):
    """nbclient's Output-widget stand-in; its echo to the kernel no longer hides a reply."""

    def _publish_msg(self, *args, **kwargs) -> None:
        super()._publish_msg(*args, **kwargs)
        self.kernel_client.shell_channel.socket.get(zmq.EVENTS)  # re-arms a waiting poll


class HeadlessClient(NotebookClient):
    """``NotebookClient`` with ``ReplySafeOutputWidget`` for ipywidgets' Output widgets."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.widget_registry["@jupyter-widgets/output"] = {"OutputModel": ReplySafeOutputWidget}
