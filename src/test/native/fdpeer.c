/* fdpeer: the C peer of FdChannelTest. Connects to an FdChannel server (AF_UNIX SOCK_SEQPACKET) and runs its
 * commands in order, writing FdChannel's wire format (FdWire.java) by hand: well-formed messages and every kind of
 * bad one, each bad one with a real fd, so the Java side's closing of received fds is what is tested.
 *
 * Usage: fdpeer SOCKET_PATH COMMAND...
 *   memory:TEXT      a 4096-byte memfd with TEXT at offset 16, sent as memory (offset 16)
 *   timeline:VALUE   a memfd sent as a TIMELINE_SEMAPHORE_FD semaphore with VALUE
 *   flood:N          N memory messages, each a new memfd with "message I" at offset 16
 *   nofd             a memory message without its fd        extra    a memory message with 2 fds
 *   fds:N            a memory message with N fds            short    a 10-byte message (with an fd)
 *   long             a 300-byte message (with an fd)        badmagic, badversion, badkind, badtype,
 *   badsize, badoffset, badflags, badcount: one field wrong (each with an fd)
 *   recv             receive a memory message, print "received: TEXT" (the text at its offset), close its fd
 *   wait             wait until the other side closes the connection
 *   sleep:MS
 * At the end it prints "fds START END": its open fds after connecting and before closing the socket.
 * Exit status: 0, or 1 with a message on stderr. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <hip/hip_runtime_api.h>

#define SIZE 4096
#define OFFSET 16

static int sock = -1;

static void die(const char* what) {
    fprintf(stderr, "fdpeer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int count_fds(void) {
    DIR* d = opendir("/proc/self/fd");
    if (d == NULL) die("opendir");
    int n = 0;
    struct dirent* e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static void put16(unsigned char* p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(unsigned char* p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(unsigned char* p, uint64_t v) { memcpy(p, &v, 8); }

/* A well-formed memory record (48 bytes) into r. */
static size_t memory_record(unsigned char* r) {
    memset(r, 0, 48);
    put32(r, 0x43444648); put16(r + 4, 1); put16(r + 6, 1); put16(r + 8, 1); put32(r + 12, 32);
    put32(r + 16, hipExternalMemoryHandleTypeOpaqueFd); put32(r + 20, 0);
    put64(r + 24, SIZE); put64(r + 32, OFFSET);
    return 48;
}

static int memfd_with(const char* text) {
    int fd = memfd_create("fdpeer", MFD_CLOEXEC);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, SIZE) != 0) die("ftruncate");
    if (pwrite(fd, text, strlen(text) + 1, OFFSET) < 0) die("pwrite");
    return fd;
}

static void send_record(const unsigned char* r, size_t len, const int* fds, int nfds) {
    struct iovec iov = {(void*)r, len};
    union { char buf[CMSG_SPACE(sizeof(int) * 8)]; struct cmsghdr align; } u;
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr* c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    if (sendmsg(sock, &m, MSG_NOSIGNAL) != (ssize_t)len) die("sendmsg");
}

/* Sends r with n fresh memfds, then closes its own copies. */
static void send_with_memfds(const unsigned char* r, size_t len, int n, const char* text) {
    int fds[8] = {0};
    if (n < 0 || n > 8) { fprintf(stderr, "fdpeer: 0 to 8 fds\n"); exit(2); }
    for (int i = 0; i < n; i++) fds[i] = memfd_with(text);
    send_record(r, len, fds, n);
    for (int i = 0; i < n; i++) close(fds[i]);
}

static void receive_one(void) {
    unsigned char r[256];
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct iovec iov = {r, sizeof r};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = sizeof u.buf;
    ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    if (n < 0) die("recvmsg");
    struct cmsghdr* c = CMSG_FIRSTHDR(&m);
    if (n != 48 || c == NULL || c->cmsg_type != SCM_RIGHTS || (m.msg_flags & MSG_CTRUNC)) {
        fprintf(stderr, "fdpeer: unexpected message: %zd bytes, flags %#x\n", n, m.msg_flags);
        exit(1);
    }
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    uint32_t magic; uint64_t offset;
    memcpy(&magic, r, 4);
    memcpy(&offset, r + 32, 8);
    char text[128] = {0};
    if (magic != 0x43444648 || pread(fd, text, sizeof text - 1, (off_t)offset) < 0) die("a bad record or pread");
    printf("received: %s\n", text);
    fflush(stdout);
    close(fd);
}

