/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hierarchical token buckets shared by the snp and buslock controllers.
 *
 * Private to kernel/cgroup: KVM and other callers use the controllers'
 * headers, <linux/snp_cgroup.h> and <linux/buslock_cgroup.h>.
 */
#ifndef _KERNEL_CGROUP_RATE_H
#define _KERNEL_CGROUP_RATE_H

#include <linux/atomic.h>
#include <linux/cgroup.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

/* Limits of "RATE BURST" in the rate files, documented in cgroup-v2.rst. */
#define RATE_CG_MAX_RATE	1000000ULL	/* events per second */
#define RATE_CG_MAX_BURST	1000000ULL	/* events */
/* Longest stall one bus-lock charge can demand: bounds the debt. */
#define RATE_CG_MAX_STALL_NS	NSEC_PER_SEC

/**
 * struct rate_bucket - one level's limit, a GCRA token bucket
 * @tat: theoretical arrival time of the next event, in units of
 *	 1/@rate nanoseconds (time multiplied by @rate, modulo 2^64)
 * @rate: events per second; 0 admits nothing
 * @burst: bucket depth, in events
 * @limit: how far @tat may run ahead of now and still conform
 *	   (@burst events, in the units of @tat)
 * @max_debt: how far beyond @limit a bus-lock charge may push @tat
 * @max_ahead: @limit + @max_debt; a @tat further ahead is stale
 * @rcu: frees a replaced bucket
 *
 * An event costs NSEC_PER_SEC units and time advances @rate units per
 * nanosecond, so the arithmetic is exact integer arithmetic: no rounding
 * of 1/@rate to whole nanoseconds, and one atomic64 holds all the state.
 * A bucket is immutable but for @tat; a new setting replaces the bucket.
 */
struct rate_bucket {
	atomic64_t tat;
	u64 rate;
	u64 burst;
	u64 limit;
	u64 max_debt;
	u64 max_ahead;
	struct rcu_head rcu;
};

/**
 * struct rate_cg_stat - a cgroup's counts, kept per CPU and summed when read
 * @admitted: events that originated in the cgroup or below and were charged
 * @throttled: events that originated in the cgroup or below and were
 *	       refused or stalled
 * @delay_ns: stalls owed by events that originated in the cgroup or below
 * @events: refusals or stalls caused by this cgroup's limit or a descendant's
 * @events_local: refusals or stalls caused by this cgroup's limit
 */
struct rate_cg_stat {
	u64 admitted;
	u64 throttled;
	u64 delay_ns;
	u64 events;
	u64 events_local;
};

/**
 * struct rate_cg - a cgroup's state in a rate controller (snp or buslock)
 * @css: the controller's css; first member, so file_offset works
 * @bucket: this cgroup's limit; NULL means "max"
 * @stat: per-CPU counts, summed when read
 * @events_file: notified when the sum of @stat's events changes
 * @events_local_file: notified when the sum of @stat's events_local changes
 */
struct rate_cg {
	struct cgroup_subsys_state css;
	struct rate_bucket __rcu *bucket;
	struct rate_cg_stat __percpu *stat;
	struct cgroup_file events_file;
	struct cgroup_file events_local_file;
};

static inline struct rate_cg *css_rate_cg(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct rate_cg, css) : NULL;
}

/* Bucket arithmetic, exposed for the KUnit tests. */
void rate_bucket_init(struct rate_bucket *b, u64 rate, u64 burst);
bool rate_bucket_try_charge(struct rate_bucket *b, u64 now);
void rate_bucket_uncharge(struct rate_bucket *b);
u64 rate_bucket_charge_debt(struct rate_bucket *b, u64 now);
void rate_bucket_inherit(struct rate_bucket *b, const struct rate_bucket *old,
			 u64 now);

int rate_cg_parse(char *buf, u64 *rate, u64 *burst);

/* Charging a cgroup and its ancestors; the caller holds rcu_read_lock(). */
bool rate_cg_try_charge(struct rate_cg *rcg);
u64 rate_cg_charge_debt(struct rate_cg *rcg);
u64 rate_cg_stall(u64 ns);

/* Controller plumbing shared by snp and buslock. */
struct cgroup_subsys_state *rate_cg_css_alloc(struct cgroup_subsys_state *parent);
void rate_cg_css_free(struct cgroup_subsys_state *css);
void rate_cg_stat_read(struct rate_cg *rcg, struct rate_cg_stat *sum);
int rate_cg_limit_show(struct seq_file *sf, void *v);
ssize_t rate_cg_limit_write(struct kernfs_open_file *of, char *buf,
			    size_t nbytes, loff_t off);
int rate_cg_events_show(struct seq_file *sf, void *v);
int rate_cg_events_local_show(struct seq_file *sf, void *v);

#endif /* _KERNEL_CGROUP_RATE_H */
