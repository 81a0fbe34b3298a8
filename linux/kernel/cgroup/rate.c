// SPDX-License-Identifier: GPL-2.0
/*
 * Hierarchical token buckets for the snp and buslock cgroup controllers.
 *
 * A limited cgroup has one bucket in GCRA form (the generic cell rate
 * algorithm, the virtual-scheduling form of a token bucket): a single
 * theoretical arrival time (TAT) advanced with cmpxchg. An event conforms
 * when max(TAT, now) plus the event's cost runs at most BURST events ahead
 * of now. There are no timers and no locks on the charge path, and the
 * clock is read only when some level of the path is limited.
 *
 * The TAT is kept in units of 1/RATE nanoseconds: an event costs exactly
 * NSEC_PER_SEC units and time advances RATE units per nanosecond, so no
 * interval is rounded to whole nanoseconds and the bounds hold exactly.
 * Over any interval of T seconds a bucket admits at most RATE * T + BURST
 * events, and at least RATE * T + BURST - 1 under continuous demand.
 *
 * Time in those units is now * RATE modulo 2^64 and only differences are
 * compared, as with jiffies. A TAT further ahead of now than any charge
 * can push it comes from an idle period long enough to wrap (hours at
 * the maximum rate) and is treated as idle.
 *
 * Statistics and event counts are per-CPU at every level, so CPUs
 * charging one parent do not share a cache line for them; only the bucket
 * of a limited level is shared, which is the point of a shared limit.
 */

#include <linux/cgroup.h>
#include <linux/ctype.h>
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "rate.h"

/* Written as "max"; never stored: a NULL bucket means no limit. */
#define RATE_CG_UNLIMITED	U64_MAX

/* Serializes replacing a cgroup's bucket; charges never take it. */
static DEFINE_MUTEX(rate_cg_bucket_mutex);

/**
 * rate_bucket_init - set up a bucket for a rate and a burst
 * @b: the bucket
 * @rate: events per second, at most RATE_CG_MAX_RATE; 0 admits nothing
 * @burst: bucket depth in events, 1 to RATE_CG_MAX_BURST
 *
 * The products below stay far from overflow at the maxima: @limit and
 * @max_debt are at most 10^15 units, much less than the 2^63 that
 * differences of TATs may span.
 */
void rate_bucket_init(struct rate_bucket *b, u64 rate, u64 burst)
{
	b->rate = rate;
	b->burst = burst;
	b->limit = burst * NSEC_PER_SEC;
	b->max_debt = RATE_CG_MAX_STALL_NS * rate;
	b->max_ahead = b->limit + b->max_debt;
	atomic64_set(&b->tat, 0);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_init);

/* How far @tat runs ahead of @now_u, in TAT units; 0 if the bucket is full. */
static u64 rate_bucket_ahead(const struct rate_bucket *b, s64 tat, u64 now_u)
{
	s64 ahead = (s64)((u64)tat - now_u);

	if (ahead < 0 || ahead > b->max_ahead)
		return 0;
	return ahead;
}

/**
 * rate_bucket_try_charge - take one event from a bucket if it conforms
 * @b: the bucket
 * @now: the time, in nanoseconds of a monotonic clock
 *
 * Return: true if the event conforms and was charged.
 */
bool rate_bucket_try_charge(struct rate_bucket *b, u64 now)
{
	u64 now_u = now * b->rate;
	s64 old = atomic64_read(&b->tat);
	u64 ahead;

	if (!b->rate)
		return false;
	do {
		ahead = rate_bucket_ahead(b, old, now_u) + NSEC_PER_SEC;
		if (ahead > b->limit)
			return false;
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now_u + ahead));
	return true;
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_try_charge);

/**
 * rate_bucket_uncharge - give back an event charged by rate_bucket_try_charge()
 * @b: the bucket
 */
void rate_bucket_uncharge(struct rate_bucket *b)
{
	atomic64_sub(NSEC_PER_SEC, &b->tat);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_uncharge);

