package io.github.hipffm.bench;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.Arena;

/**
 * The owner arena a churning caller gives each new resource, the two ways one churns:
 * <ul>
 *   <li>{@code lifetime=perOp}: an arena per operation, {@code try (Arena a = Arena.ofConfined()) { ... }}; its
 *       close releases the resource (no {@code close()} on the resource itself);</li>
 *   <li>{@code lifetime=longLived}: one arena that outlives many resources (here: one per JMH iteration, opened
 *       before it and closed after it, outside the timing), each resource released by its own {@code close()}.</li>
 * </ul>
 * and each with {@code arena=confined} ({@link Arena#ofConfined()}) or {@code arena=shared}
 * ({@link Arena#ofShared()}). Thread-scoped: JMH runs its setup and teardown on the benchmark thread, which a
 * confined arena needs.
 */
@State(Scope.Thread)
public class OwnerArena {
    /** {@code confined} or {@code shared}. */
    @Param({"confined", "shared"})
    public String arena;

    /** {@code perOp} (an arena per operation) or {@code longLived} (one arena, {@code close()} per resource). */
    @Param({"perOp", "longLived"})
    public String lifetime;

    boolean perOp;
    boolean shared;
    /** The long-lived arena of this iteration (null for {@code perOp}). */
    Arena longLived;

    /** Reads the parameters. */
    @Setup(Level.Trial)
    public void parameters() {
        shared = switch (arena) {
            case "confined" -> false;
            case "shared" -> true;
            default -> throw new IllegalArgumentException("arena must be confined or shared, got " + arena);
        };
        perOp = switch (lifetime) {
            case "perOp" -> true;
            case "longLived" -> false;
            default -> throw new IllegalArgumentException("lifetime must be perOp or longLived, got " + lifetime);
        };
    }

    /** Opens this iteration's long-lived arena. */
    @Setup(Level.Iteration)
    public void open() {
        longLived = perOp ? null : newArena();
    }

    /** Closes it (releasing nothing: every resource in it was closed already). */
    @TearDown(Level.Iteration)
    public void close() {
        if (longLived != null) {
            longLived.close();
            longLived = null;
        }
    }

    /** {@return a new arena of the benchmarked kind} */
    Arena newArena() {
        return newArena(shared);
    }

    /** {@return a new shared ({@code true}) or confined arena} */
    static Arena newArena(boolean shared) {
        return shared ? Arena.ofShared() : Arena.ofConfined();
    }
}
