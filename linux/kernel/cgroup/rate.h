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
#include <linux/bits.h>
#include <linux/cgroup.h>
#include <linux/rcupdate.h>
#include <linux/types.h>

/* Limits of "RATE BURST" in the rate files, documented in cgroup-v2.rst. */
#define RATE_CG_MAX_RATE	1000000ULL	/* events per second */
#define RATE_CG_MAX_BURST	1000000ULL	/* events */

/* The weight files, as cpu.weight and io.weight. */
#define RATE_CG_WEIGHT_MIN	1
#define RATE_CG_WEIGHT_DFL	100
#define RATE_CG_WEIGHT_MAX	10000

/*
 * Share rates are fixed point, events per second times 2^RATE_CG_FP_SHIFT,
 * so that a parent's rate splits among many children without rounding
 * their shares to zero.
 */
#define RATE_CG_FP_SHIFT	20

/* Deepest share bucket; bounds a share's cost times its depth below 2^62. */
#define RATE_CG_MAX_SHARE_BURST	4096ULL

/*
 * How far a TAT may run ahead of now, in TAT units. A TAT further ahead
 * than this is an idle bucket whose scaled clock wrapped, never debt: the
 * debt of a bucket saturates here (2^62 units is 4.6 * 10^9 events).
 */
#define RATE_CG_MAX_AHEAD	BIT_ULL(62)

/* A stall is served in sleeps of at most this, each followed by a re-check. */
#define RATE_CG_STALL_SLICE_NS	(100 * NSEC_PER_MSEC)

/* Fair sharing covers the levels nearest the charger, as many as a u64 has bits. */
#define RATE_CG_SHARE_LEVELS	64

/**
 * struct rate_bucket - a token bucket in GCRA form
 * @tat: theoretical arrival time of the next event, in units of
 *	 1/@rate nanoseconds (time multiplied by @rate, modulo 2^64)
 * @rate: TAT units per nanosecond; 0 admits nothing
 * @cost: TAT units per event
 * @limit: how far @tat may run ahead of now for an event that comes
 *	   within its share of this bucket (guaranteed) to conform
 * @limit_borrow: the same for any other event; @limit minus the room
 *		  kept for the guaranteed events of the children
 * @gen: when the bucket was published; see rate_cg_try_charge()
 *
 * For a limit, @rate is RATE and @cost is NSEC_PER_SEC, so the arithmetic
 * is exact: no rounding of 1/RATE to whole nanoseconds. A share, whose
 * rate is a fraction, scales both so that @rate stays small enough for
 * the scaled clock to wrap no sooner than a limit's at RATE_CG_MAX_RATE.
 * All fields but @tat are set before the bucket is published and never
 * change while it is.
 */
struct rate_bucket {
	atomic64_t tat;
	u64 rate;
	u64 cost;
	u64 limit;
	u64 limit_borrow;
	u64 gen;
};

/**
 * struct rate_slots - one published bucket, and a spare for the next setting
 * @cur: the published bucket; NULL when there is none
 * @slot: the buckets @cur points into
 * @retired_gp: RCU state when each slot was last unpublished
 * @retired: whether each slot waits for @retired_gp before reuse
 *
 * A new setting is written to the slot that is not published: nothing is
 * allocated, and the token state moves over in rate_bucket_inherit().
 */
struct rate_slots {
	struct rate_bucket __rcu *cur;
	struct rate_bucket slot[2];
	unsigned long retired_gp[2];
	bool retired[2];
};

/**
 * struct rate_cg_stat - a cgroup's counts, kept per CPU and summed when read
 * @admitted: events that originated in the cgroup or below and were charged
 * @throttled: events that originated in the cgroup or below and were
 *	       refused or stalled
 * @delay_ns: stalls owed by events that originated in the cgroup or below
 * @guaranteed: admitted events of the cgroup's subtree that came within
 *		its share of its parent; the others borrowed
 * @events: refusals or stalls caused by this cgroup's limit or a descendant's
 * @events_local: refusals or stalls caused by this cgroup's limit
 */
