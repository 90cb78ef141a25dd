package io.github.hipffm.abi;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Compares the Java bindings of one target with its C headers: reads the bindings' claims ({@link JavaSide}), has
 * gcc evaluate the same facts against the headers ({@link CProbe}), and collects every disagreement.
 */
final class AbiComparison {

    private AbiComparison() {
    }

    /**
     * The outcome for one target.
     *
     * @param target     the binding set
     * @param checks     the number of checks per subject (a C type, {@code constants}, {@code functions} or
     *                   {@code classes}), in reading order
     * @param mismatches every disagreement found, except the exempted ones
     * @param exempted   the disagreements of constants exempted by name (see {@link #run(AbiTarget, Path, Set)})
     * @param constants  the C value of every constant, by name, as the probe printed it
     */
    record Result(String target, Map<String, Integer> checks, List<Mismatch> mismatches, List<Mismatch> exempted,
                  Map<String, String> constants) {

        List<String> messages() {
            return mismatches.stream().map(Mismatch::message).toList();
        }

        List<String> messages(String subject) {
            return mismatches.stream().filter(m -> m.subject().equals(subject)).map(Mismatch::message).toList();
        }
    }

    /** Compares the bindings of {@code target} with its headers, writing the C probe into {@code workDir}. */
    static Result run(AbiTarget target, Path workDir)
            throws IOException, InterruptedException, ReflectiveOperationException {
        return run(target, workDir, Set.of());
    }

    /**
     * Like {@link #run(AbiTarget, Path)}, but a constant named in {@code exemptConstants} whose C value differs from
     * the Java one is reported in {@link Result#exempted()} instead of {@link Result#mismatches()}. Nothing else is
     * exempted: not a type, not a function, not a constant the bindings lack.
     */
    static Result run(AbiTarget target, Path workDir, Set<String> exemptConstants)
            throws IOException, InterruptedException, ReflectiveOperationException {
        JavaSide java = JavaSide.read(target);

        CProbe probe = new CProbe(target.header());
        target.includes().functions().forEach(probe::function);
        java.facts().forEach(probe::fact);
        List<String> flags = Stream.concat(target.macros().stream(),
                Stream.of("-I", target.includeDir().toString())).toList();
        List<String> cValues = probe.run(workDir, flags);

        List<Mismatch> mismatches = new ArrayList<>(java.mismatches());
        List<Mismatch> exempted = new ArrayList<>();
        Map<String, String> constants = new LinkedHashMap<>();
        for (int i = 0; i < cValues.size(); i++) {
            Fact fact = java.facts().get(i);
            String c = cValues.get(i);
            fact.constant().ifPresent(name -> constants.put(name, c));
            if (!fact.kind().matches(c, fact.javaValue())) {
                Mismatch mismatch = new Mismatch(target.name(), fact.subject(), fact.description()
                        + ": C=" + fact.kind().show(c) + " Java=" + fact.kind().show(fact.javaValue()));
                boolean exempt = fact.constant().filter(exemptConstants::contains).isPresent();
                (exempt ? exempted : mismatches).add(mismatch);
            }
        }
        return new Result(target.name(), java.checks(), List.copyOf(mismatches), List.copyOf(exempted),
                Collections.unmodifiableMap(constants));
    }
}
