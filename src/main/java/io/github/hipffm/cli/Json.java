package io.github.hipffm.cli;

import java.util.List;
import java.util.Map;

/** A minimal JSON writer for the report: maps, lists, strings, numbers and booleans. */
final class Json {
    private Json() {
    }

    static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(value, sb, "");
        return sb.toString();
    }

    private static void write(Object v, StringBuilder sb, String indent) {
        String inner = indent + "  ";
        if (v instanceof Map<?, ?> m) {
            sb.append("{");
            String sep = "\n";
            for (var e : m.entrySet()) {
                sb.append(sep).append(inner);
                string(String.valueOf(e.getKey()), sb);
                sb.append(": ");
                write(e.getValue(), sb, inner);
                sep = ",\n";
            }
            sb.append(m.isEmpty() ? "}" : "\n" + indent + "}");
        } else if (v instanceof List<?> l) {
            sb.append("[");
            String sep = "\n";
            for (Object o : l) {
                sb.append(sep).append(inner);
                write(o, sb, inner);
                sep = ",\n";
            }
            sb.append(l.isEmpty() ? "]" : "\n" + indent + "]");
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else if (v == null) {
            sb.append("null");
        } else {
            string(v.toString(), sb);
        }
    }

    private static void string(String s, StringBuilder sb) {
        sb.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
