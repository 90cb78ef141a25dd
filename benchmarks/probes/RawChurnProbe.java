import java.lang.foreign.*;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import static java.lang.foreign.ValueLayout.*;

/**
 * churnprobe.c's loop from Java: libcudart dlopen'ed by the JVM, ordinary and critical downcalls. Compile with
 * {@code javac --release 22}, run with the bundle's JRE: {@code java --enable-native-access=ALL-UNNAMED RawChurnProbe}.
 */
public class RawChurnProbe {
    static MethodHandle h(SymbolLookup l, String name, FunctionDescriptor d, boolean critical) {
        MemorySegment a = l.find(name).orElseThrow();
        return critical ? Linker.nativeLinker().downcallHandle(a, d, Linker.Option.critical(false))
                : Linker.nativeLinker().downcallHandle(a, d);
    }
    interface Body { void run() throws Throwable; }
    static double measure(Body b) throws Throwable {
        double[] r = new double[5];
        for (int k = -2; k < 5; k++) {
            long t0 = System.nanoTime(), t; long n = 0;
            do { for (int j = 0; j < 16; j++) b.run(); n += 16; } while ((t = System.nanoTime()) - t0 < (k < 0 ? 300_000_000L : 400_000_000L));
            if (k >= 0) r[k] = (double) (t - t0) / n;
        }
        Arrays.sort(r);
        return r[2];
    }
    public static void main(String[] args) throws Throwable {
        SymbolLookup l = SymbolLookup.libraryLookup(args.length > 0 ? args[0] : "libcudart.so.13", Arena.global());
        for (boolean crit : new boolean[] {false, true, false}) {
            MethodHandle ec = h(l, "cudaEventCreateWithFlags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), crit);
            MethodHandle ed = h(l, "cudaEventDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), crit);
            MethodHandle sc = h(l, "cudaStreamCreateWithFlags", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), crit);
            MethodHandle sd = h(l, "cudaStreamDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS), crit);
            MethodHandle gd = h(l, "cudaGetDevice", FunctionDescriptor.of(JAVA_INT, ADDRESS), crit);
            MethodHandle sdv = h(l, "cudaSetDevice", FunctionDescriptor.of(JAVA_INT, JAVA_INT), false);
            if ((int) sdv.invokeExact(0) != 0) throw new IllegalStateException("cudaSetDevice");
            MemorySegment out = Arena.global().allocate(ADDRESS);
            double a = measure(() -> { if ((int) ec.invokeExact(out, 0) != 0) throw new Error(); if ((int) ed.invokeExact(out.get(ADDRESS, 0)) != 0) throw new Error(); });
            double b = measure(() -> { if ((int) ec.invokeExact(out, 2) != 0) throw new Error(); if ((int) ed.invokeExact(out.get(ADDRESS, 0)) != 0) throw new Error(); });
            double c = measure(() -> { if ((int) sc.invokeExact(out, 0) != 0) throw new Error(); if ((int) sd.invokeExact(out.get(ADDRESS, 0)) != 0) throw new Error(); });
            double g = measure(() -> { if ((int) gd.invokeExact(out) != 0) throw new Error(); });
            System.out.printf("java %-9s event(timing) %7.1f ns  event(no timing) %7.1f ns  stream %7.1f ns  cudaGetDevice %6.1f ns%n",
                    crit ? "critical" : "ordinary", a, b, c, g);
        }
    }
}
