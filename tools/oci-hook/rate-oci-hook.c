// SPDX-License-Identifier: GPL-2.0
/*
 * rate-oci-hook: an OCI runtime hook that sets the snp and buslock cgroup
 * limits of a container, or of its pod, from its annotations.
 *
 * The runtime runs it at createRuntime (or prestart) with the container's
 * state on standard input, as the OCI runtime specification gives it: the
 * container's pid is in its cgroup by then. The annotations
 *
 *	ratelimit.cgroup.linux/snp.req_rate	"RATE [BURST]" or "max"
 *	ratelimit.cgroup.linux/snp.weight	1..10000
 *	ratelimit.cgroup.linux/buslock.rate	"RATE [BURST]" or "max"
 *	ratelimit.cgroup.linux/buslock.weight	1..10000
 *
 * are written to the files of the same name in the container's cgroup;
 * for a pod's sandbox (CRI-O's io.kubernetes.cri-o.ContainerType or
 * containerd's io.kubernetes.cri.container-type "sandbox") in the pod's
 * cgroup, the sandbox's parent, where a VM sandbox's vCPU threads run
 * (Kata Containers, Confidential Containers; KubeVirt's virt-launcher
 * pod). The controllers a value needs are enabled from the root down.
 *
 * The annotations are the pod author's: a pod can raise its own limit or
 * weight, never above what the cgroups above it allow, as a parent's
 * limit bounds every child. Limits meant to bind a tenant belong on the
 * cgroups above its pods (kubepods.slice, the QoS slices), and an
 * admission policy decides who may set these annotations and to what.
 *
 * Every value's form is checked before anything is written; if the kernel
 * refuses a value, the values already written are put back. Either way the
 * hook says which file and why on standard error and exits 1, and the
 * runtime does not start the container. A container without these
 * annotations is left alone.
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX		"ratelimit.cgroup.linux/"
#define CGROOT_DEFAULT	"/sys/fs/cgroup"
#define MAX_VALUE	64

static const char *const files[] = {
	"snp.req_rate", "snp.weight", "buslock.rate", "buslock.weight",
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NR_FILES	ARRAY_SIZE(files)
#define KNOWN_FILES	"snp.req_rate, snp.weight, buslock.rate, buslock.weight"

/* One file to write, and what it held before, to put back on a refusal. */
struct setting {
	const char *file;
	char value[MAX_VALUE];
	char old[MAX_VALUE];
};

static const char *container_id = "?";

#define __printf(a, b)	__attribute__((format(printf, a, b)))

static void __printf(1, 2) fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rate-oci-hook: container %s: ", container_id);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* @buf = @dir/@name, or the hook fails: a path cut short is another file. */
static void path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int len = snprintf(buf, size, "%s/%s", dir, name);

	if (len < 0 || (size_t)len >= size)
		fail("%s/%s: path too long", dir, name);
}

/* A decimal number of at most 7 digits, nothing else. */
static int parse_number(const char *s, const char **end, unsigned long *n)
{
	const char *p = s;

	*n = 0;
	while (*p >= '0' && *p <= '9' && p - s < 7)
		*n = *n * 10 + (unsigned long)(*p++ - '0');
	*end = p;
	return p > s && !(*p >= '0' && *p <= '9');
}

/*
 * The value's form: "max", RATE or "RATE BURST" for a rate, 1..10000 for
 * a weight. The kernel checks the bounds of a rate.
 */
static const char *check_value(const char *file, const char *value)
{
	unsigned long n;
	const char *end;

	if (strlen(value) >= MAX_VALUE)
		return "too long";
	if (strstr(file, ".weight")) {
		if (!parse_number(value, &end, &n) || *end || n < 1 || n > 10000)
			return "a weight is 1..10000";
		return NULL;
	}
	if (!strcmp(value, "max"))
		return NULL;
	if (!parse_number(value, &end, &n))
		return "a rate is max, RATE or \"RATE BURST\"";
	if (*end == ' ' && !parse_number(end + 1, &end, &n))
		return "a rate is max, RATE or \"RATE BURST\"";
	if (*end)
		return "a rate is max, RATE or \"RATE BURST\"";
	return NULL;
}

/* The settings the annotations ask for; how many. */
static size_t read_settings(json_t *annotations, struct setting *set)
{
	const char *key;
	json_t *val;
	size_t n = 0, i;

	json_object_foreach(annotations, key, val) {
		const char *file, *why;

		if (strncmp(key, PREFIX, strlen(PREFIX)))
			continue;
		file = key + strlen(PREFIX);
		for (i = 0; i < NR_FILES; i++)
			if (!strcmp(file, files[i]))
				break;
		/* JSON object keys are unique: each file comes once at most */
		if (i == NR_FILES)
			fail("annotation %s: unknown file (known: %s)", key, KNOWN_FILES);
		if (!json_is_string(val))
			fail("annotation %s: not a string", key);
		why = check_value(file, json_string_value(val));
		if (why)
			fail("annotation %s=\"%s\": %s", key, json_string_value(val), why);
		set[n].file = files[i];
		snprintf(set[n].value, sizeof(set[n].value), "%s", json_string_value(val));
		n++;
	}
	return n;
}

static int is_sandbox(json_t *annotations)
{
	static const char *const keys[] = {
		"io.kubernetes.cri-o.ContainerType",
		"io.kubernetes.cri.container-type",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = json_string_value(json_object_get(annotations, keys[i]));

		if (v && !strcmp(v, "sandbox"))
			return 1;
	}
	return 0;
}

/*
 * Whether @name is the kubelet's cgroup for a pod: kubepods[-QOS]-pod<uid>.slice
 * (systemd driver) or pod<uid> (cgroupfs driver), the uid's hex digits and
 * dashes (underscores under systemd).
 */
