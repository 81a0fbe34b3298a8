// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for kernel/cgroup/rate.c, compiled unchanged against
 * kernel_shim.h. The input's first line is written to a limit file (the
 * real parser and setting path); a result of 0 must read back as a
 * canonical setting that parses to the same values. The rest drives a
 * two-level hierarchy: try-charges, debt charges, new settings and clock
 * steps, forward and (as a lagging charger sees it) back, weight writes
 * on two siblings. A stall's deadline lies after the charge, and no TAT
 * runs further ahead than the debt saturates. Any sanitizer report is a
 * failure too.
 */
#include "kernel_shim.h"
#include "rate.h"

/* The latest reading of the clock; a lagging charger reads earlier ones. */
static u64 latest;

/*
 * No TAT runs further ahead of the latest reading than the debt
 * saturates (a lagging reading sees it further ahead by its lag).
 */
static void check_bucket(struct rate_cg *rcg)
{
	s64 ahead = (s64)(atomic64_read(&rcg->limit.tat) - latest);

	if (ahead > (s64)RATE_CG_MAX_AHEAD)
		__builtin_trap();
	ahead = (s64)(atomic64_read(&rcg->share.tat) - latest);
	if (ahead > (s64)RATE_CG_MAX_AHEAD)
		__builtin_trap();
}

static int write_limit(struct rate_cg *rcg, const char *in, size_t len)
{
	struct kernfs_open_file of = { .css = &rcg->css };
	char buf[64];

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, in, len);
	buf[len] = '\0';
	return rate_cg_limit_write(&of, buf, len, 0);
}

/* A successful write reads back canonical and parses to the same. */
static void check_round_trip(struct rate_cg *rcg)
{
	struct seq_file sf = { .css = &rcg->css };
	u64 rate, burst;

	rate_cg_limit_show(&sf, NULL);
	if (rate_cg_parse(sf.buf, &rate, &burst))
		__builtin_trap();
	if (rate != rcg->rate || (rate != U64_MAX && burst != rcg->burst))
		__builtin_trap();
	if (rate != U64_MAX && (rate > RATE_CG_MAX_RATE || !burst ||
				burst > RATE_CG_MAX_BURST))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rate_cg *root = model_new_cg(NULL), *parent = model_new_cg(root);
	struct rate_cg *child = model_new_cg(parent), *sib = model_new_cg(parent);
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) + 1 : size, i;
	ssize_t ret;

	shim_now = latest = 1000 * NSEC_PER_SEC;
	ret = write_limit(child, (const char *)data, first);
	if (ret >= 0)
		check_round_trip(child);
	else if (ret != -EINVAL && ret != -ERANGE)
		__builtin_trap();

	for (i = first; i + 3 <= size; i += 3) {
		struct rate_cg *who = data[i + 1] & 1 ? parent : child;
		char buf[32];
		u64 deadline, lag;

		switch (data[i] % 7) {
		case 0:
			rate_cg_try_charge(data[i + 2] & 1 ? sib : child);
			break;
		case 1:
			deadline = rate_cg_charge_debt(child);
			if (deadline && deadline <= shim_now)
				__builtin_trap();
			check_bucket(child);
			check_bucket(parent);
			break;
		case 5:
			if (model_write_weight(data[i + 2] & 1 ? sib : child,
					       1 + data[i + 1] * 39u))
				__builtin_trap();
			break;
		case 6:
			/* A charger whose reading lags the last writer's. */
			lag = (u64)data[i + 1] << (data[i + 2] % 32);
			if (shim_now > lag + NSEC_PER_SEC)
				shim_now -= lag;
			break;
		case 2:
			snprintf(buf, sizeof(buf), "%u %u", data[i + 2] * 3900u,
				 1 + data[i + 1] / 2);
			if (write_limit(who, buf, strlen(buf)) < 0)
				__builtin_trap();
			break;
		case 3:
			write_limit(who, "max", 3);
			break;
		default:
			shim_now += (u64)data[i + 1] << (data[i + 2] % 40);
			latest = max(latest, shim_now);
			break;
		}
	}
	model_free_cg(sib);
	model_free_cg(child);
	model_free_cg(parent);
	model_free_cg(root);
	return 0;
}
