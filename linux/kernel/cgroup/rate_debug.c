// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only charge interface of the snp and buslock controllers.
 *
 * /sys/kernel/debug/cgroup_rate/charge charges as the writing task, with
 * the very functions KVM calls, so tests can drive the controllers on
 * machines without SEV-SNP or bus-lock detection:
 *
 *   "snp N"      N calls of snp_cg_try_charge(), each admitted request
 *                committed as one that reached the firmware
 *   "snp-refund N"  the same, each admitted request given back with
 *                snp_cg_uncharge(), as for one that failed before it
 *   "buslock N"  N calls of buslock_cg_charge(), each stall served with
 *                buslock_cg_stall(); a signal ends the write with -EINTR
 *                (RATE 0 stalls until the settings change or a signal)
 *
 * Reading the same open file reports the totals of its writes so far:
 * admitted, refused, stall_ns (owed), slept_ns (served), interrupted.
 */

#include <linux/buslock_cgroup.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/snp_cgroup.h>
#include <linux/string.h>
#include <linux/uaccess.h>

/* Enough for a test, small enough that one write ends soon. */
#define RATE_DEBUG_MAX_CHARGES	1000000

struct rate_debug_result {
	u64 admitted;
	u64 refused;
	u64 stall_ns;
	u64 slept_ns;
	u64 interrupted;
};

static int rate_debug_snp(struct rate_debug_result *res, u32 n, bool refund)
{
	struct snp_cg_charge charge;

	if (!IS_ENABLED(CONFIG_CGROUP_SNP))
		return -EOPNOTSUPP;
	while (n--) {
		if (snp_cg_try_charge(&charge)) {
			res->admitted++;
			if (refund)
				snp_cg_uncharge(&charge);
			else
				snp_cg_commit(&charge);
		} else {
			res->refused++;
		}
		cond_resched();
	}
	return 0;
}

static int rate_debug_buslock(struct rate_debug_result *res, u32 n)
{
	u64 deadline, start;

	if (!IS_ENABLED(CONFIG_CGROUP_BUSLOCK))
		return -EOPNOTSUPP;
	while (n--) {
		deadline = buslock_cg_charge();
		res->admitted++;
		if (!deadline) {
			cond_resched();
			continue;
		}
		start = ktime_get_ns();
		if (deadline != U64_MAX)
			res->stall_ns += deadline > start ? deadline - start : 0;
		if (buslock_cg_stall(&deadline)) {
			res->slept_ns += ktime_get_ns() - start;
			res->interrupted++;
			return -EINTR;
		}
		res->slept_ns += ktime_get_ns() - start;
	}
	return 0;
}

static ssize_t rate_debug_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct rate_debug_result *res = file->private_data;
	char buf[32], *cmd, *arg;
	u32 n;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	cmd = strim(buf);
	arg = strchr(cmd, ' ');
	if (!arg)
		return -EINVAL;
	*arg++ = '\0';
	ret = kstrtou32(arg, 10, &n);
	if (ret)
		return ret;
	if (!n || n > RATE_DEBUG_MAX_CHARGES)
		return -ERANGE;

	if (!strcmp(cmd, "snp"))
		ret = rate_debug_snp(res, n, false);
	else if (!strcmp(cmd, "snp-refund"))
		ret = rate_debug_snp(res, n, true);
	else if (!strcmp(cmd, "buslock"))
		ret = rate_debug_buslock(res, n);
	else
		ret = -EINVAL;
	return ret ?: len;
}

static ssize_t rate_debug_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct rate_debug_result *res = file->private_data;
	char buf[160];
	int n;

	n = scnprintf(buf, sizeof(buf),
		      "admitted %llu\nrefused %llu\nstall_ns %llu\nslept_ns %llu\ninterrupted %llu\n",
		      res->admitted, res->refused, res->stall_ns, res->slept_ns,
		      res->interrupted);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static int rate_debug_open(struct inode *inode, struct file *file)
{
	struct rate_debug_result *res = kzalloc_obj(*res);

	if (!res)
		return -ENOMEM;
	file->private_data = res;
	return 0;
}

static int rate_debug_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static const struct file_operations rate_debug_fops = {
	.owner = THIS_MODULE,
	.open = rate_debug_open,
	.release = rate_debug_release,
	.read = rate_debug_read,
	.write = rate_debug_write,
	.llseek = default_llseek,
};

static int __init rate_debug_init(void)
{
	struct dentry *dir = debugfs_create_dir("cgroup_rate", NULL);

	debugfs_create_file("charge", 0600, dir, NULL, &rate_debug_fops);
	return 0;
}
late_initcall(rate_debug_init);
