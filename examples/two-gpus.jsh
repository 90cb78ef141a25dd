// Two GPUs: find a device by UUID, create on it without touching the current device, and see hip-ffm refuse work
// that mixes devices before the runtime does. Run: scripts/jshell examples/two-gpus.jsh
// hip-ffm's CI test runtime has one fake device unless asked for two (its test hook, called below); on a real
// machine with fewer than two GPUs the example says so and stops.
boolean testRuntime = SymbolLookup.libraryLookup(Hip.library(), Arena.global()).find("hipffmTest_isTestRuntime").isPresent();
if (testRuntime) {
    Linker.nativeLinker().downcallHandle(SymbolLookup.libraryLookup(Hip.library(), Arena.global())
            .find("hipffmTest_setDeviceCount").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT))
            .invokeWithArguments(2);
}
if (Hip.deviceCount() < 2) {
    System.out.println("this example needs two GPUs; this machine has " + Hip.deviceCount());
} else {
    for (Device d : Hip.devices()) System.out.println("device " + d.ordinal() + ": " + d.uuid() + " at " + d.pciAddress());
    Device gpu0 = Hip.device(0);
    gpu0.makeCurrent();
    // Vulkan's VkPhysicalDeviceIDProperties.deviceUUID names the GPU that exported a buffer; here: device 1's
    Device gpu1 = Hip.deviceByUuid(Hip.device(1).uuidBytes());
    try (Arena arena = Arena.ofConfined()) {
        Stream s1 = Stream.create(gpu1, arena);                      // made on gpu1, the current device untouched
        MemorySegment m1 = Memory.allocateDevice(gpu1, arena, 1024);
        Memory.fillAsync(m1, (byte) 0x2a, s1);
        s1.synchronize();
        System.out.println("stream on device " + s1.device().ordinal() + ", current device still "
                + Hip.currentDevice().ordinal());
        Stream s0 = Stream.create(arena);                            // the current device's: gpu0
        try {
            Memory.fillAsync(m1, (byte) 0, s0);                      // gpu1's memory on gpu0's stream
        } catch (IllegalArgumentException e) {
            System.out.println("refused: " + e.getMessage());
        }
        MemorySegment host = Memory.allocatePinned(arena, 1024);
        Memory.copy(host, m1);                                       // runs on gpu1, the memory's device
        System.out.println("first byte from device 1: 0x" + Integer.toHexString(host.get(ValueLayout.JAVA_BYTE, 0)));
    }
}
