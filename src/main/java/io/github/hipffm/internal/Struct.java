package io.github.hipffm.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * A platform's generated struct layout, read and written by field name: both runtimes name their fields alike
 * ({@code handle.fd}, {@code extent.width}, {@code formatDesc.f}, ...), so one piece of code fills either. Names
 * match ignoring case, for the one field the two spell differently ({@code NvSciSyncObj} / {@code nvSciSyncObj}).
 *
 * @param layout the struct's layout
 */
record Struct(GroupLayout layout) {

    /**
     * {@return the byte offset of a (nested) field} Walks the members without allocating: jextract's struct
     * layouts list their padding explicitly, so a member's offset is the size of the members before it.
     * @param path field names from the outermost
     */
    long offset(String... path) {
        MemoryLayout current = layout;
        long offset = 0;
        for (String name : path) {
            if (!(current instanceof GroupLayout group)) {
                throw new IllegalArgumentException(layout.name().orElse("struct") + ": " + name + " is not in a struct");
            }
            MemoryLayout found = null;
            for (MemoryLayout member : group.memberLayouts()) {
                if (member.name().isPresent() && member.name().get().equalsIgnoreCase(name)) {
                    found = member;
                    break;
                }
                if (group instanceof StructLayout) {
                    offset += member.byteSize();
                }
            }
            if (found == null) {
                throw new IllegalArgumentException(group.name().orElse("struct") + " has no field " + name);
            }
            current = found;
        }
        return offset;
    }

    void setInt(MemorySegment struct, int value, String... path) {
        struct.set(ValueLayout.JAVA_INT, offset(path), value);
    }

    void setLong(MemorySegment struct, long value, String... path) {
        struct.set(ValueLayout.JAVA_LONG, offset(path), value);
    }

    void setAddress(MemorySegment struct, MemorySegment value, String... path) {
        struct.set(ValueLayout.ADDRESS, offset(path), value);
    }

    MemorySegment getAddress(MemorySegment struct, String... path) {
        return struct.get(ValueLayout.ADDRESS, offset(path));
    }

    int getInt(MemorySegment struct, String... path) {
        return struct.get(ValueLayout.JAVA_INT, offset(path));
    }

    long getLong(MemorySegment struct, String... path) {
        return struct.get(ValueLayout.JAVA_LONG, offset(path));
    }
}
