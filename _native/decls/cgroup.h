/* cgroup v2 device control: bpf(2) loads and attaches the device filter program. */
int pyrunc_bpf(int cmd, void *attr, unsigned int size);
