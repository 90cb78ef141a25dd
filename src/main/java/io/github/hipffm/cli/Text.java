package io.github.hipffm.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;

/** The human-readable form of the {@code info} report. */
final class Text {
    private Text() {
    }

    static void write(Map<String, Object> r, PrintStream out) {
        line(out, "hip-ffm", r.get("hipffm"));
        line(out, "platform", r.containsKey("platform")
                ? r.get("platform") + " (" + r.get("platformSelection") + ")" : "none (" + r.get("platformSelection") + ")");
        if (r.containsKey("library")) {
            line(out, "library", r.get("library"));
        }
        if (r.containsKey("runtimeVersion")) {
            line(out, "runtime version", r.get("runtimeVersion") + " (" + r.get("runtimeVersionRaw") + ")");
            line(out, "driver version", r.get("driverVersion"));
        }
        if (r.get("devices") instanceof List<?> devices && !devices.isEmpty()) {
            line(out, "devices", devices.size());
            for (Object o : devices) {
                Map<?, ?> d = (Map<?, ?>) o;
                out.println();
                out.println("device " + d.get("ordinal") + ": " + d.get("name"));
                for (String k : List.of("uuid", "pci", "totalMemory", "freeMemory", "computeCapability", "arch")) {
                    line(out, "  " + k, d.get(k));
                }
                if (d.get("attributes") instanceof Map<?, ?> attrs) {
                    attrs.forEach((k, v) -> line(out, "  " + k, v));
                }
            }
        } else if ("no runtime".equals(r.get("status")) || "bad HIP_PLATFORM".equals(r.get("status"))) {
            line(out, "error", r.get("error"));
        } else if (r.containsKey("error")) {
            line(out, "devices", "none: " + r.get("error"));
        }
        line(out, "status", r.get("status"));
    }

    private static void line(PrintStream out, String key, Object value) {
        out.printf("%-48s %s%n", key + ":", value);
    }
}