int main(int argc, char** argv) {
    if (argc < 2) { fprintf(stderr, "usage: fdpeer SOCKET_PATH COMMAND...\n"); return 2; }
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof a.sun_path) { fprintf(stderr, "fdpeer: path too long\n"); return 2; }
    strcpy(a.sun_path, argv[1]);
    for (int tries = 0;; tries++) {
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (sock < 0) die("socket");
        if (connect(sock, (struct sockaddr*)&a, sizeof a) == 0) break;
        if (tries == 1000) die("connect");
        close(sock);
        usleep(10000);
    }
    int start = count_fds();
    unsigned char r[300];
    for (int i = 2; i < argc; i++) {
        const char* c = argv[i];
        if (strncmp(c, "memory:", 7) == 0) {
            send_with_memfds(r, memory_record(r), 1, c + 7);
        } else if (strncmp(c, "timeline:", 9) == 0) {
            memset(r, 0, 32);
            put32(r, 0x43444648); put16(r + 4, 1); put16(r + 6, 2); put16(r + 8, 1); put32(r + 12, 16);
            put32(r + 16, hipExternalSemaphoreHandleTypeTimelineSemaphoreFd);
            put64(r + 24, strtoull(c + 9, NULL, 10));
            send_with_memfds(r, 32, 1, "semaphore");
        } else if (strncmp(c, "flood:", 6) == 0) {
            long n = strtol(c + 6, NULL, 10);
            for (long k = 0; k < n; k++) {
                char text[32];
                snprintf(text, sizeof text, "message %ld", k);
                send_with_memfds(r, memory_record(r), 1, text);
            }
        } else if (strcmp(c, "nofd") == 0) {
            send_record(r, memory_record(r), NULL, 0);
        } else if (strcmp(c, "extra") == 0) {
            send_with_memfds(r, memory_record(r), 2, "extra");
        } else if (strncmp(c, "fds:", 4) == 0) {
            send_with_memfds(r, memory_record(r), atoi(c + 4), "many");
        } else if (strcmp(c, "short") == 0) {
            memory_record(r);
            send_with_memfds(r, 10, 1, "short");
        } else if (strcmp(c, "long") == 0) {
            memset(r, 0, sizeof r);
            memory_record(r);
            send_with_memfds(r, 300, 1, "long");
        } else if (strncmp(c, "bad", 3) == 0) {
            size_t len = memory_record(r);
            const char* what = c + 3;
            if (strcmp(what, "magic") == 0) put32(r, 0x12345678);
            else if (strcmp(what, "version") == 0) put16(r + 4, 2);
            else if (strcmp(what, "kind") == 0) put16(r + 6, 7);
            else if (strcmp(what, "type") == 0) put32(r + 16, 999);
            else if (strcmp(what, "size") == 0) put64(r + 24, 0);
            else if (strcmp(what, "offset") == 0) put64(r + 32, SIZE);
            else if (strcmp(what, "flags") == 0) put32(r + 20, 6);
            else if (strcmp(what, "count") == 0) put16(r + 8, 2);
            else { fprintf(stderr, "fdpeer: unknown command %s\n", c); return 2; }
            send_with_memfds(r, len, 1, c);
        } else if (strcmp(c, "recv") == 0) {
            receive_one();
        } else if (strcmp(c, "wait") == 0) {
            char b[256];
            while (recv(sock, b, sizeof b, 0) > 0) {
            }
        } else if (strncmp(c, "sleep:", 6) == 0) {
            usleep((useconds_t)atoi(c + 6) * 1000);
        } else {
            fprintf(stderr, "fdpeer: unknown command %s\n", c);
            return 2;
        }
    }
    printf("fds %d %d\n", start, count_fds());
    fflush(stdout);
    close(sock);
    return 0;
}
