"""Reading small settings files safely: regular files only, and never too much."""

import os
import stat
from pathlib import Path


class NotRegularFileError(OSError):
    """The path names a FIFO, a device or a socket, which could block or never end."""


class FileTooLargeError(OSError):
    """The file is larger than a settings file can reasonably be."""


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """Read at most ``limit`` bytes from the regular file at ``path``.

    Opening without blocking and checking the type first means a FIFO or a device such
    as /dev/zero named by mistake gives an error instead of a hang or endless read.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotRegularFileError(path)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(path)
    return data
