package io.github.hipffm.abi;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A curated jextract include list ({@code jextract-config/<target>/includes.txt}): the C declarations the bindings
 * of one target were generated from, by kind.
 */
record IncludeList(List<String> functions, List<String> constants, List<String> structs, List<String> unions,
                   List<String> typedefs) {

    static IncludeList read(Path file) throws IOException {
        List<String> functions = new ArrayList<>();
        List<String> constants = new ArrayList<>();
        List<String> structs = new ArrayList<>();
        List<String> unions = new ArrayList<>();
        List<String> typedefs = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] words = trimmed.split("\\s+");
            if (words.length != 2) {
                throw new IllegalArgumentException(file + ": expected '--include-<kind> NAME', got '" + line + "'");
            }
            List<String> list = switch (words[0]) {
                case "--include-function" -> functions;
                case "--include-constant" -> constants;
                case "--include-struct" -> structs;
                case "--include-union" -> unions;
                case "--include-typedef" -> typedefs;
                default -> throw new IllegalArgumentException(file + ": unsupported option '" + words[0] + "'");
            };
            list.add(words[1]);
        }
        return new IncludeList(List.copyOf(functions), List.copyOf(constants), List.copyOf(structs),
                List.copyOf(unions), List.copyOf(typedefs));
    }

    /**
     * The C spelling of the type jextract generated the class {@code name} for: {@code struct name},
     * {@code union name} or the typedef name itself; empty if the list names no such type.
     */
    Optional<String> cTypeName(String name) {
        if (structs.contains(name)) {
            return Optional.of("struct " + name);
        }
        if (unions.contains(name)) {
            return Optional.of("union " + name);
        }
        if (typedefs.contains(name)) {
            return Optional.of(name);
        }
        return Optional.empty();
    }

    boolean isTypedef(String name) {
        return typedefs.contains(name);
    }
}
