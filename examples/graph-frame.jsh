// A frame loop as one graph: wait until the producer's timeline semaphore reaches the frame, then signal ours with
// the frame; one launch a frame, the fence values changed per frame without re-instantiating (GraphExec.setFence).
// The semaphores here are memfds, which only hip-ffm's test runtime takes for GPU exports (and, on NVIDIA, only with
// -Dhipffm.fdCheck=open); with a GPU, import the producer's exported timeline semaphores (vkGetSemaphoreFdKHR).
// On AMD Linux no external semaphore can be imported (ROCm aborts there; hip-ffm refuses), so this runs on NVIDIA.
// Run: scripts/jshell examples/graph-frame.jsh
var linker = Linker.nativeLinker();
var memfdCreate = linker.downcallHandle(linker.defaultLookup().find("memfd_create").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
var closeFd = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
ExternalSemaphore timeline(Arena arena, String name) throws Throwable {
    int fd;
    try (Arena a = Arena.ofConfined()) {
        fd = (int) memfdCreate.invokeWithArguments(a.allocateFrom(name), 0);
    }
    try {
        return ExternalSemaphore.importSemaphore(arena, ExternalSemaphoreDescriptor.timelineFd(fd));   // owns fd now
    } catch (RuntimeException e) {
        closeFd.invokeWithArguments(fd);                                                                // still ours
        throw e;
    }
}
try (Arena arena = Arena.ofConfined()) {
    ExternalSemaphore producerDone = timeline(arena, "producer-done");
    ExternalSemaphore consumerDone = timeline(arena, "consumer-done");
    Stream stream = Stream.create(arena);
    Graph graph = Graph.create(arena);
    GraphNode acquire = graph.addWait(producerDone, 0);
    GraphNode release = graph.addSignal(consumerDone, 0, acquire);    // after the wait
    GraphExec exec = graph.instantiate();
    for (long frame = 1; frame <= 3; frame++) {
        producerDone.signal(frame, stream);                            // stands in for the producer's frame
        exec.setFence(acquire, frame).setFence(release, frame).launch(stream);
        consumerDone.wait(frame, stream);                              // what the producer would wait for
        stream.synchronize();
        System.out.println("frame " + frame + ": one launch of " + graph.nodes().size() + " nodes, consumer at " + frame);
    }
} catch (HipException | IllegalArgumentException e) {
    System.out.println("refused: " + e.getMessage());
}
