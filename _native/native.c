/* Thin syscall shims for what glibc 2.36 does not wrap. No logic here: each
 * function is one syscall; Python checks the result and raises OSError. The one
 * exception, pyrunc_fork_into_cgroup, must run CPython's fork hooks around its
 * clone3, which Python code cannot do. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <linux/close_range.h>
#include <fcntl.h>
#include <termios.h>

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

int pyrunc_pivot_root(const char *new_root, const char *put_old)
{
    return syscall(SYS_pivot_root, new_root, put_old);
}

int pyrunc_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
                   uint64_t resolve)
{
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = flags;
    how.mode = mode;
    how.resolve = resolve;
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int pyrunc_open_tree(int dirfd, const char *path, unsigned int flags)
{
    return syscall(SYS_open_tree, dirfd, path, flags);
}

int pyrunc_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                      const char *to_path, unsigned int flags)
{
    return syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

int pyrunc_mount_setattr(int dirfd, const char *path, unsigned int flags,
                         uint64_t attr_set, uint64_t attr_clr, uint64_t propagation)
{
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = attr_set;
    attr.attr_clr = attr_clr;
    attr.propagation = propagation;
    return syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr);
}

int pyrunc_close_range(unsigned int first, unsigned int last, unsigned int flags)
{
    return syscall(SYS_close_range, first, last, flags);
}

int pyrunc_capset(uint32_t eff0, uint32_t eff1, uint32_t perm0, uint32_t perm1,
                  uint32_t inh0, uint32_t inh1)
{
    struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2] = {
        { eff0, perm0, inh0 },
        { eff1, perm1, inh1 },
    };
    return syscall(SYS_capset, &hdr, data);
}

int pyrunc_cap_last_cap(void)
{
    return CAP_LAST_CAP;
}

int pyrunc_seccomp_set_filter(unsigned int flags, struct sock_filter *filter,
                              unsigned short len)
{
    struct sock_fprog prog = { len, filter };
    return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

int pyrunc_set_ctty(int fd)
{
    return ioctl(fd, TIOCSCTTY, 0);
}

int pyrunc_set_winsize(int fd, unsigned short rows, unsigned short cols)
{
    struct winsize ws;
    memset(&ws, 0, sizeof ws);
    ws.ws_row = rows;
    ws.ws_col = cols;
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int pyrunc_pty_number(int fd)
{
    unsigned int n;
    if (ioctl(fd, TIOCGPTN, &n) < 0)
        return -1;
    return (int)n;
}

int pyrunc_pty_unlock(int fd)
{
    int unlock = 0;
    return ioctl(fd, TIOCSPTLCK, &unlock);
}

int pyrunc_setrlimit(int resource, uint64_t soft, uint64_t hard)
{
    struct rlimit rl = { soft, hard };
    return setrlimit(resource, &rl);
}

int pyrunc_pty_peer(int master, int flags)
{
    return ioctl(master, TIOCGPTPEER, flags);
}

long pyrunc_join_session_keyring(const char *name)
{
    return syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, name);
}

int pyrunc_bpf(int cmd, void *attr, unsigned int size)
{
    return syscall(SYS_bpf, cmd, attr, size);
}

/* fork(2), born in the cgroup v2 directory `cgroup_fd` (clone3 CLONE_INTO_CGROUP).
 * A process moved by a cgroup.procs write makes the kernel wait for an RCU grace
 * period (cgroup_threadgroup_rwsem, milliseconds per container); a process born
 * there does not. This is the one place with logic beyond the syscall: CPython's
 * own fork hooks must run around it, as os.fork() runs them, and they need the
 * GIL, which cffi released for the call. Returns like fork(2). */
long pyrunc_fork_into_cgroup(int cgroup_fd)
{
    struct clone_args args;
    PyGILState_STATE gil;
    long pid;
    int saved_errno;

    memset(&args, 0, sizeof args);
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    gil = PyGILState_Ensure();
    PyOS_BeforeFork();
    pid = syscall(SYS_clone3, &args, sizeof args);
    saved_errno = errno;
    if (pid == 0)
        PyOS_AfterFork_Child();
    else
        PyOS_AfterFork_Parent();
    PyGILState_Release(gil);
    errno = saved_errno;
    return pid;
}
