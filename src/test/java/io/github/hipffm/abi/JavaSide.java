package io.github.hipffm.abi;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;

import io.github.hipffm.abi.Fact.Kind;
import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads what the generated bindings of one target claim about the C ABI, by reflection on the generated classes:
 * the layout of every struct and union class (size, alignment, and offset and size of every named member, through
 * nested structs and unions), the value of every constant, and the presence of every function. The claims become
 * {@link Fact}s for the {@link CProbe} to check; what cannot even be read (a class or method the include list asks
 * for but the bindings lack) is reported directly as a {@link Mismatch}.
 */
final class JavaSide {

    /** The subjects, besides one per C type, under which the checks are grouped. */
    static final String CONSTANTS = "constants";
    static final String FUNCTIONS = "functions";
    static final String CLASSES = "classes";

    private final AbiTarget target;
    private final Class<?> headerClass;
    private final List<Fact> facts = new ArrayList<>();
    private final List<Mismatch> mismatches = new ArrayList<>();
    private final Map<String, Integer> checks = new LinkedHashMap<>();

    private JavaSide(AbiTarget target) throws ClassNotFoundException {
        this.target = target;
        this.headerClass = Class.forName(target.packageName() + "." + target.headerClass());
    }

    /** Reads the bindings of {@code target}. */
    static JavaSide read(AbiTarget target) throws ReflectiveOperationException, IOException {
        JavaSide side = new JavaSide(target);
        side.readTypes();
        side.readConstants();
        side.readFunctions();
        return side;
    }

    /** The facts to check on the C side, grouped by subject in the order they were read. */
    List<Fact> facts() {
        return facts;
    }

    /** What the bindings lack outright. */
    List<Mismatch> mismatches() {
        return mismatches;
    }

    /** The number of checks per subject, in reading order; every subject of a fact or mismatch is here. */
    Map<String, Integer> checks() {
        return checks;
    }

    // ---- structs and unions ----

    /**
     * Reads every top-level class of the bindings package that has a struct or union layout. The include list says
     * which C type each stands for; a typedef class that extends another class (a typedef of a struct whose own
     * class is generated) is covered by that class.
     */
    private void readTypes() throws ReflectiveOperationException, IOException {
        IncludeList includes = target.includes();
        Set<String> classes = new HashSet<>();
        for (Class<?> type : topLevelClasses()) {
            Optional<GroupLayout> layout = groupLayoutOf(type);
            if (layout.isEmpty()) {
                continue; // the header class, function pointer classes
            }
            String name = type.getSimpleName();
            classes.add(name);
            check(CLASSES);
            if (includes.isTypedef(name) && type.getSuperclass() != Object.class) {
                continue;
            }
            Optional<String> cType = includes.cTypeName(name);
            if (cType.isEmpty()) {
                mismatch(CLASSES, "class " + type.getName()
                        + " has a struct or union layout, but the include list names no struct, union or typedef " + name);
                continue;
            }
            readType(cType.get(), layout.get());
        }
        for (String name : Stream.concat(includes.structs().stream(), includes.unions().stream()).toList()) {
            if (!classes.contains(name)) {
                String cType = includes.cTypeName(name).orElseThrow();
                check(cType);
                mismatch(cType, cType + ": no class " + target.packageName() + "." + name + " with a layout()");
            }
        }
    }

    private void readType(String cType, GroupLayout layout) {
        fact(cType, cType + " sizeof", "sizeof(" + cType + ")", Kind.INTEGRAL, layout.byteSize());
        fact(cType, cType + " alignof", "_Alignof(" + cType + ")", Kind.INTEGRAL, layout.byteAlignment());
        readMembers(cType, layout, layout, List.of(), List.of());
    }

    /**
     * Reads the named members of {@code group}, which lies in the layout {@code root} of {@code cType} at
     * {@code javaPath}, and at the member designator {@code cPath} in C. Padding is unnamed and skipped; a sequence
     * (array) member is compared as a whole.
     */
    private void readMembers(String cType, GroupLayout root, GroupLayout group, List<String> cPath,
                             List<PathElement> javaPath) {
        for (MemoryLayout member : group.memberLayouts()) {
            if (member.name().isEmpty()) {
                continue;
            }
            String name = member.name().get();
            List<PathElement> javaMemberPath = append(javaPath, groupElement(name));
            // An anonymous struct or union member keeps jextract's "$anon$<line>:<column>" name: C reaches its
            // members directly through the enclosing type.
            boolean anonymous = name.startsWith("$anon$");
            List<String> cMemberPath = anonymous ? cPath : append(cPath, name);
            if (!anonymous) {
                String designator = String.join(".", cMemberPath);
                long offset = root.byteOffset(javaMemberPath.toArray(PathElement[]::new));
                fact(cType, cType + "." + designator + " offset", "offsetof(" + cType + ", " + designator + ")",
                        Kind.INTEGRAL, offset);
                fact(cType, cType + "." + designator + " size", "sizeof(((" + cType + " *) 0)->" + designator + ")",
                        Kind.INTEGRAL, member.byteSize());
            }
            if (member instanceof GroupLayout nested) {
                readMembers(cType, root, nested, cMemberPath, javaMemberPath);
            }
        }
    }