/**
 * rate_bucket_charge_debt - charge one event that has already happened
 * @b: the bucket
 * @now: the time, in nanoseconds of a monotonic clock
 *
 * The event is charged even if it does not conform; the bucket then runs
 * into debt, which is bounded by RATE_CG_MAX_STALL_NS worth of refill.
 *
 * Return: how many nanoseconds from @now until the bucket conforms again,
 * 0 if the event conformed. RATE 0 always owes the longest stall.
 */
u64 rate_bucket_charge_debt(struct rate_bucket *b, u64 now)
{
	u64 now_u = now * b->rate;
	s64 old = atomic64_read(&b->tat);
	u64 ahead;

	if (!b->rate)
		return RATE_CG_MAX_STALL_NS;
	do {
		ahead = min(rate_bucket_ahead(b, old, now_u) + NSEC_PER_SEC,
			    b->max_ahead);
	} while (!atomic64_try_cmpxchg(&b->tat, &old, now_u + ahead));
	if (ahead <= b->limit)
		return 0;
	return div64_u64(ahead - b->limit + b->rate - 1, b->rate);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_charge_debt);

/**
 * rate_bucket_inherit - start a new bucket from the fill of the one it replaces
 * @b: the new bucket, set up by rate_bucket_init()
 * @old: the bucket it replaces; NULL if there was no limit
 * @now: the time, in nanoseconds of a monotonic clock
 *
 * The new bucket keeps the old one's fill, clamped to its own burst, and
 * any debt. Without a previous limit it starts full; after RATE 0, which
 * admitted nothing, it starts empty.
 */
void rate_bucket_inherit(struct rate_bucket *b, const struct rate_bucket *old,
			 u64 now)
{
	s64 fill, ahead = 0;

	if (old && !old->rate) {
		ahead = b->limit;
	} else if (old) {
		fill = (s64)old->limit -
		       (s64)rate_bucket_ahead(old, atomic64_read(&old->tat),
					      now * old->rate);
		ahead = clamp_t(s64, (s64)b->limit - fill, 0, b->max_ahead);
	}
	atomic64_set(&b->tat, now * b->rate + ahead);
}
EXPORT_SYMBOL_IF_KUNIT(rate_bucket_inherit);

static struct rate_cg *rate_cg_parent(struct rate_cg *rcg)
{
	return css_rate_cg(rcg->css.parent);
}

/* Counts an admitted event at its cgroup and every ancestor, root included. */
static void rate_cg_count_admitted(struct rate_cg *rcg)
{
	for (; rcg; rcg = rate_cg_parent(rcg))
		this_cpu_inc(rcg->stat->admitted);
}

/* Counts a refused event (@admitted false) or a stall of @delay_ns. */
static void rate_cg_count_throttled(struct rate_cg *rcg, bool admitted,
				    u64 delay_ns)
{
	for (; rcg; rcg = rate_cg_parent(rcg)) {
		if (admitted)
			this_cpu_inc(rcg->stat->admitted);
		this_cpu_inc(rcg->stat->throttled);
		this_cpu_add(rcg->stat->delay_ns, delay_ns);
	}
}

/*
 * Records a refusal or stall caused by the limit of @cause. The counts are
 * per CPU too: a flood of refusals from many CPUs under one parent must
 * not make them fight over the parent's cache lines.
 */
static void rate_cg_throttled(struct rate_cg *cause)
{
	struct rate_cg *rcg;

	this_cpu_inc(cause->stat->events_local);
	cgroup_file_notify(&cause->events_local_file);
	for (rcg = cause; rcg; rcg = rate_cg_parent(rcg)) {
		this_cpu_inc(rcg->stat->events);
		cgroup_file_notify(&rcg->events_file);
	}
}

/**
 * rate_cg_try_charge - charge one event to a cgroup and its ancestors, or none
 * @leaf: the cgroup the event originates in
 *
 * The caller holds rcu_read_lock(). A refused event is counted as
 * throttled at @leaf and above, and as an event of the refusing level.
 *
 * Return: true if every limited level admitted the event.
 */
