// Which HIP runtime this JVM loads, and its devices. Run: scripts/jshell examples/device-info.jsh (runs it and
// exits), or /open examples/device-info.jsh in a scripts/jshell session (the session goes on).
try {
    System.out.println("platform " + Hip.platform() + ", runtime " + Hip.runtimeVersion() + ", library " + Hip.library());
    for (Device d : Hip.devices()) {
        System.out.println("device " + d.ordinal() + ": " + d.name() + ", uuid " + d.uuid() + ", pci " + d.pciAddress()
                + ", " + d.memoryInfo().free() / (1 << 20) + " MiB free of " + d.totalMemory() / (1 << 20));
    }
} catch (HipException e) {
    System.out.println("no device: " + e.getMessage());
}
