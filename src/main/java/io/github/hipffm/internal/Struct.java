package io.github.hipffm.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A platform's generated struct layout, read and written by field name: both runtimes name their fields alike
 * ({@code handle.fd}, {@code extent.width}, {@code formatDesc.f}, ...), so one piece of code fills either. Names
 * match ignoring case, for the one field the two spell differently ({@code NvSciSyncObj} / {@code nvSciSyncObj}).
 *
 * @param layout the struct's layout
 */
record Struct(GroupLayout layout) {

    /** {@return the byte offset of a (nested) field} @param path field names from the outermost */
    long offset(String... path) {
        MemoryLayout current = layout;
        long offset = 0;
        for (String name : path) {
            if (!(current instanceof GroupLayout group)) {
                throw new IllegalArgumentException(layout.name().orElse("struct") + ": " + name + " is not in a struct");
            }
            MemoryLayout member = group.memberLayouts().stream()
                    .filter(m -> m.name().filter(name::equalsIgnoreCase).isPresent())
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException(group.name().orElse("struct") + " has no field "
                            + name));
            offset += group.byteOffset(MemoryLayout.PathElement.groupElement(member.name().orElseThrow()));
            current = member;
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

    int getInt(MemorySegment struct, String... path) {
        return struct.get(ValueLayout.JAVA_INT, offset(path));
    }

    long getLong(MemorySegment struct, String... path) {
        return struct.get(ValueLayout.JAVA_LONG, offset(path));
    }
}
