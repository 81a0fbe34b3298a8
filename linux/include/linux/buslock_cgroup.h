/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buslock cgroup controller: rate limits for bus locks taken by guests.
 */
#ifndef _LINUX_BUSLOCK_CGROUP_H
#define _LINUX_BUSLOCK_CGROUP_H

#include <linux/atomic.h>
#include <linux/cgroup.h>
#include <linux/types.h>

#ifdef CONFIG_CGROUP_BUSLOCK
extern atomic_t buslock_cg_seq;

u64 buslock_cg_charge(void);
int buslock_cg_stall(u64 *deadline);
bool buslock_cg_limited(void);

/* Changes whenever buslock_cg_limited() may have changed, for any task. */
static inline unsigned int buslock_cg_path_seq(void)
{
	return atomic_read_acquire(&buslock_cg_seq);
}

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

static inline bool buslock_cg_limited(void)
{
	return false;
}

static inline unsigned int buslock_cg_path_seq(void)
{
	return 0;
}

static inline bool buslock_cg_enabled(void)
{
	return false;
}
#endif

#endif /* _LINUX_BUSLOCK_CGROUP_H */
