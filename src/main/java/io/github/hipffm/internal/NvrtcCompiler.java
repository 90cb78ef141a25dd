package io.github.hipffm.internal;

import io.github.hipffm.CompilationException;
import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.Platform;
import io.github.hipffm.bindings.nvrtc.Nvrtc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** NVRTC, the NVIDIA runtime compiler ({@code libnvrtc}), found next to the CUDA runtime or in the CUDA dirs. */
final class NvrtcCompiler {
    private static final List<String> NAMES = List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so");

    private NvrtcCompiler() {
    }

    static synchronized void load(Path cudart) {
        if (NativeSupport.hasSymbol("nvrtcCreateProgram")) {
            return;
        }
        List<String> attempts = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        dirs.add(cudart.toAbsolutePath().getParent());
        dirs.addAll(LibraryLocator.searchDirs(Platform.NVIDIA, System.getenv()));
        if (Runtimes.loadFirst(dirs.stream().distinct().toList(), NAMES, attempts) != null) {
            return;
        }
        throw new HipUnavailableException("NVRTC (the NVIDIA runtime compiler, libnvrtc) could not be loaded; it is"
                + " part of the CUDA toolkit, not of the driver", attempts);
    }

    static RuntimeCompiler.Program compile(String source, String name, List<String> options, List<String> nameExpressions) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progOut = a.allocate(ValueLayout.ADDRESS);
            check(Nvrtc.nvrtcCreateProgram(progOut, a.allocateFrom(source), a.allocateFrom(name), 0, MemorySegment.NULL,
                    MemorySegment.NULL), "nvrtcCreateProgram", name, "");
            MemorySegment prog = progOut.get(ValueLayout.ADDRESS, 0);
            try {
                for (String e : nameExpressions) {
                    check(Nvrtc.nvrtcAddNameExpression(prog, a.allocateFrom(e)), "nvrtcAddNameExpression", name, "");
                }
                MemorySegment opts = a.allocate(ValueLayout.ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    opts.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(options.get(i)));
                }
                int rc = Nvrtc.nvrtcCompileProgram(prog, options.size(), opts);
                String log = log(prog, a);
                check(rc, "nvrtcCompileProgram", name, log);
                MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
                check(Nvrtc.nvrtcGetPTXSize(prog, size), "nvrtcGetPTXSize", name, log);
                long n = size.get(ValueLayout.JAVA_LONG, 0);
                MemorySegment ptx = a.allocate(Math.max(1, n));
                check(Nvrtc.nvrtcGetPTX(prog, ptx), "nvrtcGetPTX", name, log);
                Map<String, String> lowered = new LinkedHashMap<>();
                for (String e : nameExpressions) {
                    MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                    check(Nvrtc.nvrtcGetLoweredName(prog, a.allocateFrom(e), out), "nvrtcGetLoweredName", name, log);
                    lowered.put(e, NativeSupport.cString(out.get(ValueLayout.ADDRESS, 0)));
                }
                // The PTX size counts the terminating NUL; the code handed out is the text without it.
                long text = n > 0 && ptx.get(ValueLayout.JAVA_BYTE, n - 1) == 0 ? n - 1 : n;
                return new RuntimeCompiler.Program(ptx.asSlice(0, text).toArray(ValueLayout.JAVA_BYTE), log, Map.copyOf(lowered));
            } finally {
                MemorySegment p = a.allocate(ValueLayout.ADDRESS);
                p.set(ValueLayout.ADDRESS, 0, prog);
                Nvrtc.nvrtcDestroyProgram(p);
            }
        }
    }

    private static String log(MemorySegment prog, Arena a) {
        MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
        if (Nvrtc.nvrtcGetProgramLogSize(prog, size) != 0 || size.get(ValueLayout.JAVA_LONG, 0) <= 1) {
            return "";
        }
        MemorySegment log = a.allocate(size.get(ValueLayout.JAVA_LONG, 0) + 1);
        return Nvrtc.nvrtcGetProgramLog(prog, log) == 0 ? log.getString(0) : "";
    }

    private static void check(int rc, String call, String program, String log) {
        if (rc != 0) {
            throw new CompilationException(call, program, NativeSupport.cString(Nvrtc.nvrtcGetErrorString(rc)), log);
        }
    }
}
