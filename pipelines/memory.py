"""Keep a long run's memory flat.

The hot stages allocate and free batch-sized buffers (a few MB to tens of MB each). glibc's malloc
serves blocks that large with mmap and gives them back on free, but its threshold for that rises to the
largest block freed so far (up to 32 MB): after the first few batches, batch buffers come from the heap,
which fragments and is not returned to the system, so the resident size climbs by hundreds of MB and
stays there. A fixed threshold keeps batch buffers on mmap. (Measured: a worker of the store stage at
330 MB instead of 450-700 MB.)

Arrow's own buffers (the JSON reader's tables, the Parquet writer's pages) come from pyarrow's default
memory pool, mimalloc in the wheels, which keeps freed pages of its 1 GiB arena resident: 30-55 MB
during the store stage with nothing allocated in the pool. The system pool (glibc, with the fixed
threshold above) gives them back. (Measured, store stage over 200k events in one process: peak RSS
289 MB instead of 329 MB, the same time.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
MMAP_THRESHOLD = 4 << 20  # below a batch buffer (2000 events: 4-8 MB); 1 MB measured the same RSS, more faults


@cache
def bound_large_allocations() -> bool:
    """Fix glibc's mmap threshold for this process and give Arrow the system allocator; False where
    there is no glibc (then only Arrow's pool changes)."""
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
