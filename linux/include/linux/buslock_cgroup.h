/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buslock cgroup controller: rate limits for bus locks taken by guests.
 */
#ifndef _LINUX_BUSLOCK_CGROUP_H
#define _LINUX_BUSLOCK_CGROUP_H

#include <linux/cgroup.h>
#include <linux/types.h>

#ifdef CONFIG_CGROUP_BUSLOCK
u64 buslock_cg_charge(void);
int buslock_cg_stall(u64 *deadline);

/* False when the controller is disabled with cgroup_disable=buslock. */
static inline bool buslock_cg_enabled(void)
{
	return cgroup_subsys_enabled(buslock_cgrp_subsys);
}
#else
static inline u64 buslock_cg_charge(void)
{
	return 0;
}

static inline int buslock_cg_stall(u64 *deadline)
{
	*deadline = 0;
	return 0;
}

static inline bool buslock_cg_enabled(void)
{
	return false;
}
#endif

#endif /* _LINUX_BUSLOCK_CGROUP_H */
