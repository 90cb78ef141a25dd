// Texture and surface objects over an imported image: import the memory (a memfd stands in for the fd Vulkan
// exports with vkGetMemoryFdKHR), map its mipmapped array with SURFACE_LOAD_STORE, fill level 0, then make a
// bilinear texture (8-bit channels read as floats) and a surface over it; a kernel gets each as a 64-bit handle
// (hipTextureObject_t / hipSurfaceObject_t: KernelArgs.set or value()). A descriptor the format does not allow
// is refused before any native call. The views are destroyed before the array, the array before the memory.
// A memfd is not GPU memory: only hip-ffm's test runtime takes it (on NVIDIA's with -Dhipffm.fdCheck=open).
// Run: scripts/jshell examples/texture-objects.jsh
var linker = Linker.nativeLinker();
var memfdCreate = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
var ftruncate = linker.downcallHandle(linker.defaultLookup().find("ftruncate").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
long size = 1 << 16;
int fd;
try (Arena a = Arena.ofConfined()) {
    fd = (int) memfdCreate.invokeWithArguments(a.allocateFrom("vulkan-image"), 0);
    ftruncate.invokeWithArguments(fd, size);
}
try (Arena arena = Arena.ofConfined()) {
    ExternalMemory memory = ExternalMemory.importMemory(arena, ExternalMemoryDescriptor.opaqueFd(fd, size));
    ChannelFormat rgba8 = new ChannelFormat(8, 8, 8, 8, ChannelFormat.Kind.UNSIGNED);      // VK_FORMAT_R8G8B8A8_UNORM
    MipmappedArray image = memory.mapMipmappedArray(0, rgba8, Extent.of(64, 64), 1, MipmappedArray.SURFACE_LOAD_STORE);
    ArrayLevel level = image.level(0);
    MemorySegment pixels = Memory.allocatePinned(arena, level.byteSize());
    for (long i = 0; i < level.byteSize(); i++) pixels.set(ValueLayout.JAVA_BYTE, i, (byte) i);
    level.copyFrom(pixels);
    TextureObject texture = TextureObject.of(level, TextureDescriptor.builder()
            .filter(TextureDescriptor.FilterMode.LINEAR)
            .readMode(TextureDescriptor.ReadMode.NORMALIZED_FLOAT)
            .normalizedCoordinates(true)
            .addressMode(TextureDescriptor.AddressMode.WRAP)
            .build());
    SurfaceObject surface = SurfaceObject.of(level);
    System.out.println("texture: " + texture.resourceKind() + ", " + texture.descriptor().filter() + ", "
            + texture.descriptor().readMode() + "; a kernel gets it as a 64-bit handle: " + (texture.value() != 0));
    System.out.println("surface over level " + surface.level().level() + " " + surface.level().extent());
    try {
        TextureObject.of(level, TextureDescriptor.builder().filter(TextureDescriptor.FilterMode.LINEAR).build());
    } catch (IllegalArgumentException e) {
        System.out.println("refused: " + e.getMessage());
    }
    memory.close();                                       // views, then the array, then the memory
    System.out.println("after the memory's close: texture closed " + texture.isClosed() + ", surface closed "
            + surface.isClosed());
} catch (HipException | IllegalArgumentException e) {
    System.out.println("refused: " + e.getMessage());
}
