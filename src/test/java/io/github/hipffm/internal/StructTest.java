package io.github.hipffm.internal;

import io.github.hipffm.bindings.cuda.cudaExternalMemoryHandleDesc;
import io.github.hipffm.bindings.cuda.cudaExternalMemoryMipmappedArrayDesc;
import io.github.hipffm.bindings.cuda.cudaExternalSemaphoreHandleDesc;
import io.github.hipffm.bindings.hip.hipExternalMemoryHandleDesc_st;
import io.github.hipffm.bindings.hip.hipExternalMemoryMipmappedArrayDesc_st;
import io.github.hipffm.bindings.hip.hipExternalSemaphoreHandleDesc_st;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout.PathElement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link Struct} finds every field the backend fills at the offset the layout itself computes, on both
 * platforms' generated layouts (the ABI test checks those against the C headers), matching names ignoring case.
 */
class StructTest {
    private static void same(GroupLayout layout, String... path) {
        PathElement[] elements = new PathElement[path.length];
        long expected;
        Struct struct = new Struct(layout);
        String[] exact = new String[path.length];
        GroupLayout g = layout;
        for (int i = 0; i < path.length; i++) {
            String want = path[i];
            var member = g.memberLayouts().stream().filter(m -> m.name().orElse("").equalsIgnoreCase(want))
                    .findFirst().orElseThrow();
            exact[i] = member.name().orElseThrow();
            elements[i] = PathElement.groupElement(exact[i]);
            if (member instanceof GroupLayout inner) {
                g = inner;
            }
        }
        expected = layout.byteOffset(elements);
        assertEquals(expected, struct.offset(path), layout.name().orElse("?") + " " + String.join(".", exact));
    }

    @Test
    void handleDescriptorsOfBothPlatforms() {
        for (GroupLayout l : new GroupLayout[] {hipExternalMemoryHandleDesc_st.layout(),
                cudaExternalMemoryHandleDesc.layout()}) {
            same(l, "type");
            same(l, "handle", "fd");
            same(l, "handle", "win32", "handle");
            same(l, "handle", "win32", "name");
            same(l, "handle", "nvSciBufObject");
            same(l, "size");
            same(l, "flags");
        }
        for (GroupLayout l : new GroupLayout[] {hipExternalSemaphoreHandleDesc_st.layout(),
                cudaExternalSemaphoreHandleDesc.layout()}) {
            same(l, "type");
            same(l, "handle", "fd");
            same(l, "handle", "win32", "name");
            same(l, "handle", "nvSciSyncObj");          // NvSciSyncObj in HIP's header
        }
        for (GroupLayout l : new GroupLayout[] {hipExternalMemoryMipmappedArrayDesc_st.layout(),
                cudaExternalMemoryMipmappedArrayDesc.layout()}) {
            same(l, "offset");
            same(l, "formatDesc", "f");
            same(l, "extent", "depth");
            same(l, "flags");
            same(l, "numLevels");
        }
    }

    @Test
    void unknownFieldsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new Struct(cudaExternalMemoryHandleDesc.layout()).offset("handle", "nope"));
        assertEquals(true, e.getMessage().endsWith("has no field nope"), e.getMessage());
    }
}