bool rate_cg_try_charge(struct rate_cg *leaf)
{
	struct rate_cg *rcg, *done;
	struct rate_bucket *b;
	u64 now = 0;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg)) {
		b = rcu_dereference(rcg->bucket);
		if (!b)
			continue;
		if (!now)
			now = ktime_get_ns();
		if (!rate_bucket_try_charge(b, now))
			goto refused;
	}
	rate_cg_count_admitted(leaf);
	return true;

refused:
	/*
	 * Give back what the levels below took. Should a writer replace one
	 * of their buckets meanwhile, the new bucket gets the event back: a
	 * one-event error at the moment of a setting change.
	 */
	for (done = leaf; done != rcg; done = rate_cg_parent(done)) {
		b = rcu_dereference(done->bucket);
		if (b)
			rate_bucket_uncharge(b);
	}
	rate_cg_count_throttled(leaf, false, 0);
	rate_cg_throttled(rcg);
	return false;
}

/**
 * rate_cg_charge_debt - charge an event that has happened to every level
 * @leaf: the cgroup the event originates in
 *
 * The caller holds rcu_read_lock(). Every limited level is charged, in
 * debt if need be; the most indebted level decides the stall and is the
 * one whose events count it.
 *
 * Return: nanoseconds the originator should stall, 0 for none.
 */
u64 rate_cg_charge_debt(struct rate_cg *leaf)
{
	struct rate_cg *rcg, *cause = NULL;
	struct rate_bucket *b;
	u64 now = 0, stall = 0, owed;

	for (rcg = leaf; rcg; rcg = rate_cg_parent(rcg)) {
		b = rcu_dereference(rcg->bucket);
		if (!b)
			continue;
		if (!now)
			now = ktime_get_ns();
		owed = rate_bucket_charge_debt(b, now);
		if (owed > stall) {
			stall = owed;
			cause = rcg;
		}
	}
	if (!stall) {
		rate_cg_count_admitted(leaf);
		return 0;
	}
	rate_cg_count_throttled(leaf, true, stall);
	rate_cg_throttled(cause);
	return stall;
}

/**
 * rate_cg_stall - sleep for a stall, unless a signal arrives first
 * @ns: nanoseconds to sleep
 *
 * Sleeps interruptibly on an hrtimer; the caller must hold no locks.
 *
 * Return: the nanoseconds not slept, 0 if the whole stall was served.
 */
u64 rate_cg_stall(u64 ns)
{
	ktime_t end = ktime_add_ns(ktime_get(), ns);
	ktime_t left;

	might_sleep();
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (signal_pending(current)) {
			__set_current_state(TASK_RUNNING);
			break;
		}
		if (!schedule_hrtimeout(&end, HRTIMER_MODE_ABS))
			break;
	}
	left = ktime_sub(end, ktime_get());
	return left > 0 ? left : 0;
}

struct cgroup_subsys_state *
rate_cg_css_alloc(struct cgroup_subsys_state *parent_css)
{
	struct rate_cg *rcg;

	rcg = kzalloc(sizeof(*rcg), GFP_KERNEL);
	if (!rcg)
		return ERR_PTR(-ENOMEM);
	rcg->stat = alloc_percpu(struct rate_cg_stat);
	if (!rcg->stat) {
		kfree(rcg);
		return ERR_PTR(-ENOMEM);
	}
	return &rcg->css;
}

/* Called after an RCU grace period: no charge can still see the bucket. */
void rate_cg_css_free(struct cgroup_subsys_state *css)
{
	struct rate_cg *rcg = css_rate_cg(css);

	kfree(rcu_dereference_protected(rcg->bucket, true));
	free_percpu(rcg->stat);
	kfree(rcg);
}

