package io.github.hipffm.gpu;

import org.lwjgl.PointerBuffer;
import org.lwjgl.opengl.GL;
import org.lwjgl.opengl.GLCapabilities;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.MemoryStack;

import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.lwjgl.egl.EGL10.EGL_EXTENSIONS;
import static org.lwjgl.egl.EGL10.EGL_HEIGHT;
import static org.lwjgl.egl.EGL10.EGL_NONE;
import static org.lwjgl.egl.EGL10.EGL_NO_CONTEXT;
import static org.lwjgl.egl.EGL10.EGL_NO_DISPLAY;
import static org.lwjgl.egl.EGL10.EGL_NO_SURFACE;
import static org.lwjgl.egl.EGL10.EGL_PBUFFER_BIT;
import static org.lwjgl.egl.EGL10.EGL_SURFACE_TYPE;
import static org.lwjgl.egl.EGL10.EGL_VENDOR;
import static org.lwjgl.egl.EGL10.EGL_VERSION;
import static org.lwjgl.egl.EGL10.EGL_WIDTH;
import static org.lwjgl.egl.EGL14.EGL_OPENGL_API;
import static org.lwjgl.egl.EGL12.EGL_RENDERABLE_TYPE;
import static org.lwjgl.egl.EGL14.EGL_OPENGL_BIT;
import static org.lwjgl.egl.EXTPlatformDevice.EGL_PLATFORM_DEVICE_EXT;
import static org.lwjgl.egl.NVDeviceCUDA.EGL_CUDA_DEVICE_NV;
import static org.lwjgl.opengl.GL11.GL_RENDERER;
import static org.lwjgl.opengl.GL11.GL_VENDOR;
import static org.lwjgl.opengl.GL11.GL_VERSION;
import static org.lwjgl.opengl.GL11.glGetString;

/**
 * A headless OpenGL context for the GL interop tests: EGL's device platform (no X server, no window), a 16x16
 * pbuffer and a desktop OpenGL context, through LWJGL. The steps are those of {@code glprobe.c}, which was
 * checked on the GPU machine: {@code eglQueryDevicesEXT}, {@code eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT)},
 * {@code eglInitialize}, a config with {@code EGL_PBUFFER_BIT} and {@code EGL_OPENGL_BIT}, a pbuffer,
 * {@code eglBindAPI(EGL_OPENGL_API)}, {@code eglCreateContext}, {@code eglMakeCurrent}.
 *
 * <p>The EGL device is the one whose {@code EGL_CUDA_DEVICE_NV} is the wanted CUDA device where the driver says
 * ({@code EGL_NV_device_cuda}), else the first one. The context is current on the thread that opened it;
 * {@link #makeCurrent()} and {@link #release()} move it. Every EGL failure throws {@link IllegalStateException}
 * with the EGL error code, so the evidence ends up in the test report.
 */
public final class HeadlessGl implements AutoCloseable {
    private static final Map<Integer, String> EGL_ERRORS = Map.ofEntries(
            Map.entry(0x3000, "EGL_SUCCESS"), Map.entry(0x3001, "EGL_NOT_INITIALIZED"),
            Map.entry(0x3002, "EGL_BAD_ACCESS"), Map.entry(0x3003, "EGL_BAD_ALLOC"),
            Map.entry(0x3004, "EGL_BAD_ATTRIBUTE"), Map.entry(0x3005, "EGL_BAD_CONFIG"),
            Map.entry(0x3006, "EGL_BAD_CONTEXT"), Map.entry(0x3007, "EGL_BAD_CURRENT_SURFACE"),
            Map.entry(0x3008, "EGL_BAD_DISPLAY"), Map.entry(0x3009, "EGL_BAD_MATCH"),
            Map.entry(0x300A, "EGL_BAD_NATIVE_PIXMAP"), Map.entry(0x300B, "EGL_BAD_NATIVE_WINDOW"),
            Map.entry(0x300C, "EGL_BAD_PARAMETER"), Map.entry(0x300D, "EGL_BAD_SURFACE"),
            Map.entry(0x300E, "EGL_CONTEXT_LOST"), Map.entry(0x322B, "EGL_BAD_DEVICE_EXT"));

