package io.github.hipffm.gpu;

import io.github.hipffm.GraphicsResource;
import io.github.hipffm.Hip;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.EnumSet;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Diagnostic for GL interop on the GPU machine: shared/probes/glprobe.c's steps with plain FFM (no LWJGL), then
 * hip-ffm's GL calls. Separates "LWJGL's EGL/GL setup" from "hip-ffm/FFM" as the cause of the failure recorded in
 * docs/gpu-results.md. Run: java -cp ... io.github.hipffm.gpu.FfmGlProbe
 */
public final class FfmGlProbe {
    private FfmGlProbe() {
    }

    /**
     * Runs the probe.
     *
     * @param args {@code --cuda-first}: initialize HIP (device count, device 0) before EGL; {@code --headless}:
     *             make the context with the tests' {@link HeadlessGl} instead of the inline steps;
     *             {@code --lwjgl-gl}: also load LWJGL's GL capabilities for the inline context
     */
    public static void main(String[] args) throws Throwable {
        java.util.List<String> opts = java.util.List.of(args);
        System.out.println("== FfmGlProbe " + opts);
        if (opts.contains("--cuda-first")) {
            System.out.println("HIP first: " + Hip.platform() + ", devices " + Hip.deviceCount() + ", " + Hip.device(0));
        }
        if (opts.contains("--lwjgl-egl")) {
            System.out.println("LWJGL EGL: " + org.lwjgl.egl.EGL.getCapabilities().EGL_EXT_platform_device);
        }
        if (opts.contains("--headless")) {
            HeadlessGl h = HeadlessGl.open(0);
            System.out.println("HeadlessGl: " + h.description());
            loaded();
            try {
                System.out.println("glDevices: " + GraphicsResource.glDevices());
            } catch (RuntimeException e) {
                System.out.println("glDevices: " + e.getMessage());
            }
            int b = org.lwjgl.opengl.GL15C.glGenBuffers();
            org.lwjgl.opengl.GL15C.glBindBuffer(0x8892, b);
            org.lwjgl.opengl.GL15C.glBufferData(0x8892, 1L << 20, 0x88E8);
            register(b);
            return;
        }
        Linker l = Linker.nativeLinker();
        Arena a = Arena.global();
        SymbolLookup egl = SymbolLookup.libraryLookup("libEGL.so.1", a);
        SymbolLookup gl = SymbolLookup.libraryLookup("libOpenGL.so.0", a);
        MethodHandle getProc = l.downcallHandle(egl.find("eglGetProcAddress").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS));
        MethodHandle queryDevices = l.downcallHandle((MemorySegment) getProc.invokeExact(a.allocateFrom("eglQueryDevicesEXT")),
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle platformDisplay = l.downcallHandle((MemorySegment) getProc.invokeExact(a.allocateFrom("eglGetPlatformDisplayEXT")),
                FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle initialize = l.downcallHandle(egl.find("eglInitialize").orElseThrow(), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle chooseConfig = l.downcallHandle(egl.find("eglChooseConfig").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        MethodHandle pbuffer = l.downcallHandle(egl.find("eglCreatePbufferSurface").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle bindApi = l.downcallHandle(egl.find("eglBindAPI").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MethodHandle createContext = l.downcallHandle(egl.find("eglCreateContext").orElseThrow(),
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle makeCurrent = l.downcallHandle(egl.find("eglMakeCurrent").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        MethodHandle genBuffers = l.downcallHandle(gl.find("glGenBuffers").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS));
        MethodHandle bindBuffer = l.downcallHandle(gl.find("glBindBuffer").orElseThrow(), FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT));
        MethodHandle bufferData = l.downcallHandle(gl.find("glBufferData").orElseThrow(),
                FunctionDescriptor.ofVoid(JAVA_INT, ValueLayout.JAVA_LONG, ADDRESS, JAVA_INT));

        MemorySegment devs = a.allocate(ADDRESS, 8);
        MemorySegment n = a.allocate(JAVA_INT);
        int ok = (int) queryDevices.invokeExact(8, devs, n);
        if (opts.contains("--cuda-query")) {          // EGL_NV_device_cuda: which CUDA device is EGL device 0
            MethodHandle attrib = l.downcallHandle((MemorySegment) getProc.invokeExact(a.allocateFrom("eglQueryDeviceAttribEXT")),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
            MemorySegment value = a.allocate(ValueLayout.JAVA_LONG);
            int q = (int) attrib.invokeExact(devs.get(ADDRESS, 0), 0x323A, value);
            System.out.println("EGL_CUDA_DEVICE_NV: ok " + q + ", value " + value.get(ValueLayout.JAVA_LONG, 0));
        }
        MemorySegment dpy = (MemorySegment) platformDisplay.invokeExact(0x313F, devs.get(ADDRESS, 0), MemorySegment.NULL);
        ok = (int) initialize.invokeExact(dpy, a.allocate(JAVA_INT), a.allocate(JAVA_INT));
        MemorySegment attribs = a.allocateFrom(JAVA_INT, 0x3033, 0x0001, 0x3040, 0x0008, 0x3038); // SURFACE_TYPE PBUFFER, RENDERABLE OPENGL
        MemorySegment cfg = a.allocate(ADDRESS);
        ok = (int) chooseConfig.invokeExact(dpy, attribs, cfg, 1, n);
        MemorySegment sf = (MemorySegment) pbuffer.invokeExact(dpy, cfg.get(ADDRESS, 0), a.allocateFrom(JAVA_INT, 0x3057, 16, 0x3056, 16, 0x3038));
        ok = (int) bindApi.invokeExact(0x30A2);
        MemorySegment ctx = (MemorySegment) createContext.invokeExact(dpy, cfg.get(ADDRESS, 0), MemorySegment.NULL, MemorySegment.NULL);
        ok = (int) makeCurrent.invokeExact(dpy, sf, sf, ctx);
        System.out.println("EGL devices " + n.get(JAVA_INT, 0) + ", context current: " + (ok == 1));
        if (opts.contains("--lwjgl-gl")) {
            org.lwjgl.system.Configuration.OPENGL_CONTEXT_API.set("EGL");
            org.lwjgl.system.Configuration.OPENGL_LIBRARY_NAME.set("libOpenGL.so.0");
            System.out.println("LWJGL GL: " + org.lwjgl.opengl.GL.createCapabilities().OpenGL46);
        }
        loaded();
        try {
            System.out.println("glDevices: " + GraphicsResource.glDevices());
        } catch (RuntimeException e) {
            System.out.println("glDevices: " + e.getMessage());
        }
        MemorySegment buf = a.allocate(JAVA_INT);
        genBuffers.invokeExact(1, buf);
        bindBuffer.invokeExact(0x8892, buf.get(JAVA_INT, 0));
        bufferData.invokeExact(0x8892, 1L << 20, MemorySegment.NULL, 0x88E8);
        register(buf.get(JAVA_INT, 0));
    }

    private static void register(int buffer) {
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource r = GraphicsResource.registerBuffer(arena, buffer, EnumSet.noneOf(GraphicsResource.Flag.class));
            System.out.println("registered " + r + " on " + Hip.platform());
        } catch (RuntimeException e) {
            System.out.println("register: " + e.getMessage());
        }
    }

    /** Prints the GL/EGL/HIP libraries mapped into the process. */
    private static void loaded() throws java.io.IOException {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/self/maps"))) {
            System.out.println("loaded: " + lines.map(x -> x.substring(x.lastIndexOf(' ') + 1))
                    .filter(x -> x.matches(".*/lib(GL|EGL|OpenGL|GLX|GLdispatch|nvidia-[a-z]*core|nvidia-egl|amdhip|cuda)[^/]*"))
                    .map(x -> x.substring(x.lastIndexOf('/') + 1)).distinct().toList());
        }
    }
}
