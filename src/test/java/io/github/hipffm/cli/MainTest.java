package io.github.hipffm.cli;

import io.github.hipffm.Hip;
import io.github.hipffm.HipException;
import io.github.hipffm.HipUnavailableException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    /** What this machine should give: devices, no device, or no runtime. */
    private static int expectedCode() {
        try {
            return Hip.deviceCount() > 0 ? Main.OK : Main.NO_DEVICE;
        } catch (HipUnavailableException e) {
            return Main.NO_RUNTIME;
        } catch (HipException e) {
            return Main.NO_DEVICE;
        }
    }

    @Test
    void infoPrintsTheRuntimeAndTheDeviceSituation() {
        int code = run("info");
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(expectedCode(), code, text);
        assertTrue(text.contains("platform:"), text);
        if (code != Main.NO_RUNTIME) {
            assertTrue(text.contains("library:") && text.contains(Hip.library().toString()), text);
            assertTrue(text.contains("runtime version:"), text);
        }
        if (code == Main.NO_DEVICE) {
            assertTrue(text.contains("status:") && text.contains("no device"), text);
            assertTrue(text.contains("hipGetDeviceCount failed: hipError"), text);
        }
        assertTrue(!text.contains("Exception") && !text.contains("\tat "), "no stack trace: " + text);
    }

    @Test
    void jsonCarriesTheSameFacts() {
        int code = run("info", "--json");
        String json = out.toString(StandardCharsets.UTF_8).strip();
        assertEquals(expectedCode(), code, json);
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        String status = switch (code) {
            case Main.OK -> "ok";
            case Main.NO_DEVICE -> "no device";
            default -> "no runtime";
        };
        assertTrue(json.contains("\"status\": \"" + status + "\""), json);
        if (code == Main.NO_DEVICE) {
            assertTrue(json.contains("\"deviceCount\": 0") && json.contains("\"errorName\": \"hipError"), json);
        }
    }

    @Test
    void badUsageSaysHowToUseIt() {
        assertEquals(Main.USAGE, run("frobnicate"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("usage: hip-ffm info [--json]"));
        assertEquals(Main.USAGE, run());
    }

    @Test
    void helpIsNoError() {
        for (String[] help : new String[][] {{"--help"}, {"-h"}, {"help"}, {"info", "--help"}}) {
            out.reset();
            err.reset();
            assertEquals(Main.OK, run(help), String.join(" ", help));
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(text.startsWith("usage: hip-ffm info [--json]"), String.join(" ", help) + ": " + text);
            assertTrue(text.contains("exit codes: 0"), text);
            assertEquals("", err.toString(StandardCharsets.UTF_8), "help goes to standard output");
        }
        assertEquals(Main.USAGE, run("help", "info"), "help takes no arguments");
    }

    @Test
    void jsonEscapesStrings() {
        var report = new java.util.LinkedHashMap<String, Object>();
        report.put("a", "q\"\n\u0001");
        report.put("b", java.util.List.of(1, true));
        assertEquals("{\n  \"a\": \"q\\\"\\n\\u0001\",\n  \"b\": [\n    1,\n    true\n  ]\n}", Json.write(report));
    }
}
