package io.github.hipffm.internal;

import io.github.hipffm.CompilationException;
import io.github.hipffm.HipUnavailableException;
import io.github.hipffm.Platform;
import io.github.hipffm.RuntimeCompiler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The runtime compiler, written once over hiprtc (AMD) and NVRTC (NVIDIA): the two have the same calls under
 * different prefixes, and differ only in where the library is, whether the code is text (PTX), and whether the
 * target architecture must be given (hiprtc: {@code --offload-arch}, defaulted to the current device's).
 */
final class RuntimeCompilers {
    private RuntimeCompilers() {
    }

    /** One platform's runtime compiler: its generated calls, one-line delegations, and a little data. */
    interface Api {
        /** {@return the calls' prefix, {@code hiprtc} or {@code nvrtc}, for messages} */
        String prefix();

        /** {@return the name of the code the compiler makes, {@code Code} or {@code PTX}, for messages} */
        String code();

        /** {@return whether the code is NUL-terminated text (PTX), handed out without the NUL} */
        boolean codeIsText();

        /**
         * {@return the option prefixes that name the target architecture, the first the one to add; empty when the
         * compiler has a default of its own (NVRTC)}
         */
        default List<String> archOptions() {
            return List.of();
        }

        /**
         * {@return the current device's architecture, for the first of {@link #archOptions()}; empty without a
         * device, or where the runtime does not report it}
         */
        default Optional<String> deviceArch() {
            return Optional.empty();
        }

        int createProgram(MemorySegment out, MemorySegment source, MemorySegment name);

        int addNameExpression(MemorySegment program, MemorySegment expression);

        int compileProgram(MemorySegment program, int n, MemorySegment options);

        int getProgramLogSize(MemorySegment program, MemorySegment out);

        int getProgramLog(MemorySegment program, MemorySegment log);

        int getCodeSize(MemorySegment program, MemorySegment out);

        int getCode(MemorySegment program, MemorySegment code);

        int getLoweredName(MemorySegment program, MemorySegment expression, MemorySegment out);

        int destroyProgram(MemorySegment programPointer);

        MemorySegment getErrorString(int rc);
    }

    /**
     * Loads a runtime compiler library unless {@code symbol} is already there: next to the runtime first, then in
     * the platform's usual places.
     *
     * @param symbol a function of it, e.g. {@code hiprtcCreateProgram}
     * @param runtime the loaded runtime library
     * @param platform whose search directories to use
     * @param names the library file names to try
     * @param failure the exception's message when none loads
     */
    static synchronized void load(String symbol, Path runtime, Platform platform, List<String> names, String failure) {
        if (NativeSupport.hasSymbol(symbol)) {
            return;
        }
        List<String> attempts = new ArrayList<>();
        List<Path> dirs = new ArrayList<>();
        dirs.add(runtime.toAbsolutePath().getParent());
        dirs.addAll(LibraryLocator.searchDirs(platform, System.getenv()));
        if (Runtimes.loadFirst(dirs.stream().distinct().toList(), names, attempts) == null) {
            throw new HipUnavailableException(failure, attempts);
        }
    }

    static RuntimeCompiler.Program compile(Api api, String source, String name, List<String> requested,
            List<String> nameExpressions) {
        String p = api.prefix();
        // The target architecture, where the compiler needs one and the caller gave none: the current device's,
        // or, without one, a hint on failure saying which option to pass.
        List<String> options = requested;
        String archHint = null;
        List<String> archOptions = api.archOptions();
        if (!archOptions.isEmpty() && requested.stream().noneMatch(o -> archOptions.stream().anyMatch(o::startsWith))) {
            Optional<String> arch = api.deviceArch();
            if (arch.isPresent()) {
                options = new ArrayList<>(requested);
                options.add(archOptions.get(0) + arch.get());
            } else {
                String option = archOptions.get(0);
                archHint = p + " needs the target architecture: no " + option + " option was given and there is no"
                        + " device whose architecture could be read; pass " + option + "gfxNNN, the gcnArchName of the"
                        + " GPU the code is for (e.g. " + option + "gfx90a)";
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progOut = a.allocate(ValueLayout.ADDRESS);
            check(api, api.createProgram(progOut, a.allocateFrom(source), a.allocateFrom(name)), p + "CreateProgram",
                    name, "");
            MemorySegment prog = progOut.get(ValueLayout.ADDRESS, 0);
            try {
                for (String e : nameExpressions) {
                    check(api, api.addNameExpression(prog, a.allocateFrom(e)), p + "AddNameExpression", name, "");
                }
                MemorySegment opts = a.allocate(ValueLayout.ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) {
                    opts.setAtIndex(ValueLayout.ADDRESS, i, a.allocateFrom(options.get(i)));
                }
                int rc = api.compileProgram(prog, options.size(), opts);
                String log = log(api, prog, a);
                if (rc != 0) {
                    throw new CompilationException(p + "CompileProgram", name,
                            NativeSupport.cString(api.getErrorString(rc)), log, archHint);
                }
                MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
                check(api, api.getCodeSize(prog, size), p + "Get" + api.code() + "Size", name, log);
                long n = size.get(ValueLayout.JAVA_LONG, 0);
                MemorySegment code = a.allocate(Math.max(1, n));
                check(api, api.getCode(prog, code), p + "Get" + api.code(), name, log);
                Map<String, String> lowered = new LinkedHashMap<>();
                for (String e : nameExpressions) {
                    MemorySegment out = a.allocate(ValueLayout.ADDRESS);
                    check(api, api.getLoweredName(prog, a.allocateFrom(e), out), p + "GetLoweredName", name, log);
                    lowered.put(e, NativeSupport.cString(out.get(ValueLayout.ADDRESS, 0)));
                }
                // PTX's size counts the terminating NUL; the code handed out is the text without it.
                long length = api.codeIsText() && n > 0 && code.get(ValueLayout.JAVA_BYTE, n - 1) == 0 ? n - 1 : n;
                return new RuntimeCompiler.Program(code.asSlice(0, length).toArray(ValueLayout.JAVA_BYTE), log,
                        Map.copyOf(lowered));
            } finally {
                MemorySegment pp = a.allocate(ValueLayout.ADDRESS);
                pp.set(ValueLayout.ADDRESS, 0, prog);
                api.destroyProgram(pp);
            }
        }
    }

    private static String log(Api api, MemorySegment prog, Arena a) {
        MemorySegment size = a.allocate(ValueLayout.JAVA_LONG);
        if (api.getProgramLogSize(prog, size) != 0 || size.get(ValueLayout.JAVA_LONG, 0) <= 1) {
            return "";
        }
        MemorySegment log = a.allocate(size.get(ValueLayout.JAVA_LONG, 0) + 1);
        return api.getProgramLog(prog, log) == 0 ? log.getString(0) : "";
    }

    private static void check(Api api, int rc, String call, String program, String log) {
        if (rc != 0) {
            throw new CompilationException(call, program, NativeSupport.cString(api.getErrorString(rc)), log);
        }
    }
}