/* Sums the per-CPU counters; exact once charging has stopped. */
void rate_cg_stat_read(struct rate_cg *rcg, struct rate_cg_stat *sum)
{
	struct rate_cg_stat *s;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		s = per_cpu_ptr(rcg->stat, cpu);
		sum->admitted += READ_ONCE(s->admitted);
		sum->throttled += READ_ONCE(s->throttled);
		sum->delay_ns += READ_ONCE(s->delay_ns);
		sum->events += READ_ONCE(s->events);
		sum->events_local += READ_ONCE(s->events_local);
	}
}

/* One decimal field: digits only, so no sign, space or base prefix. */
static int rate_cg_parse_u64(const char *s, u64 *val)
{
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++)
		if (!isdigit(*p))
			return -EINVAL;
	return kstrtou64(s, 10, val);
}

/**
 * rate_cg_parse - parse "max", "RATE" or "RATE BURST"
 * @buf: NUL-terminated input; one trailing newline is allowed
 * @rate: RATE, or RATE_CG_UNLIMITED for "max"
 * @burst: BURST, by default max(RATE, 1)
 *
 * Return: 0, -EINVAL for malformed input or BURST 0, -ERANGE for a value
 * above RATE_CG_MAX_RATE or RATE_CG_MAX_BURST.
 */
int rate_cg_parse(char *buf, u64 *rate, u64 *burst)
{
	size_t len = strlen(buf);
	char *field;
	int ret;

	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	if (!strcmp(buf, "max")) {
		*rate = RATE_CG_UNLIMITED;
		*burst = 0;
		return 0;
	}
	field = strsep(&buf, " ");
	ret = rate_cg_parse_u64(field, rate);
	if (ret)
		return ret;
	if (buf) {
		ret = rate_cg_parse_u64(buf, burst);
		if (ret)
			return ret;
		if (!*burst)
			return -EINVAL;
	} else {
		*burst = max(*rate, 1ULL);
	}
	if (*rate > RATE_CG_MAX_RATE || *burst > RATE_CG_MAX_BURST)
		return -ERANGE;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(rate_cg_parse);

int rate_cg_limit_show(struct seq_file *sf, void *v)
{
	struct rate_cg *rcg = css_rate_cg(seq_css(sf));
	struct rate_bucket *b;

	rcu_read_lock();
	b = rcu_dereference(rcg->bucket);
	if (b)
		seq_printf(sf, "%llu %llu\n", b->rate, b->burst);
	else
		seq_puts(sf, "max\n");
	rcu_read_unlock();
	return 0;
}

ssize_t rate_cg_limit_write(struct kernfs_open_file *of, char *buf,
			    size_t nbytes, loff_t off)
{
	struct rate_cg *rcg = css_rate_cg(of_css(of));
	struct rate_bucket *new = NULL, *old;
	u64 rate, burst;
	int ret;

	/* An embedded NUL would hide the rest of the write from the parser. */
	if (strlen(buf) != nbytes)
		return -EINVAL;
	ret = rate_cg_parse(buf, &rate, &burst);
	if (ret)
		return ret;
	if (rate != RATE_CG_UNLIMITED) {
		new = kzalloc(sizeof(*new), GFP_KERNEL);
		if (!new)
			return -ENOMEM;
		rate_bucket_init(new, rate, burst);
	}

	mutex_lock(&rate_cg_bucket_mutex);
	old = rcu_dereference_protected(rcg->bucket,
					lockdep_is_held(&rate_cg_bucket_mutex));
	if (new)
		rate_bucket_inherit(new, old, ktime_get_ns());
	rcu_assign_pointer(rcg->bucket, new);
	mutex_unlock(&rate_cg_bucket_mutex);

	if (old)
		kfree_rcu(old, rcu);
	return nbytes;
}

int rate_cg_events_show(struct seq_file *sf, void *v)
{
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "throttled %llu\n", sum.events);
	return 0;
}

int rate_cg_events_local_show(struct seq_file *sf, void *v)
{
	struct rate_cg_stat sum;

	rate_cg_stat_read(css_rate_cg(seq_css(sf)), &sum);
	seq_printf(sf, "throttled %llu\n", sum.events_local);
	return 0;
}
