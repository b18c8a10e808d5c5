"""In-memory fakes of the storage ports, for unit tests of services and of the run-log writer.

One module per aggregate holds its repository fakes; `FakeUnitOfWork` puts them all over one set of in-memory
tables. tests/integration/contracts runs the same assertions against these and the SQL repositories.
"""

from tests.fakes.runlog import FakeRunLogSink
from tests.fakes.tables import FakeIntegrityError, copy_row
from tests.fakes.uow import FakeUnitOfWork

__all__ = ["FakeIntegrityError", "FakeRunLogSink", "FakeUnitOfWork", "copy_row"]
