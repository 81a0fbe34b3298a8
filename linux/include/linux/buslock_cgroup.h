/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buslock cgroup controller: rate limits for bus locks taken by guests.
 */
#ifndef _LINUX_BUSLOCK_CGROUP_H
#define _LINUX_BUSLOCK_CGROUP_H

#include <linux/types.h>

#ifdef CONFIG_CGROUP_BUSLOCK
u64 buslock_cg_charge(void);
u64 buslock_cg_stall(u64 ns);
#else
static inline u64 buslock_cg_charge(void)
{
	return 0;
}

static inline u64 buslock_cg_stall(u64 ns)
{
	return 0;
}
#endif

#endif /* _LINUX_BUSLOCK_CGROUP_H */
