package io.github.hipffm;

/**
 * A message received on an {@link FdChannel}: a {@link ReceivedMemory} or a {@link ReceivedSemaphore}, which owns
 * the fd it brought until that fd is imported ({@code importMemory}, {@code importSemaphore}: the import then owns
 * it) or taken ({@link #takeFd()}: the caller then owns it). {@link #close()} closes the fd if neither happened;
 * closing twice is harmless. A message is safe to use from any thread.
 *
 * {@snippet :
 * try (FdMessage message = channel.receive(Duration.ofSeconds(5))) {
 *     switch (message) {
 *         case ReceivedMemory m -> memories.add(m.importMemory(arena));
 *         case ReceivedSemaphore s -> semaphores.add(s.importSemaphore(arena));
 *     }
 * }                                   // closes the fd only if the import failed
 * }
 */
public sealed interface FdMessage extends AutoCloseable permits ReceivedMemory, ReceivedSemaphore {
    /** {@return the process that sent it} */
    FdChannel.Peer sender();

    /** {@return whether the message still owns its fd (not imported, taken or closed)} */
    boolean ownsFd();

    /**
     * {@return the fd, which the caller now owns and must close or import} The message then owns nothing.
     * @throws IllegalStateException when the fd was already imported, taken or closed
     */
    int takeFd();

    /** Closes the fd unless it was imported or taken. */
    @Override
    void close();
}
