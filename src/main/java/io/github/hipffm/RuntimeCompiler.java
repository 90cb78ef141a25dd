package io.github.hipffm;

import io.github.hipffm.internal.Runtimes;

import java.util.List;
import java.util.Map;

/**
 * Compiles GPU source at run time: hiprtc on AMD (the code object for the device's architecture), NVRTC on
 * NVIDIA. A failure throws {@link CompilationException} whose message carries the compiler's whole log.
 *
 * <p>On AMD, options without {@code --offload-arch=} (or {@code --gpu-architecture=}) get
 * {@code --offload-arch=} and the current device's {@code gcnArchName} (e.g. {@code gfx90a:sramecc+:xnack-}; read
 * from ROCm 6 on); without a device hiprtc cannot compile, and the failure says to pass
 * {@code --offload-arch=gfxNNN}.
 *
 * {@snippet :
 * String source = """
 *     extern "C" __global__ void scale(float* x, float a, int n) {
 *         int i = blockIdx.x * blockDim.x + threadIdx.x;
 *         if (i < n) x[i] *= a;
 *     }""";
 * RuntimeCompiler.Program program = RuntimeCompiler.compile(source, "scale.hip", List.of("--offload-arch=gfx942"));
 * HipModule module = HipModule.load(arena, program.code());
 * }
 */
public final class RuntimeCompiler {
    private RuntimeCompiler() {
    }

    /**
     * A compiled program.
     *
     * @param code the code object (AMD) or PTX (NVIDIA), for {@link HipModule#load(java.lang.foreign.Arena, byte[])}
     * @param log the compiler's log (warnings), possibly empty
     * @param loweredNames each requested name expression's lowered (mangled) name
     */
    public record Program(byte[] code, String log, Map<String, String> loweredNames) {
    }

    /**
     * {@return the compiled program}
     * @param source the source
     * @param name the program's file name, for messages (e.g. {@code scale.hip})
     */
    public static Program compile(String source, String name) {
        return compile(source, name, List.of(), List.of());
    }

    /**
     * {@return the compiled program}
     * @param source the source
     * @param name the program's file name
     * @param options compiler options (e.g. {@code --offload-arch=gfx942}, {@code -DN=4})
     */
    public static Program compile(String source, String name, List<String> options) {
        return compile(source, name, options, List.of());
    }

    /**
     * {@return the compiled program, with the lowered names of C++ name expressions}
     * @param source the source
     * @param name the program's file name
     * @param options compiler options
     * @param nameExpressions e.g. {@code "scale<float>"}; see {@link Program#loweredNames()}
     * @throws CompilationException when the source does not compile
     */
    public static Program compile(String source, String name, List<String> options, List<String> nameExpressions) {
        Checks.notNull(source, "source");
        Checks.notNull(name, "name");
        Checks.notNull(options, "options");
        Checks.notNull(nameExpressions, "nameExpressions");
        options.forEach(o -> Checks.notNull(o, "option"));
        nameExpressions.forEach(o -> Checks.notNull(o, "name expression"));
        return Runtimes.current().compile(source, name, List.copyOf(options), List.copyOf(nameExpressions));
    }
}
