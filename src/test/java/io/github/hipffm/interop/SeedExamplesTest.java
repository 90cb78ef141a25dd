package io.github.hipffm.interop;

import io.github.hipffm.examples.MemorySeedExample;
import io.github.hipffm.examples.SemaphoreSeedExample;
import io.github.hipffm.testrt.NoLeaks;
import io.github.hipffm.testrt.TestRuntime;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

@Tag("testrt")
@ExtendWith(NoLeaks.class)
class SeedExamplesTest {
    @Test
    void memoryExampleWritesThroughTheMappingAndTheFdSeesIt() {
        byte[] head = MemorySeedExample.run();
        byte[] expected = new byte[16];
        Arrays.fill(expected, (byte) 0x5a);
        assertArrayEquals(expected, head);
        assertEquals(1, TestRuntime.calls("hipImportExternalMemory"));
        assertEquals(1, TestRuntime.calls("hipExternalMemoryGetMappedBuffer"));
        assertEquals(1, TestRuntime.calls("hipDestroyExternalMemory"));
    }

    @Test
    void semaphoreExampleSignalsWaitsAndClosesTheFd() {
        SemaphoreSeedExample.run();   // the fd count check after each test shows its fd was closed
        assertEquals(1, TestRuntime.calls("hipSignalExternalSemaphoresAsync"));
        assertEquals(1, TestRuntime.calls("hipWaitExternalSemaphoresAsync"));
        assertEquals(1, TestRuntime.calls("hipDestroyExternalSemaphore"));
    }
}
