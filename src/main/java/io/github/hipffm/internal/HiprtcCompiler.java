package io.github.hipffm.internal;

import io.github.hipffm.CompilationException;
import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.RuntimeCompiler;
import io.github.hipffm.bindings.hiprtc.Hiprtc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * hiprtc, the AMD runtime compiler: in {@code libamdhip64} itself up to ROCm 5, in {@code libhiprtc} from
 * ROCm 6 on (found next to the loaded runtime, then in the usual places).
 */
final class HiprtcCompiler {
    private static final List<String> NAMES = List.of("libhiprtc.so", "libhiprtc.so.7", "libhiprtc.so.6");

    private HiprtcCompiler() {
    }

    static synchronized void load(Path runtime) {
        if (NativeSupport.hasSymbol("hiprtcCreateProgram")) {
            return;
        }
        List<String> attempts = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        dirs.add(runtime.toAbsolutePath().getParent());
        dirs.addAll(LibraryLocator.searchDirs(io.github.hipffm.Platform.AMD, System.getenv()));
        if (Runtimes.loadFirst(dirs.stream().distinct().toList(), NAMES, attempts) != null) {
            return;
        }
        throw new HipUnavailableException("hiprtc (the AMD runtime compiler) could not be loaded: "
                + runtime.getFileName() + " does not contain it and no libhiprtc was found", attempts);
    }

    static RuntimeCompiler.Program compile(String source, String name, List<String> options, List<String> nameExpressions) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progOut = a.allocate(ValueLayout.ADDRESS);
            check(Hiprtc.hiprtcCreateProgram(progOut, a.allocateFrom(source), a.allocateFrom(name), 0,
                    MemorySegment.NULL, MemorySegment.NULL), "hiprtcCreateProgram", name, "");
            MemorySegment prog = progOut.get(ValueLayout.ADDRESS, 0);
            try {
                for (String e : nameExpressions) {
                    check(Hiprtc.hiprtcAddNameExpression(prog, a.allocateFrom(e)), "hiprtcAddNameExpression", name, "");
                }
                MemorySegment opts = a.allocate(ValueLayout.ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    opts.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(options.get(i)));
                }
                int rc = Hiprtc.hiprtcCompileProgram(prog, options.size(), opts);
                String log = log(prog, a);
                check(rc, "hiprtcCompileProgram", name, log);
                MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
                check(Hiprtc.hiprtcGetCodeSize(prog, size), "hiprtcGetCodeSize", name, log);
                MemorySegment code = a.allocate(Math.max(1, size.get(ValueLayout.JAVA_LONG, 0)));
                check(Hiprtc.hiprtcGetCode(prog, code), "hiprtcGetCode", name, log);
                Map<String, String> lowered = new LinkedHashMap<>();
                for (String e : nameExpressions) {
                    MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                    check(Hiprtc.hiprtcGetLoweredName(prog, a.allocateFrom(e), out), "hiprtcGetLoweredName", name, log);
                    lowered.put(e, NativeSupport.cString(out.get(ValueLayout.ADDRESS, 0)));
                }
                return new RuntimeCompiler.Program(code.asSlice(0, size.get(ValueLayout.JAVA_LONG, 0)).toArray(ValueLayout.JAVA_BYTE),
                        log, Map.copyOf(lowered));
            } finally {
                MemorySegment p = a.allocate(ValueLayout.ADDRESS);
                p.set(ValueLayout.ADDRESS, 0, prog);
                Hiprtc.hiprtcDestroyProgram(p);
            }
        }
    }

    private static String log(MemorySegment prog, Arena a) {
        MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
        if (Hiprtc.hiprtcGetProgramLogSize(prog, size) != 0 || size.get(ValueLayout.JAVA_LONG, 0) <= 1) {
            return "";
        }
        MemorySegment log = a.allocate(size.get(ValueLayout.JAVA_LONG, 0) + 1);
        return Hiprtc.hiprtcGetProgramLog(prog, log) == 0 ? log.getString(0) : "";
    }

    private static void check(int rc, String call, String program, String log) {
        if (rc != 0) {
            throw new CompilationException(call, program, NativeSupport.cString(Hiprtc.hiprtcGetErrorString(rc)), log);
        }
    }
}
