// The HIP docs' external-memory example: shm_open 1 MB, ftruncate, import as OPAQUE_FD, map, use, release.
// A shared-memory fd is not GPU memory: on NVIDIA hip-ffm refuses it before any native call (the fd of a GPU
// export there is one of /dev/nvidiactl), on AMD the runtime refuses it; either message says what an OPAQUE_FD
// handle must be. Against hip-ffm's test runtime it runs through (on NVIDIA's with -Dhipffm.fdCheck=open).
// Run: scripts/jshell examples/seed-memory.jsh
var linker = Linker.nativeLinker();
var libc = linker.defaultLookup();
var shmOpen = linker.downcallHandle(libc.find("shm_open").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
var shmUnlink = linker.downcallHandle(libc.find("shm_unlink").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
var ftruncate = linker.downcallHandle(libc.find("ftruncate").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
long size = 1 << 20;
int fd;
try (Arena a = Arena.ofConfined()) {
    var name = a.allocateFrom("/hipffm-jshell-" + ProcessHandle.current().pid());
    fd = (int) shmOpen.invokeWithArguments(name, 0100 | 02, 0600);   // O_CREAT | O_RDWR
    shmUnlink.invokeWithArguments(name);
    ftruncate.invokeWithArguments(fd, size);
}
try (Arena arena = Arena.ofConfined()) {
    ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
    MemorySegment buffer = memory.mapBuffer(0, size);
    Memory.fill(buffer, (byte) 0x5a);
    MemorySegment host = arena.allocate(16);
    Memory.copy(host, buffer, 16);
    System.out.println("imported " + size + " bytes; HIP filled them; first bytes: "
            + HexFormat.ofDelimiter(" ").formatHex(host.toArray(ValueLayout.JAVA_BYTE)));
} catch (HipException | IllegalArgumentException e) {
    System.out.println("refused: " + e.getMessage());
}
