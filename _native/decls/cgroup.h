/* cgroup v2 device control: bpf(2) loads and attaches the device filter program. */
int pyrunc_bpf(int cmd, void *attr, unsigned int size);

/* fork(2) into a cgroup v2 directory (clone3 CLONE_INTO_CGROUP), with CPython's
 * fork hooks; see native.c. */
long pyrunc_fork_into_cgroup(int cgroup_fd);
