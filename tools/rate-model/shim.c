// SPDX-License-Identifier: GPL-2.0
/* The state behind kernel_shim.h. */
#include "kernel_shim.h"

u64 shim_now;
bool shim_real_clock;
int shim_signal;
u64 shim_slept_ns;
__thread int shim_cpu;
volatile unsigned long jiffies;
