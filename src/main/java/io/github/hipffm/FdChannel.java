package io.github.hipffm;

import io.github.hipffm.FdChannelException.Reason;
import io.github.hipffm.internal.Posix;
import io.github.hipffm.internal.Sockets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connection between two processes of one machine that carries GPU export fds with what an importer needs to
 * know about them: {@link #send(ExternalMemoryDescriptor, long)} a memory fd with its handle type, size, dedicated
 * flag and an offset, or {@link #send(ExternalSemaphoreDescriptor, long)} a semaphore fd with its handle type and
 * current value; the other side {@link #receive(Duration)}s an {@link FdMessage} and imports it in one call
 * ({@link ReceivedMemory#importMemory}, {@link ReceivedSemaphore#importSemaphore}). Java's {@code SocketChannel}
 * cannot pass fds; this is {@code sendmsg}/{@code recvmsg} with {@code SCM_RIGHTS} through the FFM API.
 *
 * {@snippet :
 * // the exporting process (the server)
 * try (FdChannel.Server server = FdChannel.listen(Path.of("/run/user/1000/gpu.sock"));
 *      FdChannel channel = server.accept(Duration.ofSeconds(30))) {
 *     channel.send(ExternalMemoryDescriptor.opaqueFd(fd, size), 0);   // fd stays the sender's
 * }
 * // the importing process (the client)
 * try (FdChannel channel = FdChannel.connect(Path.of("/run/user/1000/gpu.sock"), Duration.ofSeconds(5));
 *      ReceivedMemory received = channel.receiveMemory(Duration.ofSeconds(5));
 *      Arena arena = Arena.ofConfined()) {
 *     ExternalMemory memory = received.importMemory(arena);           // the memory now owns the fd
 *     MemorySegment buffer = memory.mapBuffer(received.offset(), received.size() - received.offset());
 * }
 * }
 *
 * <h2>The fd rule across processes</h2>
 * <ul>
 *   <li>Sending never closes the caller's fds: the kernel passes the receiver a new fd of the same open file.</li>
 *   <li>Received fds belong to the receiver: the {@link FdMessage} owns them (close-on-exec,
 *       {@code MSG_CMSG_CLOEXEC}) until they are imported (then the import owns them, under the fd rule of
 *       {@link ExternalMemory}: a failed import leaves them with the message) or taken ({@code takeFd()});
 *       closing the message closes what was neither.</li>
 *   <li>On any failure of a receive, every fd that arrived is closed before the {@link FdChannelException} is
 *       thrown: the peer gone ({@link Reason#PEER_CLOSED}), fds that did not fit ({@code MSG_CTRUNC},
 *       {@link Reason#TRUNCATED}), a message without its fds ({@link Reason#MISSING_FDS}), more fds than announced
 *       ({@link Reason#TOO_MANY_FDS}), a malformed message ({@link Reason#MALFORMED}), a timeout
 *       ({@link Reason#TIMEOUT}, nothing was received). A refused message is dropped; the channel stays usable
 *       (messages keep their boundaries), except after {@link Reason#PEER_CLOSED}.</li>
 * </ul>
 *
 * <h2>Security</h2>
 * The socket file is created owner-only ({@code fchmod(0600)} on the socket before {@code bind}, which creates the
 * file with that mode, then {@code chmod} again); an existing path that is not a socket is refused, an existing
 * socket another server still listens on is refused, a stale one is replaced. Both ends check the other's
 * credentials ({@code SO_PEERCRED}) as soon as the connection exists, before any message is read: by default the
 * peer must have this process's uid ({@link Options#peerUid}), and optionally a given pid. A peer cannot exhaust
 * the receiver's fd table: a message can bring at most {@link Options#maxFdsPerMessage} fds (the control buffer
 * has room for no more; the kernel discards the rest and reports {@code MSG_CTRUNC}), and a receive is refused
 * while {@link Options#maxPending} received messages still hold their fds. Fds queued in the socket but not yet
 * received count against the sender's limits, not the receiver's.
 *
 * <h2>Why {@code SOCK_SEQPACKET}</h2>
 * An {@code AF_UNIX} {@code SOCK_SEQPACKET} socket keeps each message a record: a receive returns exactly one
 * message with exactly its own fds, a longer record is reported ({@code MSG_TRUNC}) instead of being split, and a
 * refused message can be dropped without losing the stream's framing. On {@code SOCK_STREAM}, fds ride on byte
 * ranges that reads may split or join, so a short read or a peer's stray bytes would tie fds to the wrong message.
 * Like a stream it is connection-oriented: the peer's death ends the connection (end of file) and
 * {@code SO_PEERCRED} names who connected.
 *
 * <h2>Threads and timeouts</h2>
 * One thread may send while another receives; sends are serialized with each other, and so are receives. Every
 * wait has a timeout ({@link Duration}); a virtual thread waits without pinning its carrier (non-blocking socket,
 * {@code poll} with timeout 0 and a short sleep backoff, up to 5 ms late); a platform thread blocks in
 * {@code poll} in slices of 50 ms. {@link #close()} from another thread ends a wait within a slice
 * ({@link IllegalStateException}). Received messages are independent of the channel: closing the channel leaves
 * them (and their fds) with their owner.
 */
public final class FdChannel implements AutoCloseable {
    private static final int BACKLOG = 16;
    private final SocketFd socket;
    private final Peer peer;
    private final Options options;
    private final AtomicInteger pending = new AtomicInteger();

    private FdChannel(SocketFd socket, Peer peer, Options options) {
        this.socket = socket;
        this.peer = peer;
        this.options = options;
    }

    /**
     * The credentials of the process at the other end, as the kernel recorded them when the connection was made
     * ({@code SO_PEERCRED}).
     *
     * @param pid its process id
     * @param uid its user id
     * @param gid its group id
     */
    public record Peer(long pid, int uid, int gid) {
    }

    /**
     * What a side of a channel requires of its peer and of messages. Start from {@link #defaults()}.
     *
     * @param peerUid the uid the peer must have, or {@link #ANY} ({@link #defaults()}: this process's uid)
     * @param peerPid the pid the peer must have, or {@link #ANY} (the default)
     * @param maxFdsPerMessage the most fds one received message may bring, 1 to 253 (default 1: each message kind
     *     carries one fd); more are refused ({@link Reason#TRUNCATED} or {@link Reason#TOO_MANY_FDS})
     * @param maxPending the most received messages that may hold fds at once (not yet imported, taken or closed),
     *     &gt;= 1 (default 64); a receive beyond it is refused before anything is read
     * @param sendTimeout how long a send may wait for room in the peer's queue (default 30 s)
     */
    public record Options(long peerUid, long peerPid, int maxFdsPerMessage, int maxPending, Duration sendTimeout) {
        /** No requirement on the peer's uid or pid. */
        public static final long ANY = -1;
        /** {@code SCM_MAX_FD}: the most fds Linux passes in one message. */
        public static final int MAX_FDS = 253;

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException naming a value out of range
         */
        public Options {
            if (peerUid < ANY || peerUid > 0xffff_fffeL) {
                throw new IllegalArgumentException("peerUid must be a uid or Options.ANY, got " + peerUid);
            }
            if (peerPid < ANY || peerPid == 0 || peerPid > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("peerPid must be a pid > 0 or Options.ANY, got " + peerPid);
            }
            if (maxFdsPerMessage < 1 || maxFdsPerMessage > MAX_FDS) {
                throw new IllegalArgumentException("maxFdsPerMessage must be 1 to " + MAX_FDS + ", got "
                        + maxFdsPerMessage);
            }
            if (maxPending < 1) {
                throw new IllegalArgumentException("maxPending must be >= 1, got " + maxPending);
            }
            SocketFd.deadline(sendTimeout, "sendTimeout");
        }

        /** {@return the defaults: the peer has this process's uid, any pid, 1 fd per message, 64 pending, 30 s} */
        public static Options defaults() {
            return new Options(Integer.toUnsignedLong(Sockets.getuid()), ANY, 1, 64, Duration.ofSeconds(30));
        }

        /**
         * {@return these options requiring the peer to have {@code uid}}
         * @param uid a uid, or {@link #ANY} for any
         */
        public Options withPeerUid(long uid) {
            return new Options(uid, peerPid, maxFdsPerMessage, maxPending, sendTimeout);
        }

        /**
         * {@return these options requiring the peer to be process {@code pid}}
         * @param pid a pid, or {@link #ANY} for any
         */
        public Options withPeerPid(long pid) {
            return new Options(peerUid, pid, maxFdsPerMessage, maxPending, sendTimeout);
        }

        /**
         * {@return these options with another bound on the fds of one received message}
         * @param max 1 to {@value #MAX_FDS}
         */
        public Options withMaxFdsPerMessage(int max) {
            return new Options(peerUid, peerPid, max, maxPending, sendTimeout);
        }

        /**
         * {@return these options with another bound on received messages still holding fds}
         * @param max &gt;= 1
         */
        public Options withMaxPending(int max) {
            return new Options(peerUid, peerPid, maxFdsPerMessage, max, sendTimeout);
        }

        /**
         * {@return these options with another send timeout}
         * @param timeout &gt;= 0
         */
        public Options withSendTimeout(Duration timeout) {
            return new Options(peerUid, peerPid, maxFdsPerMessage, maxPending, timeout);
        }

        /** {@return why {@code p} is refused, or null when it is accepted} */
        String refusal(Peer p) {
            if (peerUid != ANY && Integer.toUnsignedLong(p.uid()) != peerUid) {
                return "uid " + Integer.toUnsignedLong(p.uid()) + ", not the required uid " + peerUid;
            }
            if (peerPid != ANY && p.pid() != peerPid) {
                return "pid " + p.pid() + ", not the required pid " + peerPid;
            }
            return null;
        }
    }

    /**
     * {@return a server listening at {@code path} with the {@linkplain Options#defaults() default options}}
     * @param path the socket file to create (at most 107 bytes in UTF-8)
     * @see #listen(Path, Options)
     */
    public static Server listen(Path path) {
        return listen(path, Options.defaults());
    }

    /**
     * Creates the socket file {@code path}, owner-only (0600), and listens on it.
     *
     * @param path the socket file to create (at most 107 bytes in UTF-8, no NUL); relative to the working directory
     *     when relative. An existing socket nobody listens on (left by a process that died) is replaced.
     * @param options what accepted peers must be, and the bounds of their channels
     * @return the server; closing it closes the socket and deletes the file
     * @throws IllegalArgumentException for a null argument, a path too long for {@code sun_path}, or an existing
     *     path that is not a socket (nothing created, no native call)
     * @throws FdChannelException {@link Reason#IO} when a server already listens there or a call fails
     */
    public static Server listen(Path path, Options options) {
        Checks.notNull(options, "options");
        byte[] name = socketPath(path);
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            replaceStale(path, name);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Sockets.callState(a);
            int fd = Sockets.socket(state, Sockets.SOCK_SEQPACKET | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC);
            if (fd < 0) {
                throw io("socket", fd);
            }
            try {
                int rc = Sockets.fchmod(state, fd, 0600);      // bind creates the file with this mode (& ~umask)
                if (rc < 0) {
                    throw io("fchmod(0600) of the socket", rc);
                }
                rc = Sockets.bind(state, fd, address(a, name));
                if (rc < 0) {
                    throw io("bind " + path, rc);
                }
                Object key;
                try {
                    Files.setPosixFilePermissions(path, EnumSet.of(PosixFilePermission.OWNER_READ,
                            PosixFilePermission.OWNER_WRITE));
                    key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                } catch (IOException e) {
                    deleteQuietly(path);
                    throw new FdChannelException(Reason.IO, "cannot make " + path + " owner-only: " + e);
                }
                rc = Sockets.listen(state, fd, BACKLOG);
                if (rc < 0) {
                    deleteQuietly(path);
                    throw io("listen " + path, rc);
                }
                return new Server(new SocketFd(fd, "FdChannel.Server " + path), path, key, options);
            } catch (RuntimeException e) {
                Sockets.close(state, fd);
                throw e;
            }
        }
    }

    /** An existing {@code path}: refused unless it is a socket nobody listens on, which is deleted. */
    private static void replaceStale(Path path, byte[] name) {
        BasicFileAttributes attributes;
        try {
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!attributes.isOther() || (Posix.Stat.S_IFSOCK != (unixMode(path) & Posix.Stat.S_IFMT))) {
            throw new IllegalArgumentException(path + " exists and is not a socket ("
                    + (attributes.isRegularFile() ? "a regular file" : attributes.isDirectory() ? "a directory"
                    : attributes.isSymbolicLink() ? "a symbolic link" : "not a socket")
                    + "): FdChannel.listen creates the socket file and replaces only a stale socket");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Sockets.callState(a);
            int fd = Sockets.socket(state, Sockets.SOCK_SEQPACKET | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC);
            if (fd < 0) {
                throw io("socket", fd);
            }
            int rc = Sockets.connect(state, fd, address(a, name));
            Sockets.close(state, fd);
            if (rc == 0 || rc == -Sockets.EAGAIN) {
                throw new FdChannelException(Reason.IO, path + " is in use: a server listens on it");
            }
        }
        deleteQuietly(path);
    }

    private static int unixMode(Path path) {
        try {
            return (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0;
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // left behind; the next listen replaces it
        }
    }

    /**
     * Connects to the server at {@code path} with the {@linkplain Options#defaults() default options} (the
     * server must have this process's uid).
     *
     * @param path the server's socket file
     * @param timeout how long to wait for the server to exist and accept, &gt;= 0
     * @return the channel
     * @see #connect(Path, Duration, Options)
     */
    public static FdChannel connect(Path path, Duration timeout) {
        return connect(path, timeout, Options.defaults());
    }

    /**
     * Connects to the server at {@code path}, waiting up to {@code timeout} for it to appear and have room
     * (the path missing, refused connections and a full backlog are retried until then), then checks the server's
     * credentials against {@code options}.
     *
     * @param path the server's socket file (at most 107 bytes in UTF-8)
     * @param timeout how long to wait, &gt;= 0
     * @param options what the server must be, and the bounds of this channel
     * @return the channel
     * @throws IllegalArgumentException for a null argument, a negative timeout or a path too long (no native call)
     * @throws FdChannelException {@link Reason#TIMEOUT} when no server took the connection in time,
     *     {@link Reason#PEER_REFUSED} for a server with other credentials, {@link Reason#IO} otherwise
     */
    public static FdChannel connect(Path path, Duration timeout, Options options) {
        byte[] name = socketPath(path);
        long deadline = SocketFd.deadline(timeout, "timeout");
        Checks.notNull(options, "options");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Sockets.callState(a);
            MemorySegment address = address(a, name);
            long backoff = 100_000;
            while (true) {
                int fd = Sockets.socket(state, Sockets.SOCK_SEQPACKET | Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC);
                if (fd < 0) {
                    throw io("socket", fd);
                }
                int rc = Sockets.connect(state, fd, address);
                if (rc == 0) {
                    return checked(a, state, fd, "FdChannel to " + path, options, "server");
                }
                Sockets.close(state, fd);
                if (rc != -Sockets.ENOENT && rc != -Sockets.ECONNREFUSED && rc != -Sockets.EAGAIN) {
                    throw io("connect " + path, rc);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new FdChannelException(Reason.TIMEOUT, "no server took the connection at " + path
                            + " within " + timeout + " (connect: " + Sockets.strerror(-rc) + ")");
                }
                try {
                    Thread.sleep(Duration.ofNanos(Math.min(backoff, left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new FdChannelException(Reason.INTERRUPTED, "interrupted while connecting to " + path);
                }
                backoff = Math.min(backoff * 2, 10_000_000);
            }
        }
    }

    /** Wraps a connected fd once its peer passed {@code options}; closes it and refuses it otherwise. */
    private static FdChannel checked(Arena a, MemorySegment state, int fd, String what, Options options, String side) {
        MemorySegment ucred = a.allocate(Sockets.UCRED);
        int rc = Sockets.peerCredentials(state, fd, ucred, a.allocate(ValueLayout.JAVA_INT));
        if (rc < 0) {
            Sockets.close(state, fd);
            throw io("getsockopt(SO_PEERCRED)", rc);
        }
        Peer p = new Peer(ucred.get(ValueLayout.JAVA_INT, 0), ucred.get(ValueLayout.JAVA_INT, 4),
                ucred.get(ValueLayout.JAVA_INT, 8));
        String refusal = options.refusal(p);
        if (refusal != null) {
            Sockets.close(state, fd);
            throw new FdChannelException(Reason.PEER_REFUSED, what + ": " + side + " " + p + " refused: " + refusal
                    + "; the connection was closed before anything was read");
        }
        return new FdChannel(new SocketFd(fd, what), p, options);
    }

    /** The bytes of {@code path} for {@code sun_path}, checked. */
    private static byte[] socketPath(Path path) {
        Checks.notNull(path, "path");
        String s = path.toString();
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length == 0) {
            throw new IllegalArgumentException("path must not be empty");
        }
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("path contains a NUL character: " + s);
        }
        if (bytes.length > Sockets.SUN_PATH_SIZE - 1) {
            throw new IllegalArgumentException("path " + s + " is " + bytes.length + " bytes long; a Unix socket"
                    + " path (sun_path) holds at most " + (Sockets.SUN_PATH_SIZE - 1)
                    + " (use a shorter directory, e.g. under /tmp or $XDG_RUNTIME_DIR)");
        }
        return bytes;
    }

    private static MemorySegment address(Arena a, byte[] name) {
        MemorySegment address = a.allocate(Sockets.SOCKADDR_UN);
        address.set(ValueLayout.JAVA_SHORT, 0, (short) Sockets.AF_UNIX);
        MemorySegment.copy(name, 0, address, ValueLayout.JAVA_BYTE, 2, name.length);
        return address;
    }

    private static FdChannelException io(String call, int rc) {
        return new FdChannelException(Reason.IO, call + " failed: " + Sockets.strerror(-rc));
    }

    /**
     * Sends a memory fd with what an importer needs: the descriptor's handle type, size and dedicated flag, and
     * {@code offset}. The caller's fd stays open and the caller's: the peer gets its own fd of the same memory.
     *
     * @param memory an fd descriptor ({@link ExternalMemoryDescriptor#opaqueFd}), its fd open
     * @param offset where the data of interest starts in the memory, {@code 0 <= offset < size}
     * @throws IllegalArgumentException for a null or non-fd descriptor, an fd that is not open, an offset out of
     *     range (before any send)
     * @throws IllegalStateException when the channel is closed
     * @throws FdChannelException {@link Reason#PEER_CLOSED}, {@link Reason#TIMEOUT} (no room within
     *     {@link Options#sendTimeout}), {@link Reason#IO}
     */
    public void send(ExternalMemoryDescriptor memory, long offset) {
        Checks.notNull(memory, "memory");
        if (!memory.type().isFd()) {
            throw new IllegalArgumentException("only fd handles can be sent; " + memory.type() + " is not one");
        }
        if (offset < 0 || offset >= memory.size()) {
            throw new IllegalArgumentException("offset " + offset + " outside the " + memory.size() + "-byte memory");
        }
        Io io = Io.get();
        send(io, FdWire.encodeMemory(io.record, memory, offset), memory.fd());
    }

    /**
     * Sends a memory fd with offset 0: {@code send(memory, 0)}.
     *
     * @param memory an fd descriptor, its fd open
     */
    public void send(ExternalMemoryDescriptor memory) {
        send(memory, 0);
    }

    /**
     * Sends a semaphore fd with its handle type and current value (a timeline semaphore's counter; 0 for a binary
     * one). The caller's fd stays open and the caller's.
     *
     * @param semaphore an fd descriptor ({@link ExternalSemaphoreDescriptor#opaqueFd},
     *     {@link ExternalSemaphoreDescriptor#timelineFd}), its fd open
     * @param value the semaphore's current value, &gt;= 0
     * @throws IllegalArgumentException for a null or non-fd descriptor, an fd that is not open, a negative value
     * @throws IllegalStateException when the channel is closed
     * @throws FdChannelException as {@link #send(ExternalMemoryDescriptor, long)}
     */
    public void send(ExternalSemaphoreDescriptor semaphore, long value) {
        Checks.notNull(semaphore, "semaphore");
        if (!semaphore.type().isFd()) {
            throw new IllegalArgumentException("only fd handles can be sent; " + semaphore.type() + " is not one");
        }
        if (value < 0) {
            throw new IllegalArgumentException("semaphore value must be >= 0, got " + value);
        }
        Io io = Io.get();
        send(io, FdWire.encodeSemaphore(io.record, semaphore, value), semaphore.fd());
    }

    /**
     * Sends the record {@code io.record} holds ({@code length} bytes) and {@code fd}. An fd that is not open is
     * refused by the kernel before anything is queued ({@code EBADF}: the message names the fd); the record and
     * the message headers are this thread's scratch, so a message allocates nothing.
     */
    private void send(Io io, int length, int fd) {
        socket.checkOpen();
        MemorySegment state = io.state;
        MemorySegment control = io.control;
        control.set(ValueLayout.JAVA_LONG, 0, Sockets.cmsgLen(1));
        control.set(ValueLayout.JAVA_INT, 8, Sockets.SOL_SOCKET);
        control.set(ValueLayout.JAVA_INT, 12, Sockets.SCM_RIGHTS);
        control.set(ValueLayout.JAVA_INT, Sockets.CMSG_DATA, fd);
        MemorySegment msg = io.message(length, Sockets.cmsgSpace(1));
        long deadline = SocketFd.deadline(options.sendTimeout(), "sendTimeout");
        socket.out.lock();
        try {
            while (true) {
                socket.checkOpen();
                int n = Sockets.sendmsg(state, socket.fd, msg, Sockets.MSG_NOSIGNAL | Sockets.MSG_DONTWAIT);
                if (n == length) {
                    return;
                }
                if (n == -Sockets.EBADF) {
                    socket.checkOpen();              // the channel closed meanwhile: IllegalStateException
                    Posix.stat(fd);                  // the caller's fd is not open: IllegalArgumentException naming it
                }
                if (n >= 0) {
                    throw new FdChannelException(Reason.IO, socket.what + ": sent " + n + " of " + length + " bytes");
                }
                if (n == -Sockets.EPIPE || n == -Sockets.ECONNRESET) {
                    throw new FdChannelException(Reason.PEER_CLOSED, socket.what + ": the peer " + peer
                            + " closed the connection (" + Sockets.strerror(-n) + ")");
                }
                if (n != -Sockets.EAGAIN && n != -Sockets.EINTR) {
                    throw io(socket.what + ": sendmsg", n);
                }
                if (n == -Sockets.EAGAIN && !await(state, Sockets.POLLOUT, deadline)) {
                    throw new FdChannelException(Reason.TIMEOUT, socket.what + ": the peer took no message within "
                            + options.sendTimeout() + " (its queue is full)");
                }
            }
        } finally {
            socket.out.unlock();
        }
    }

    /**
     * Receives the next message, waiting up to {@code timeout}. The message owns its fds: import it, take its fd,
     * or close it.
     *
     * @param timeout how long to wait, &gt;= 0 (0: only what has arrived)
     * @return the message: a {@link ReceivedMemory} or a {@link ReceivedSemaphore}
     * @throws IllegalArgumentException for a null or negative timeout
     * @throws IllegalStateException when the channel is closed (also by another thread during the wait), or when
     *     {@link Options#maxPending} received messages still hold their fds (nothing read)
     * @throws FdChannelException for the failures listed in the class documentation; every fd that arrived with
     *     a refused message is closed
     */
    public FdMessage receive(Duration timeout) {
        long deadline = SocketFd.deadline(timeout, "timeout");
        socket.checkOpen();
        socket.in.lock();
        try {
            if (pending.get() >= options.maxPending()) {
                throw new IllegalStateException(socket.what + ": " + pending.get() + " received messages still hold"
                        + " their fds (maxPending " + options.maxPending() + "): import, take or close them first");
            }
            Io io = Io.get();
            MemorySegment state = io.state;
            MemorySegment record = io.record;
            long controlSize = Sockets.cmsgSpace(options.maxFdsPerMessage());
            MemorySegment control = io.control;                      // room for MAX_FDS: controlSize or more
            while (true) {
                socket.checkOpen();
                MemorySegment msg = io.message(record.byteSize(), controlSize);
                int n = Sockets.recvmsg(state, socket.fd, msg,
                        Sockets.MSG_CMSG_CLOEXEC | Sockets.MSG_DONTWAIT);
                if (n == -Sockets.EAGAIN || n == -Sockets.EINTR) {
                    if (!await(state, Sockets.POLLIN, deadline)) {
                        throw new FdChannelException(Reason.TIMEOUT, socket.what + ": no message within " + timeout);
                    }
                    continue;
                }
                if (n == -Sockets.ECONNRESET) {
                    throw new FdChannelException(Reason.PEER_CLOSED, socket.what + ": the peer " + peer
                            + " reset the connection");
                }
                if (n < 0) {
                    throw io(socket.what + ": recvmsg", n);
                }
                return accept(io, n, Math.min(msg.get(ValueLayout.JAVA_LONG, 40), controlSize),
                        msg.get(ValueLayout.JAVA_INT, 48));
            }
        } finally {
            socket.in.unlock();
        }
    }

    /** Takes one received record ({@code io.record}) and its fds: a message, or every fd closed and a refusal. */
    private FdMessage accept(Io io, int n, long controlLength, int flags) {
        int[] fds = io.fds;
        int count = fds(io.control, Math.min(controlLength, io.control.byteSize()), fds);
        String refusal;
        Reason reason;
        FdWire.Decoded d = null;
        if (n == 0 && count == 0) {
            throw new FdChannelException(Reason.PEER_CLOSED, socket.what + ": the peer " + peer
                    + " closed the connection");
        } else if ((flags & Sockets.MSG_CTRUNC) != 0) {
            reason = Reason.TRUNCATED;
            refusal = "its fds did not fit (MSG_CTRUNC): the peer sent more than maxFdsPerMessage ("
                    + options.maxFdsPerMessage() + ")";
        } else if ((flags & Sockets.MSG_TRUNC) != 0) {
            reason = Reason.MALFORMED;
            refusal = "malformed: longer than the " + FdWire.MAX_RECORD + "-byte maximum (MSG_TRUNC)";
        } else {
            try {
                d = FdWire.decode(io.record, n);
                if (count < d.fds()) {
                    reason = Reason.MISSING_FDS;
                    refusal = "it announced " + d.fds() + " fd" + (d.fds() == 1 ? "" : "s") + " and carried "
                            + count;
                } else if (count > d.fds()) {
                    reason = Reason.TOO_MANY_FDS;
                    refusal = "it announced " + d.fds() + " fd" + (d.fds() == 1 ? "" : "s") + " and carried "
                            + count;
                } else {
                    reason = null;
                    refusal = null;
                }
            } catch (IllegalArgumentException e) {
                reason = Reason.MALFORMED;
                refusal = "malformed: " + e.getMessage();
            }
        }
        if (refusal != null) {
            for (int i = 0; i < count; i++) {
                SocketFd.closeQuietly(io.state, fds[i]);
            }
            throw new FdChannelException(reason, socket.what + ": message refused, " + refusal + "; "
                    + count + " received fd" + (count == 1 ? "" : "s") + " closed");
        }
        pending.incrementAndGet();
        int fd = fds[0];
        if (d.kind() == FdWire.MEMORY) {
            var descriptor = new ExternalMemoryDescriptor(ExternalMemoryHandleType.ofValue(d.handleType()), fd,
                    null, null, null, d.sizeOrValue(), (d.flags() & 1) != 0);
            return new ReceivedMemory(descriptor, d.offset(), peer, pending);
        }
        var descriptor = new ExternalSemaphoreDescriptor(ExternalSemaphoreHandleType.ofValue(d.handleType()), fd,
                null, null, null);
        return new ReceivedSemaphore(descriptor, d.sizeOrValue(), peer, pending);
    }

    /** Waits for {@code events} on the socket (the slow path: a confined arena for its pollfd). */
    private boolean await(MemorySegment state, short events, long deadline) {
        try (Arena slow = Arena.ofConfined()) {
            return socket.await(slow, state, events, deadline);
        }
    }

    /**
     * This thread's native memory for {@code sendmsg} and {@code recvmsg}: the call state (errno), a record, an
     * iovec over the record, a control buffer with room for {@link Options#MAX_FDS} fds, and a msghdr that points at
     * them (set up once); so a message allocates nothing native and needs no arena. A thread uses it for one call at
     * a time; it goes with the thread (automatic arena). {@link #fds} receives a message's fds.
     */
    private static final class Io {
        private static final ThreadLocal<Io> PER_THREAD = ThreadLocal.withInitial(Io::new);
        final MemorySegment state;
        final MemorySegment record;
        final MemorySegment iov;
        final MemorySegment control;
        final MemorySegment msg;
        final int[] fds;

        private Io() {
            Arena arena = Arena.ofAuto();
            state = Sockets.callState(arena);
            record = arena.allocate(FdWire.MAX_RECORD, 8);
            iov = arena.allocate(Sockets.IOVEC);
            control = arena.allocate(Sockets.cmsgSpace(Options.MAX_FDS), 8);
            msg = arena.allocate(Sockets.MSGHDR);          // zeroed: no name, no flags
            fds = new int[(int) ((control.byteSize() - Sockets.CMSG_DATA) / 4)];   // as many as the buffer holds
            iov.set(ValueLayout.ADDRESS, 0, record);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1);
            msg.set(ValueLayout.ADDRESS, 32, control);
        }

        static Io get() {
            return PER_THREAD.get();
        }

        /**
         * {@return the msghdr for a call: {@code length} bytes of the record, {@code controlLength} of the control
         * buffer} The name and flags fields are reset (recvmsg writes them).
         */
        MemorySegment message(long length, long controlLength) {
            iov.set(ValueLayout.JAVA_LONG, 8, length);
            msg.set(ValueLayout.JAVA_LONG, 0, 0L);             // msg_name
            msg.set(ValueLayout.JAVA_LONG, 8, 0L);             // msg_namelen and padding
            msg.set(ValueLayout.JAVA_LONG, 40, controlLength);
            msg.set(ValueLayout.JAVA_INT, 48, 0);              // msg_flags
            return msg;
        }
    }

    /**
     * Puts every fd of the {@code SCM_RIGHTS} control messages in the first {@code length} bytes into {@code fds};
     * {@return how many} ({@code fds} has room for every fd that {@code length} bytes can hold)
     */
    private static int fds(MemorySegment control, long length, int[] fds) {
        int count = 0;
        long at = 0;
        while (at + Sockets.CMSG_DATA <= length) {
            long len = control.get(ValueLayout.JAVA_LONG, at);
            if (len < Sockets.CMSG_DATA || at + len > length) {
                break;
            }
            if (control.get(ValueLayout.JAVA_INT, at + 8) == Sockets.SOL_SOCKET
                    && control.get(ValueLayout.JAVA_INT, at + 12) == Sockets.SCM_RIGHTS) {
                for (long p = at + Sockets.CMSG_DATA; p + 4 <= at + len; p += 4) {
                    fds[count++] = control.get(ValueLayout.JAVA_INT, p);
                }
            }
            at += Sockets.align(len);
        }
        return count;
    }

    /**
     * {@return the next message, which must be memory} A semaphore message is closed (its fd with it) and refused.
     * @param timeout how long to wait, &gt;= 0
     * @throws FdChannelException as {@link #receive}, or {@link Reason#MALFORMED} for a semaphore message
     */
    public ReceivedMemory receiveMemory(Duration timeout) {
        return expect(receive(timeout), ReceivedMemory.class, "memory");
    }

    /**
     * {@return the next message, which must be a semaphore} A memory message is closed and refused.
     * @param timeout how long to wait, &gt;= 0
     * @throws FdChannelException as {@link #receive}, or {@link Reason#MALFORMED} for a memory message
     */
    public ReceivedSemaphore receiveSemaphore(Duration timeout) {
        return expect(receive(timeout), ReceivedSemaphore.class, "semaphore");
    }

    private <T extends FdMessage> T expect(FdMessage m, Class<T> type, String what) {
        if (type.isInstance(m)) {
            return type.cast(m);
        }
        m.close();
        throw new FdChannelException(Reason.MALFORMED, socket.what + ": expected a " + what + " message, received "
                + m + "; its fd closed");
    }

    /** {@return the process at the other end, as the kernel recorded it when the connection was made} */
    public Peer peer() {
        return peer;
    }

    /** {@return the options this side was made with} */
    public Options options() {
        return options;
    }

    /** {@return how many received messages of this channel still hold their fds} */
    public int pending() {
        return pending.get();
    }

    /** {@return whether {@link #close()} was called} */
    public boolean isClosed() {
        return socket.isClosed();
    }

    /**
     * Closes the connection (the peer's receive then fails with {@link Reason#PEER_CLOSED}). A send or receive
     * waiting on another thread ends with {@link IllegalStateException}. Received messages are not affected.
     * Closing twice is harmless.
     */
    @Override
    public void close() {
        socket.close();
    }

    @Override
    public String toString() {
        return socket.what + (isClosed() ? " (closed)" : "") + ", peer " + peer;
    }

    /**
     * The listening side: a socket file that {@link #accept(Duration)} takes connections from. Made by
     * {@link FdChannel#listen}. Closing it closes the socket and deletes the file (if it is still the one it made);
     * accepted channels stay open.
     */
    public static final class Server implements AutoCloseable {
        private final SocketFd socket;
        private final Path path;
        private final Object fileKey;
        private final Options options;

        private Server(SocketFd socket, Path path, Object fileKey, Options options) {
            this.socket = socket;
            this.path = path;
            this.fileKey = fileKey;
            this.options = options;
        }

        /**
         * Waits up to {@code timeout} for a connection and checks the peer's credentials ({@code SO_PEERCRED})
         * against the server's options before anything is read.
         *
         * @param timeout how long to wait, &gt;= 0
         * @return the channel to the peer
         * @throws IllegalArgumentException for a null or negative timeout
         * @throws IllegalStateException when the server is closed
         * @throws FdChannelException {@link Reason#TIMEOUT}, {@link Reason#PEER_REFUSED} (the connection was
         *     closed; the server goes on listening), {@link Reason#IO}
         */
        public FdChannel accept(Duration timeout) {
            long deadline = SocketFd.deadline(timeout, "timeout");
            socket.checkOpen();
            socket.in.lock();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment state = Sockets.callState(a);
                while (true) {
                    socket.checkOpen();
                    int fd = Sockets.accept(state, socket.fd, Sockets.SOCK_NONBLOCK | Sockets.SOCK_CLOEXEC);
                    if (fd >= 0) {
                        return checked(a, state, fd, "FdChannel at " + path, options, "peer");
                    }
                    if (fd != -Sockets.EAGAIN && fd != -Sockets.EINTR && fd != -Sockets.ECONNRESET) {
                        throw io(socket.what + ": accept", fd);
                    }
                    if (!socket.await(a, state, Sockets.POLLIN, deadline)) {
                        throw new FdChannelException(Reason.TIMEOUT, socket.what + ": no connection within " + timeout);
                    }
                }
            } finally {
                socket.in.unlock();
            }
        }

        /** {@return the socket file} */
        public Path path() {
            return path;
        }

        /** {@return the options accepted channels get} */
        public Options options() {
            return options;
        }

        /** {@return whether {@link #close()} was called} */
        public boolean isClosed() {
            return socket.isClosed();
        }

        /** Stops listening and deletes the socket file if it is still the one made here. Closing twice is harmless. */
        @Override
        public void close() {
            if (socket.isClosed()) {
                return;
            }
            socket.close();
            try {
                Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
                if (key != null && key.equals(fileKey)) {
                    Files.delete(path);
                }
            } catch (IOException ignored) {
                // gone already, or not ours
            }
        }

        @Override
        public String toString() {
            return socket.what + (isClosed() ? " (closed)" : "");
        }
    }
}
