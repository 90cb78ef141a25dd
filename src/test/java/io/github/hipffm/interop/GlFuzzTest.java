package io.github.hipffm.interop;

import io.github.hipffm.ArrayLevel;
import io.github.hipffm.Extent;
import io.github.hipffm.GraphicsResource.Flag;
import io.github.hipffm.GraphicsResource;
import io.github.hipffm.HipException;
import io.github.hipffm.Memory;
import io.github.hipffm.Stream;
import io.github.hipffm.fuzz.Gen;
import io.github.hipffm.interop.GraphicsResourceTest.GlHooks;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzing {@link GraphicsResource} against the test runtime's fake GL: registrations of buffers and textures with
 * every flag set, target and name (unknown, 0, negative, of the other kind), with and without a current context;
 * then random sequences of maps (several resources, duplicates, nulls, mapped ones, closed streams), buffer and
 * array access, data round trips through GL, unmaps and closes. Each call's outcome is predicted from the javadoc
 * and the test runtime's documented GL rules; at the end every GL object can be deleted, so none stayed registered.
 */
@Tag("testrt")
class GlFuzzTest {
    private static final int GL_TEXTURE_2D = 0x0DE1;
    private static final List<Integer> TARGETS = List.of(GL_TEXTURE_2D, 0x84F5, 0x8513, 0x806F, 0x8C1A, 0x8D41,
            0x0DE0, 0);
    private static final AtomicInteger NAMES = new AtomicInteger(50_000);

    /**
     * One GL object and its registration.
     *
     * @param texture a texture (else a buffer)
     * @param width a buffer's size in bytes, or a texture's width
     * @param height a texture's height
     * @param levels a texture's levels
     * @param asImage registered as an image (else as a buffer)
     * @param name 0: its own name; else a literal name (0, negative, or unknown)
     * @param target the image target
     * @param flags the registration flags
     */
    record Obj(boolean texture, int width, int height, int levels, boolean asImage, int name, int target, Set<Flag> flags) {
    }

    enum OpKind { MAP, BUFFER, ARRAY, UNMAP, CLOSE_RESOURCE, CLOSE_STREAM, GL_DEVICES }

    record Op(OpKind kind, List<Integer> resources, int index, int arrayIndex, int mip, boolean nullEntry) {
    }

    record Case(boolean context, List<Obj> objects, boolean nonBlocking, List<Op> ops) {
    }

    Gen<Case> cases() {
        Gen<Obj> objects = Gen.combine(Gen.of(true, false), Gen.ints(1, 64),
                Gen.ints(1, 64), Gen.ints(1, 7),
                Gen.frequency(Gen.w(8, 0), Gen.w(1, 1)),
                Gen.frequencyOf(Gen.w(20, Gen.just(0)), Gen.w(1, Gen.of(-1, 1, 49_999))),
                Gen.frequencyOf(Gen.w(12, Gen.just(GL_TEXTURE_2D)), Gen.w(1, Gen.of(TARGETS))),
                Gen.frequencyOf(Gen.w(4, Gen.just(Set.<Flag>of())),
                        Gen.w(2, Gen.of(Flag.class).map(Set::of)),
                        Gen.w(1, Gen.subsetOf(Flag.values()))))
                .as((texture, w, h, levels, mismatch, name, target, flags) -> new Obj(texture, texture ? w : w * 64, h,
                        levels, texture ^ (mismatch == 1), name, target, flags));
        Gen<Op> ops = Gen.combine(
                Gen.frequency(Gen.w(5, OpKind.MAP), Gen.w(4, OpKind.BUFFER), Gen.w(4, OpKind.ARRAY),
                        Gen.w(3, OpKind.UNMAP), Gen.w(1, OpKind.CLOSE_RESOURCE), Gen.w(1, OpKind.CLOSE_STREAM),
                        Gen.w(1, OpKind.GL_DEVICES)),
                Gen.ints(0, 2).list().ofMaxSize(3), Gen.ints(0, 2),
                Gen.frequencyOf(Gen.w(10, Gen.just(0)), Gen.w(1, Gen.of(-1, 1))),
                Gen.frequencyOf(Gen.w(8, Gen.ints(0, 3)), Gen.w(1, Gen.of(-1, 7))),
                Gen.frequency(Gen.w(20, false), Gen.w(1, true))).as(Op::new);
        return Gen.combine(Gen.frequency(Gen.w(8, true), Gen.w(1, false)),
                objects.list().ofMinSize(1).ofMaxSize(3), Gen.of(true, false), ops.list().ofMaxSize(15))
                .as(Case::new);
    }

    /** The test's view of one registered resource. */
    private static final class R {
        final GraphicsResource resource;
        final Obj obj;
        final int name;
        boolean closed;

        R(GraphicsResource resource, Obj obj, int name) {
            this.resource = resource;
            this.obj = obj;
            this.name = name;
        }
    }

