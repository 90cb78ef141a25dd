package io.github.hipffm;

import java.util.Objects;

/**
 * A failure of an {@link FdChannel}: the peer, the connection or a message, with {@link #reason()} saying which,
 * for callers that act on the kind (retry after {@link Reason#TIMEOUT}, reconnect after
 * {@link Reason#PEER_CLOSED}). Whenever a receive throws one, every fd that arrived with the refused message has
 * already been closed, and the message says how many.
 */
public final class FdChannelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Reason {
        /** Nothing happened within the timeout; the channel is as it was and may be used again. */
        TIMEOUT,
        /** The peer closed the connection or its process ended (also in the middle of an exchange). */
        PEER_CLOSED,
        /** The peer's credentials ({@code SO_PEERCRED}: uid, pid) are not the ones required; nothing was read. */
        PEER_REFUSED,
        /** The fds of a message did not fit ({@code MSG_CTRUNC}): more than the configured maximum per message. */
        TRUNCATED,
        /** A message carried fewer fds than it announced (none, for a message without its fds). */
        MISSING_FDS,
        /** A message carried more fds than it announced. */
        TOO_MANY_FDS,
        /** A message is not one of this protocol's: bad magic, version, kind, length or field value. */
        MALFORMED,
        /** The calling thread was interrupted while it waited (its interrupt status is set again). */
        INTERRUPTED,
        /** A system call failed otherwise (the message has its {@code errno}). */
        IO
    }

    private final Reason reason;

    /**
     * Makes the exception.
     *
     * @param reason what went wrong
     * @param message what happened, for people
     */
    public FdChannelException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** {@return what went wrong} */
    public Reason reason() {
        return reason;
    }
}
