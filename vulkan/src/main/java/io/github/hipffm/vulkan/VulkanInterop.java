package io.github.hipffm.vulkan;

import io.github.hipffm.ExternalMemory;
import io.github.hipffm.ExternalMemoryDescriptor;
import io.github.hipffm.ExternalSemaphore;
import io.github.hipffm.ExternalSemaphoreDescriptor;
import io.github.hipffm.FdChannel;
import io.github.hipffm.MipmappedArray;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * From a Vulkan resource to its HIP side in one call, under one {@link Arena}: the fd is exported, imported and,
 * for memory, mapped; closing the arena releases the HIP side (mapped buffer or array, then the external memory,
 * then the fd). The Vulkan resource stays the caller's: close it after the arena.
 *
 * <p>The fd rule is hip-ffm's: on success the imported object owns the fd and closes it exactly once, after the
 * runtime's destroy. Here the fd is a fresh export nobody else has, so on any failure (of the import, or of the
 * mapping after it) everything made so far is released and the fd closed before the exception leaves: a failed
 * call leaves nothing behind. Bad input fails before any export or import: a closed resource, a semaphore of the
 * wrong type ({@link #importTimelineSemaphore}, {@link #importBinarySemaphore}); non-exportable buffers and
 * size or alignment mismatches are refused when the buffer is {@linkplain ExportableBuffer#wrap declared}.
 *
 * {@snippet :
 * try (VulkanDevice vk = VulkanDevice.create(Hip.device(0));
 *      ExportableBuffer buffer = vk.createBuffer(4 << 20);
 *      ExportableSemaphore timeline = vk.createSemaphore(SemaphoreType.TIMELINE)) {
 *     try (Arena arena = Arena.ofConfined()) {
 *         SharedBuffer shared = VulkanInterop.importBuffer(arena, buffer);
 *         ExternalSemaphore ready = VulkanInterop.importTimelineSemaphore(arena, timeline);
 *         Stream stream = Stream.create(arena);
 *         ready.wait(1, stream);                                  // wait for Vulkan's 1
 *         kernel.launch(grid, block, 0, stream, shared.segment(), n);
 *         ready.signal(2, stream);                                // then tell Vulkan with 2
 *         timeline.signal(1);                                     // (here the host plays Vulkan)
 *         timeline.await(2, Duration.ofSeconds(5));
 *     }                                                           // HIP side released, fds closed
 * }
 * }
 */
public final class VulkanInterop {
    private VulkanInterop() {
    }

    /**
     * A Vulkan buffer's HIP side.
     *
     * @param memory the imported allocation (owner of the fd)
     * @param segment the buffer mapped as a device segment of {@link ExportableBuffer#size()} bytes, scoped to
     *     {@code memory}
     */
    public record SharedBuffer(ExternalMemory memory, MemorySegment segment) {
    }

    /**
     * A Vulkan image's HIP side.
     *
     * @param memory the imported allocation (owner of the fd)
     * @param array the image mapped as a mipmapped array, released before {@code memory}
     */
    public record SharedImage(ExternalMemory memory, MipmappedArray array) {
    }

    /**
     * {@return the buffer imported into HIP ({@code hipImportExternalMemory} of its allocation, dedicated as it is)
     * and mapped ({@code hipExternalMemoryGetMappedBuffer} at {@link ExportableBuffer#memoryOffset()}, its size)}
     * @param arena the owner of the HIP side
     * @param buffer the buffer
     * @throws IllegalStateException when the buffer, its device or the arena is closed (before any export)
     * @throws io.github.hipffm.HipException when HIP refuses; nothing is left behind
     */
    public static SharedBuffer importBuffer(Arena arena, ExportableBuffer buffer) {
        check(arena, buffer);
        buffer.checkOpen();
        ExternalMemory memory = importMemory(arena, buffer.exportFd(), fd -> {
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(fd, buffer.allocationSize());
            return buffer.dedicated() ? d.asDedicated() : d;
        });
        try {
            return new SharedBuffer(memory, memory.mapBuffer(buffer.memoryOffset(), buffer.size()));
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }

    /**
     * {@return the image imported into HIP (its allocation, dedicated as it is) and mapped as a mipmapped array of its
     * format, extent, levels and flags}
     * @param arena the owner of the HIP side
     * @param image the image
     * @throws IllegalStateException when the image, its device or the arena is closed (before any export)
     * @throws io.github.hipffm.HipException when HIP refuses; nothing is left behind
     */
    public static SharedImage importImage(Arena arena, ExportableImage image) {
        check(arena, image);
        image.checkOpen();
        ExternalMemory memory = importMemory(arena, image.exportFd(), fd -> {
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(fd, image.allocationSize());
            return image.dedicated() ? d.asDedicated() : d;
        });
        try {
            return new SharedImage(memory, memory.mapMipmappedArray(0, image.format(), image.extent(), image.levels(),
                    image.flags()));
        } catch (RuntimeException | Error e) {
            memory.close();
            throw e;
        }
    }

    /**
     * Sends the buffer to the process at the other end of {@code channel}: a new exported fd, sent as
     * {@code OPAQUE_FD} memory of the allocation's size (dedicated as it is) with offset
     * {@link ExportableBuffer#memoryOffset()}, then closed here (the receiver has its own). The receiver imports it
     * with {@link io.github.hipffm.ReceivedMemory#importMemory} and maps {@code buffer.size()} bytes at
     * {@link io.github.hipffm.ReceivedMemory#offset()}.
     *
     * @param channel the channel
     * @param buffer the buffer
     * @throws IllegalStateException when the buffer, its device or the channel is closed
     * @throws io.github.hipffm.FdChannelException when sending fails
     */
    public static void send(FdChannel channel, ExportableBuffer buffer) {
        Objects.requireNonNull(channel, "channel");
        buffer.checkOpen();
        int fd = buffer.exportFd();
        try {
            ExternalMemoryDescriptor d = ExternalMemoryDescriptor.opaqueFd(fd, buffer.allocationSize());
            channel.send(buffer.dedicated() ? d.asDedicated() : d, buffer.memoryOffset());
        } finally {
            Fds.close(fd);
        }
    }

    /**
     * Sends the semaphore to the process at the other end of {@code channel}: a new exported fd (a timeline as
     * {@code TIMELINE_SEMAPHORE_FD} with its current value, a binary one as {@code OPAQUE_FD}), then closed here. The
     * receiver imports it with {@link io.github.hipffm.ReceivedSemaphore#importSemaphore}.
     *
     * @param channel the channel
     * @param semaphore the semaphore
     * @throws IllegalStateException when the semaphore, its device or the channel is closed
     * @throws UnsupportedOperationException when the device cannot export semaphores
     * @throws io.github.hipffm.FdChannelException when sending fails
     */
    public static void send(FdChannel channel, ExportableSemaphore semaphore) {
        Objects.requireNonNull(channel, "channel");
        semaphore.checkOpen();
        boolean timeline = semaphore.type() == SemaphoreType.TIMELINE;
        int fd = semaphore.exportFd();
        try {
            channel.send(timeline ? ExternalSemaphoreDescriptor.timelineFd(fd) : ExternalSemaphoreDescriptor.opaqueFd(fd),
                    timeline ? semaphore.value() : 0);
        } finally {
            Fds.close(fd);
        }
    }

    /**
     * {@return the semaphore imported into HIP: a timeline as {@code TIMELINE_SEMAPHORE_FD}, a binary one as
     * {@code OPAQUE_FD}}
     * @param arena the owner of the HIP side
     * @param semaphore the semaphore
     * @throws IllegalStateException when the semaphore, its device or the arena is closed (before any export)
     * @throws UnsupportedOperationException when the device cannot export semaphores
     * @throws io.github.hipffm.HipException when HIP refuses (the fd is closed)
     */
    public static ExternalSemaphore importSemaphore(Arena arena, ExportableSemaphore semaphore) {
        check(arena, semaphore);
        semaphore.checkOpen();
        int fd = semaphore.exportFd();
        ExternalSemaphoreDescriptor d;
        try {
            d = semaphore.type() == SemaphoreType.TIMELINE ? ExternalSemaphoreDescriptor.timelineFd(fd)
                    : ExternalSemaphoreDescriptor.opaqueFd(fd);
        } catch (RuntimeException | Error e) {
            Fds.close(fd);
            throw e;
        }
        try {
            return ExternalSemaphore.importSemaphore(arena, d);
        } catch (RuntimeException | Error e) {
            Fds.close(fd); // hip-ffm's rule: on failure the fd is still ours
            throw e;
        }
    }

    /**
     * {@return {@link #importSemaphore}, after checking that {@code semaphore} is a timeline semaphore}
     * @param arena the owner of the HIP side
     * @param semaphore a timeline semaphore
     * @throws IllegalArgumentException for a binary semaphore, before anything is exported
     */
    public static ExternalSemaphore importTimelineSemaphore(Arena arena, ExportableSemaphore semaphore) {
        requireType(semaphore, SemaphoreType.TIMELINE);
        return importSemaphore(arena, semaphore);
    }

    /**
     * {@return {@link #importSemaphore}, after checking that {@code semaphore} is a binary semaphore}
     * @param arena the owner of the HIP side
     * @param semaphore a binary semaphore
     * @throws IllegalArgumentException for a timeline semaphore, before anything is exported
     */
    public static ExternalSemaphore importBinarySemaphore(Arena arena, ExportableSemaphore semaphore) {
        requireType(semaphore, SemaphoreType.BINARY);
        return importSemaphore(arena, semaphore);
    }

    private static void requireType(ExportableSemaphore semaphore, SemaphoreType type) {
        if (semaphore == null) {
            throw new IllegalArgumentException("semaphore must not be null");
        }
        if (semaphore.type() != type) {
            throw new IllegalArgumentException("semaphore of the wrong type: a " + type.name().toLowerCase()
                    + " semaphore is needed, this one is " + semaphore.type().name().toLowerCase());
        }
    }

    private static void check(Arena arena, Object resource) {
        if (arena == null || resource == null) {
            throw new IllegalArgumentException("arena and resource must not be null");
        }
        if (!arena.scope().isAlive()) {
            throw new IllegalStateException("the arena is closed");
        }
    }

    /** Imports {@code fd} (a fresh export), closing it when the import fails. */
    private static ExternalMemory importMemory(Arena arena, int fd, IntFunction<ExternalMemoryDescriptor> descriptor) {
        try {
            return ExternalMemory.importMemory(arena, descriptor.apply(fd));
        } catch (RuntimeException | Error e) {
            Fds.close(fd); // hip-ffm's rule: on failure the fd is still ours, and nobody else has it
            throw e;
        }
    }
}
