package io.github.hipffm.internal;

import io.github.hipffm.CompilationException;
import io.github.hipffm.RuntimeCompiler;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The one compile loop's architecture rule, with a recording stand-in for the compiler library: where the compiler
 * needs a target architecture (hiprtc) and the caller gave none, the current device's is added; without a device,
 * a failed compile says which option to pass; a compiler with a default of its own (NVRTC) gets the options as given.
 */
class RuntimeCompilersTest {
    private static final List<String> HIPRTC = List.of("--offload-arch=", "--gpu-architecture=");

    /** A compiler that records the options it gets and succeeds, or fails its compile with {@code compileRc}. */
    private static final class Recording implements RuntimeCompilers.Api {
        final List<String> archOptions;
        final Optional<String> deviceArch;
        final int compileRc;
        final List<String> options = new ArrayList<>();
        int deviceArchCalls;

        Recording(List<String> archOptions, Optional<String> deviceArch, int compileRc) {
            this.archOptions = archOptions;
            this.deviceArch = deviceArch;
            this.compileRc = compileRc;
        }

        @Override public String prefix() { return "hiprtc"; }
        @Override public String code() { return "Code"; }
        @Override public boolean codeIsText() { return false; }
        @Override public List<String> archOptions() { return archOptions; }
        @Override public Optional<String> deviceArch() {
            deviceArchCalls++;
            return deviceArch;
        }
        @Override public int createProgram(MemorySegment out, MemorySegment source, MemorySegment name) {
            out.set(ValueLayout.ADDRESS, 0, MemorySegment.ofAddress(8));
            return 0;
        }
        @Override public int addNameExpression(MemorySegment program, MemorySegment expression) { return 0; }
        @Override public int compileProgram(MemorySegment program, int n, MemorySegment opts) {
            MemorySegment array = opts.reinterpret(8L * n);
            for (int i = 0; i < n; i++) {
                options.add(array.getAtIndex(ValueLayout.ADDRESS, i).reinterpret(Long.MAX_VALUE).getString(0));
            }
            return compileRc;
        }
        @Override public int getProgramLogSize(MemorySegment program, MemorySegment out) {
            out.set(ValueLayout.JAVA_LONG, 0, 0);
            return 0;
        }
        @Override public int getProgramLog(MemorySegment program, MemorySegment log) { return 0; }
        @Override public int getCodeSize(MemorySegment program, MemorySegment out) {
            out.set(ValueLayout.JAVA_LONG, 0, 4);
            return 0;
        }
        @Override public int getCode(MemorySegment program, MemorySegment code) {
            code.reinterpret(4).fill((byte) 7);
            return 0;
        }
        @Override public int getLoweredName(MemorySegment program, MemorySegment expression, MemorySegment out) {
            return 1;
        }
        @Override public int destroyProgram(MemorySegment programPointer) { return 0; }
        @Override public MemorySegment getErrorString(int rc) {
            return Arena.global().allocateFrom(rc == 0 ? "SUCCESS" : "ERROR_COMPILATION");
        }
    }

    private static RuntimeCompiler.Program compile(Recording api, String... options) {
        return RuntimeCompilers.compile(api, "source", "x.hip", List.of(options), List.of());
    }

    @Test
    void theDevicesArchitectureIsAddedWhenNoneWasGiven() {
        Recording api = new Recording(HIPRTC, Optional.of("gfx90a:sramecc+:xnack-"), 0);
        RuntimeCompiler.Program p = compile(api, "-DN=4");
        assertEquals(List.of("-DN=4", "--offload-arch=gfx90a:sramecc+:xnack-"), api.options);
        assertEquals(4, p.code().length);
    }

    @Test
    void anArchitectureTheCallerGaveIsKept() {
        for (String given : List.of("--offload-arch=gfx942", "--gpu-architecture=gfx1100")) {
            Recording api = new Recording(HIPRTC, Optional.of("gfx90a"), 0);
            compile(api, given, "-O3");
            assertEquals(List.of(given, "-O3"), api.options);
            assertEquals(0, api.deviceArchCalls, "no device query when the caller chose");
        }
    }

    @Test
    void withoutADeviceTheFailureSaysWhichOptionToPass() {
        Recording api = new Recording(HIPRTC, Optional.empty(), 6);
        CompilationException e = assertThrows(CompilationException.class, () -> compile(api));
        assertEquals(List.of(), api.options, "nothing invented");
        assertTrue(e.getMessage().startsWith("hiprtcCompileProgram failed for x.hip: ERROR_COMPILATION (hiprtc needs"
                + " the target architecture: no --offload-arch= option was given and there is no device whose"
                + " architecture could be read; pass --offload-arch=gfxNNN"), e.getMessage());
        assertEquals("ERROR_COMPILATION", e.result());

        Recording given = new Recording(HIPRTC, Optional.empty(), 6);
        e = assertThrows(CompilationException.class, () -> compile(given, "--offload-arch=gfx90a"));
        assertEquals("hiprtcCompileProgram failed for x.hip: ERROR_COMPILATION", e.getMessage(),
                "the caller gave one: no hint");
    }

    @Test
    void aCompilerWithADefaultGetsTheOptionsAsGiven() {
        Recording api = new Recording(List.of(), Optional.of("sm_90"), 0);
        compile(api, "-DN=4");
        assertEquals(List.of("-DN=4"), api.options);
        assertEquals(0, api.deviceArchCalls);

        Recording failing = new Recording(List.of(), Optional.empty(), 6);
        CompilationException e = assertThrows(CompilationException.class, () -> compile(failing));
        assertFalse(e.getMessage().contains("needs the target architecture"), e.getMessage());
    }
}