static int is_pod_cgroup(const char *name)
{
	const char *uid, *suffix, *end;

	if (!strncmp(name, "pod", 3)) {
		uid = name + 3;
		suffix = "";
	} else if (!strncmp(name, "kubepods-", 9) && strstr(name, "-pod")) {
		uid = strstr(name, "-pod") + 4;
		suffix = ".slice";
	} else {
		return 0;
	}
	end = uid + strspn(uid, "0123456789abcdef-_");
	return end - uid >= 32 && !strcmp(end, suffix);
}

/* The cgroup v2 path of @pid, relative to the hierarchy's root. */
static void pid_cgroup(long pid, char *path, size_t size)
{
	char proc[64], line[PATH_MAX + 8];
	FILE *f;

	snprintf(proc, sizeof(proc), "/proc/%ld/cgroup", pid);
	f = fopen(proc, "r");
	if (!f)
		fail("%s: %s", proc, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		fclose(f);
		if ((size_t)snprintf(path, size, "%s", line + 3) >= size)
			fail("%s: path too long", proc);
		return;
	}
	fclose(f);
	fail("%s: no cgroup v2 entry", proc);
}

static int read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t len;

	if (!f)
		return -errno;
	len = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Writes @value in one write(2), as the kernel wants a setting. */
static int write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return -errno;
	if (fputs(value, f) == EOF || fflush(f))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* Enable @ctrl in every cgroup.subtree_control from the root to @dir's parent. */
static void enable_down_to(const char *root, const char *dir, const char *ctrl)
{
	char cur[PATH_MAX], file[PATH_MAX], have[4096], plus[32];
	const char *p = dir;
	int err;

	snprintf(cur, sizeof(cur), "%s", root);
	while (*p == '/')
		p++;
	while (*p) {
		size_t len = strcspn(p, "/");

		path_join(file, sizeof(file), cur, "cgroup.subtree_control");
		/* room for the spaces put around it below */
		err = read_file(file, have, sizeof(have) - 2);
		if (err)
			fail("%s: %s", file, strerror(-err));
		snprintf(plus, sizeof(plus), " %s ", ctrl);
		memmove(have + 1, have, strlen(have) + 1);
		have[0] = ' ';
		strcat(have, " ");
		if (!strstr(have, plus)) {
			snprintf(plus, sizeof(plus), "+%s", ctrl);
			err = write_file(file, plus);
			if (err)
				fail("%s: enabling %s: %s", file, ctrl, strerror(-err));
		}
		if (strlen(cur) + len + 2 > sizeof(cur))
			fail("%s: path too long", dir);
		strcat(cur, "/");
		strncat(cur, p, len);
		p += len;
		while (*p == '/')
			p++;
	}
}

/* Writes every setting; on a refusal, puts back those written and fails. */
static void apply(const char *dir, struct setting *set, size_t n)
{
	char path[PATH_MAX];
	size_t i, j;
	int err;

	for (i = 0; i < n; i++) {
		path_join(path, sizeof(path), dir, set[i].file);
		err = read_file(path, set[i].old, sizeof(set[i].old));
		if (!err)
			err = write_file(path, set[i].value);
		if (!err)
			continue;
		for (j = 0; j < i; j++) {
			path_join(path, sizeof(path), dir, set[j].file);
			write_file(path, set[j].old);
		}
		fail("%s/%s: \"%s\": %s", dir, set[i].file, set[i].value,
		     strerror(-err));
	}
}

int main(void)
{
	char rel[PATH_MAX], dir[PATH_MAX];
	struct setting set[NR_FILES];
	const char *root = getenv("CGROUP_ROOT");
	json_t *state, *annotations;
	json_error_t jerr;
	size_t n, i;
	long pid;

	if (!root)
		root = CGROOT_DEFAULT;
	state = json_loadf(stdin, 0, &jerr);
	if (!state)
		fail("the state on standard input: line %d: %s", jerr.line, jerr.text);
	if (json_is_string(json_object_get(state, "id")))
		container_id = json_string_value(json_object_get(state, "id"));
	annotations = json_object_get(state, "annotations");
	if (!json_is_object(annotations))
		return 0;
	n = read_settings(annotations, set);
	if (!n)
		return 0;
	if (!json_is_integer(json_object_get(state, "pid")))
		fail("the state has no pid");
	pid = (long)json_integer_value(json_object_get(state, "pid"));
	pid_cgroup(pid, rel, sizeof(rel));
	if (is_sandbox(annotations)) {
		char *slash = strrchr(rel, '/');

		if (!slash || slash == rel)
			fail("sandbox cgroup %s has no pod cgroup above it", rel);
		*slash = '\0';
		/*
		 * The annotation is the pod author's to set: go up only into
		 * a cgroup the kubelet made for a pod, never into a shared
		 * parent such as kubepods-burstable.slice or machine.slice.
		 */
		if (!is_pod_cgroup(strrchr(rel, '/') + 1))
			fail("sandbox's parent %s is not a pod's cgroup", rel);
	}
	if (!strcmp(rel, "/"))
		snprintf(dir, sizeof(dir), "%s", root);
	else
		path_join(dir, sizeof(dir), root, rel + (rel[0] == '/'));
	for (i = 0; i < n; i++) {
		char ctrl[16];

		snprintf(ctrl, sizeof(ctrl), "%.*s", (int)strcspn(set[i].file, "."),
			 set[i].file);
		enable_down_to(root, rel, ctrl);
	}
	apply(dir, set, n);
	json_decref(state);
	return 0;
}
