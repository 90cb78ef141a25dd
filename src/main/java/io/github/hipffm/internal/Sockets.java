package io.github.hipffm.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc socket calls of {@code io.github.hipffm.FdChannel} ({@code socket}, {@code bind}, {@code listen},
 * {@code accept4}, {@code connect}, {@code sendmsg}, {@code recvmsg}, {@code poll}, {@code getsockopt},
 * {@code fchmod}, {@code getuid}), each with {@code errno}, and the x86-64 Linux (glibc) layouts they take, declared
 * by hand: {@code struct sockaddr_un}, {@code msghdr}, {@code iovec}, {@code cmsghdr}, {@code ucred},
 * {@code pollfd}. {@code SocketAbiTest} checks every size, offset and constant here against the C headers.
 *
 * <p>Every call returns the raw result: {@code >= 0}, or {@code -errno} ({@link #errno} of the failure is the
 * negated value; {@link #strerror} names it). Nothing here throws for a failed call: the channel decides what each
 * errno means.
 */
public final class Sockets {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong L = ValueLayout.JAVA_LONG;
    private static final ValueLayout P = ValueLayout.ADDRESS;

    /** {@code AF_UNIX}. */
    public static final int AF_UNIX = 1;
    /** {@code SOCK_SEQPACKET}. */
    public static final int SOCK_SEQPACKET = 5;
    /** {@code SOCK_NONBLOCK}. */
    public static final int SOCK_NONBLOCK = 04000;
    /** {@code SOCK_CLOEXEC}. */
    public static final int SOCK_CLOEXEC = 02000000;
    /** {@code SOL_SOCKET}. */
    public static final int SOL_SOCKET = 1;
    /** {@code SCM_RIGHTS}. */
    public static final int SCM_RIGHTS = 1;
    /** {@code SO_PEERCRED}. */
    public static final int SO_PEERCRED = 17;
    /** {@code MSG_CTRUNC}: control data (fds) did not fit. */
    public static final int MSG_CTRUNC = 0x8;
    /** {@code MSG_TRUNC}: the message was longer than the buffer. */
    public static final int MSG_TRUNC = 0x20;
    /** {@code MSG_DONTWAIT}. */
    public static final int MSG_DONTWAIT = 0x40;
    /** {@code MSG_NOSIGNAL}: no {@code SIGPIPE} when the peer is gone. */
    public static final int MSG_NOSIGNAL = 0x4000;
    /** {@code MSG_CMSG_CLOEXEC}: received fds are close-on-exec. */
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** {@code POLLIN}. */
    public static final short POLLIN = 0x1;
    /** {@code POLLOUT}. */
    public static final short POLLOUT = 0x4;
    /** {@code POLLERR}. */
    public static final short POLLERR = 0x8;
    /** {@code POLLHUP}. */
    public static final short POLLHUP = 0x10;
    /** {@code EINTR}. */
    public static final int EINTR = 4;
    /** {@code EBADF}. */
    public static final int EBADF = 9;
    /** {@code ENOENT}. */
    public static final int ENOENT = 2;
    /** {@code EAGAIN}. */
    public static final int EAGAIN = 11;
    /** {@code EPIPE}. */
    public static final int EPIPE = 32;
    /** {@code EADDRINUSE}. */
    public static final int EADDRINUSE = 98;
    /** {@code ECONNRESET}. */
    public static final int ECONNRESET = 104;
    /** {@code ECONNREFUSED}. */
    public static final int ECONNREFUSED = 111;
    /** The bytes of {@code sun_path}, its terminating NUL included. */
    public static final int SUN_PATH_SIZE = 108;

    /** {@code struct sockaddr_un}: 110 bytes. */
    public static final StructLayout SOCKADDR_UN = MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("sun_family"),
            MemoryLayout.sequenceLayout(SUN_PATH_SIZE, ValueLayout.JAVA_BYTE).withName("sun_path")).withName("sockaddr_un");
    /** {@code struct iovec}: 16 bytes. */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            P.withName("iov_base"), L.withName("iov_len")).withName("iovec");
    /** {@code struct msghdr}: 56 bytes. */
    public static final StructLayout MSGHDR = MemoryLayout.structLayout(
            P.withName("msg_name"),
            I.withName("msg_namelen"),
            MemoryLayout.paddingLayout(4),
            P.withName("msg_iov"),
            L.withName("msg_iovlen"),
            P.withName("msg_control"),
            L.withName("msg_controllen"),
            I.withName("msg_flags"),
            MemoryLayout.paddingLayout(4)).withName("msghdr");
    /** {@code struct cmsghdr} without its data: 16 bytes; the data follows at {@link #CMSG_DATA}. */
    public static final StructLayout CMSGHDR = MemoryLayout.structLayout(
            L.withName("cmsg_len"), I.withName("cmsg_level"), I.withName("cmsg_type")).withName("cmsghdr");
    /** {@code struct ucred}: 12 bytes. */
    public static final StructLayout UCRED = MemoryLayout.structLayout(
            I.withName("pid"), I.withName("uid"), I.withName("gid")).withName("ucred");
    /** {@code struct pollfd}: 8 bytes. */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            I.withName("fd"), ValueLayout.JAVA_SHORT.withName("events"),
            ValueLayout.JAVA_SHORT.withName("revents")).withName("pollfd");
    /** The offset of a control message's data from its header ({@code CMSG_DATA(c) - (unsigned char *) c}). */
    public static final long CMSG_DATA = CMSGHDR.byteSize();

    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(I, I, I, I));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(I, I, P, I));
    private static final MethodHandle LISTEN = handle("listen", FunctionDescriptor.of(I, I, I));
    private static final MethodHandle ACCEPT4 = handle("accept4", FunctionDescriptor.of(I, I, P, P, I));
    private static final MethodHandle CONNECT = handle("connect", FunctionDescriptor.of(I, I, P, I));
    private static final MethodHandle SENDMSG = handle("sendmsg", FunctionDescriptor.of(L, I, P, I));
    private static final MethodHandle RECVMSG = handle("recvmsg", FunctionDescriptor.of(L, I, P, I));
    private static final MethodHandle POLL = handle("poll", FunctionDescriptor.of(I, P, L, I));
    private static final MethodHandle GETSOCKOPT = handle("getsockopt", FunctionDescriptor.of(I, I, I, I, P, P));
    private static final MethodHandle FCHMOD = handle("fchmod", FunctionDescriptor.of(I, I, I));
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(I, I));
    private static final MethodHandle GETUID = LINKER.downcallHandle(
            LINKER.defaultLookup().find("getuid").orElseThrow(), FunctionDescriptor.of(I));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(
            LINKER.defaultLookup().find("strerror").orElseThrow(), FunctionDescriptor.of(P, I));

    private Sockets() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d, CAPTURE);
    }

    /** {@return the bytes of control buffer {@code fds} fds need: {@code CMSG_SPACE(fds * sizeof(int))}} */
    public static long cmsgSpace(int fds) {
        return CMSG_DATA + align(4L * fds);
    }

    /** {@return {@code CMSG_LEN(fds * sizeof(int))}} */
    public static long cmsgLen(int fds) {
        return CMSG_DATA + 4L * fds;
    }

    /** {@return {@code n} rounded up to {@code sizeof(size_t)}, as {@code CMSG_ALIGN}} */
    public static long align(long n) {
        return (n + 7) & ~7L;
    }

    /** {@return a new capture-state segment for one call's {@code errno}} */
    public static MemorySegment callState(Arena arena) {
        return arena.allocate(STATE);
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** {@return the description of {@code errno} ("Connection refused, errno 111")} */
    public static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            return NativeSupport.cString(s) + ", errno " + errno;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@return the real user id of this process ({@code getuid})} */
    public static int getuid() {
        try {
            return (int) GETUID.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static int result(long rc, MemorySegment state) {
        return rc < 0 ? -errno(state) : (int) rc;
    }

    /** {@code socket(AF_UNIX, type, 0)}; {@return the fd or -errno} */
    public static int socket(MemorySegment state, int type) {
        try {
            return result((int) SOCKET.invokeExact(state, AF_UNIX, type, 0), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code bind(fd, addr, sizeof(struct sockaddr_un))}; {@return 0 or -errno} */
    public static int bind(MemorySegment state, int fd, MemorySegment addr) {
        try {
            return result((int) BIND.invokeExact(state, fd, addr, (int) SOCKADDR_UN.byteSize()), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code listen(fd, backlog)}; {@return 0 or -errno} */
    public static int listen(MemorySegment state, int fd, int backlog) {
        try {
            return result((int) LISTEN.invokeExact(state, fd, backlog), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code accept4(fd, NULL, NULL, flags)}; {@return the connection's fd or -errno} */
    public static int accept(MemorySegment state, int fd, int flags) {
        try {
            return result((int) ACCEPT4.invokeExact(state, fd, MemorySegment.NULL, MemorySegment.NULL, flags), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code connect(fd, addr, sizeof(struct sockaddr_un))}; {@return 0 or -errno} */
    public static int connect(MemorySegment state, int fd, MemorySegment addr) {
        try {
            return result((int) CONNECT.invokeExact(state, fd, addr, (int) SOCKADDR_UN.byteSize()), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code sendmsg(fd, msg, flags)}; {@return the bytes sent or -errno} */
    public static int sendmsg(MemorySegment state, int fd, MemorySegment msg, int flags) {
        try {
            return result((long) SENDMSG.invokeExact(state, fd, msg, flags), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code recvmsg(fd, msg, flags)}; {@return the bytes received or -errno} */
    public static int recvmsg(MemorySegment state, int fd, MemorySegment msg, int flags) {
        try {
            return result((long) RECVMSG.invokeExact(state, fd, msg, flags), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code poll(fds, 1, timeoutMs)}; {@return the ready count or -errno} */
    public static int poll(MemorySegment state, MemorySegment pollfd, int timeoutMs) {
        try {
            return result((int) POLL.invokeExact(state, pollfd, 1L, timeoutMs), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ucred, &len)}; {@return 0 or -errno} */
    public static int peerCredentials(MemorySegment state, int fd, MemorySegment ucred, MemorySegment len) {
        len.set(I, 0, (int) UCRED.byteSize());
        try {
            return result((int) GETSOCKOPT.invokeExact(state, fd, SOL_SOCKET, SO_PEERCRED, ucred, len), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code fchmod(fd, mode)}; {@return 0 or -errno} */
    public static int fchmod(MemorySegment state, int fd, int mode) {
        try {
            return result((int) FCHMOD.invokeExact(state, fd, mode), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code close(fd)}; {@return 0 or -errno} */
    public static int close(MemorySegment state, int fd) {
        try {
            return result((int) CLOSE.invokeExact(state, fd), state);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
