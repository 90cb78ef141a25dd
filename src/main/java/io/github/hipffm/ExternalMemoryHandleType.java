package io.github.hipffm;

import io.github.hipffm.internal.Codes;

import java.util.Locale;

/**
 * Every {@code hipExternalMemoryHandleType}: what kind of handle another API exported the memory as.
 *
 * <p>Only file-descriptor types can work on Linux; Win32 and Direct3D types are Windows handles and NvSciBuf is
 * an NVIDIA-only object. {@link ExternalMemory#importMemory} rejects a type that cannot work on this OS and
 * platform before any native call, naming the type and the OS.
 */
public enum ExternalMemoryHandleType {
    /** A POSIX file descriptor (Vulkan {@code VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT}). Linux. */
    OPAQUE_FD(Os.LINUX),
    /** An NT handle. Windows. */
    OPAQUE_WIN32(Os.WINDOWS),
    /** A global share (KMT) handle. Windows. */
    OPAQUE_WIN32_KMT(Os.WINDOWS),
    /** A D3D12 heap. Windows. */
    D3D12_HEAP(Os.WINDOWS),
    /** A D3D12 committed resource. Windows. */
    D3D12_RESOURCE(Os.WINDOWS),
    /** A D3D11 resource (NT handle). Windows. */
    D3D11_RESOURCE(Os.WINDOWS),
    /** A D3D11 resource (KMT handle). Windows. */
    D3D11_RESOURCE_KMT(Os.WINDOWS),
    /** An NvSciBuf object. NVIDIA platform on Linux (Tegra/DRIVE) only. */
    NVSCIBUF(Os.LINUX);

    private final Os os;

    ExternalMemoryHandleType(Os os) {
        this.os = os;
    }

    /** {@return the {@code hipExternalMemoryHandleType} value, for the generated bindings} */
    public int hipValue() {
        return Codes.hip(this);
    }

    /** {@return whether the handle is a file descriptor (then its ownership follows the fd rule)} */
    public boolean isFd() {
        return this == OPAQUE_FD;
    }

    /**
     * {@return the type with this {@code hipExternalMemoryHandleType} value}
     * @param value the C value
     * @throws IllegalArgumentException when no type has it
     */
    public static ExternalMemoryHandleType ofValue(int value) {
        for (var t : values()) {
            if (t.hipValue() == value) {
                return t;
            }
        }
        throw new IllegalArgumentException("invalid hipExternalMemoryHandleType " + value);
    }

    /** Throws {@link IllegalArgumentException} when this type cannot work here. */
    void checkSupported(Platform platform) {
        Os.check(os, name(), "external memory", this == NVSCIBUF && platform != Platform.NVIDIA, platform);
    }

    /** The operating system a handle type belongs to. */
    enum Os {
        LINUX, WINDOWS;

        static final Os CURRENT = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows")
                ? WINDOWS : LINUX;

        static void check(Os needed, String type, String what, boolean nvidiaOnly, Platform platform) {
            String osName = System.getProperty("os.name");
            if (needed != CURRENT) {
                throw new IllegalArgumentException(type + " " + what + " handles exist only on "
                        + (needed == WINDOWS ? "Windows" : "Linux") + "; this is " + osName);
            }
            if (nvidiaOnly) {
                throw new IllegalArgumentException(type + " " + what + " handles exist only on the NVIDIA platform;"
                        + " this is " + platform.id() + " on " + osName);
            }
        }
    }
}
