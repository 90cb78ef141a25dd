// C twin of FdRoundTrip (hip-ffm's FdChannel): one fd sent and received over an AF_UNIX SOCK_SEQPACKET connection,
// as FdChannel does it: a 48-byte memory record (FdWire's format, as src/test/native/fdpeer.c writes it) with one
// memfd in SCM_RIGHTS, sendmsg(MSG_NOSIGNAL | MSG_DONTWAIT) on one end, recvmsg(MSG_CMSG_CLOEXEC) on the other into
// a 256-byte record buffer and a one-fd control buffer, the record's header and the control message checked, the
// received fd closed. Both ends in one thread (a socketpair), so that the figure is the calls' cost and no thread's
// wake-up. No GPU needed.
//   fdroundtrip            -> C,fdroundtrip,48,<median ns per send + receive + close>,ns
#define _GNU_SOURCE
#include "bench.h"
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RECORD 48
#define SIZE (1L << 20)

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void put16(unsigned char *p, unsigned v) { p[0] = v; p[1] = v >> 8; }
static void put32(unsigned char *p, unsigned v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(unsigned char *p, unsigned long long v) { put32(p, (unsigned) v); put32(p + 4, (unsigned) (v >> 32)); }

static int encode(unsigned char *r) {   // FdWire.encodeMemory: opaque fd (HIP value 1), not dedicated, offset 0
    put32(r, 0x43444648); put16(r + 4, 1); put16(r + 6, 1); put16(r + 8, 1); put16(r + 10, 0); put32(r + 12, 32);
    put32(r + 16, 1); put32(r + 20, 0); put64(r + 24, SIZE); put64(r + 32, 0); put64(r + 40, 0);
    return RECORD;
}

static int sock[2], memfd;

static void roundtrip(void) {
    unsigned char out[RECORD], in[256];
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cs, cr;
    struct iovec iov = {out, (size_t) encode(out)};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cs.buf, .msg_controllen = sizeof cs.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &memfd, sizeof memfd);
    if (sendmsg(sock[0], &m, MSG_NOSIGNAL | MSG_DONTWAIT) != RECORD) die("sendmsg");

    struct iovec riov = {in, sizeof in};
    struct msghdr r = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = cr.buf, .msg_controllen = sizeof cr.buf};
    ssize_t n = recvmsg(sock[1], &r, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    struct cmsghdr *rc = CMSG_FIRSTHDR(&r);
    if (n != RECORD || (r.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || rc == NULL || rc->cmsg_level != SOL_SOCKET
            || rc->cmsg_type != SCM_RIGHTS || rc->cmsg_len != CMSG_LEN(sizeof(int)) || memcmp(in, out, 16) != 0) {
        fprintf(stderr, "C-ERROR fdroundtrip: unexpected message: %zd bytes, flags %#x\n", n, r.msg_flags);
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(rc), sizeof fd);
    if (close(fd) != 0) die("close");
}

int main(void) {
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) != 0) die("socketpair");
    memfd = memfd_create("fdroundtrip", MFD_CLOEXEC);
    if (memfd < 0 || ftruncate(memfd, SIZE) != 0) die("memfd_create");
    double ns;
    MEASURE(ns, 1e9, 64, roundtrip(), (void) 0);
    emit("fdroundtrip", "48", ns, "ns");
    close(sock[0]);
    close(sock[1]);
    close(memfd);
    return 0;
}
