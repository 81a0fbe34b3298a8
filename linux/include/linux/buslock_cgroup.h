/* SPDX-License-Identifier: GPL-2.0 */
/*
 * buslock cgroup controller: rate limits for bus locks taken by guests.
 */
#ifndef _LINUX_BUSLOCK_CGROUP_H
#define _LINUX_BUSLOCK_CGROUP_H

#include <linux/atomic.h>
#include <linux/cgroup.h>
#include <linux/jump_label.h>
#include <linux/types.h>

struct cgroup_subsys_state;

/* The most bus locks one batch reserves. */
#define BUSLOCK_CG_MAX_BATCH	64U

/**
 * struct buslock_cg_batch - bus locks paid for before the guest takes them
 * @css: the buslock cgroup charged, pinned while @n is not zero
 * @seq: the settings the charge was judged by
 * @at: when it was charged, in nanoseconds of ktime_get_ns()
 * @n: how many are reserved; 0 for no batch
 */
struct buslock_cg_batch {
	struct cgroup_subsys_state *css;
	unsigned long seq;
	u64 at;
	unsigned int n;
};

#ifdef CONFIG_CGROUP_BUSLOCK
extern atomic_t buslock_cg_seq;
DECLARE_STATIC_KEY_FALSE(buslock_cg_limited_key);

u64 buslock_cg_charge(void);
int buslock_cg_stall(u64 *deadline);
bool buslock_cg_limited(void);
unsigned int buslock_cg_reserve(struct buslock_cg_batch *batch,
				unsigned int max);
void buslock_cg_release(struct buslock_cg_batch *batch, unsigned int unused);

/* Changes whenever buslock_cg_limited() may have changed, for any task. */
static inline unsigned int buslock_cg_path_seq(void)
{
	return atomic_read_acquire(&buslock_cg_seq);
}

/*
 * True while some buslock.rate is finite: until then no task's bus locks
 * are limited, whatever buslock_cg_path_seq() says. A static branch.
 */
static inline bool buslock_cg_any_limit(void)
{
	return static_branch_unlikely(&buslock_cg_limited_key);
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

static inline unsigned int buslock_cg_reserve(struct buslock_cg_batch *batch,
					      unsigned int max)
{
	return 0;
}

static inline void buslock_cg_release(struct buslock_cg_batch *batch,
				      unsigned int unused)
{
}

static inline unsigned int buslock_cg_path_seq(void)
{
	return 0;
}

static inline bool buslock_cg_any_limit(void)
{
	return false;
}

static inline bool buslock_cg_enabled(void)
{
	return false;
}
#endif

#endif /* _LINUX_BUSLOCK_CGROUP_H */