    static {
        // GL function pointers through eglGetProcAddress (glvnd's libEGL), not GLX: there is no X server.
        Configuration.OPENGL_CONTEXT_API.set("EGL");
        // GL entry points from glvnd's libOpenGL, not libGL: with libGL.so.1 (GLX) in the process, the CUDA driver
        // looks for a GLX context and reports cudaErrorInvalidGraphicsContext for our EGL one (seen on the H100;
        // the C probe, linked with -lEGL -lOpenGL, works).
        Configuration.OPENGL_LIBRARY_NAME.set("libOpenGL.so.0");
        // ...and libOpenGL.so.0 must be loaded in the process: LWJGL takes GL entry points from eglGetProcAddress
        // and never loads it, and then the CUDA driver does not find the current EGL context
        // (hipGLGetDevices: cudaErrorDeviceUninitialized, register: cudaErrorInvalidGraphicsContext). Seen on the
        // GPU machine with FfmGlProbe: same steps, with libOpenGL loaded it works, without it fails.
        java.lang.foreign.SymbolLookup.libraryLookup("libOpenGL.so.0", java.lang.foreign.Arena.global());
    }

    private final long display;
    private final long surface;
    private final long context;
    private final GLCapabilities caps;
    private final int eglDevice;
    private final int eglDeviceCount;
    private final int cudaDevice;
    private final String description;
    private boolean closed;

    private HeadlessGl(long display, long surface, long context, GLCapabilities caps, int eglDevice,
            int eglDeviceCount, int cudaDevice, String description) {
        this.display = display;
        this.surface = surface;
        this.context = context;
        this.caps = caps;
        this.eglDevice = eglDevice;
        this.eglDeviceCount = eglDeviceCount;
        this.cudaDevice = cudaDevice;
        this.description = description;
    }

