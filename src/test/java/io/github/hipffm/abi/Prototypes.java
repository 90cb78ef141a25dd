package io.github.hipffm.abi;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The function prototypes of a header as the C compiler sees them: {@code gcc -aux-info} writes every declaration it
 * compiles with its types spelled out (typedef names kept, parameter names dropped), e.g.
 * {@code extern hipError_t hipMemcpyHtoD (hipDeviceptr_t, void *, size_t);}. The {@link CProbe} then asks the
 * compiler for the size and type class of each of those types.
 */
final class Prototypes {

    /**
     * One declared function.
     *
     * @param name       the function
     * @param returnType the C return type, {@code void} included
     * @param parameters the C parameter types; empty for {@code (void)}
     * @param variadic   whether the parameter list ends with {@code ...}
     */
    record Prototype(String name, String returnType, List<String> parameters, boolean variadic) {

        /** The prototype as one line, e.g. {@code hipError_t hipMemcpyHtoD (hipDeviceptr_t, void *, size_t)}. */
        String text() {
            List<String> all = new ArrayList<>(parameters);
            if (variadic) {
                all.add("...");
            }
            return returnType + " " + name + " (" + (all.isEmpty() ? "void" : String.join(", ", all)) + ")";
        }
    }

    /**
     * How the prototypes of some functions in one set of headers compare with those in a reference set.
     *
     * @param differences every function whose prototype differs other than in {@code const}, or is missing, as
     *                    {@code reference -> other}
     * @param constOnly   the functions whose prototypes differ in {@code const} qualifiers only, which leaves the
     *                    calling convention (and the bindings' downcall descriptors) unchanged
     */
    record Comparison(List<String> differences, List<String> constOnly) {
    }

    /** Compares the prototypes of {@code functions} in {@code other} with those in {@code reference}. */
    static Comparison compare(List<String> functions, Prototypes reference, Prototypes other) {
        List<String> differences = new ArrayList<>();
        List<String> constOnly = new ArrayList<>();
        for (String function : functions) {
            String expected = reference.of(function).map(Prototype::text).orElse("(no prototype)");
            String actual = other.of(function).map(Prototype::text).orElse("(no prototype)");
            if (expected.equals(actual)) {
                continue;
            }
            if (!expected.startsWith("(") && withoutConst(expected).equals(withoutConst(actual))) {
                constOnly.add(function);
            } else {
                differences.add(expected + " -> " + actual);
            }
        }
        return new Comparison(List.copyOf(differences), List.copyOf(constOnly));
    }

    /** The prototype without {@code const} and without white space, for comparison only. */
    private static String withoutConst(String prototype) {
        return prototype.replaceAll("\\bconst\\b", "").replaceAll("\\s+", "");
    }

    /** A line of the aux-info file: a comment naming file and line, then {@code [extern] RETURN NAME (PARAMETERS);}. */
    private static final Pattern DECLARATION = Pattern.compile(
            "^/\\*.*?\\*/\\s*(?:extern\\s+|static\\s+)?(?:inline\\s+)?(?<return>.*?)\\s*\\b(?<name>[A-Za-z_][A-Za-z0-9_]*) \\((?<parameters>.*)\\);");

    private final Map<String, Prototype> byName;

    private Prototypes(Map<String, Prototype> byName) {
        this.byName = byName;
    }

    /** The prototype of {@code name}: its first declaration. */
    Optional<Prototype> of(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Compiles {@code header} with {@code gcc -aux-info} and the given flags, in {@code workDir}, and reads it. */
    static Prototypes read(Path header, List<String> compilerFlags, Path workDir)
            throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path auxInfo = workDir.resolve("aux-info.txt");
        List<String> gcc = new ArrayList<>(List.of("gcc", "-fsyntax-only", "-aux-info", auxInfo.toString()));
        gcc.addAll(compilerFlags);
        gcc.addAll(List.of("-x", "c", header.toAbsolutePath().toString()));
        Process process;
        try {
            process = new ProcessBuilder(gcc).directory(workDir.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            fail("gcc not found on PATH (" + e.getMessage() + "): the ABI test reads the headers' prototypes with "
                    + "gcc -aux-info; install gcc");
            throw e;
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = process.waitFor();
        if (exit != 0) {
            fail(String.join(" ", gcc) + " failed (exit " + exit + "):\n" + output);
        }
        return parse(Files.readAllLines(auxInfo));
    }

    static Prototypes parse(List<String> auxInfoLines) {
        Map<String, Prototype> byName = new HashMap<>();
        for (String line : auxInfoLines) {
            Matcher m = DECLARATION.matcher(line);
            if (!m.find()) {
                continue;
            }
            List<String> parameters = splitParameters(m.group("parameters"));
            boolean variadic = !parameters.isEmpty() && parameters.getLast().equals("...");
            if (variadic) {
                parameters = parameters.subList(0, parameters.size() - 1);
            }
            if (parameters.equals(List.of("void"))) {
                parameters = List.of();
            }
            byName.putIfAbsent(m.group("name"),
                    new Prototype(m.group("name"), m.group("return").strip(), List.copyOf(parameters), variadic));
        }
        return new Prototypes(byName);
    }

    /** Splits at the commas outside parentheses and brackets (a function pointer's own parameters stay together). */
    private static List<String> splitParameters(String list) {
        List<String> parameters = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < list.length(); i++) {
            char c = list.charAt(i);
            if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parameters.add(list.substring(start, i).strip());
                start = i + 1;
            }
        }
        String last = list.substring(start).strip();
        if (!last.isEmpty()) {
            parameters.add(last);
        }
        return parameters;
    }
}
