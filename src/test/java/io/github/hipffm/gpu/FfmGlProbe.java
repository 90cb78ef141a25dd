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

    /** Runs the probe. @param args unused */
    public static void main(String[] args) throws Throwable {
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
        try {
            System.out.println("glDevices: " + GraphicsResource.glDevices());
        } catch (RuntimeException e) {
            System.out.println("glDevices: " + e.getMessage());
        }
        MemorySegment buf = a.allocate(JAVA_INT);
        genBuffers.invokeExact(1, buf);
        bindBuffer.invokeExact(0x8892, buf.get(JAVA_INT, 0));
        bufferData.invokeExact(0x8892, 1L << 20, MemorySegment.NULL, 0x88E8);
        try (Arena arena = Arena.ofConfined()) {
            GraphicsResource r = GraphicsResource.registerBuffer(arena, buf.get(JAVA_INT, 0), EnumSet.noneOf(GraphicsResource.Flag.class));
            System.out.println("registered " + r + " on " + Hip.platform());
        } catch (RuntimeException e) {
            System.out.println("register: " + e.getMessage());
        }
    }
}
