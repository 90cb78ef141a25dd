// Device memory that another process can import, by fd: VirtualMemory (HIP's virtual memory management,
// hipMemCreate/hipMemMap; the driver API's cuMem* on NVIDIA). Here both ends are this process: export an fd and
// import it as VirtualMemory and as ExternalMemory (OPAQUE_FD), then write on one side and read on the other.
// Across two processes the fd travels over an FdChannel (examples/receive-from-process.jsh shows both ends):
//   producer:  shared.send(channel);                  // exports an fd, sends it with the size, closes ours
//   consumer:  channel.receiveMemory(timeout).importVirtualMemory(arena)   // or .importMemory(arena)
// Plain Memory.allocateDevice memory shares through an IpcMemoryHandle instead (bytes, not an fd; opened in
// another process only). Runs on a GPU and against hip-ffm's test runtime.
// Run: scripts/jshell examples/vmm-export.jsh
try (Arena arena = Arena.ofConfined()) {
    VirtualMemory shared = VirtualMemory.allocate(arena, 100_000);
    System.out.println("allocated " + shared.size() + " bytes (100000 rounded up to the granularity, "
            + VirtualMemory.granularity(Hip.currentDevice()) + ")");
    Memory.copy(shared.segment(), arena.allocateFrom("hello through an fd"));
    int fd = shared.exportFd();                                               // a new fd, ours
    VirtualMemory imported = VirtualMemory.importFd(arena, fd, shared.size()); // the import owns it now
    ExternalMemory external = ExternalMemory.importMemory(arena, shared.exportDescriptor());
    MemorySegment host = arena.allocate(64);
    Memory.copy(host, imported.segment(), 64);
    System.out.println("the VirtualMemory import reads: " + host.getString(0));
    Memory.fill(imported.segment(), (byte) 0x2a);
    shared.close();                                                           // the imports keep the memory
    Memory.copy(host, external.mapBuffer(), 64);
    System.out.println("the ExternalMemory import reads the fill: 0x" + Integer.toHexString(host.get(ValueLayout.JAVA_BYTE, 63)));
} catch (HipException | IllegalArgumentException e) {
    System.out.println("refused: " + e.getMessage());
}
