// The C side of FdRoundTrip's paired rounds (libfdloop.so), and the round trip of the twin fdroundtrip.c (which
// includes this file): one fd sent and received over an AF_UNIX SOCK_SEQPACKET socketpair, as FdChannel does it: a
// 48-byte memory record (FdWire's format, as src/test/native/fdpeer.c writes it) with one memfd in SCM_RIGHTS,
// sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT) on one end, recvmsg(MSG_CMSG_CLOEXEC | MSG_DONTWAIT) on the other into a
// 256-byte record buffer and a one-fd control buffer, the record's header and the control message checked, the
// received fd closed. Both ends in the calling thread, so that the figure is the calls' cost and no thread's
// wake-up. No GPU needed.
//   fdloop_open()     the socketpair and a 1 MiB memfd; 0, or -1 with errno
//   fdloop_run(n)     n round trips; the nanoseconds they took (CLOCK_MONOTONIC), or -1 (a message on stderr)
//   fdloop_close()
//   gcc -O2 -std=gnu11 -shared -fPIC -o libfdloop.so fdloop.c      (scripts/bench)
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define FDLOOP_RECORD 48
#define FDLOOP_SIZE (1L << 20)

static int fdloop_sock[2] = {-1, -1}, fdloop_memfd = -1;

static void fdloop_put16(unsigned char *p, unsigned v) { p[0] = v; p[1] = v >> 8; }
static void fdloop_put32(unsigned char *p, unsigned v) { fdloop_put16(p, v); fdloop_put16(p + 2, v >> 16); }
static void fdloop_put64(unsigned char *p, unsigned long long v) {
    fdloop_put32(p, (unsigned) v);
    fdloop_put32(p + 4, (unsigned) (v >> 32));
}

static int fdloop_encode(unsigned char *r) {   // FdWire.encodeMemory: opaque fd (HIP value 1), not dedicated, offset 0
    fdloop_put32(r, 0x43444648); fdloop_put16(r + 4, 1); fdloop_put16(r + 6, 1); fdloop_put16(r + 8, 1);
    fdloop_put16(r + 10, 0); fdloop_put32(r + 12, 32); fdloop_put32(r + 16, 1); fdloop_put32(r + 20, 0);
    fdloop_put64(r + 24, FDLOOP_SIZE); fdloop_put64(r + 32, 0); fdloop_put64(r + 40, 0);
    return FDLOOP_RECORD;
}

/** One send + receive + close; 0, or -1 with a message on stderr. */
static int fdloop_roundtrip(void) {
    unsigned char out[FDLOOP_RECORD], in[256];
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cs, cr;
    struct iovec iov = {out, (size_t) fdloop_encode(out)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cs.buf, .msg_controllen = sizeof cs.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fdloop_memfd, sizeof fdloop_memfd);
    if (sendmsg(fdloop_sock[0], &m, MSG_NOSIGNAL | MSG_DONTWAIT) != FDLOOP_RECORD) {
        perror("fdloop: sendmsg");
        return -1;
    }
    struct iovec riov = {in, sizeof in};
    struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = cr.buf, .msg_controllen = sizeof cr.buf};
    ssize_t n = recvmsg(fdloop_sock[1], &r, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&r);
    if (n != FDLOOP_RECORD || (r.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || rc == NULL || rc->cmsg_level != SOL_SOCKET
            || rc->cmsg_type != SCM_RIGHTS || rc->cmsg_len != CMSG_LEN(sizeof(int)) || memcmp(in, out, 16) != 0) {
        fprintf(stderr, "C-ERROR fdroundtrip: unexpected message: %zd bytes, flags %#x\n", n, r.msg_flags);
        return -1;
    }
    int fd;
    memcpy(&fd, CMSG_DATA(rc), sizeof fd);
    if (close(fd) != 0) {
        perror("fdloop: close");
        return -1;
    }
    return 0;
}

int fdloop_open(void) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fdloop_sock) != 0) {
        return -1;
    }
    fdloop_memfd = memfd_create("fdroundtrip", MFD_CLOEXEC);
    return fdloop_memfd < 0 || ftruncate(fdloop_memfd, FDLOOP_SIZE) != 0 ? -1 : 0;
}

long long fdloop_run(long long n) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long long i = 0; i < n; i++) {
        if (fdloop_roundtrip() != 0) {
            return -1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
}

void fdloop_close(void) {
    close(fdloop_sock[0]);
    close(fdloop_sock[1]);
    close(fdloop_memfd);
    fdloop_sock[0] = fdloop_sock[1] = fdloop_memfd = -1;
}
