package io.github.hipffm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The wire format of {@link FdChannel} messages, version 1: one {@code SOCK_SEQPACKET} record per message, little
 * endian, its fds in one {@code SCM_RIGHTS} control message.
 *
 * <pre>
 * offset size  header (16 bytes)
 *      0    4  magic 0x43444648 ("HFDC" in memory order)
 *      4    2  version: 1
 *      6    2  kind: 1 memory, 2 semaphore
 *      8    2  fds that come with the message: 1 for both kinds
 *     10    2  reserved, 0
 *     12    4  body length: 32 (memory), 16 (semaphore)
 *          memory body                    semaphore body
 *     16    4  handle type (HIP value)    handle type (HIP value)
 *     20    4  flags: bit 0 dedicated     flags: 0
 *     24    8  size, bytes, &gt; 0          value, &gt;= 0
 *     32    8  offset, 0 &lt;= offset &lt; size
 *     40    8  reserved, 0
 * </pre>
 *
 * Everything is checked on decode: a record of another length, magic, version or kind, a reserved field or flag
 * that is not 0, an unknown or non-fd handle type, a size, offset or value out of range is refused.
 * {@code src/test/native/fdpeer.c} writes the same format in C.
 */
final class FdWire {
    static final int MAGIC = 0x43444648;
    static final int VERSION = 1;
    static final int MEMORY = 1;
    static final int SEMAPHORE = 2;
    static final int HEADER = 16;
    static final int MEMORY_BODY = 32;
    static final int SEMAPHORE_BODY = 16;
    /** The largest record read; a longer one arrives with {@code MSG_TRUNC} and is refused. */
    static final int MAX_RECORD = 256;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private FdWire() {
    }

    /** A decoded record: its kind and fields; the fds travel beside it. */
    record Decoded(int kind, int fds, int handleType, int flags, long sizeOrValue, long offset) {
    }

    /** Writes a memory record into {@code out}; {@return its length} */
    static int encodeMemory(MemorySegment out, ExternalMemoryDescriptor d, long offset) {
        header(out, MEMORY, MEMORY_BODY);
        out.set(INT, 16, d.type().hipValue());
        out.set(INT, 20, d.dedicated() ? 1 : 0);
        out.set(LONG, 24, d.size());
        out.set(LONG, 32, offset);
        out.set(LONG, 40, 0);
        return HEADER + MEMORY_BODY;
    }

    /** Writes a semaphore record into {@code out}; {@return its length} */
    static int encodeSemaphore(MemorySegment out, ExternalSemaphoreDescriptor d, long value) {
        header(out, SEMAPHORE, SEMAPHORE_BODY);
        out.set(INT, 16, d.type().hipValue());
        out.set(INT, 20, 0);
        out.set(LONG, 24, value);
        return HEADER + SEMAPHORE_BODY;
    }

    private static void header(MemorySegment out, int kind, int body) {
        out.set(INT, 0, MAGIC);
        out.set(SHORT, 4, (short) VERSION);
        out.set(SHORT, 6, (short) kind);
        out.set(SHORT, 8, (short) 1);
        out.set(SHORT, 10, (short) 0);
        out.set(INT, 12, body);
    }

    /**
     * {@return the record of {@code length} bytes at the start of {@code in}, checked}
     * @throws IllegalArgumentException naming the first thing wrong with it
     */
    static Decoded decode(MemorySegment in, int length) {
        if (length < HEADER) {
            throw new IllegalArgumentException(length + " bytes, shorter than the " + HEADER + "-byte header");
        }
        int magic = in.get(INT, 0);
        if (magic != MAGIC) {
            throw new IllegalArgumentException("bad magic 0x" + Integer.toHexString(magic) + " (expected 0x"
                    + Integer.toHexString(MAGIC) + "): not an FdChannel peer");
        }
        int version = Short.toUnsignedInt(in.get(SHORT, 4));
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported version " + version + " (this side speaks " + VERSION + ")");
        }
        int kind = Short.toUnsignedInt(in.get(SHORT, 6));
        int fds = Short.toUnsignedInt(in.get(SHORT, 8));
        int reserved = Short.toUnsignedInt(in.get(SHORT, 10));
        int body = in.get(INT, 12);
        int expected = switch (kind) {
            case MEMORY -> MEMORY_BODY;
            case SEMAPHORE -> SEMAPHORE_BODY;
            default -> throw new IllegalArgumentException("unknown kind " + kind + " (1 memory, 2 semaphore)");
        };
        String what = kind == MEMORY ? "memory" : "semaphore";
        if (body != expected || length != HEADER + expected) {
            throw new IllegalArgumentException("a " + what + " record of " + length + " bytes announcing a body of "
                    + Integer.toUnsignedString(body) + " (expected " + (HEADER + expected) + " and " + expected + ")");
        }
        if (fds != 1) {
            throw new IllegalArgumentException("a " + what + " record announcing " + fds + " fds (it carries 1)");
        }
        if (reserved != 0) {
            throw new IllegalArgumentException("reserved header field " + reserved + ", not 0");
        }
        int type = in.get(INT, 16);
        int flags = in.get(INT, 20);
        long third = in.get(LONG, 24);
        if (kind == MEMORY) {
            ExternalMemoryHandleType t = memoryType(type);
            if (!t.isFd()) {
                throw new IllegalArgumentException("memory handle type " + t + " is not an fd type");
            }
            if ((flags & ~1) != 0) {
                throw new IllegalArgumentException("unknown memory flags 0x" + Integer.toHexString(flags));
            }
            long offset = in.get(LONG, 32);
            if (third <= 0) {
                throw new IllegalArgumentException("memory size " + third + ", not > 0");
            }
            if (offset < 0 || offset >= third) {
                throw new IllegalArgumentException("offset " + offset + " outside the " + third + "-byte memory");
            }
            if (in.get(LONG, 40) != 0) {
                throw new IllegalArgumentException("reserved memory field not 0");
            }
            return new Decoded(kind, fds, type, flags, third, offset);
        }
        ExternalSemaphoreHandleType t = semaphoreType(type);
        if (!t.isFd()) {
            throw new IllegalArgumentException("semaphore handle type " + t + " is not an fd type");
        }
        if (flags != 0) {
            throw new IllegalArgumentException("unknown semaphore flags 0x" + Integer.toHexString(flags));
        }
        if (third < 0) {
            throw new IllegalArgumentException("semaphore value " + Long.toUnsignedString(third) + " above 2^63-1");
        }
        return new Decoded(kind, fds, type, flags, third, 0);
    }

    private static ExternalMemoryHandleType memoryType(int value) {
        try {
            return ExternalMemoryHandleType.ofValue(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unknown memory handle type " + value);
        }
    }

    private static ExternalSemaphoreHandleType semaphoreType(int value) {
        try {
            return ExternalSemaphoreHandleType.ofValue(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("unknown semaphore handle type " + value);
        }
    }
}