    /**
     * Opens a context on the EGL device of CUDA device {@code cudaOrdinal} (or the first EGL device when the
     * driver does not say which is which) and makes it current on the calling thread.
     *
     * @param cudaOrdinal the CUDA (= HIP on NVIDIA) device the context should be on
     * @return the context, current on this thread
     */
    public static HeadlessGl open(int cudaOrdinal) {
        // No LWJGL EGL (EGL.getCapabilities()): with it, CUDA did not see the context (see the note at the end).
        if (procAddress("eglQueryDevicesEXT") == 0 || procAddress("eglGetPlatformDisplayEXT") == 0) {
            throw new IllegalStateException("EGL has no device platform (no eglQueryDevicesEXT or "
                    + "eglGetPlatformDisplayEXT); client extensions: " + eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS));
        }
        long[] devices = devices();
        int[] cuda = new int[devices.length];
        List<String> seen = new ArrayList<>();
        int chosen = 0;
        // -Dhipffm.eglCudaQuery=false: do not ask EGL which CUDA device an EGL device is (use EGL device 0).
        boolean query = !"false".equals(System.getProperty("hipffm.eglCudaQuery"));
        for (int i = devices.length - 1; i >= 0; i--) {
            cuda[i] = query ? cudaDeviceOf(devices[i]) : -1;
            seen.addFirst("EGL device " + i + ": CUDA device " + (cuda[i] < 0 ? "?" : cuda[i]));
            if (cuda[i] == cudaOrdinal) {
                chosen = i;                     // the first one that is on the wanted device
            }
        }
        long display = eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, devices[chosen], (IntBuffer) null);
        if (display == EGL_NO_DISPLAY) {
            throw failure("eglGetPlatformDisplayEXT(EGL_PLATFORM_DEVICE_EXT, device " + chosen + ")");
        }
        long surface = EGL_NO_SURFACE;
        long context = EGL_NO_CONTEXT;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer major = stack.mallocInt(1);
            IntBuffer minor = stack.mallocInt(1);
            if (!eglInitialize(display, major, minor)) {
                throw failure("eglInitialize");
            }
            String egl = "EGL " + major.get(0) + "." + minor.get(0) + " (" + eglQueryString(display, EGL_VENDOR)
                    + ", " + eglQueryString(display, EGL_VERSION) + ")";
            try {
                IntBuffer configAttribs = stack.ints(EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE,
                        EGL_OPENGL_BIT, EGL_NONE);
                PointerBuffer config = stack.mallocPointer(1);
                IntBuffer count = stack.mallocInt(1);
                if (!eglChooseConfig(display, configAttribs, config, count)) {
                    throw failure("eglChooseConfig");
                }
                if (count.get(0) < 1) {
                    throw new IllegalStateException("eglChooseConfig: no config with EGL_PBUFFER_BIT and "
                            + "EGL_OPENGL_BIT on " + egl);
                }
                surface = eglCreatePbufferSurface(display, config.get(0), stack.ints(EGL_WIDTH, 16, EGL_HEIGHT, 16,
                        EGL_NONE));
                if (surface == EGL_NO_SURFACE) {
                    throw failure("eglCreatePbufferSurface");
                }
                if (!eglBindAPI(EGL_OPENGL_API)) {
                    throw failure("eglBindAPI(EGL_OPENGL_API)");
                }
                context = eglCreateContext(display, config.get(0), EGL_NO_CONTEXT, (IntBuffer) null);
                if (context == EGL_NO_CONTEXT) {
                    throw failure("eglCreateContext");
                }
                if (!eglMakeCurrent(display, surface, surface, context)) {
                    throw failure("eglMakeCurrent");
                }
                GLCapabilities caps = GL.createCapabilities();
                String gl = glGetString(GL_VENDOR) + " | " + glGetString(GL_RENDERER) + " | " + glGetString(GL_VERSION);
                return new HeadlessGl(display, surface, context, caps, chosen, devices.length, cuda[chosen],
                        egl + "; " + gl + "; " + String.join(", ", seen));
            } catch (RuntimeException e) {
                eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
                if (context != EGL_NO_CONTEXT) {
                    eglDestroyContext(display, context);
                }
                if (surface != EGL_NO_SURFACE) {
                    eglDestroySurface(display, surface);
                }
                eglTerminate(display);
                throw e;
            }
        }
    }

    private static long[] devices() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer n = stack.mallocInt(1);
            if (!eglQueryDevicesEXT(null, n)) {
                throw failure("eglQueryDevicesEXT (count)");
            }
            if (n.get(0) < 1) {
                throw new IllegalStateException("eglQueryDevicesEXT: no EGL devices (is the NVIDIA EGL vendor library"
                        + " installed, and __EGL_VENDOR_LIBRARY_FILENAMES pointing at it?)");
            }
            PointerBuffer devices = stack.mallocPointer(n.get(0));
            if (!eglQueryDevicesEXT(devices, n)) {
                throw failure("eglQueryDevicesEXT");
            }
            long[] result = new long[n.get(0)];
            for (int i = 0; i < result.length; i++) {
                result[i] = devices.get(i);
            }
            return result;
        }
    }

    /** {@return the CUDA ordinal of an EGL device ({@code EGL_NV_device_cuda}), or -1 when it does not say} */
    private static int cudaDeviceOf(long device) {
        String extensions = eglQueryDeviceStringEXT(device, EGL_EXTENSIONS);
        if (extensions == null || !List.of(extensions.split(" ")).contains("EGL_NV_device_cuda")) {
            eglGetError();          // a failed query leaves an error behind; clear it
            return -1;
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer value = stack.mallocPointer(1);
            if (!eglQueryDeviceAttribEXT(device, EGL_CUDA_DEVICE_NV, value)) {
                eglGetError();
                return -1;
            }
            return (int) value.get(0);
        }
    }

    private static IllegalStateException failure(String call) {
        int error = eglGetError();
        return new IllegalStateException(call + " failed: EGL error 0x" + Integer.toHexString(error) + " ("
                + EGL_ERRORS.getOrDefault(error, "unknown") + ")");
    }

    /** Makes this context current on the calling thread (and LWJGL's GL functions use it there). */
    public void makeCurrent() {
        checkOpen();
        if (!eglMakeCurrent(display, surface, surface, context)) {
            throw failure("eglMakeCurrent");
        }
        GL.setCapabilities(caps);
    }

    /** Makes no context current on the calling thread ({@code eglMakeCurrent(EGL_NO_CONTEXT)}). */
    public void release() {
        checkOpen();
        if (!eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT)) {
            throw failure("eglMakeCurrent(EGL_NO_CONTEXT)");
        }
        GL.setCapabilities(null);
    }

    /** {@return whether this context is current on the calling thread} */
    public boolean isCurrent() {
        return !closed && eglGetCurrentContext() == context;
    }

    /** {@return which of the EGL devices the context is on} */
    public int eglDevice() {
        return eglDevice;
    }

    /** {@return how many EGL devices there are} */
    public int eglDeviceCount() {
        return eglDeviceCount;
    }

    /** {@return the CUDA ordinal of the context's EGL device, -1 when the driver does not say} */
    public int cudaDevice() {
        return cudaDevice;
    }

    /** {@return EGL version and vendor, GL vendor, renderer and version, and the EGL devices seen} */
    public String description() {
        return description;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the GL context is closed");
        }
    }

    /**
     * Destroys the context and the pbuffer and terminates the display. Call it on the thread the context is
     * current on (or on a thread where no context is current); does nothing the second time.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        boolean released = eglMakeCurrent(display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        GL.setCapabilities(null);
        boolean destroyed = eglDestroyContext(display, context) & eglDestroySurface(display, surface);
        boolean terminated = eglTerminate(display);
        eglReleaseThread();
        if (!released || !destroyed || !terminated) {
            throw failure("closing the EGL context (release " + released + ", destroy " + destroyed + ", terminate "
                    + terminated + ")");
        }
    }

    @Override
    public String toString() {
        return "HeadlessGl[" + description + (closed ? ", closed]" : "]");
    }

    // ---- EGL through glvnd's exported entry points (plain FFM), not LWJGL's ---------------------------------
    // On the GPU machine, with LWJGL's EGL calls, CUDA's GL interop did not see the current context
    // (cudaErrorInvalidGraphicsContext), while the same steps through libEGL's exported functions (FfmGlProbe,
    // shared/probes/glprobe.c) worked: glvnd must see eglCreateContext/eglMakeCurrent to know what is current.

    private static final java.lang.foreign.Linker LINKER = java.lang.foreign.Linker.nativeLinker();
    private static final java.lang.foreign.SymbolLookup LIBEGL =
            java.lang.foreign.SymbolLookup.libraryLookup("libEGL.so.1", java.lang.foreign.Arena.global());
    private static final java.lang.foreign.ValueLayout P = java.lang.foreign.ValueLayout.ADDRESS;
    private static final java.lang.foreign.ValueLayout I = java.lang.foreign.ValueLayout.JAVA_INT;

    private static java.lang.invoke.MethodHandle exported(String name, java.lang.foreign.MemoryLayout ret,
            java.lang.foreign.MemoryLayout... args) {
        return LINKER.downcallHandle(LIBEGL.find(name).orElseThrow(),
                ret == null ? java.lang.foreign.FunctionDescriptor.ofVoid(args) : java.lang.foreign.FunctionDescriptor.of(ret, args));
    }

    /** {@return eglGetProcAddress(name), 0 where EGL does not have it} */
    private static long procAddress(String name) {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            return ((java.lang.foreign.MemorySegment) GET_PROC.invokeExact(a.allocateFrom(name))).address();
        } catch (Throwable t) {
            throw new IllegalStateException("eglGetProcAddress(" + name + ")", t);
        }
    }

    private static java.lang.invoke.MethodHandle extension(String name, java.lang.foreign.MemoryLayout ret,
            java.lang.foreign.MemoryLayout... args) {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment f = (java.lang.foreign.MemorySegment) GET_PROC.invokeExact(a.allocateFrom(name));
            return LINKER.downcallHandle(f, java.lang.foreign.FunctionDescriptor.of(ret, args));
        } catch (Throwable t) {
            throw new IllegalStateException("eglGetProcAddress(" + name + ")", t);
        }
    }

    private static final java.lang.invoke.MethodHandle GET_PROC = exported("eglGetProcAddress", P, P);
    private static final java.lang.invoke.MethodHandle INITIALIZE = exported("eglInitialize", I, P, P, P);
    private static final java.lang.invoke.MethodHandle TERMINATE = exported("eglTerminate", I, P);
    private static final java.lang.invoke.MethodHandle QUERY_STRING = exported("eglQueryString", P, P, I);
    private static final java.lang.invoke.MethodHandle GET_ERROR = exported("eglGetError", I);
    private static final java.lang.invoke.MethodHandle CHOOSE_CONFIG = exported("eglChooseConfig", I, P, P, P, I, P);
    private static final java.lang.invoke.MethodHandle CREATE_PBUFFER = exported("eglCreatePbufferSurface", P, P, P, P);
    private static final java.lang.invoke.MethodHandle DESTROY_SURFACE = exported("eglDestroySurface", I, P, P);
    private static final java.lang.invoke.MethodHandle BIND_API = exported("eglBindAPI", I, I);
    private static final java.lang.invoke.MethodHandle CREATE_CONTEXT = exported("eglCreateContext", P, P, P, P, P);
    private static final java.lang.invoke.MethodHandle DESTROY_CONTEXT = exported("eglDestroyContext", I, P, P);
    private static final java.lang.invoke.MethodHandle MAKE_CURRENT = exported("eglMakeCurrent", I, P, P, P, P);
    private static final java.lang.invoke.MethodHandle GET_CURRENT_CONTEXT = exported("eglGetCurrentContext", P);
    private static final java.lang.invoke.MethodHandle RELEASE_THREAD = exported("eglReleaseThread", I);

    private static java.lang.foreign.MemorySegment ptr(long address) {
        return java.lang.foreign.MemorySegment.ofAddress(address);
    }

    private static java.lang.foreign.MemorySegment buf(java.nio.Buffer b) {
        return ptr(b == null ? 0 : org.lwjgl.system.MemoryUtil.memAddress(b));
    }

    private static java.lang.foreign.MemorySegment buf(PointerBuffer b) {
        return ptr(b == null ? 0 : b.address());
    }

    private static RuntimeException rethrow(Throwable t) {
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }

    private static boolean eglInitialize(long display, IntBuffer major, IntBuffer minor) {
        try {
            return (int) INITIALIZE.invokeExact(ptr(display), buf(major), buf(minor)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglTerminate(long display) {
        try {
            return (int) TERMINATE.invokeExact(ptr(display)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static String eglQueryString(long display, int name) {
        try {
            java.lang.foreign.MemorySegment s = (java.lang.foreign.MemorySegment) QUERY_STRING.invokeExact(ptr(display), name);
            return s.address() == 0 ? null : s.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int eglGetError() {
        try {
            return (int) GET_ERROR.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglChooseConfig(long display, IntBuffer attribs, PointerBuffer config, IntBuffer count) {
        try {
            return (int) CHOOSE_CONFIG.invokeExact(ptr(display), buf(attribs), buf(config), config.remaining(), buf(count)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long eglCreatePbufferSurface(long display, long config, IntBuffer attribs) {
        try {
            return ((java.lang.foreign.MemorySegment) CREATE_PBUFFER.invokeExact(ptr(display), ptr(config), buf(attribs))).address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglDestroySurface(long display, long surface) {
        try {
            return (int) DESTROY_SURFACE.invokeExact(ptr(display), ptr(surface)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglBindAPI(int api) {
        try {
            return (int) BIND_API.invokeExact(api) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long eglCreateContext(long display, long config, long share, IntBuffer attribs) {
        try {
            return ((java.lang.foreign.MemorySegment) CREATE_CONTEXT.invokeExact(ptr(display), ptr(config), ptr(share),
                    buf(attribs))).address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglDestroyContext(long display, long context) {
        try {
            return (int) DESTROY_CONTEXT.invokeExact(ptr(display), ptr(context)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglMakeCurrent(long display, long draw, long read, long context) {
        try {
            return (int) MAKE_CURRENT.invokeExact(ptr(display), ptr(draw), ptr(read), ptr(context)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long eglGetCurrentContext() {
        try {
            return ((java.lang.foreign.MemorySegment) GET_CURRENT_CONTEXT.invokeExact()).address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglReleaseThread() {
        try {
            return (int) RELEASE_THREAD.invokeExact() != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglQueryDevicesEXT(PointerBuffer devices, IntBuffer count) {
        try {
            return (int) extension("eglQueryDevicesEXT", I, I, P, P).invokeExact(devices == null ? 0 : devices.remaining(),
                    buf(devices), buf(count)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static long eglGetPlatformDisplayEXT(int platform, long device, IntBuffer attribs) {
        try {
            return ((java.lang.foreign.MemorySegment) extension("eglGetPlatformDisplayEXT", P, I, P, P)
                    .invokeExact(platform, ptr(device), buf(attribs))).address();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static String eglQueryDeviceStringEXT(long device, int name) {
        try {
            java.lang.foreign.MemorySegment s = (java.lang.foreign.MemorySegment) extension("eglQueryDeviceStringEXT", P, P, I)
                    .invokeExact(ptr(device), name);
            return s.address() == 0 ? null : s.reinterpret(Long.MAX_VALUE).getString(0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static boolean eglQueryDeviceAttribEXT(long device, int attribute, PointerBuffer value) {
        try {
            return (int) extension("eglQueryDeviceAttribEXT", I, P, I, P).invokeExact(ptr(device), attribute, buf(value)) != 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
