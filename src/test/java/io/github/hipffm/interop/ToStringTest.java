package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.ChannelFormat;
import io.github.hipffm.Event;
import io.github.hipffm.Extent;
import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.HipModule;
import io.github.hipffm.Kernel;
import io.github.hipffm.MipmappedArray;
import io.github.hipffm.Stream;
import io.github.hipffm.testrt.LinuxFds;
import io.github.hipffm.testrt.NoLeaks;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every resource prints as its kind and what identifies it (handle address, type, size, parameters), and says
 * when it is closed: what jshell and a debugger show. {@code GraphicsResource} and its mapping are in
 * {@code GraphicsResourceTest}, which has the fake GL objects.
 */
@Tag("testrt")
class ToStringTest {
    @RegisterExtension
    final NoLeaks noLeaks = new NoLeaks();

    private static final String ADDRESS = "0x[0-9a-f]+";

    private static void assertMatches(String regex, Object o) {
        String s = String.valueOf(o);
        assertTrue(s.matches(regex), "'" + s + "' does not match " + regex);
    }

    @Test
    void streamsAndEvents() {
        assertEquals("Stream[default]", Stream.defaultStream().toString());
        Stream blocking;
        Event timed;
        try (Arena arena = Arena.ofConfined()) {
            blocking = Stream.create(arena);
            assertMatches("Stream\\[" + ADDRESS + ", blocking]", blocking);
            assertMatches("Stream\\[" + ADDRESS + ", non-blocking]", Stream.create(arena, true));
            timed = Event.create(arena);
            assertMatches("Event\\[" + ADDRESS + ", timing]", timed);
            assertMatches("Event\\[" + ADDRESS + ", no timing]", Event.create(arena, false));
        }
        assertMatches("Stream\\[" + ADDRESS + ", blocking, closed]", blocking);
        assertMatches("Event\\[" + ADDRESS + ", timing, closed]", timed);
    }

    @Test
    void importsArraysAndLevels() {
        ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);
        long size = 1 << 20;
        ArrayLevel level;
        ExternalSemaphore semaphore;
        try (Arena arena = Arena.ofConfined()) {
            int fd = LinuxFds.memfd("hipffm-tostring", size);
            ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
            assertEquals("ExternalMemory[OPAQUE_FD, 1048576 bytes]", memory.toString());
            MipmappedArray array = memory.mapMipmappedArray(0, rgba8, Extent.of(64, 64), 2, 0);
            assertTrue(array.toString().startsWith("MipmappedArray[") && array.toString().endsWith(", 64x64x0, 2 level(s)]"),
                    array.toString());
            level = array.level(1);
            assertEquals("ArrayLevel[level 1, 32x32x0, 4 B/element]", level.toString());
            semaphore = ExternalSemaphore.importSemaphore(arena,
                    ExternalSemaphoreDescriptor.opaqueFd(LinuxFds.memfd("hipffm-tostring-semaphore", 0)));
            assertEquals("ExternalSemaphore[OPAQUE_FD]", semaphore.toString());
            memory.close();
            assertEquals("ExternalMemory[OPAQUE_FD, 1048576 bytes, closed]", memory.toString());
            assertTrue(array.toString().endsWith(", closed]"), array.toString());
        }
        assertEquals("ArrayLevel[level 1, 32x32x0, 4 B/element, closed]", level.toString());
        assertEquals("ExternalSemaphore[OPAQUE_FD, closed]", semaphore.toString());
    }

    @Test
    void modulesAndKernels() {
        byte[] image = "hipffm-test-module\nscale_add\n".getBytes(StandardCharsets.US_ASCII);
        Kernel kernel;
        HipModule module;
        try (Arena arena = Arena.ofConfined()) {
            module = HipModule.load(arena, image);
            assertMatches("HipModule\\[" + ADDRESS + ", " + image.length + " bytes of code]", module);
            kernel = module.kernel("scale_add", Kernel.Param.POINTER, Kernel.Param.FLOAT, Kernel.Param.FLOAT,
                    Kernel.Param.LONG);
            assertEquals("Kernel[scale_add(POINTER, FLOAT, FLOAT, LONG)]", kernel.toString());
        }
        assertMatches("HipModule\\[" + ADDRESS + ", " + image.length + " bytes of code, closed]", module);
        assertEquals("Kernel[scale_add(POINTER, FLOAT, FLOAT, LONG), closed]", kernel.toString());
    }
}