    /** The classes of the bindings package, not counting nested ones, read from where the header class was loaded. */
    private List<Class<?>> topLevelClasses() throws IOException, ClassNotFoundException {
        Path location;
        try {
            location = Path.of(headerClass.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the classes of " + headerClass, e);
        }
        String packagePath = target.packageName().replace('.', '/');
        List<String> names;
        if (Files.isDirectory(location)) {
            names = classNames(location.resolve(packagePath));
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(location)) {
                names = classNames(jar.getPath(packagePath));
            }
        }
        List<Class<?>> classes = new ArrayList<>();
        for (String name : names) {
            classes.add(Class.forName(target.packageName() + "." + name, false, headerClass.getClassLoader()));
        }
        return classes;
    }

    private static List<String> classNames(Path packageDir) throws IOException {
        try (Stream<Path> files = Files.list(packageDir)) {
            return files.map(file -> file.getFileName().toString())
                    .filter(file -> file.endsWith(".class") && !file.contains("$"))
                    .map(file -> file.substring(0, file.length() - ".class".length()))
                    .sorted()
                    .toList();
        }
    }

    /** The layout of a jextract struct or union class: what its public static {@code layout()} returns. */
    private static Optional<GroupLayout> groupLayoutOf(Class<?> type) throws ReflectiveOperationException {
        Method layout;
        try {
            layout = type.getMethod("layout");
        } catch (NoSuchMethodException e) {
            return Optional.empty();
        }
        if (!Modifier.isStatic(layout.getModifiers()) || !GroupLayout.class.isAssignableFrom(layout.getReturnType())) {
            return Optional.empty();
        }
        return Optional.of((GroupLayout) layout.invoke(null));
    }

    // ---- constants ----

    /** Reads each {@code --include-constant NAME} as the value of the header class's method {@code NAME()}. */
    private void readConstants() throws IllegalAccessException {
        for (String name : target.includes().constants()) {
            Method method = publicStaticMethod(name);
            if (method == null) {
                check(CONSTANTS);
                mismatch(CONSTANTS, "constant " + name + ": no public static method " + name + "() in "
                        + headerClass.getName());
                continue;
            }
            Object value;
            try {
                value = method.invoke(null);
            } catch (InvocationTargetException e) {
                throw new IllegalStateException(headerClass.getName() + "." + name + "() failed", e.getCause());
            }
            String description = "constant " + name;
            switch (value) {
                case MemorySegment address when address.byteSize() == 0 ->
                        fact(CONSTANTS, description, name, Kind.ADDRESS, address.address());
                case MemorySegment string -> fact(CONSTANTS, description, name, Kind.STRING, string.getString(0));
                case Float f -> fact(CONSTANTS, description, name, Kind.FLOATING, f);
                case Double d -> fact(CONSTANTS, description, name, Kind.FLOATING, d);
                case Character c -> fact(CONSTANTS, description, name, Kind.INTEGRAL, (int) c);
                case Number n -> fact(CONSTANTS, description, name, Kind.INTEGRAL, n);
                default -> throw new IllegalStateException(headerClass.getName() + "." + name
                        + "() returns a " + method.getReturnType() + ", which the ABI test cannot compare");
            }
        }
    }

    private Method publicStaticMethod(String name) {
        try {
            Method method = headerClass.getMethod(name);
            return Modifier.isStatic(method.getModifiers()) ? method : null;
        } catch (NoSuchMethodException e) {
            return null;
        }
    }

    // ---- functions ----

    /** Checks that each {@code --include-function NAME} has a public static method {@code NAME} in the header class. */
    private void readFunctions() {
        Set<String> methods = Arrays.stream(headerClass.getMethods())
                .filter(method -> Modifier.isStatic(method.getModifiers()))
                .map(Method::getName)
                .collect(Collectors.toSet());
        for (String name : target.includes().functions()) {
            check(FUNCTIONS);
            if (!methods.contains(name)) {
                mismatch(FUNCTIONS, "function " + name + ": no public static method " + name + " in "
                        + headerClass.getName());
            }
        }
    }

    // ---- bookkeeping ----

    private void fact(String subject, String description, String cExpression, Kind kind, Object javaValue) {
        check(subject);
        facts.add(new Fact(subject, description, cExpression, kind, javaValue));
    }

    private void check(String subject) {
        checks.merge(subject, 1, Integer::sum);
    }

    private void mismatch(String subject, String detail) {
        mismatches.add(new Mismatch(target.name(), subject, detail));
    }

    private static <T> List<T> append(List<T> list, T element) {
        return Stream.concat(list.stream(), Stream.of(element)).toList();
    }
}
