package io.github.hipffm.cli;

import io.github.hipffm.Device;
import io.github.hipffm.DeviceAttribute;
import io.github.hipffm.Hip;
import io.github.hipffm.HipError;
import io.github.hipffm.HipException;
import io.github.hipffm.HipUnavailableException;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code hip-ffm} command line. {@code info} prints the platform, the runtime library and its versions, and
 * every device with what matters for interop; {@code info --json} prints the same as JSON.
 *
 * <p>Exit codes: 0 at least one device; 2 a runtime loaded but reported no usable device
 * ({@code hipErrorNoDevice}, or {@code hipErrorInsufficientDriver} on NVIDIA without a driver); 3 no runtime
 * could be loaded; 1 any other runtime error; 64 bad usage. {@code --help} or {@code -h} anywhere (or the command
 * {@code help}) prints the usage to standard output and exits 0.
 */
public final class Main {
    /** Exit code: at least one device. */
    public static final int OK = 0;
    /** Exit code: another runtime error. */
    public static final int ERROR = 1;
    /** Exit code: a runtime loaded, but no usable device. */
    public static final int NO_DEVICE = 2;
    /** Exit code: no runtime could be loaded. */
    public static final int NO_RUNTIME = 3;
    /** Exit code: bad command line. */
    public static final int USAGE = 64;

    private Main() {
    }

    /**
     * Runs the command line and exits with its code.
     *
     * @param args {@code info [--json]}, or {@code --help}
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the command line.
     *
     * @param args the arguments
     * @param out standard output
     * @param err standard error
     * @return the exit code
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<String> a = List.of(args);
        if (a.contains("--help") || a.contains("-h") || a.equals(List.of("help"))) {
            usage(out);
            return OK;
        }
        boolean json = a.contains("--json");
        List<String> rest = a.stream().filter(s -> !s.equals("--json")).toList();
        if (rest.size() != 1 || !rest.get(0).equals("info")) {
            usage(err);
            return USAGE;
        }
        Map<String, Object> report = new LinkedHashMap<>();
        int code = info(report);
        if (json) {
            out.println(Json.write(report));
        } else {
            Text.write(report, out);
        }
        return code;
    }

    private static void usage(PrintStream s) {
        s.println("usage: hip-ffm info [--json]");
        s.println("  prints the HIP runtime this JVM loads (HIP_PLATFORM=amd|nvidia picks one) and its devices");
        s.println("  exit codes: 0 devices found, 2 no usable device, 3 no runtime, 1 other runtime error, 64 bad usage");
    }

    /** Fills the report; never throws for runtime trouble, which becomes part of the report. */
    static int info(Map<String, Object> report) {
        report.put("hipffm", Main.class.getPackage().getImplementationVersion() instanceof String v ? v : "dev");
        String chosen = System.getProperty("hipffm.platform", System.getenv("HIP_PLATFORM"));
        report.put("platformSelection", chosen == null || chosen.isBlank() ? "auto" : "HIP_PLATFORM=" + chosen);
        try {
            report.put("platform", Hip.platform().id());
            report.put("library", Hip.library().toString());
        } catch (HipUnavailableException e) {
            report.put("error", e.getMessage());
            report.put("attempts", e.attempts());
            report.put("status", "no runtime");
            return NO_RUNTIME;
        } catch (IllegalArgumentException e) {
            report.put("error", e.getMessage());
            report.put("status", "bad HIP_PLATFORM");
            return USAGE;
        }
        try {
            var rv = Hip.runtimeVersion();
            report.put("runtimeVersion", rv.toString());
            report.put("runtimeVersionRaw", rv.raw());
            putOrError(report, "driverVersion", () -> Hip.driverVersion().toString());
            int n = Hip.deviceCount();
            List<Object> devices = new ArrayList<>();
            for (Device d : Hip.devices()) {
                devices.add(device(d));
            }
            report.put("deviceCount", n);
            report.put("devices", devices);
            report.put("status", n > 0 ? "ok" : "no device");
            return n > 0 ? OK : NO_DEVICE;
        } catch (HipException e) {
            report.put("deviceCount", 0);
            report.put("error", e.getMessage());
            report.put("errorName", e.error().hipName());
            report.put("errorCode", e.code());
            e.platformName().ifPresent(p -> report.put("platformErrorName", p));
            boolean noDevice = e.error() == HipError.NO_DEVICE || e.error() == HipError.INSUFFICIENT_DRIVER;
            report.put("status", noDevice ? "no device" : "error");
            return noDevice ? NO_DEVICE : ERROR;
        }
    }

    private static Map<String, Object> device(Device d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ordinal", d.ordinal());
        putOrError(m, "name", d::name);
        putOrError(m, "uuid", () -> HexFormat.of().formatHex(d.uuidBytes()));
        putOrError(m, "pci", () -> d.pciAddress().toString());
        putOrError(m, "totalMemory", d::totalMemory);
        putOrError(m, "freeMemory", () -> d.memoryInfo().free());
        putOrError(m, "computeCapability", () -> d.computeCapability().toString());
        putOrError(m, "arch", () -> d.archName().orElse("unknown"));
        Map<String, Object> attrs = new LinkedHashMap<>();
        for (DeviceAttribute a : DeviceAttribute.values()) {
            putOrError(attrs, a.hipName(), () -> d.attribute(a));
        }
        m.put("attributes", attrs);
        return m;
    }

    private interface Query {
        Object get();
    }

    private static void putOrError(Map<String, Object> m, String key, Query q) {
        try {
            m.put(key, q.get());
        } catch (HipException e) {
            m.put(key, "unavailable: " + e.error().hipName());
        }
    }
}