    /** The test's view of one mapping. */
    private record M(GraphicsResource.Mapping mapping, List<R> resources, List<MemorySegment> buffers,
            List<ArrayLevel> levels) {
    }

    @Test
    @FuzzHook.Cases(800)
    void registrationsMapsAndUnmapsBehaveAsDocumented() {
        FuzzHook.check(cases(), this::registrationsMapsAndUnmapsBehaveAsDocumented);
    }

    private void registrationsMapsAndUnmapsBehaveAsDocumented(Case c) {
        List<Integer> defined = new ArrayList<>();
        GlHooks.setContext(c.context);
        try (Arena arena = Arena.ofConfined()) {
            List<R> registered = new ArrayList<>();
            for (Obj o : c.objects) {
                int name = NAMES.incrementAndGet();
                assertEquals(0, o.texture ? GlHooks.defineTexture(name, GL_TEXTURE_2D, o.width, o.height,
                        Math.min(o.levels, maxLevels(o)), 4) : GlHooks.defineBuffer(name, o.width));
                defined.add(name);
                R r = register(o, o.name != 0 ? o.name : name, c.context, arena);
                if (r != null) {
                    registered.add(r);
                }
            }
            if (registered.isEmpty()) {
                return;
            }
            Stream stream = c.nonBlocking ? Stream.create(arena, true) : Stream.defaultStream();
            boolean streamClosed = false;
            List<M> mappings = new ArrayList<>();
            for (Op op : c.ops) {
                switch (op.kind) {
                    case MAP -> map(op, registered, stream, streamClosed, mappings);
                    case BUFFER, ARRAY -> access(op, registered, mappings, arena);
                    case UNMAP -> {
                        if (!mappings.isEmpty()) {
                            M m = mappings.get(op.index % mappings.size());
                            Calls.run("Mapping.close", Calls.CLOSE, m.mapping::close).get();
                            unmapped(m, mappings);
                        }
                    }
                    case CLOSE_RESOURCE -> {
                        R r = registered.get(op.index % registered.size());
                        Calls.run("GraphicsResource.close", Calls.CLOSE, r.resource::close).get();
                        r.closed = true;
                        assertFalse(r.resource.isMapped());
                        for (M m : mappings) {
                            if (m.resources.contains(r)) {
                                assertTrue(m.mapping.isClosed(), "closing a mapped resource unmaps its whole mapping");
                                unmapped(m, mappings);
                            }
                        }
                    }
                    case CLOSE_STREAM -> {
                        stream.close();
                        streamClosed = stream != Stream.defaultStream();
                    }
                    case GL_DEVICES -> {
                        var devices = Calls.call("glDevices", Calls.NATIVE, GraphicsResource::glDevices)
                                .expect(c.context ? null : HipException.class);
                        if (devices.ok()) {
                            assertEquals(1, devices.get().size());
                            assertEquals(0, devices.get().get(0).ordinal());
                        }
                    }
                }
            }
        } finally {
            GlHooks.setContext(false);
        }
        for (int name : defined) {
            assertEquals(0, GlHooks.delete(name), "GL object " + name + " deleted, so no longer registered");
        }
    }

    private static int maxLevels(Obj o) {
        return 32 - Integer.numberOfLeadingZeros(Math.max(o.width, o.height));
    }

    private static R register(Obj o, int name, boolean context, Arena arena) {
        boolean conflicting = o.flags.contains(Flag.READ_ONLY) && o.flags.contains(Flag.WRITE_DISCARD);
        boolean imageOnlyFlags = o.flags.contains(Flag.SURFACE_LOAD_STORE) || o.flags.contains(Flag.TEXTURE_GATHER);
        Class<? extends RuntimeException> expected;
        if (name <= 0 || conflicting || (!o.asImage && imageOnlyFlags)
                || (o.asImage && !TARGETS.subList(0, 6).contains(o.target))) {
            expected = IllegalArgumentException.class;
        } else if (!context || o.flags.size() > 1 || name != NAMES.get() || o.texture != o.asImage
                || (o.asImage && o.target != GL_TEXTURE_2D)) {
            // the test runtime: no context, a combination of flags, an unknown name, the other kind, another target
            expected = HipException.class;
        } else {
            expected = null;
        }
        Set<Flag> flags = o.flags.isEmpty() ? EnumSet.noneOf(Flag.class) : EnumSet.copyOf(o.flags);
        var result = o.asImage
                ? Calls.call("registerImage", Calls.OWNED, () -> GraphicsResource.registerImage(arena, name, o.target, flags))
                : Calls.call("registerBuffer", Calls.OWNED, () -> GraphicsResource.registerBuffer(arena, name, flags));
        result.expect(expected);
        if (!result.ok()) {
            return null;
        }
        GraphicsResource r = result.get();
        assertEquals(o.asImage, r.isImage());
        assertEquals(name, r.glName());
        assertFalse(r.isMapped());
        return new R(r, o, name);
    }

