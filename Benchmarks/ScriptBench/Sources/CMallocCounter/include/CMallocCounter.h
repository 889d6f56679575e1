//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

#ifndef CMALLOCCOUNTER_H
#define CMALLOCCOUNTER_H

#include <stddef.h>

/// The number of allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign) so far.
unsigned long long CMallocCounter_allocations(void);

/// Bytes of heap in use (glibc mallinfo2: uordblks + hblkhd).
size_t CMallocCounter_heapInUse(void);

#endif