struct rate_cg_stat {
	u64 admitted;
	u64 throttled;
	u64 delay_ns;
	u64 guaranteed;
	u64 events;
	u64 events_local;
};

/**
 * struct rate_cg - a cgroup's state in a rate controller (snp or buslock)
 * @css: the controller's css; first member, so file_offset works
 * @limit: this cgroup's own limit, a hard cap on its subtree
 * @share: this cgroup's share of the nearest limited ancestor's rate,
 *	   passed down by weight; no bucket when no ancestor is limited
 * @stat: per-CPU counts, summed when read
 * @events_file: notified when the sum of @stat's events changes
 * @events_local_file: notified when the sum of @stat's events_local changes
 * @rate: the setting of the limit file, RATE or U64_MAX for "max"
 * @burst: the setting's BURST
 * @weight: the weight file
 * @online: counts in its parent's shares
 * @share_fp: the share's rate, events per second in fixed point; U64_MAX
 *	      for none
 * @headroom: the sum of the children's share depths: guaranteed events of
 *	      the children this cgroup's buckets keep room for
 * @weight_sum: the sum of the online children's weights
 *
 * The fields from @rate on belong to the slow path and are serialized by
 * a mutex in rate.c; charges read only the published buckets.
 */
struct rate_cg {
	struct cgroup_subsys_state css;
	struct rate_slots limit;
	struct rate_slots share;
	struct rate_cg_stat __percpu *stat;
	struct cgroup_file events_file;
	struct cgroup_file events_local_file;
	u64 rate;
	u64 burst;
	u64 weight;
	bool online;
	u64 share_fp;
	u64 headroom;
	u64 weight_sum;
};

static inline struct rate_cg *css_rate_cg(struct cgroup_subsys_state *css)
{
	return css ? container_of(css, struct rate_cg, css) : NULL;
}

/* Bucket arithmetic, exposed for the KUnit tests. */
void rate_bucket_init(struct rate_bucket *b, u64 rate, u64 cost,
		      u64 depth_borrow, u64 depth);
bool rate_bucket_try_charge(struct rate_bucket *b, u64 now, bool guaranteed);
void rate_bucket_uncharge(struct rate_bucket *b);
u64 rate_bucket_charge_debt(struct rate_bucket *b, u64 now);
u64 rate_bucket_conform_ns(const struct rate_bucket *b, u64 now);
void rate_bucket_inherit(struct rate_bucket *b, const struct rate_bucket *old,
			 u64 now);

int rate_cg_parse(char *buf, u64 *rate, u64 *burst);

/* Charging a cgroup and its ancestors; the caller holds rcu_read_lock(). */
bool rate_cg_try_charge(struct rate_cg *rcg);
u64 rate_cg_charge_debt(struct rate_cg *rcg);
u64 rate_cg_conform_ns(struct rate_cg *rcg);
bool rate_cg_limited(struct rate_cg *rcg);
bool rate_cg_sleep_until(u64 until);

/* Controller plumbing shared by snp and buslock. */
struct cgroup_subsys_state *rate_cg_css_alloc(struct cgroup_subsys_state *parent);
int rate_cg_css_online(struct cgroup_subsys_state *css);
void rate_cg_css_offline(struct cgroup_subsys_state *css);
void rate_cg_css_free(struct cgroup_subsys_state *css);
void rate_cg_stat_read(struct rate_cg *rcg, struct rate_cg_stat *sum);
int rate_cg_limit_show(struct seq_file *sf, void *v);
ssize_t rate_cg_limit_write(struct kernfs_open_file *of, char *buf,
			    size_t nbytes, loff_t off);
u64 rate_cg_weight_read(struct cgroup_subsys_state *css, struct cftype *cft);
int rate_cg_weight_write(struct cgroup_subsys_state *css, struct cftype *cft,
			 u64 weight);
int rate_cg_events_show(struct seq_file *sf, void *v);
int rate_cg_events_local_show(struct seq_file *sf, void *v);

#endif /* _KERNEL_CGROUP_RATE_H */
