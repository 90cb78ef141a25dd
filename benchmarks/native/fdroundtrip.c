// C twin of FdRoundTrip (hip-ffm's FdChannel): inproc/fdloop.c's round trip (one 48-byte record and one memfd over
// an AF_UNIX SOCK_SEQPACKET socketpair: sendmsg, recvmsg, close; see there), included here, so that this twin and
// FdRoundTrip's paired C rounds (libfdloop.so, in the JVM) are one piece of code. No GPU needed.
//   fdroundtrip            -> C,fdroundtrip,48,<median ns per send + receive + close>,ns
#define _GNU_SOURCE
#include "bench.h"
#include "inproc/fdloop.c"

static void die(const char *what) {
    perror(what);
    exit(1);
}

int main(void) {
    if (fdloop_open() != 0) die("socketpair or memfd_create");
    double ns;
    MEASURE(ns, 1e9, 64, if (fdloop_roundtrip() != 0) exit(1), (void) 0);
    emit("fdroundtrip", "48", ns, "ns");
    fdloop_close();
    return 0;
}