    private static void map(Op op, List<R> registered, Stream stream, boolean streamClosed, List<M> mappings) {
        List<R> picked = new ArrayList<>();
        List<GraphicsResource> list = new ArrayList<>();
        for (int i : op.resources) {
            R r = registered.get(i % registered.size());
            picked.add(r);
            list.add(r.resource);
        }
        if (op.nullEntry) {
            picked.add(null);
            list.add(null);
        }
        Class<? extends RuntimeException> expected = list.isEmpty() ? IllegalArgumentException.class : null;
        Set<R> seen = new HashSet<>();
        for (R r : picked) {
            if (expected != null) {
                break;
            }
            if (r == null || !seen.add(r)) {
                expected = IllegalArgumentException.class;
            } else if (r.closed || r.resource.isMapped()) {
                expected = IllegalStateException.class;
            }
        }
        if (expected == null && streamClosed) {
            expected = IllegalStateException.class;
        }
        var result = Calls.call("map", Calls.NATIVE, () -> GraphicsResource.map(list, stream)).expect(expected);
        if (result.ok()) {
            for (R r : picked) {
                assertTrue(r.resource.isMapped());
            }
            assertEquals(list, result.get().resources());
            mappings.add(new M(result.get(), picked, new ArrayList<>(), new ArrayList<>()));
        }
    }

    private static void access(Op op, List<R> registered, List<M> mappings, Arena arena) {
        if (mappings.isEmpty()) {
            return;
        }
        M m = mappings.get(op.index % mappings.size());
        R r = registered.get(op.index % registered.size());
        boolean buffer = op.kind == OpKind.BUFFER;
        Class<? extends RuntimeException> expected;
        if (m.mapping.isClosed()) {
            expected = IllegalStateException.class;
        } else if (!m.resources.contains(r) || r.obj.asImage == buffer) {
            expected = IllegalArgumentException.class;
        } else if (!buffer && (op.arrayIndex < 0 || op.mip < 0)) {
            expected = IllegalArgumentException.class;
        } else if (!buffer && (op.arrayIndex != 0 || op.mip >= Math.min(r.obj.levels, maxLevels(r.obj)))) {
            expected = HipException.class;
        } else {
            expected = null;
        }
        if (buffer) {
            var result = Calls.call("Mapping.buffer", Calls.NATIVE, () -> m.mapping.buffer(r.resource)).expect(expected);
            if (result.ok()) {
                MemorySegment b = result.get();
                assertEquals(r.obj.width, b.byteSize(), "the GL buffer's size");
                assertTrue(b.isReadOnly());
                MemorySegment pattern = pattern(arena, b.byteSize(), r.name);
                Memory.copy(b, pattern);
                assertEquals(-1, GlHooks.readBuffer(arena, r.name, b.byteSize()).mismatch(pattern), "GL sees the copy");
                m.buffers.add(b);
            }
        } else {
            var result = Calls.call("Mapping.array", Calls.NATIVE, () -> m.mapping.array(r.resource, op.arrayIndex, op.mip))
                    .expect(expected);
            if (result.ok()) {
                ArrayLevel level = result.get();
                assertEquals(new Extent(Math.max(1, r.obj.width >> op.mip), Math.max(1, r.obj.height >> op.mip), 0),
                        level.extent());
                assertEquals(4, level.bytesPerElement());
                assertEquals(op.mip, level.level());
                MemorySegment pattern = pattern(arena, level.byteSize(), r.name + op.mip);
                level.copyFrom(pattern);
                assertEquals(-1, GlHooks.readTexture(arena, r.name, op.mip, level.byteSize()).mismatch(pattern),
                        "GL sees the copy into level " + op.mip);
                MemorySegment back = arena.allocate(level.byteSize());
                level.copyTo(back);
                assertEquals(-1, back.mismatch(pattern), "the level reads back");
                m.levels.add(level);
            }
        }
    }

    /** A closed mapping: its resources unmapped (unless mapped again since), its segments and levels refused. */
    private static void unmapped(M m, List<M> mappings) {
        assertTrue(m.mapping.isClosed());
        for (R r : m.resources) {
            boolean mappedAgain = mappings.stream().anyMatch(o -> !o.mapping.isClosed() && o.resources.contains(r));
            assertEquals(mappedAgain, r.resource.isMapped(), "mapped only by a later mapping");
        }
        for (MemorySegment b : m.buffers) {
            assertFalse(b.scope().isAlive());
            assertThrows(IllegalStateException.class, () -> Memory.fill(b, (byte) 0));
        }
        for (ArrayLevel level : m.levels) {
            assertThrows(IllegalStateException.class, level::handle);
        }
        Calls.call("Mapping.buffer after close", Calls.NATIVE, () -> m.mapping.buffer(m.resources.get(0).resource))
                .expect(IllegalStateException.class);
    }

    private static MemorySegment pattern(Arena arena, long size, int salt) {
        MemorySegment p = arena.allocate(size);
        for (long i = 0; i < size; i++) {
            p.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 13 + salt));
        }
        return p;
    }
}
