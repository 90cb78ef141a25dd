package io.github.hipffm;

import io.github.hipffm.internal.Codes;
import io.github.hipffm.internal.Backend;
import io.github.hipffm.internal.Runtimes;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * An OpenGL buffer object or texture registered with HIP ({@code hipGraphicsGLRegisterBuffer},
 * {@code hipGraphicsGLRegisterImage}), so that HIP can work on GL's memory in place.
 *
 * <h2>Map, use, unmap</h2>
 * GL and HIP take turns: {@link #map(Stream)} (or {@link #map(List, Stream)} for several resources in one native
 * call) hands the resources to HIP and returns a {@link Mapping}; while it is open, HIP may use
 * {@link Mapping#buffer(GraphicsResource)} (a device segment) and {@link Mapping#array(GraphicsResource, int, int)}
 * (a texture level), and GL must not touch them; {@link Mapping#close()} unmaps them in one call, invalidates every
 * segment and array handed out by that mapping (using one afterwards throws {@link IllegalStateException}), and
 * gives them back to GL. Map and unmap are ordered on the stream given to {@code map}; closing that stream closes
 * the mapping first.
 *
 * <h2>Threads and the GL context</h2>
 * Registering, mapping and unmapping need the GL context that owns the objects to be current on the calling
 * thread (and GL to be on the same GPU: {@link #glDevices()}); otherwise the runtime refuses
 * ({@code hipErrorInvalidGraphicsContext} or similar, with a hint in the message).
 *
 * <h2>Headless contexts (no display)</h2>
 * On a server GPU, EGL's device platform gives a desktop GL context without a window: {@code eglQueryDevicesEXT},
 * {@code eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, ...)}, a pbuffer, {@code eglBindAPI(EGL_OPENGL_API)},
 * {@code eglCreateContext}, {@code eglMakeCurrent} (the GPU tests' {@code HeadlessGl} does exactly this). Seen on
 * an H100 with driver 580: when LWJGL's {@code org.lwjgl.egl.EGL} class had been initialised in the process
 * ({@code EGL.getCapabilities()}), CUDA did not see the current context ({@code hipGLGetDevices} failed with
 * {@code cudaErrorDeviceUninitialized}, registering with {@code cudaErrorInvalidGraphicsContext}), even for a
 * context made without LWJGL; calling libEGL's functions directly (FFM) and LWJGL only for GL works.
 *
 * <h2>Lifetime</h2>
 * Owned by an {@link Arena} or closed by {@link #close()}: a mapped resource is unmapped first (its whole mapping),
 * then unregistered. Closing twice is harmless. {@link #handle()} is the raw {@code hipGraphicsResource_t}.
 *
 * {@snippet :
 * GraphicsResource vbo = GraphicsResource.registerBuffer(arena, glBuffer, EnumSet.of(GraphicsResource.Flag.WRITE_DISCARD));
 * for (int frame = 0; frame < frames; frame++) {
 *     try (GraphicsResource.Mapping m = vbo.map(stream)) {
 *         kernel.launch(grid, block, 0, stream, m.buffer(vbo), time(frame));   // HIP writes the vertices
 *     }                                                                     // unmapped: GL draws them
 *     glDrawArrays(GL_POINTS, 0, count);
 * }
 * }
 */
public final class GraphicsResource extends NativeResource {
    /** A registration flag ({@code hipGraphicsRegisterFlags}). */
    public enum Flag {
        /** HIP will only read: GL's contents are not written back. */
        READ_ONLY,
        /** HIP will overwrite everything: contents are undefined when mapped. */
        WRITE_DISCARD,
        /** Images: HIP may bind the array as a surface. */
        SURFACE_LOAD_STORE,
        /** Images: HIP may use texture gather. */
        TEXTURE_GATHER;

        /** {@return the {@code hipGraphicsRegisterFlags} value, for the generated bindings} */
        public int hipValue() {
            return Codes.hip(this);
        }
    }

    /** GL texture targets a texture may be registered with. */
    private static final Set<Integer> IMAGE_TARGETS = Set.of(
            0x0DE1,   // GL_TEXTURE_2D
            0x84F5,   // GL_TEXTURE_RECTANGLE
            0x8513,   // GL_TEXTURE_CUBE_MAP
            0x806F,   // GL_TEXTURE_3D
            0x8C1A,   // GL_TEXTURE_2D_ARRAY
            0x8D41);  // GL_RENDERBUFFER
    private static final String CONTEXT_HINT = "is the GL context that owns the object current on this thread, and on"
            + " the same GPU (GraphicsResource.glDevices())?";

    private final boolean image;
    private final int glName;
    private volatile Mapping mapping;

    private GraphicsResource(Backend backend, Lifetime lifetime, MemorySegment handle, boolean image, int glName) {
        super(backend, lifetime, handle);
        this.image = image;
        this.glName = glName;
    }

    /**
     * {@return the devices behind the GL context current on this thread ({@code hipGLGetDevices})}
     */
    public static List<Device> glDevices() {
        List<Device> devices = new ArrayList<>();
        Backend b = Runtimes.current();
        for (int d : b.glDevices(16)) {
            devices.add(new Device(b, d));
        }
        return List.copyOf(devices);
    }

    /**
     * Registers a GL buffer object.
     *
     * @param arena the owner
     * @param glBuffer the buffer name, &gt; 0
     * @param flags at most one of {@link Flag#READ_ONLY} and {@link Flag#WRITE_DISCARD}
     * @return the registered resource
     */
    public static GraphicsResource registerBuffer(Arena arena, int glBuffer, Set<Flag> flags) {
        Checks.notNull(arena, "arena");
        checkName(glBuffer, "GL buffer");
        Set<Flag> f = flags(flags, false);
        Backend b = Runtimes.current();
        return register(arena, b, false, glBuffer, () -> b.glRegisterBuffer(glBuffer, f));
    }

    /**
     * Registers a GL texture or renderbuffer.
     *
     * @param arena the owner
     * @param glImage the texture or renderbuffer name, &gt; 0
     * @param glTarget {@code GL_TEXTURE_2D}, {@code GL_TEXTURE_RECTANGLE}, {@code GL_TEXTURE_CUBE_MAP},
     *     {@code GL_TEXTURE_3D}, {@code GL_TEXTURE_2D_ARRAY} or {@code GL_RENDERBUFFER}
     * @param flags any of the flags, but not both {@link Flag#READ_ONLY} and {@link Flag#WRITE_DISCARD}
     * @return the registered resource
     */
    public static GraphicsResource registerImage(Arena arena, int glImage, int glTarget, Set<Flag> flags) {
        Checks.notNull(arena, "arena");
        checkName(glImage, "GL texture");
        if (!IMAGE_TARGETS.contains(glTarget)) {
            throw new IllegalArgumentException("GL target 0x" + Integer.toHexString(glTarget) + " cannot be registered;"
                    + " use GL_TEXTURE_2D, GL_TEXTURE_RECTANGLE, GL_TEXTURE_CUBE_MAP, GL_TEXTURE_3D, GL_TEXTURE_2D_ARRAY"
                    + " or GL_RENDERBUFFER");
        }
        Set<Flag> f = flags(flags, true);
        Backend b = Runtimes.current();
        return register(arena, b, true, glImage, () -> b.glRegisterImage(glImage, glTarget, f));
    }

    private static GraphicsResource register(Arena arena, Backend b, boolean image, int name,
            Supplier<MemorySegment> registration) {
        try {
            return Lifetime.create(arena, "GraphicsResource", registration, b::graphicsUnregister,
                    (lifetime, h) -> new GraphicsResource(b, lifetime, h, image, name));
        } catch (HipException e) {
            throw withContextHint(e);
        }
    }

    /** The context hint, for the errors a missing or foreign GL context produces (not, say, out of memory). */
    private static HipException withContextHint(HipException e) {
        return switch (e.error()) {
            case INVALID_GRAPHICS_CONTEXT, INVALID_CONTEXT, INVALID_VALUE, UNKNOWN -> new HipException(e, CONTEXT_HINT);
            default -> e;
        };
    }

    private static void checkName(int name, String what) {
        if (name <= 0) {
            throw new IllegalArgumentException(what + " name must be > 0 (0 is no object), got " + name);
        }
    }

    private static Set<Flag> flags(Set<Flag> flags, boolean image) {
        Checks.notNull(flags, "flags");
        if (flags.contains(Flag.READ_ONLY) && flags.contains(Flag.WRITE_DISCARD)) {
            throw new IllegalArgumentException("READ_ONLY and WRITE_DISCARD exclude each other");
        }
        if (!image && (flags.contains(Flag.SURFACE_LOAD_STORE) || flags.contains(Flag.TEXTURE_GATHER))) {
            throw new IllegalArgumentException("SURFACE_LOAD_STORE and TEXTURE_GATHER are for images, not buffers");
        }
        return flags.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(flags));
    }

    /** {@return true for a texture or renderbuffer, false for a buffer object} */
    public boolean isImage() {
        return image;
    }

    /** {@return the GL object's name} */
    public int glName() {
        return glName;
    }

    /** {@return whether a mapping of this resource is open} */
    public boolean isMapped() {
        Mapping m = mapping;
        return m != null && !m.isClosed();
    }

    /**
     * Maps this resource for HIP ({@code hipGraphicsMapResources}).
     *
     * @param stream the stream the map (and later the unmap) is ordered on; closing it closes the mapping first
     * @return the mapping; close it to give the resource back to GL
     */
    public Mapping map(Stream stream) {
        return map(List.of(this), stream);
    }

    /**
     * Maps several resources in one native call.
     *
     * @param resources distinct, registered, unmapped resources
     * @param stream the stream the map and the unmap are ordered on; closing it closes the mapping first
     * @return the mapping of all of them
     */
    public static Mapping map(List<GraphicsResource> resources, Stream stream) {
        Checks.notNull(resources, "resources");
        Checks.notNull(stream, "stream");
        if (resources.isEmpty()) {
            throw new IllegalArgumentException("resources must not be empty");
        }
        Set<GraphicsResource> seen = new HashSet<>();
        MemorySegment[] handles = new MemorySegment[resources.size()];
        Lifetime[] parents = new Lifetime[handles.length + 1];
        for (int i = 0; i < handles.length; i++) {
            GraphicsResource r = Checks.notNull(resources.get(i), "resources[" + i + "]");
            if (!seen.add(r)) {
                throw new IllegalArgumentException("resources[" + i + "] is listed twice");
            }
            r.lifetime.checkOpen();
            if (r.isMapped()) {
                throw new IllegalStateException("resources[" + i + "] (GL object " + r.glName + ") is already mapped");
            }
            handles[i] = r.handle;
            parents[i] = r.lifetime;
        }
        MemorySegment s = stream.handle();
        parents[handles.length] = stream.lifetime;
        Backend b = resources.get(0).backend;
        // The mapping is a child of every resource it maps (closing one of them unmaps first, then unregisters) and
        // of the stream its unmap is ordered on (closing the stream unmaps first, then destroys the stream).
        Lifetime lifetime = Lifetime.childOf("GraphicsResource.Mapping", parents);
        try {
            b.graphicsMap(handles, s);
        } catch (RuntimeException e) {
            lifetime.close();
            throw e instanceof HipException h ? withContextHint(h) : e;
        }
        MemorySegment[] raw = new MemorySegment[handles.length];
        for (int i = 0; i < raw.length; i++) {
            raw[i] = MemorySegment.ofAddress(handles[i].address());
        }
        MemorySegment rawStream = s.equals(MemorySegment.NULL) ? s : MemorySegment.ofAddress(s.address());
        Mapping m = new Mapping(b, lifetime, List.copyOf(resources), raw, rawStream);
        for (GraphicsResource r : resources) {
            r.mapping = m;
        }
        return m;
    }

    /**
     * Resources mapped for HIP. Everything it hands out is valid until {@link #close()}, which unmaps all of its
     * resources in one call ({@code hipGraphicsUnmapResources}) and gives them back to GL.
     */
    public static final class Mapping implements AutoCloseable {
        private final Backend backend;
        private final List<GraphicsResource> resources;
        private final Lifetime lifetime;

        private Mapping(Backend backend, Lifetime lifetime, List<GraphicsResource> resources, MemorySegment[] raw,
                MemorySegment stream) {
            this.backend = backend;
            this.lifetime = lifetime;
            this.resources = resources;
            lifetime.onClose(() -> {
                for (GraphicsResource r : resources) {
                    r.mapping = null;
                }
                backend.graphicsUnmap(raw, stream);
            });
        }

        /** {@return the mapped resources} */
        public List<GraphicsResource> resources() {
            return resources;
        }

        /**
         * {@return a mapped buffer's memory as a read-only device segment of the size the runtime reports,
         * valid until this mapping is closed ({@code hipGraphicsResourceGetMappedPointer})}
         * @param resource a buffer resource of this mapping
         */
        public MemorySegment buffer(GraphicsResource resource) {
            check(resource);
            if (resource.image) {
                throw new IllegalArgumentException("GL object " + resource.glName + " is an image: use array()");
            }
            MemorySegment p = backend.graphicsMappedBuffer(resource.handle);
            return p.reinterpret(lifetime.arena(), null).asReadOnly();
        }

        /**
         * {@return one level of a mapped image, valid until this mapping is closed
         * ({@code hipGraphicsSubResourceGetMappedArray}); its extent and format come from the runtime}
         * @param resource an image resource of this mapping
         * @param arrayIndex the layer or cube face, 0 for plain textures
         * @param mipLevel the mip level
         */
        public ArrayLevel array(GraphicsResource resource, int arrayIndex, int mipLevel) {
            check(resource);
            if (!resource.image) {
                throw new IllegalArgumentException("GL object " + resource.glName + " is a buffer: use buffer()");
            }
            if (arrayIndex < 0 || mipLevel < 0) {
                throw new IllegalArgumentException("array index and mip level must be >= 0, got " + arrayIndex + ", "
                        + mipLevel);
            }
            MemorySegment a = backend.graphicsMappedArray(resource.handle, arrayIndex, mipLevel);
            Backend.ArrayInfo info = backend.arrayInfo(a);
            return new ArrayLevel(backend, lifetime, lifetime.guard(a), mipLevel, info.extent(),
                    info.bytesPerElement(), info.format(), info.surfaceLoadStore());
        }

        /** {@return the GL objects it maps and, once unmapped, {@code closed}} */
        @Override
        public String toString() {
            return "GraphicsResource.Mapping" + resources.stream().map(r -> (r.image ? "image " : "buffer ") + r.glName)
                    .collect(java.util.stream.Collectors.joining(", ", "[", lifetime.isClosed() ? ", closed]" : "]"));
        }

        private void check(GraphicsResource resource) {
            lifetime.checkOpen();
            Checks.notNull(resource, "resource");
            if (!resources.contains(resource)) {
                throw new IllegalArgumentException("GL object " + resource.glName + " is not part of this mapping");
            }
        }

        /** {@return whether it was unmapped} */
        public boolean isClosed() {
            return lifetime.isClosed();
        }

        /** Unmaps every resource of this mapping in one call; does nothing the second time. */
        @Override
        public void close() {
            lifetime.close();
        }
    }

    @Override
    String describe() {
        return (image ? "image " : "buffer ") + glName + (mapping != null ? ", mapped" : "");
    }
}
